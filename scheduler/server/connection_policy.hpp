// The HTTP transport's decisions about connections, apart from the sockets so that each is a
// plain function (or a small value) tested without I/O:
// - how many connections to keep open when not told (from the fd limit, less a reserve);
// - which open connection to close to make room for a new one (the longest idle);
// - how long to wait before accepting again when accept() fails for lack of resources;
// - how often to log a repeated event (one line per interval, with a count);
// - which answer a request that failed to parse gets before its connection closes.
#pragma once

#include <boost/beast/http/status.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace openbatch::server {

// The fds the process keeps for everything but connections: SQLite (database, WAL, shm),
// blobs being streamed, local agents' pipes, logs. A fixed floor plus an eighth of the limit.
std::uint64_t fd_reserve(std::uint64_t fd_limit);

// The default cap on open connections (API requests and agent links together): the fd limit
// less fd_reserve(), and never below 16.
std::size_t default_connection_cap(std::uint64_t fd_limit);

// How many refusals (503 answers written to connections beyond the cap) may be in progress at
// once; beyond it a new connection is closed without an answer (it has no fd to spare).
std::size_t refusal_slots(std::uint64_t fd_limit);

// RLIMIT_NOFILE's soft limit of this process (1024 when it cannot be read).
std::uint64_t current_fd_limit();

// What the server knows of one open connection when it must close one to make room.
struct ConnectionState {
  bool busy = false;            // a request is being handled: never closed to make room
  bool closing = false;         // already chosen (closing, not yet gone)
  std::int64_t idle_since = 0;  // when it last finished a request or was accepted (any clock)
};

// The connection to close to make room for a new one: the one idle the longest among those
// not busy and not already closing; none when every connection is busy.
std::optional<std::size_t> pick_connection_to_close(std::span<const ConnectionState> connections);

// The wait before the next accept() after failures for lack of resources (EMFILE, ENFILE,
// ENOBUFS, ENOMEM): `min` after the first failure, doubling up to `max`; a success resets it.
class AcceptBackoff {
 public:
  explicit AcceptBackoff(std::chrono::milliseconds min = std::chrono::milliseconds(10),
                         std::chrono::milliseconds max = std::chrono::seconds(1))
      : min_(min), max_(max) {}
  std::chrono::milliseconds failed();
  void succeeded() { next_ = std::chrono::milliseconds(0); }

 private:
  std::chrono::milliseconds min_, max_;
  std::chrono::milliseconds next_{0};
};

// At most one log line per `interval` for a repeated event: note() counts an event and
// returns how many to report (those since the last line, this one included) when a line is
// due, 0 otherwise. The first event is reported at once.
class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LogThrottle(Clock::duration interval) : interval_(interval) {}
  std::size_t note(Clock::time_point now);

 private:
  Clock::duration interval_;
  std::optional<Clock::time_point> last_line_;
  std::size_t pending_ = 0;
};

// What to do when accept() fails.
enum class AcceptFailure {
  stopped,    // the acceptor was closed: end the loop
  transient,  // one connection failed (reset before accept, ...): accept the next at once
  exhausted,  // no fd or memory: back off, make room, try again later
};
AcceptFailure classify_accept_error(const boost::system::error_code& ec);

// An answer written by the transport itself, in Azure's error shape.
struct TransportAnswer {
  boost::beast::http::status status;
  std::string_view code;
  std::string_view message;
};

// The answer to a request whose reading failed with `ec` (a Beast parse error: 400, 413, 431,
// 505); none when the peer closed, went away or the socket was closed under the read (no one
// to answer).
std::optional<TransportAnswer> answer_for_read_error(const boost::system::error_code& ec);

// 505 for an HTTP version whose major number is not 1 (HTTP/2.0 sent as text, HTTP/3.0...).
std::optional<TransportAnswer> answer_for_version(unsigned version);

// The answer to a request line Beast refused for its version (`bad_version`; `received` is
// what the connection holds, from the request line on): 505 when the version is well formed
// but not 1.x ("GET / HTTP/2.0"), else the 400 of answer_for_read_error().
TransportAnswer answer_for_bad_version(std::string_view received);

// 408: the header or the body did not arrive within its deadline.
TransportAnswer request_timeout_answer();

// 503: the connection table is full and every connection is busy.
TransportAnswer server_busy_answer();

}  // namespace openbatch::server
