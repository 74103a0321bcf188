// Splits $filter text into tokens: words (keywords and '/'-joined property paths), quoted
// strings, numbers, datetime'...' literals, parentheses and commas. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace openbatch::odata::detail {

enum class TokenKind : uint8_t { End, LParen, RParen, Comma, Word, String, Number, DateTime };

struct Token {
  TokenKind kind = TokenKind::End;
  std::string text;     // Word/Number: as written; String: unescaped; DateTime: between quotes
  std::size_t pos = 0;  // offset of the token's first character in the filter text
};

struct LexError {
  std::size_t pos = 0;
  std::string reason;
};

// Fills `out` with the tokens of `text`, ending with an End token; or returns the first error.
std::optional<LexError> tokenize(std::string_view text, std::vector<Token>& out);

}  // namespace openbatch::odata::detail
