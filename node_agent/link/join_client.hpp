// join: POST /agent/v1/join with the pool's join token (agent-protocol.md 2.1). Synchronous:
// it runs once, at first start, before the event loop.
//
// Outcome classes: the answer (JoinAnswer); a refusal the agent cannot fix by waiting (401,
// 403, 404: bad token or unknown pool; 400: a bad request) is an Error with code
// kJoinRefused; anything else (no connection, timeout, 5xx, 429, a garbled answer) is an Error
// with code kJoinUnavailable and the caller retries with backoff. Thread-safety: no state.
#pragma once

#include "common/error.hpp"
#include "node_agent/link/scheduler_url.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace openbatch::agent::link {

inline constexpr std::string_view kJoinRefused = "JoinRefused";
inline constexpr std::string_view kJoinUnavailable = "JoinUnavailable";

struct JoinRequest {
  std::string pool_id;
  std::string hostname;
  nlohmann::json inventory = nlohmann::json::object();
  std::string join_token;
};

struct JoinAnswer {
  std::string node_id;
  std::string node_token;
  int heartbeat_interval_seconds = 10;
  std::string pool_id;  // the answer's poolId, else the requested one
};

[[nodiscard]] Result<JoinAnswer> join(const SchedulerUrl& url, const JoinRequest& request,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace openbatch::agent::link
