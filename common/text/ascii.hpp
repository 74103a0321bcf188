// ASCII case folding for the names the Batch API compares case-insensitively: ids, enum
// values, vmSize and image names, OData keywords and properties, HTTP header names and query
// values. Only ASCII letters fold; bytes above 0x7F compare as they are, which needs no locale
// and is safe from any thread (every such name is ASCII on the wire). The one copy the
// scheduler, the node agent and the CLI share.
#pragma once

#include <algorithm>
#include <compare>
#include <cstddef>
#include <string>
#include <string_view>

namespace openbatch::text {

constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// Lexicographic comparison of the lowercased bytes (as unsigned), without allocating.
constexpr std::strong_ordering icompare(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = a.size() < b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(ascii_lower(a[i]));
    const auto y = static_cast<unsigned char>(ascii_lower(b[i]));
    if (x != y) return x <=> y;
  }
  return a.size() <=> b.size();
}

// Strict weak order on case-folded text (icompare's order).
constexpr bool iless(std::string_view a, std::string_view b) noexcept {
  return std::is_lt(icompare(a, b));
}

constexpr bool istarts_with(std::string_view text, std::string_view prefix) noexcept {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

// `out` = the lowercased `in`, reusing out's buffer (for keys built once per row).
inline void assign_lower(std::string& out, std::string_view in) {
  out.assign(in);
  for (char& c : out) c = ascii_lower(c);
}

inline std::string to_lower(std::string_view s) {
  std::string out;
  assign_lower(out, s);
  return out;
}

// iless as a transparent comparator, so that maps keyed by std::string_view (or std::string)
// look up with any string type and without regard to case.
struct ILess {
  using is_transparent = void;  // NOLINT(readability-identifier-naming): the std name
  constexpr bool operator()(std::string_view a, std::string_view b) const noexcept {
    return iless(a, b);
  }
};

}  // namespace openbatch::text
