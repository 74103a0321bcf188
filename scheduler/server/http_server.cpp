#include "scheduler/server/http_server.hpp"

#include "common/encoding.hpp"
#include "common/time.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <array>

namespace openbatch::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

struct HttpServer::Connection {
  explicit Connection(tcp::socket s) : stream(std::move(s)) {}
  beast::tcp_stream stream;
  std::atomic<bool> busy{false};  // a request is being handled: do not close under it
};

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// An Azure-shaped error written by the transport itself, before any route runs: the same
// body and request-id header as the API's errors.
api::HttpResponse transport_error(unsigned version, http::status status, const char* code, const char* message) {
  const std::string request_id = encoding::uuid_v4();
  api::HttpResponse res{status, version};
  res.set(http::field::content_type, api::kJsonContentType);
  res.set(http::field::server, "OpenBatch");
  res.set("request-id", request_id);
  res.body() = std::string("{\"code\":\"") + code + "\",\"message\":{\"lang\":\"en-US\",\"value\":\"" + message +
               "\\nRequestId:" + request_id + "\\nTime:" + format_iso8601(std::chrono::system_clock::now()) + "\"}}";
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

asio::awaitable<void> refuse_body_and_close(beast::tcp_stream& stream, unsigned version) {
  co_await answer_and_close(
      stream,
      transport_error(version, http::status::payload_too_large, "RequestBodyTooLarge",
                      "The request body is too large and exceeds the maximum permissible limit."));
}

}  // namespace

// Closing a socket with unread data makes the kernel send RST, which can destroy our answer
// before the client reads it: hence the half-close and the bounded drain.
asio::awaitable<void> answer_and_close(beast::tcp_stream& stream, api::HttpResponse res) {
  res.keep_alive(false);
  res.prepare_payload();
  stream.expires_after(std::chrono::seconds(10));
  auto [wec, wn] = co_await http::async_write(stream, res, kUseTuple);
  if (wec) co_return;
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  std::array<char, 64 * 1024> sink;
  std::size_t drained = 0;
  stream.expires_after(std::chrono::seconds(5));
  while (drained < (64u << 20)) {
    auto [rec, n] = co_await stream.async_read_some(asio::buffer(sink), kUseTuple);
    if (rec) break;
    drained += n;
  }
  stream.socket().close(ec);
}

HttpServer::HttpServer(asio::io_context& ioc, Handler handler, ServerLimits limits)
    : ioc_(ioc), handler_(std::move(handler)), limits_(limits), acceptor_(ioc) {}

void HttpServer::route_prefix(std::string prefix, PeerHandler handler, UpgradeHandler upgrade) {
  prefix_ = std::move(prefix);
  prefix_handler_ = std::move(handler);
  upgrade_ = std::move(upgrade);
}

void HttpServer::route_stream(StreamPredicate predicate, StreamHandler handler) {
  streamed_.emplace_back(std::move(predicate), std::move(handler));
}

tcp::endpoint HttpServer::listen(const tcp::endpoint& endpoint) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  return acceptor_.local_endpoint();
}

void HttpServer::start() { asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached); }

void HttpServer::stop() {
  if (stopping_.exchange(true)) return;
  asio::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  std::lock_guard lock(connections_mu_);
  for (const auto& conn : connections_) {
    if (!conn->busy.load()) {
      // Idle keep-alive connection: cancel its pending read so it closes.
      asio::post(conn->stream.get_executor(), [conn] { conn->stream.socket().close(); });
    }
  }
}

asio::awaitable<void> HttpServer::accept_loop() {
  for (;;) {
    // Each connection gets its own strand so that many are served in parallel on the pool.
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), kUseTuple);
    if (ec) {
      if (stopping_) co_return;
      spdlog::warn("accept failed: {}", ec.message());
      continue;
    }
    socket.set_option(tcp::no_delay(true));
    auto conn = std::make_shared<Connection>(std::move(socket));
    {
      std::lock_guard lock(connections_mu_);
      connections_.insert(conn);
    }
    auto executor = conn->stream.get_executor();
    asio::co_spawn(executor, serve(conn), [this, conn](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& failure) {
          spdlog::error("connection failed: {}", failure.what());
        }
      }
      std::lock_guard lock(connections_mu_);
      connections_.erase(conn);
    });
  }
}

asio::awaitable<void> HttpServer::serve(std::shared_ptr<Connection> conn) {
  beast::flat_buffer buffer;
  auto& stream = conn->stream;
  while (!stopping_) {
    // The header first: whether the body is read whole (and how much of it is allowed)
    // depends on the route.
    HeaderParser header_parser;
    header_parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    header_parser.body_limit(boost::none);  // checked below, per route
    stream.expires_after(limits_.idle_timeout);
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, header_parser, kUseTuple);
    if (hec) {
      if (hec == http::error::header_limit) {
        auto res = transport_error(11, http::status::request_header_fields_too_large, "RequestHeaderTooLarge",
                                   "The request headers are too large.");
        co_await http::async_write(stream, res, kUseTuple);
      }
      break;  // closed, timed out, or malformed
    }
    conn->busy = true;
    in_flight_++;
    struct Done {
      HttpServer* s;
      Connection* c;
      ~Done() {
        if (!c) return;  // handed over to the upgrade handler
        c->busy = false;
        s->in_flight_--;
      }
    } done{this, conn.get()};
    const StreamHandler* streamed = nullptr;
    for (const auto& [predicate, handler] : streamed_) {
      if (predicate(header_parser.get())) {
        streamed = &handler;
        break;
      }
    }
    if (streamed) {
      stream.expires_never();  // the handler sets its own deadlines
      const bool keep_alive = header_parser.get().keep_alive();
      const bool reusable = co_await (*streamed)(stream, buffer, header_parser);
      if (!reusable || !keep_alive || stopping_) break;
      continue;
    }
    const auto length = header_parser.content_length();
    if (length && *length > limits_.max_body_bytes) {
      co_await refuse_body_and_close(stream, header_parser.get().version());
      co_return;
    }
    http::request_parser<http::string_body> parser{std::move(header_parser)};
    parser.body_limit(limits_.max_body_bytes);
    stream.expires_after(std::chrono::seconds(60));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kUseTuple);
    if (ec == http::error::body_limit) {
      co_await refuse_body_and_close(stream, parser.get().version());
      co_return;
    }
    if (ec) break;
    api::HttpRequest request = parser.release();
    const bool keep_alive = request.keep_alive();
    const bool head = request.method() == http::verb::head;
    stream.expires_never();
    const bool prefixed = !prefix_.empty() && std::string_view(request.target().data(), request.target().size()).starts_with(prefix_);
    if (prefixed && upgrade_ && beast::websocket::is_upgrade(request)) {
      // The connection now belongs to the upgrade handler (a long-lived agent link): it is no
      // request in flight, and stop() must not wait for it.
      in_flight_--;
      conn->busy = false;
      done.c = nullptr;
      {
        std::lock_guard lock(connections_mu_);
        connections_.erase(conn);
      }
      co_await upgrade_(std::move(conn->stream), std::move(request));
      co_return;
    }
    std::string peer;
    if (prefixed) {
      beast::error_code pec;
      auto remote = stream.socket().remote_endpoint(pec);
      if (!pec) peer = remote.address().to_string();
    }
    // Two statements, not a conditional expression: GCC 12 miscompiles co_await inside ?:.
    api::HttpResponse response;
    if (prefixed) {
      response = co_await prefix_handler_(std::move(request), std::move(peer));
    } else {
      response = co_await handler_(std::move(request));
    }
    response.keep_alive(keep_alive && !stopping_);
    if (!head) response.prepare_payload();
    stream.expires_after(std::chrono::seconds(60));
    if (head) {
      // A HEAD answer carries the entity's headers (Content-Length included) but no body.
      http::response_serializer<http::string_body> sr{response};
      sr.split(true);
      auto [wec, wn] = co_await http::async_write_header(stream, sr, kUseTuple);
      if (wec) break;
    } else {
      auto [wec, wn] = co_await http::async_write(stream, response, kUseTuple);
      if (wec) break;
    }
    if (!response.keep_alive()) break;
  }
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  co_return;
}

}  // namespace openbatch::server
