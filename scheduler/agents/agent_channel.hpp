// AgentChannel: the engine's view of one agent's link -- send a frame, close, drop -- and
// AgentChannelEvents, what a transport tells the engine. The engine never sees a socket: the
// WebSocket implementation (AgentLink) lives with the HTTP transport, and tests hand the engine
// in-memory channels.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace openbatch::agents {

class AgentChannel {
 public:
  virtual ~AgentChannel() = default;
  // Queues a text frame (thread-safe; frames leave in order).
  virtual void send(std::string text) = 0;
  // Closes with a WebSocket close code (1000 normal, 1001 going away, 1008 policy violation,
  // 1011 internal error) after the frames already queued.
  virtual void close(std::uint16_t code, std::string reason) = 0;
  // Ends the link at once, without a closing handshake. Only once the io_context has stopped.
  virtual void drop() = 0;
  // The node the link authenticated as.
  virtual const std::string& node_id() const = 0;
  // Unique per link for the life of the process.
  virtual std::uint64_t id() const = 0;
};

// What a transport reports about its channels. Thread-safe (the engine posts to its strand).
class AgentChannelEvents {
 public:
  virtual ~AgentChannelEvents() = default;
  virtual void on_link_opened(std::shared_ptr<AgentChannel> link, std::string node_id) = 0;
  virtual void on_frame(std::shared_ptr<AgentChannel> link, std::string text) = 0;
  virtual void on_link_closed(std::shared_ptr<AgentChannel> link) = 0;
};

}  // namespace openbatch::agents
