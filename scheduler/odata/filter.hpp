// The OData $filter subset of the Azure Batch list operations (batch-api.md section 1.3).
//
// parse_filter() turns the query text into an immutable, pre-compiled expression once per
// request; Filter::matches() then tests each entity's wire JSON without parsing or allocating.
// Supported: and / or / not with parentheses (and binds tighter than or), eq ne gt ge lt le,
// startswith(prop,'x') (optionally "eq true"/"eq false"), single-quoted strings ('' escapes a
// quote), numbers, true, false, null, datetime'...' literals, and nested property paths
// joined by '/' (executionInfo/exitCode). Keywords and property names are case-insensitive.
//
// Thread-safety: a Filter is an immutable value; copies share the compiled expression and may
// be used from any number of threads at once.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace openbatch::odata {

namespace detail {
struct FilterProgram;
}

// Bounds that keep a hostile $filter from exhausting the stack or the CPU.
inline constexpr std::size_t kMaxFilterLength = 8192;  // characters of filter text
inline constexpr int kMaxFilterDepth = 32;             // nesting of parentheses and `not`
inline constexpr int kMaxFilterTerms = 256;            // comparisons and startswith calls

class Filter {
 public:
  // The empty filter: matches every entity.
  Filter() = default;

  // Whether `entity` (an entity's wire JSON object) satisfies the filter. Rules:
  // - property names match JSON keys case-insensitively, segment by segment;
  // - strings compare case-insensitively (enum values arrive as 'Active');
  // - a string compared with a datetime'...' literal, or with a string literal that is an
  //   ISO 8601 time when the property's value is one too, compares as a time;
  // - numbers compare as numbers, booleans with false < true;
  // - a missing (or null) property equals only null: eq/gt/ge/lt/le are false, ne is true;
  // - values of different kinds are unequal and unordered (ne true, everything else false).
  bool matches(const nlohmann::json& entity) const;

  // The lowercased x when the filter is `state eq 'x'`, or an `and` chain with that term at
  // its top level, so that the store can narrow its scan; matches() must still be applied.
  std::optional<std::string> state_equals() const;

  // Likewise for any property path ("poolId", "executionInfo/result"), matched
  // case-insensitively; returns the string literal as written.
  std::optional<std::string> string_equals(std::string_view property) const;

  // The first property path (segments joined by '/') whose first segment is none of `known`
  // (compared case-insensitively); none when every one is known or `known` is empty.
  std::optional<std::string> unknown_property(std::span<const std::string_view> known) const;

  // True for the filter that matches everything (no $filter, or only whitespace).
  bool empty() const { return program_ == nullptr; }

 private:
  friend Result<Filter> parse_filter(std::string_view text);

  // parse_filter() for the list named `entity` ("pools", "tasks", ... see entity_properties.hpp):
  // a property the entity does not have is refused like a syntax error, with a Reason naming it
  // (Azure answers 400 rather than an empty list).
  Result<Filter> parse_filter_for(std::string_view text, std::string_view entity);
  explicit Filter(std::shared_ptr<const detail::FilterProgram> program)
      : program_(std::move(program)) {}

  std::shared_ptr<const detail::FilterProgram> program_;
};

// Compiles `text` (already URL-decoded). Empty or all-whitespace text gives the empty Filter.
// Errors: 400 InvalidQueryParameterValue with QueryParameterName "$filter",
// QueryParameterValue = text and a Reason naming the problem and its position.
Result<Filter> parse_filter(std::string_view text);

// parse_filter() for the list named `entity` ("pools", "tasks", ... see entity_properties.hpp):
// a property the entity does not have is refused like a syntax error, with a Reason naming it
// (Azure answers 400 rather than an empty list).
Result<Filter> parse_filter_for(std::string_view text, std::string_view entity);

}  // namespace openbatch::odata
