// Reading wire JSON for display without trusting its shape: a '/'-separated path
// ("executionInfo/exitCode") that is missing or of an unexpected type gives "" or a default
// instead of throwing. Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace openbatch::cli {

// The value at `path`, or nullptr when a segment is missing or not an object.
const nlohmann::json* find_path(const nlohmann::json& entity, std::string_view path);

// The value at `path` as display text: strings as is, numbers and booleans in JSON form,
// arrays and objects as compact JSON, absent or null as "".
std::string text_at(const nlohmann::json& entity, std::string_view path);

// The integer at `path`, or `fallback` when absent or not an integer.
std::int64_t int_at(const nlohmann::json& entity, std::string_view path, std::int64_t fallback = 0);

// The boolean at `path`, or `fallback` when absent or not a boolean.
bool bool_at(const nlohmann::json& entity, std::string_view path, bool fallback = false);

}  // namespace openbatch::cli
