// The OData $select option: which top-level properties of an entity a GET or list returns.
//
// Azure returns exactly the selected properties -- not even url or eTag unless they are named
// -- and matches names case-insensitively. Pure functions; a Select is an immutable value.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace openbatch::odata {

inline constexpr std::size_t kMaxSelectLength = 8192;  // characters of $select text

struct Select {
  // Lowercased, sorted, without duplicates. Empty means "no $select": keep everything.
  std::vector<std::string> properties;

  bool empty() const { return properties.empty(); }
  // Whether the top-level property `name` is selected (case-insensitive; true when empty()).
  bool includes(std::string_view name) const;
};

// Parses a comma-separated list of property names, trimming spaces around each. Names are
// letters, digits and '_' (nested paths such as a/b are not supported by Azure's $select).
// Errors: 400 InvalidQueryParameterValue with QueryParameterName "$select" for an empty list,
// an empty name ("id,,state", "id,") or an invalid character.
Result<Select> parse_select(std::string_view text);

// A copy of `entity` with only the selected top-level properties (names as the entity spells
// them). A non-object entity, or an empty Select, is returned unchanged.
nlohmann::json apply_select(const nlohmann::json& entity, const Select& select);

}  // namespace openbatch::odata
