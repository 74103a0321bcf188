// ASCII case folding for OData keywords, property names and string values. Azure compares
// these case-insensitively; only ASCII letters fold (UTF-8 bytes above 0x7F compare as-is),
// which needs no locale and is safe from any thread.
#pragma once

#include <compare>
#include <cstddef>
#include <string>
#include <string_view>

namespace openbatch::odata::detail {

constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// Lexicographic comparison of the lowercased bytes (as unsigned), without allocating.
constexpr std::strong_ordering icompare(std::string_view a, std::string_view b) {
  const std::size_t n = a.size() < b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(ascii_lower(a[i]));
    const auto y = static_cast<unsigned char>(ascii_lower(b[i]));
    if (x != y) return x <=> y;
  }
  return a.size() <=> b.size();
}

constexpr bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

inline std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

}  // namespace openbatch::odata::detail
