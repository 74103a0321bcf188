// Small value checks shared by the request validators and the routes: entity ids and enum
// spellings. Pure functions; thread-safe.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace openbatch::domain {

constexpr std::size_t kMaxIdLength = 64;

// Pool, job, task and application ids: [A-Za-z0-9_-]{1,64}. Hand-checked rather than a
// regex because task add runs it tens of thousands of times a second.
constexpr bool is_valid_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// The spelling from `allowed` that equals `value` ignoring ASCII case, or nullopt. `allowed`
// holds the canonical wire spellings ("nonadmin", "dockerCompatible"), so the result is
// what OpenBatch stores and returns whatever casing the client sent ("NonAdmin").
std::optional<std::string> canonical_enum(std::string_view value,
                                          std::initializer_list<std::string_view> allowed);

// The same without allocating: a view of the matching entry of `allowed`.
std::optional<std::string_view> match_enum(std::string_view value,
                                           std::initializer_list<std::string_view> allowed);

// Number of Unicode code points in valid UTF-8 text (Azure's length limits count
// characters, not bytes; nlohmann::json only ever hands us valid UTF-8).
std::size_t utf8_length(std::string_view text) noexcept;

}  // namespace openbatch::domain
