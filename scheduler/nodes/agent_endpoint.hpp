// AgentEndpoint: the HTTP side of /agent/v1 (docs/dev/agent-protocol.md section 2).
//   POST /agent/v1/join   Bearer <pool join token>  -> {nodeId, nodeToken, heartbeatIntervalSeconds, poolId}
//   GET  /agent/v1/link   Bearer <node token>, WebSocket upgrade -> an AgentLink
// Agents never use SharedKey; clients never use these paths. Refusals use the Azure error
// shape (401 for a missing or wrong token, 400 for a bad body, 426 for a link without upgrade).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <string_view>

#include "scheduler/api/http_types.hpp"

namespace openbatch::nodes {

class Engine;

class AgentEndpoint {
 public:
  explicit AgentEndpoint(Engine& engine) : engine_(engine) {}

  static bool handles(std::string_view target);  // the path starts with /agent/v1/

  // Plain requests: join (and a link request that is not an upgrade).
  boost::asio::awaitable<api::HttpResponse> handle(api::HttpRequest request, std::string peer_address);

  // A WebSocket upgrade of /agent/v1/link: authenticates, accepts and runs the link until it
  // closes. Anything else is answered with an error and closed.
  boost::asio::awaitable<void> upgrade(boost::beast::tcp_stream stream, api::HttpRequest request);

 private:
  Engine& engine_;
};

}  // namespace openbatch::nodes
