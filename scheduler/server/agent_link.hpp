// AgentLink: the scheduler's end of one agent's WebSocket (/agent/v1/link). It reads frames
// and hands them to the engine, and writes the engine's frames in order. One per connection;
// its operations run on the connection's strand, and send()/close() may be called from any
// thread (they post there).
#pragma once

#include "scheduler/agents/agent_channel.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

namespace openbatch::server {

using agents::AgentChannel;
using agents::AgentChannelEvents;

class AgentLink final : public AgentChannel, public std::enable_shared_from_this<AgentLink> {
 public:
  using Stream = boost::beast::websocket::stream<boost::beast::tcp_stream>;

  AgentLink(Stream stream, std::string node_id);

  // Reads until the link closes, passing each text frame to events.on_frame(); then tells the
  // events the link is gone.
  boost::asio::awaitable<void> run(AgentChannelEvents& events);

  void send(std::string text) override;
  // Closes with a WebSocket close code (1000 normal, 1008 policy violation) after the frames
  // already queued.
  void close(std::uint16_t code, std::string reason) override;
  // Closes the socket at once, without the closing handshake. Only once the io_context has
  // stopped (shutdown): no handler runs then, and none would answer the agent's close, so the
  // agent would wait out its close timeout instead of exiting.
  void drop() override;

  const std::string& node_id() const override { return node_id_; }
  std::uint64_t id() const override { return id_; }

 private:
  boost::asio::awaitable<void> write_queued();

  Stream stream_;
  std::string node_id_;
  std::uint64_t id_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool closing_ = false;
  std::uint16_t close_code_ = 1000;
  std::string close_reason_;
};

}  // namespace openbatch::server
