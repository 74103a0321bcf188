// The join request (see join_client.hpp).
#include "node_agent/link/join_client.hpp"

#include "common/http/client.hpp"

namespace openbatch::agent::link {
namespace {

Error unavailable(std::string message) {
  return Error(503, std::string(kJoinUnavailable), std::move(message));
}

}  // namespace

Result<JoinAnswer> join(const SchedulerUrl& url, const JoinRequest& request,
                        std::chrono::milliseconds timeout) {
  http::ClientOptions options;
  options.timeout = timeout;
  options.user_agent = "openbatch-agent/0.1";
  http::HttpClient client(url.base(), options);
  nlohmann::json body = {{"poolId", request.pool_id},
                         {"hostname", request.hostname},
                         {"inventory", request.inventory}};
  auto response = client.request(
      "POST", "/agent/v1/join", body.dump(),
      {{"Authorization", "Bearer " + request.join_token}, {"Content-Type", "application/json"}});
  if (!response) return unavailable("join: " + response.error().message);
  const int status = response->status;
  if (status == 400 || status == 401 || status == 403 || status == 404) {
    return Error(status, std::string(kJoinRefused),
                 "the scheduler refused the join (HTTP " + std::to_string(status) +
                     "): " + response->body.substr(0, 512));
  }
  if (status != 200 && status != 201) {
    return unavailable("join: HTTP " + std::to_string(status));
  }
  nlohmann::json j = nlohmann::json::parse(response->body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return unavailable("join: the answer is not JSON");
  JoinAnswer answer;
  auto text = [&j](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  answer.node_id = text("nodeId");
  answer.node_token = text("nodeToken");
  answer.pool_id = text("poolId");
  if (answer.pool_id.empty()) answer.pool_id = request.pool_id;
  if (auto it = j.find("heartbeatIntervalSeconds"); it != j.end() && it->is_number_integer()) {
    answer.heartbeat_interval_seconds = it->get<int>();
  }
  if (answer.node_id.empty() || answer.node_token.empty()) {
    return unavailable("join: the answer lacks nodeId or nodeToken");
  }
  return answer;
}

}  // namespace openbatch::agent::link
