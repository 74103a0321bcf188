// AgentEndpoint: the HTTP side of /agent/v1 (docs/dev/agent-protocol.md section 2).
//   POST /agent/v1/join   Bearer <pool join token>  -> {nodeId, nodeToken,
//   heartbeatIntervalSeconds, poolId} GET  /agent/v1/link   Bearer <node token>, WebSocket upgrade
//   -> an AgentLink GET  /agent/v1/packages/<sha256>   Bearer <node token> -> the application
//   package blob,
//        streamed from its file, with `x-openbatch-sha256: <sha256>`; only a package of the
//        node's own pool or of a task dispatched to it (packages/access.hpp), else 404 as for
//        a digest no package has
// Agents never use SharedKey; clients never use these paths. Refusals use the Azure error
// shape (401 for a missing or wrong token, and for a join naming a pool that does not exist, with
// the same message, so that a join reveals no pool ids; 400 for a bad body, 426 for a link
// without upgrade).
#pragma once

#include "scheduler/api/http_types.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>

namespace openbatch::nodes {
class Engine;
}  // namespace openbatch::nodes

namespace openbatch::server {

using nodes::Engine;

class AgentEndpoint {
 public:
  // The file of a stored package blob, by its SHA-256 (64 lowercase hex characters, already
  // checked); nullopt for a digest no application version has.
  using PackageLookup =
      std::function<std::optional<std::filesystem::path>(std::string_view sha256)>;

  explicit AgentEndpoint(Engine& engine) : engine_(engine) {}

  // Where package downloads look blobs up (set before serving; without it every download is 404).
  void serve_packages(PackageLookup lookup) { packages_ = std::move(lookup); }

  static bool handles(std::string_view target);  // the path starts with /agent/v1/

  // Plain requests: join (and a link request that is not an upgrade).
  boost::asio::awaitable<api::HttpResponse> handle(api::HttpRequest request,
                                                   std::string peer_address);

  // A WebSocket upgrade of /agent/v1/link: authenticates, accepts and runs the link until it
  // closes. Anything else is answered with an error and closed.
  boost::asio::awaitable<void> upgrade(boost::beast::tcp_stream stream, api::HttpRequest request);

  // True for /agent/v1/packages/... : a streamed route of the HTTP server (download_package).
  static bool serves_package(std::string_view target);
  // Answers a package download whose header `parser` has read; returns whether the
  // connection may serve another request.
  boost::asio::awaitable<bool> download_package(
      boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer,
      boost::beast::http::request_parser<boost::beast::http::empty_body>& parser);

 private:
  Engine& engine_;
  PackageLookup packages_;
};

}  // namespace openbatch::server
