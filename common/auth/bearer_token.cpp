#include "common/auth/bearer_token.hpp"

#include "common/encoding.hpp"
#include "common/text/ascii.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

namespace openbatch::auth {

std::string new_bearer_token(std::string_view prefix) {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("no randomness for a token");
  std::string body =
      encoding::base64_encode(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  // base64url without padding: tokens travel in headers and file names.
  std::string out(prefix);
  out += '.';
  for (char c : body) {
    if (c == '=') continue;
    out += c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return out;
}

std::string token_digest(std::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  return encoding::hex_encode(
      std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

bool token_matches(std::string_view token, std::string_view digest) {
  const std::string actual = token_digest(token);
  if (actual.size() != digest.size()) return false;
  return CRYPTO_memcmp(actual.data(), digest.data(), actual.size()) == 0;
}

std::optional<std::string_view> bearer_token_of(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  if (!text::iequals(authorization.substr(0, kScheme.size()), kScheme)) return std::nullopt;
  auto token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

std::string_view token_prefix(std::string_view token) {
  auto dot = token.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : token.substr(0, dot);
}

}  // namespace openbatch::auth
