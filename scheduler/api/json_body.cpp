#include "scheduler/api/json_body.hpp"

#include <algorithm>

namespace openbatch::api {
namespace {

struct TooDeep {};

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; });
}

}  // namespace

Result<nlohmann::json> parse_json_body(std::string_view body) {
  if (blank(body))
    return errors::invalid_body("The request body is empty; a JSON object is required.");
  try {
    auto depth_guard = [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
      if (depth > kMaxJsonDepth) throw TooDeep{};
      return true;
    };
    auto value = nlohmann::json::parse(body.begin(), body.end(), depth_guard);
    if (!value.is_object()) return errors::invalid_body("The request body must be a JSON object.");
    return value;
  } catch (const TooDeep&) {
    return errors::invalid_body("The request body nests JSON deeper than " +
                                std::to_string(kMaxJsonDepth) + " levels.");
  } catch (const nlohmann::json::exception& e) {
    return errors::invalid_body(e.what());
  }
}

Result<nlohmann::json> parse_optional_json_body(std::string_view body) {
  if (blank(body)) return nlohmann::json::object();
  return parse_json_body(body);
}

}  // namespace openbatch::api
