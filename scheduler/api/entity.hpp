// Common entity bookkeeping shared by pools, jobs, tasks and nodes: the system properties
// every Azure entity carries (url, eTag, lastModified, creationTime, state and its transition
// times; later moves are domain/entity_state.hpp's) and the conditional-request headers (If-Match &
// co.) evaluated against them.
#pragma once

#include "common/clock.hpp"
#include "common/error.hpp"
#include "scheduler/api/request_context.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace openbatch::api {

// Sets url, eTag, lastModified, creationTime, state and stateTransitionTime of a new entity.
void stamp_new(nlohmann::json& entity, std::string_view url, std::string_view etag, TimePoint now,
               std::string_view state);
// Sets eTag and lastModified after a change.
void touch(nlohmann::json& entity, std::string_view etag, TimePoint now);

// Evaluates If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since against the
// entity. Reads fail with 304 ConditionNotMet, writes with 412 ConditionNotMet.
Status check_preconditions(const RequestContext& ctx, const nlohmann::json& entity, bool is_read);

// Appends `text` to `out` as a JSON string literal (quotes and escapes included).
void append_json_string(std::string& out, std::string_view text);

// Dumps JSON for storage and the wire (invalid UTF-8 replaced rather than throwing).
std::string dump_json(const nlohmann::json& value);

}  // namespace openbatch::api
