// HttpServer: the Boost.Beast HTTP/1.1 transport. It accepts connections, reads requests
// (bounded: header and body size), hands each to a handler coroutine, and writes the answer;
// keep-alive connections serve requests one after another while many connections are in
// flight at once. It knows nothing of routes (the handler is the api::Router).
//
// Streamed routes (route_stream) take over one request after its header: package uploads read
// their body piece by piece under their own size limit, package downloads write a file body.
// Every other request is read whole, bounded by ServerLimits::max_body_bytes (Azure's 1 MiB).
//
// Connections are capped (ServerLimits::max_connections, by default from the fd limit; agent
// links count too): a new connection beyond the cap makes room by closing the connection idle
// the longest, and when every one is busy it gets 503 ServerBusy and is closed. When accept()
// fails for lack of fds it backs off (10 ms doubling to 1 s) and logs one line per interval.
// Deadlines: a new connection must send its first request within header_timeout, a
// keep-alive one its next within idle_timeout; a header must be whole header_timeout after its
// first byte and a body body_timeout after its header (else 408). A request that does not
// parse gets its 400 (431, 413, 505) in Azure's error shape before the close.
//
// Shutdown: stop() closes the acceptor and idle connections at once; requests already being
// handled finish and are answered, then their connections close. Threading: all members are
// used on the io_context's threads.
#pragma once

#include "scheduler/api/http_types.hpp"
#include "scheduler/server/connection_policy.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace openbatch::server {

struct ServerLimits {
  std::size_t max_body_bytes = (1u << 20) - 1;  // Azure: a body of 1 MB or more is refused
  std::size_t max_header_bytes = 64 * 1024;
  std::chrono::milliseconds idle_timeout{
      std::chrono::seconds(120)};  // keep-alive, between requests
  std::chrono::milliseconds header_timeout{std::chrono::seconds(20)};  // a whole header (slowloris)
  std::chrono::milliseconds body_timeout{std::chrono::seconds(30)};    // a whole body, then 408
  std::size_t max_connections = 0;  // 0: default_connection_cap(the fd limit)
};

using Handler = std::function<boost::asio::awaitable<api::HttpResponse>(api::HttpRequest)>;
// Takes over a connection whose request asked for a WebSocket upgrade (the agent link). The
// server forgets the connection: the upgrade handler owns it from then on.
using UpgradeHandler =
    std::function<boost::asio::awaitable<void>(boost::beast::tcp_stream, api::HttpRequest)>;
// The peer's address, for handlers that want it (joins record it).
using PeerHandler =
    std::function<boost::asio::awaitable<api::HttpResponse>(api::HttpRequest, std::string peer)>;

// The parser that read a request's header (and nothing of its body).
using HeaderParser = boost::beast::http::request_parser<boost::beast::http::empty_body>;
// Chooses the requests a StreamHandler takes, from the header alone.
using StreamPredicate = std::function<bool(const HeaderParser::value_type& header)>;
// Serves one request whose header `parser` has read: reads the body itself if it wants it
// (convert the parser: request_parser<buffer_body>{std::move(parser)}; `buffer` may already
// hold body bytes), writes the whole answer, and returns whether the connection may serve
// another request (false: the server closes it; return false whenever the body was not read
// to its end). Counted as a request in flight, so stop() waits for it.
using StreamHandler = std::function<boost::asio::awaitable<bool>(
    boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer, HeaderParser& parser)>;

// Writes `res` with "Connection: close", then closes without a TCP reset although the client
// may still be sending a body we did not read: half-close, and discard what still arrives
// (bounded in bytes and time) until the client closes its side.
boost::asio::awaitable<void> answer_and_close(boost::beast::tcp_stream& stream,
                                              api::HttpResponse res);

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& ioc, Handler handler, ServerLimits limits = {});
  // Requests whose target starts with `prefix` go to `handler` (with the peer address), and
  // WebSocket upgrades to `upgrade`; set both before start().
  void route_prefix(std::string prefix, PeerHandler handler, UpgradeHandler upgrade);
  // Requests for which `predicate` holds go to `handler` right after their header (the first
  // matching route wins; checked before the prefix route). Set before start().
  void route_stream(StreamPredicate predicate, StreamHandler handler);
  // Binds and listens; returns the bound endpoint (port 0 picks a free port).
  boost::asio::ip::tcp::endpoint listen(const boost::asio::ip::tcp::endpoint& endpoint);
  void start();
  void stop();
  std::size_t requests_in_flight() const { return in_flight_.load(); }
  std::size_t connection_cap() const { return cap_; }

 private:
  struct Connection;
  boost::asio::awaitable<void> accept_loop();
  // Starts serving `socket`, or, beyond the cap with no idle connection to close, refuses it.
  void admit(boost::asio::ip::tcp::socket socket);
  // Closes the connection idle the longest (on its strand); false when every one is busy.
  bool close_longest_idle();
  boost::asio::awaitable<void> refuse(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<void> serve(std::shared_ptr<Connection> conn);
  void forget(const std::shared_ptr<Connection>& conn);

  boost::asio::io_context& ioc_;
  Handler handler_;
  std::string prefix_;
  PeerHandler prefix_handler_;
  UpgradeHandler upgrade_;
  std::vector<std::pair<StreamPredicate, StreamHandler>> streamed_;
  ServerLimits limits_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> in_flight_{0};
  std::size_t cap_;
  std::size_t refusal_slots_;
  std::mutex connections_mu_;  // guards connections_, closing_ and the throttles
  std::set<std::shared_ptr<Connection>> connections_;
  std::size_t closing_ = 0;               // chosen to make room, not yet gone
  std::atomic<std::size_t> links_{0};     // connections handed to the upgrade handler
  std::atomic<std::size_t> refusing_{0};  // 503 answers being written
  LogThrottle accept_log_{std::chrono::seconds(10)};
  LogThrottle full_log_{std::chrono::seconds(10)};
  LogThrottle room_log_{std::chrono::seconds(10)};
};

}  // namespace openbatch::server
