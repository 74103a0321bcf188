#include "scheduler/server/agent_link.hpp"

#include "common/protocol/agent_protocol.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <spdlog/spdlog.h>

#include <atomic>

namespace openbatch::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {
std::atomic<std::uint64_t> next_link_id{1};
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
}  // namespace

AgentLink::AgentLink(Stream stream, std::string node_id)
    : stream_(std::move(stream)), node_id_(std::move(node_id)), id_(next_link_id++) {}

asio::awaitable<void> AgentLink::run(AgentChannelEvents& events) {
  auto self = shared_from_this();
  stream_.read_message_max(protocol::kMaxFrameBytes);
  // Liveness is the engine's business (heartbeats); the transport only pings idle links.
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(30);
  timeouts.idle_timeout = std::chrono::seconds(300);
  timeouts.keep_alive_pings = true;
  stream_.set_option(timeouts);
  events.on_link_opened(self, node_id_);
  beast::flat_buffer buffer;
  for (;;) {
    auto [ec, n] = co_await stream_.async_read(buffer, kUseTuple);
    if (ec) {
      if (ec != websocket::error::closed && ec != asio::error::operation_aborted &&
          ec != asio::error::eof) {
        spdlog::debug("agent link {} of node {}: {}", id_, node_id_, ec.message());
      }
      break;
    }
    if (!stream_.got_text()) {
      close(1003, "binary frames are not part of the protocol");
      buffer.consume(buffer.size());
      continue;
    }
    events.on_frame(self, beast::buffers_to_string(buffer.data()));
    buffer.consume(buffer.size());
  }
  events.on_link_closed(self);
}

void AgentLink::send(std::string text) {
  asio::post(stream_.get_executor(), [self = shared_from_this(), text = std::move(text)]() mutable {
    if (self->closing_) return;
    self->queue_.push_back(std::move(text));
    if (!self->writing_) {
      self->writing_ = true;
      asio::co_spawn(self->stream_.get_executor(), self->write_queued(), asio::detached);
    }
  });
}

void AgentLink::close(std::uint16_t code, std::string reason) {
  asio::post(stream_.get_executor(),
             [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
               if (self->closing_) return;
               self->closing_ = true;
               self->close_code_ = code;
               self->close_reason_ = std::move(reason);
               if (!self->writing_) {
                 self->writing_ = true;
                 asio::co_spawn(self->stream_.get_executor(), self->write_queued(), asio::detached);
               }
             });
}

asio::awaitable<void> AgentLink::write_queued() {
  auto self = shared_from_this();
  while (!queue_.empty()) {
    std::string frame = std::move(queue_.front());
    queue_.pop_front();
    stream_.text(true);
    auto [ec, n] = co_await stream_.async_write(asio::buffer(frame), kUseTuple);
    if (ec) {
      queue_.clear();
      closing_ = true;
      beast::get_lowest_layer(stream_).socket().close(ec);
      writing_ = false;
      co_return;
    }
  }
  if (closing_) {
    websocket::close_reason reason(static_cast<websocket::close_code>(close_code_), close_reason_);
    auto [ec] = co_await stream_.async_close(reason, kUseTuple);
    if (ec) beast::get_lowest_layer(stream_).socket().close(ec);
  }
  writing_ = false;
}

}  // namespace openbatch::server

namespace openbatch::server {

void AgentLink::drop() {
  boost::beast::error_code ec;
  boost::beast::get_lowest_layer(stream_).socket().close(ec);
}

}  // namespace openbatch::server
