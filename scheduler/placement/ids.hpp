// Case-insensitive id comparison: Azure Batch ids (pools, jobs, tasks) are unique and looked
// up without regard to case. ASCII folding only, as Azure ids are restricted to ASCII.
#pragma once

#include <algorithm>
#include <string_view>

namespace openbatch::placement::detail {

constexpr char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

constexpr bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

// Orders ids case-insensitively; transparent so that maps keyed by std::string_view can be
// searched with any string type.
struct IdLess {
  using is_transparent = void;  // NOLINT(readability-identifier-naming): the std name
  bool operator()(std::string_view a, std::string_view b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
      return ascii_lower(x) < ascii_lower(y);
    });
  }
};

}  // namespace openbatch::placement::detail
