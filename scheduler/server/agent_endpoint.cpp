#include "scheduler/server/agent_endpoint.hpp"

#include "common/auth/bearer_token.hpp"
#include "common/encoding.hpp"
#include "common/time.hpp"
#include "scheduler/nodes/engine.hpp"
#include "scheduler/server/agent_link.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

namespace openbatch::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using nlohmann::json;
using nodes::JoinAnswer;
using nodes::JoinRequest;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

api::HttpResponse answer(unsigned version, http::status status, const json& body) {
  api::HttpResponse res{status, version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::server, "OpenBatch");
  res.set("request-id", encoding::uuid_v4());
  res.body() = body.dump();
  res.prepare_payload();
  return res;
}

api::HttpResponse refusal(unsigned version, const Error& e) {
  json body = {
      {"code", e.code},
      {"message",
       {{"lang", "en-US"},
        {"value", e.message + "\nTime:" + format_iso8601(std::chrono::system_clock::now())}}}};
  if (!e.values.empty()) {
    body["values"] = json::array();
    for (const auto& v : e.values) body["values"].push_back({{"key", v.key}, {"value", v.value}});
  }
  auto res = answer(version, static_cast<http::status>(e.status), body);
  if (e.status == 401) res.set(http::field::www_authenticate, "Bearer");
  return res;
}

Error unauthorized(std::string message) {
  return Error(401, "AuthenticationFailed", std::move(message));
}

std::string_view path_of(std::string_view target) {
  auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

// engine.join() as an awaitable, resumed on the caller's executor.
template <class Token>
auto async_join(Engine& engine, JoinRequest request, Token&& token) {
  return asio::async_initiate<Token, void(Result<JoinAnswer>)>(
      [&engine](auto handler, JoinRequest req) {
        auto ex = asio::get_associated_executor(handler);
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        engine.join(std::move(req), [shared, ex](Result<JoinAnswer> result) {
          asio::post(
              ex, [shared, result = std::move(result)]() mutable { (*shared)(std::move(result)); });
        });
      },
      token, std::move(request));
}

constexpr std::string_view kPackagesPrefix = "/agent/v1/packages/";

bool is_digest(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

bool AgentEndpoint::handles(std::string_view target) {
  return target.starts_with("/agent/v1/") || target == "/agent/v1";
}

asio::awaitable<api::HttpResponse> AgentEndpoint::handle(api::HttpRequest request,
                                                         std::string peer_address) {
  const unsigned version = request.version();
  const auto path = path_of(std::string_view(request.target().data(), request.target().size()));
  if (path == "/agent/v1/link") {
    co_return refusal(version, Error(426, "UpgradeRequired",
                                     "The agent link is a WebSocket: send an Upgrade request."));
  }
  if (path != "/agent/v1/join") {
    co_return refusal(version,
                      Error(404, "InvalidUri",
                            "The requested URI does not represent any resource on the server."));
  }
  if (request.method() != http::verb::post) {
    co_return refusal(version, Error(405, "UnsupportedHttpVerb", "Join with POST."));
  }
  auto authorization = request[http::field::authorization];
  auto token = auth::bearer_token_of(std::string_view(authorization.data(), authorization.size()));
  if (!token)
    co_return refusal(
        version, unauthorized("A pool join token is required (Authorization: Bearer <token>)."));
  auto body = json::parse(request.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    co_return refusal(
        version, Error(400, "InvalidRequestBody", "The join request body is not a JSON object."));
  }
  auto pool = body.find("poolId");
  if (pool == body.end() || !pool->is_string() || pool->get_ref<const std::string&>().empty()) {
    co_return refusal(version, errors::missing_property("poolId"));
  }
  JoinRequest join;
  join.pool_id = pool->get<std::string>();
  join.token = std::string(*token);
  join.hostname = body.value("hostname", "");
  join.peer_address = std::move(peer_address);
  if (auto inv = body.find("inventory"); inv != body.end() && inv->is_object())
    join.inventory = *inv;
  auto joined = co_await async_join(engine_, std::move(join), asio::use_awaitable);
  if (!joined) co_return refusal(version, joined.error());
  co_return answer(version, http::status::ok,
                   {{"nodeId", joined->node_id},
                    {"nodeToken", joined->node_token},
                    {"poolId", joined->pool_id},
                    {"heartbeatIntervalSeconds", joined->heartbeat_interval_seconds}});
}

asio::awaitable<void> AgentEndpoint::upgrade(beast::tcp_stream stream, api::HttpRequest request) {
  const unsigned version = request.version();
  auto reject = [&](const Error& e) -> asio::awaitable<void> {
    auto res = refusal(version, e);
    res.keep_alive(false);
    co_await http::async_write(stream, res, kUseTuple);
    beast::error_code ec;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  };
  const auto path = path_of(std::string_view(request.target().data(), request.target().size()));
  if (path != "/agent/v1/link") {
    co_await reject(Error(404, "InvalidUri", "Only /agent/v1/link accepts a WebSocket."));
    co_return;
  }
  auto authorization = request[http::field::authorization];
  auto token = auth::bearer_token_of(std::string_view(authorization.data(), authorization.size()));
  if (!token) {
    co_await reject(unauthorized("A node token is required (Authorization: Bearer <token>)."));
    co_return;
  }
  auto node_id = engine_.authenticate_node(*token);
  if (!node_id) {
    spdlog::info("agent link refused: unknown or wrong node token");
    co_await reject(unauthorized("The node token is not valid (the node may have been removed)."));
    co_return;
  }
  stream.expires_never();
  AgentLink::Stream ws(std::move(stream));
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "OpenBatch"); }));
  auto [ec] = co_await ws.async_accept(request, kUseTuple);
  if (ec) {
    spdlog::debug("agent link handshake failed: {}", ec.message());
    co_return;
  }
  auto link = std::make_shared<AgentLink>(std::move(ws), std::move(*node_id));
  co_await link->run(engine_);
}

bool AgentEndpoint::serves_package(std::string_view target) {
  return path_of(target).starts_with(kPackagesPrefix);
}

asio::awaitable<bool> AgentEndpoint::download_package(
    beast::tcp_stream& stream, beast::flat_buffer&,
    http::request_parser<http::empty_body>& parser) {
  const auto& request = parser.get();
  const unsigned version = request.version();
  // A download has no body; one that came with a body cannot reuse the connection (unread).
  const bool reusable = parser.is_done() && request.keep_alive();
  auto finish = [&](api::HttpResponse res) -> asio::awaitable<bool> {
    res.keep_alive(reusable);
    stream.expires_after(std::chrono::seconds(30));
    auto [ec, n] = co_await http::async_write(stream, res, kUseTuple);
    co_return !ec && reusable;
  };
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    co_return co_await finish(
        refusal(version, Error(405, "UnsupportedHttpVerb", "Download packages with GET.")));
  }
  auto authorization = request[http::field::authorization];
  auto token = auth::bearer_token_of(std::string_view(authorization.data(), authorization.size()));
  std::optional<std::string> node_id;
  if (token) node_id = engine_.authenticate_node(*token);
  if (!node_id) {
    co_return co_await finish(refusal(
        version, unauthorized("A valid node token is required (Authorization: Bearer <token>).")));
  }
  const auto digest = path_of(std::string_view(request.target().data(), request.target().size()))
                          .substr(kPackagesPrefix.size());
  std::optional<std::filesystem::path> file;
  if (is_digest(digest) && packages_) {
    // Only the packages of the node's own pool and of its tasks (packages/access.hpp); any
    // other is answered as if it did not exist.
    if (engine_.node_may_download(*node_id, digest)) {
      file = packages_(digest);
    } else {
      spdlog::warn("node {}: package {} refused: neither its pool nor its tasks reference it",
                   *node_id, digest);
    }
  }
  http::file_body::value_type body;
  beast::error_code ec;
  if (file) body.open(file->c_str(), beast::file_mode::scan, ec);
  if (!file || ec) {
    co_return co_await finish(refusal(version, Error(404, "ApplicationPackageNotFound",
                                                     "No application package has this SHA-256.")));
  }
  http::response<http::file_body> res{http::status::ok, version};
  res.set(http::field::server, "OpenBatch");
  res.set(http::field::content_type, "application/zip");
  res.set("request-id", encoding::uuid_v4());
  res.set("x-openbatch-sha256", std::string(digest));
  res.body() = std::move(body);
  res.prepare_payload();
  res.keep_alive(reusable);
  http::response_serializer<http::file_body> sr{res};
  if (request.method() == http::verb::head) sr.split(true);
  // One deadline per piece, not for the whole file: gigabytes take a while on a slow link.
  while (request.method() == http::verb::head ? !sr.is_header_done() : !sr.is_done()) {
    stream.expires_after(std::chrono::seconds(60));
    auto [wec, n] = co_await http::async_write_some(stream, sr, kUseTuple);
    if (wec) co_return false;
  }
  co_return reusable;
}

}  // namespace openbatch::server
