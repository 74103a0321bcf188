// Tokenizer for $filter text (see filter_lexer.hpp).
#include "scheduler/odata/filter_lexer.hpp"

#include "common/text/ascii.hpp"

namespace openbatch::odata::detail {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

class Lexer {
 public:
  Lexer(std::string_view text, std::vector<Token>& out) : text_(text), out_(out) {}

  std::optional<LexError> run() {
    while (true) {
      while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
      if (pos_ >= text_.size()) break;
      const char c = text_[pos_];
      std::optional<LexError> error;
      if (c == '(' || c == ')' || c == ',') {
        const TokenKind kind =
            c == '(' ? TokenKind::LParen : (c == ')' ? TokenKind::RParen : TokenKind::Comma);
        out_.push_back({kind, std::string(1, c), pos_++});
      } else if (c == '\'') {
        error = quoted(TokenKind::String, pos_);
      } else if (is_digit(c) ||
                 (c == '-' && pos_ + 1 < text_.size() && is_digit(text_[pos_ + 1]))) {
        error = number();
      } else if (is_name_start(c)) {
        error = word();
      } else {
        return LexError{pos_, std::string("unexpected character '") + c + "'"};
      }
      if (error) return error;
    }
    out_.push_back({TokenKind::End, "", text_.size()});
    return std::nullopt;
  }

 private:
  // A '...' literal starting at pos_ ('' inside stands for one quote).
  std::optional<LexError> quoted(TokenKind kind, std::size_t token_pos) {
    std::string value;
    ++pos_;  // opening quote
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c != '\'') {
        value += c;
      } else if (pos_ < text_.size() && text_[pos_] == '\'') {
        value += '\'';
        ++pos_;
      } else {
        out_.push_back({kind, std::move(value), token_pos});
        return std::nullopt;
      }
    }
    return LexError{token_pos, "unterminated string literal"};
  }

  // -?digits[.digits][(e|E)[+-]digits], then an optional OData type suffix (L, D, F or M).
  std::optional<LexError> number() {
    const std::size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    auto digits = [&] {
      const std::size_t from = pos_;
      while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
      return pos_ > from;
    };
    digits();
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (!digits()) return LexError{start, "expected digits after the decimal point"};
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!digits()) return LexError{start, "expected digits in the exponent"};
    }
    const std::size_t end = pos_;
    if (pos_ < text_.size() &&
        std::string_view("LlDdFfMm").find(text_[pos_]) != std::string_view::npos &&
        (pos_ + 1 >= text_.size() || !is_name_char(text_[pos_ + 1]))) {
      ++pos_;
    }
    if (pos_ < text_.size() && (is_name_char(text_[pos_]) || text_[pos_] == '.')) {
      return LexError{start, "invalid number"};
    }
    out_.push_back({TokenKind::Number, std::string(text_.substr(start, end - start)), start});
    return std::nullopt;
  }

  // A keyword or a property path (name[/name]...), or the datetime'...' literal prefix.
  std::optional<LexError> word() {
    const std::size_t start = pos_;
    while (true) {
      while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
      if (pos_ >= text_.size() || text_[pos_] != '/') break;
      ++pos_;
      if (pos_ >= text_.size() || !is_name_start(text_[pos_])) {
        return LexError{pos_, "expected a property name after '/'"};
      }
    }
    const std::string_view text = text_.substr(start, pos_ - start);
    if (pos_ < text_.size() && text_[pos_] == '\'') {
      if (text::iequals(text, "datetime") || text::iequals(text, "datetimeoffset")) {
        return quoted(TokenKind::DateTime, start);
      }
      return LexError{start, "unsupported literal type '" + std::string(text) + "'"};
    }
    out_.push_back({TokenKind::Word, std::string(text), start});
    return std::nullopt;
  }

  std::string_view text_;
  std::vector<Token>& out_;
  std::size_t pos_ = 0;
};

}  // namespace

std::optional<LexError> tokenize(std::string_view text, std::vector<Token>& out) {
  return Lexer(text, out).run();
}

}  // namespace openbatch::odata::detail
