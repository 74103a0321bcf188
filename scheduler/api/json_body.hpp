// Parsing request bodies: syntax errors and nesting deeper than kMaxJsonDepth become a 400
// InvalidRequestBody, never an exception. Top-level must be an object.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json.hpp>

#include <string_view>

namespace openbatch::api {

inline constexpr int kMaxJsonDepth = 64;

Result<nlohmann::json> parse_json_body(std::string_view body);
// Like parse_json_body, but an empty body yields an empty object (optional bodies).
Result<nlohmann::json> parse_optional_json_body(std::string_view body);

}  // namespace openbatch::api
