// FakeScheduler: a small blocking Beast WebSocket server that plays the scheduler's side of
// /agent/v1/link for one test, driven step by step from the test's thread. Every blocking
// call gives up after 10 s (SO_RCVTIMEO), so a broken agent fails the test instead of
// hanging it.
#pragma once

#include "common/protocol/agent_protocol.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <sys/socket.h>

namespace openbatch::agent::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;

class FakeScheduler {
 public:
  FakeScheduler() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    set_timeout(acceptor_.native_handle());
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  // Accepts the next link; returns its Authorization header. With `refuse_status`, answers
  // the upgrade with that HTTP status instead and closes.
  std::string accept(int refuse_status = 0) {
    tcp::socket socket(io_);
    boost::system::error_code ec;
    acceptor_.accept(socket, ec);
    if (ec) {
      ADD_FAILURE() << "no agent connected: " << ec.message();
      return {};
    }
    set_timeout(socket.native_handle());
    beast::flat_buffer buffer;
    beast::http::request<beast::http::string_body> request;
    beast::http::read(socket, buffer, request, ec);
    if (ec) {
      ADD_FAILURE() << "reading the upgrade: " << ec.message();
      return {};
    }
    std::string auth(request[beast::http::field::authorization]);
    if (refuse_status != 0) {
      beast::http::response<beast::http::string_body> response{
          static_cast<beast::http::status>(refuse_status), request.version()};
      response.body() = "refused";
      response.prepare_payload();
      beast::http::write(socket, response, ec);
      return auth;
    }
    ws_ = std::make_unique<websocket::stream<tcp::socket>>(std::move(socket));
    ws_->accept(request, ec);
    if (ec) ADD_FAILURE() << "websocket accept: " << ec.message();
    ws_->text(true);
    seq_ = 0;
    return auth;
  }

  // The next frame, decoded; heartbeats are skipped unless asked for.
  protocol::Message read(bool skip_heartbeats = true) {
    while (true) {
      beast::flat_buffer buffer;
      boost::system::error_code ec;
      ws_->read(buffer, ec);
      if (ec) {
        ADD_FAILURE() << "reading a frame: " << ec.message();
        return {};
      }
      auto m = protocol::decode(beast::buffers_to_string(buffer.data()));
      if (!m) {
        ADD_FAILURE() << "the agent sent an invalid frame: " << m.error().detail("PropertyName");
        return {};
      }
      if (skip_heartbeats && std::holds_alternative<protocol::Heartbeat>(m->payload)) continue;
      return std::move(*m);
    }
  }

  template <class T>
  std::pair<std::uint64_t, T> read_as() {
    protocol::Message m = read();
    if (!std::holds_alternative<T>(m.payload)) {
      ADD_FAILURE() << "expected another frame type, got " << protocol::type_name(m.payload);
      return {m.seq, T{}};
    }
    return {m.seq, std::get<T>(std::move(m.payload))};
  }

  std::uint64_t send(protocol::Payload payload) {
    const std::uint64_t seq = ++seq_;
    boost::system::error_code ec;
    ws_->write(asio::buffer(protocol::encode({seq, std::move(payload)})), ec);
    if (ec) ADD_FAILURE() << "writing a frame: " << ec.message();
    return seq;
  }

  void send_raw(const std::string& text) {
    boost::system::error_code ec;
    ws_->write(asio::buffer(text), ec);
    if (ec) ADD_FAILURE() << "writing a frame: " << ec.message();
  }

  // Ends the link without a close handshake, as a crashed scheduler would.
  void drop() {
    boost::system::error_code ec;
    ws_->next_layer().shutdown(tcp::socket::shutdown_both, ec);
    ws_->next_layer().close(ec);
    ws_.reset();
  }

  // Reads until the agent closes the link; returns the close code.
  int wait_for_close() {
    while (true) {
      beast::flat_buffer buffer;
      boost::system::error_code ec;
      ws_->read(buffer, ec);
      if (ec == websocket::error::closed) return ws_->reason().code;
      if (ec) return -1;
    }
  }

 private:
  static void set_timeout(int fd) {
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::unique_ptr<websocket::stream<tcp::socket>> ws_;
  std::uint64_t seq_ = 0;
};

}  // namespace openbatch::agent::testing
