// WebSocketLink: the agent's one WebSocket to the scheduler (GET <prefix>/agent/v1/link with
// Authorization: Bearer <nodeToken>), kept up for the agent's whole life.
//
// It only moves text frames: the agent (LinkHandler) speaks the protocol. On every new
// connection it calls on_connected() (the agent sends hello); each text frame read goes to
// on_frame(); when the connection ends for any reason it calls on_disconnected() and
// reconnects after a Backoff delay. The agent calls connection_healthy() once the scheduler
// answered with welcome, which resets the backoff, so a scheduler that accepts and then
// drops links (a 1008 close, say) is retried at a growing interval. A refused upgrade (401,
// 403: perhaps the scheduler was restored from an older backup) is logged and retried too;
// the agent never exits because of the link.
//
// send() queues a frame on the current connection and writes frames one after another; it
// drops the frame when no connection is up (the outbox and hello cover what matters).
// generation() names the current connection, so the agent can tell that an ack it owes
// belongs to a link that is gone (the scheduler's seqs restart on each link).
//
// Thread-safety: none; everything runs on the io_context's one thread.
#pragma once

#include "node_agent/link/backoff.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace openbatch::agent::link {

class LinkHandler {
 public:
  virtual ~LinkHandler() = default;
  virtual void on_connected() = 0;
  virtual void on_frame(std::string_view frame) = 0;
  virtual void on_disconnected(std::string_view why) = 0;
};

struct LinkOptions {
  std::string host;
  std::string port;
  std::string target = "/agent/v1/link";
  std::string token;
  std::string user_agent = "openbatch-agent/0.1";
  std::chrono::milliseconds reconnect_min{1000};
  std::chrono::milliseconds reconnect_max{60000};
  // A link on which nothing (not even a pong) arrives for this long is dropped; pings are
  // sent at half of it.
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds handshake_timeout{30};
};

class WebSocketLink {
 public:
  WebSocketLink(boost::asio::io_context& io, LinkOptions options, LinkHandler& handler);
  ~WebSocketLink();
  WebSocketLink(const WebSocketLink&) = delete;
  WebSocketLink& operator=(const WebSocketLink&) = delete;

  // Starts connecting; returns at once.
  void start();
  // Queues a text frame on the current connection (dropped when there is none).
  void send(std::string frame);
  // Ends the current connection with code 1008 and `reason`, then reconnects with backoff
  // (the scheduler sent something this agent cannot read).
  void fail_connection(std::string reason);
  // Resets the reconnect backoff (the scheduler welcomed us).
  void connection_healthy();
  // Closes with 1000 after the queued frames are written, then calls `done`; no reconnect.
  void close(std::function<void()> done);

  bool connected() const;
  std::uint64_t generation() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace openbatch::agent::link
