// Bearer tokens of the agent protocol: pool join tokens and node tokens. A token is random
// (256 bits, base64url) behind a readable prefix; only its SHA-256 digest is ever stored, and
// presented tokens are compared to it in constant time. Thread-safe: no shared state.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace openbatch::auth {

// "<prefix>.<43 base64url characters>". Throws std::runtime_error when the system has no
// randomness (nothing sensible can go on without it).
std::string new_bearer_token(std::string_view prefix);

// Hex SHA-256 of the token: what the store keeps.
std::string token_digest(std::string_view token);

// True when token_digest(token) equals `digest`, compared in constant time.
bool token_matches(std::string_view token, std::string_view digest);

// The token of an "Authorization: Bearer <token>" header value (scheme case-insensitive);
// nullopt for any other scheme or an empty token.
std::optional<std::string_view> bearer_token_of(std::string_view authorization);

// The prefix of a token made by new_bearer_token ("" when it has none).
std::string_view token_prefix(std::string_view token);

}  // namespace openbatch::auth
