// WebSocketLink: connect, handshake, read loop, serialized writes and reconnect with backoff
// (see websocket_link.hpp). One coroutine runs the connect/read/retry loop; writes chain
// from send() with callbacks. Each connection's stream lives in a shared_ptr that every
// pending operation holds, so a connection can be dropped while a write is still in flight.
#include "node_agent/link/websocket_link.hpp"

#include "common/protocol/agent_protocol.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <spdlog/spdlog.h>

#include <deque>
#include <optional>
#include <utility>

namespace openbatch::agent::link {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using Stream = websocket::stream<beast::tcp_stream>;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
}  // namespace

struct WebSocketLink::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io_context, LinkOptions opts, LinkHandler& link_handler)
      : io(io_context),
        options(std::move(opts)),
        handler(link_handler),
        backoff(options.reconnect_min, options.reconnect_max),
        resolver(io_context),
        retry_timer(io_context) {}

  asio::io_context& io;
  LinkOptions options;
  LinkHandler& handler;
  Backoff backoff;
  tcp::resolver resolver;
  asio::steady_timer retry_timer;

  std::shared_ptr<Stream> ws;  // the current connection (also while connecting)
  bool up = false;             // handshake done, not yet ended
  std::uint64_t generation = 0;
  std::deque<std::string> queue;
  bool writing = false;
  std::optional<websocket::close_reason> pending_close;
  bool stopping = false;
  bool running = false;
  std::function<void()> on_closed;

  static asio::awaitable<void> run(std::shared_ptr<Impl> self) {
    while (!self->stopping) {
      std::string why = co_await self->connect_and_read();
      self->end_connection(why);
      if (self->stopping) break;
      const auto delay = self->backoff.next();
      spdlog::info("link: reconnecting in {} ms", delay.count());
      self->retry_timer.expires_after(delay);
      co_await self->retry_timer.async_wait(kTuple);
    }
    self->running = false;
    if (self->on_closed) std::exchange(self->on_closed, nullptr)();
  }

  asio::awaitable<std::string> connect_and_read() {
    auto [rec, results] = co_await resolver.async_resolve(options.host, options.port, kTuple);
    if (rec) co_return "resolve " + options.host + ": " + rec.message();
    if (stopping) co_return "stopping";
    auto stream = std::make_shared<Stream>(io);
    ws = stream;
    beast::get_lowest_layer(*stream).expires_after(options.handshake_timeout);
    auto [cec, endpoint] = co_await beast::get_lowest_layer(*stream).async_connect(results, kTuple);
    if (cec) co_return "connect " + options.host + ":" + options.port + ": " + cec.message();
    beast::get_lowest_layer(*stream).expires_never();
    boost::system::error_code ignored;
    beast::get_lowest_layer(*stream).socket().set_option(tcp::no_delay(true), ignored);
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = options.handshake_timeout;
    timeouts.idle_timeout = options.idle_timeout;
    timeouts.keep_alive_pings = true;
    stream->set_option(timeouts);
    stream->set_option(websocket::stream_base::decorator(
        [token = options.token, agent = options.user_agent](websocket::request_type& req) {
          req.set(beast::http::field::authorization, "Bearer " + token);
          req.set(beast::http::field::user_agent, agent);
        }));
    stream->read_message_max(protocol::kMaxFrameBytes);
    websocket::response_type response;
    auto [hec] = co_await stream->async_handshake(response, options.host + ":" + options.port,
                                                  options.target, kTuple);
    if (hec) {
      const int status = response.result_int();
      if (status == 401 || status == 403) {
        co_return "the scheduler refused the node token (HTTP " + std::to_string(status) +
            "); retrying, it may have been restored from a backup";
      }
      co_return "handshake: " + hec.message() +
          (status != 0 ? " (HTTP " + std::to_string(status) + ")" : std::string());
    }
    if (stopping) co_return "stopping";
    stream->text(true);
    up = true;
    ++generation;
    spdlog::info("link: connected to {}:{}{}", options.host, options.port, options.target);
    handler.on_connected();
    beast::flat_buffer buffer;
    while (true) {
      auto [ec, n] = co_await stream->async_read(buffer, kTuple);
      if (ec) {
        if (ec == websocket::error::closed) {
          const auto& reason = stream->reason();
          co_return "closed with code " + std::to_string(reason.code) +
              (reason.reason.empty()
                   ? std::string()
                   : " (" + std::string(reason.reason.data(), reason.reason.size()) + ")");
        }
        co_return "read: " + ec.message();
      }
      handler.on_frame(
          std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()));
      buffer.consume(buffer.size());
    }
  }

  void end_connection(const std::string& why) {
    const bool was_up = up;
    up = false;
    writing = false;
    pending_close.reset();
    queue.clear();
    if (ws) {
      boost::system::error_code ignored;
      beast::get_lowest_layer(*ws).socket().close(ignored);
      ws.reset();
    }
    if (stopping) {
      spdlog::info("link: closed ({})", why);
    } else {
      spdlog::warn("link: {}", why);
    }
    if (was_up) handler.on_disconnected(why);
  }

  void write_next() {
    if (!up) return;
    if (queue.empty()) {
      writing = false;
      if (pending_close) start_close(*pending_close);
      return;
    }
    writing = true;
    auto frame = std::make_shared<std::string>(std::move(queue.front()));
    queue.pop_front();
    auto stream = ws;
    stream->async_write(asio::buffer(*frame),
                        [self = shared_from_this(), stream, frame, g = generation](
                            boost::system::error_code ec, std::size_t) {
                          if (g != self->generation || !self->up) return;
                          if (ec) {
                            boost::system::error_code ignored;
                            beast::get_lowest_layer(*stream).socket().close(ignored);
                            return;
                          }
                          self->write_next();
                        });
  }

  void start_close(const websocket::close_reason& reason) {
    writing = true;  // nothing more is written on this connection
    auto stream = ws;
    stream->async_close(reason, [stream](boost::system::error_code ec) {
      if (ec) {
        boost::system::error_code ignored;
        beast::get_lowest_layer(*stream).socket().close(ignored);
      }
    });
  }

  void request_close(websocket::close_reason reason) {
    if (!up) return;
    if (pending_close) return;
    pending_close = std::move(reason);
    if (!writing) start_close(*pending_close);
  }
};

WebSocketLink::WebSocketLink(asio::io_context& io, LinkOptions options, LinkHandler& handler)
    : impl_(std::make_shared<Impl>(io, std::move(options), handler)) {}

WebSocketLink::~WebSocketLink() {
  impl_->stopping = true;
  impl_->retry_timer.cancel();
  impl_->resolver.cancel();
  if (impl_->ws) {
    boost::system::error_code ignored;
    beast::get_lowest_layer(*impl_->ws).socket().close(ignored);
  }
}

void WebSocketLink::start() {
  if (impl_->running) return;
  impl_->running = true;
  asio::co_spawn(impl_->io, Impl::run(impl_), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::critical("link: stopped by an exception: {}", ex.what());
    }
  });
}

void WebSocketLink::send(std::string frame) {
  if (!impl_->up || impl_->pending_close) return;
  impl_->queue.push_back(std::move(frame));
  if (!impl_->writing) impl_->write_next();
}

void WebSocketLink::fail_connection(std::string reason) {
  impl_->request_close(websocket::close_reason(websocket::close_code::policy_error, reason));
}

void WebSocketLink::connection_healthy() { impl_->backoff.reset(); }

void WebSocketLink::close(std::function<void()> done) {
  impl_->stopping = true;
  impl_->on_closed = std::move(done);
  impl_->retry_timer.cancel();
  impl_->resolver.cancel();
  if (!impl_->running) {
    if (impl_->on_closed) std::exchange(impl_->on_closed, nullptr)();
    return;
  }
  if (impl_->up) {
    impl_->request_close(websocket::close_reason(websocket::close_code::normal));
  } else if (impl_->ws) {
    boost::system::error_code ignored;
    beast::get_lowest_layer(*impl_->ws).socket().close(ignored);
  }
}

bool WebSocketLink::connected() const { return impl_->up; }
std::uint64_t WebSocketLink::generation() const { return impl_->generation; }

}  // namespace openbatch::agent::link
