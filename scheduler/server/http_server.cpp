#include "scheduler/server/http_server.hpp"

#include "common/encoding.hpp"
#include "common/time.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <spdlog/spdlog.h>

#include <array>

namespace openbatch::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

static std::int64_t steady_now() {
  return std::chrono::steady_clock::now().time_since_epoch().count();
}

struct HttpServer::Connection {
  explicit Connection(tcp::socket s) : stream(std::move(s)) {}
  beast::tcp_stream stream;
  std::atomic<bool> busy{false};  // a request is being handled: do not close under it
  bool closing = false;           // chosen to make room (guarded by connections_mu_)
  std::atomic<std::int64_t> idle_since{steady_now()};
};

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// An Azure-shaped error written by the transport itself, before any route runs: the same
// body and request-id header as the API's errors.
api::HttpResponse transport_error(unsigned version, http::status status, const char* code,
                                  const char* message) {
  const std::string request_id = encoding::uuid_v4();
  api::HttpResponse res{status, version};
  res.set(http::field::content_type, api::kJsonContentType);
  res.set(http::field::server, "OpenBatch");
  res.set("request-id", request_id);
  res.body() = std::string("{\"code\":\"") + code +
               "\",\"message\":{\"lang\":\"en-US\",\"value\":\"" + message +
               "\\nRequestId:" + request_id +
               "\\nTime:" + format_iso8601(std::chrono::system_clock::now()) + "\"}}";
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

api::HttpResponse transport_error(unsigned version, const TransportAnswer& answer) {
  return transport_error(version, answer.status, std::string(answer.code).c_str(),
                         std::string(answer.message).c_str());
}

asio::awaitable<void> refuse_body_and_close(beast::tcp_stream& stream, unsigned version) {
  co_await answer_and_close(
      stream, transport_error(version, *answer_for_read_error(http::error::body_limit)));
}

// A deadline on one read that, unlike tcp_stream's own, leaves the socket open (it cancels the
// read only), so that a 408 can still be written. Lives on the connection's strand.
class ReadDeadline {
 public:
  ReadDeadline(beast::tcp_stream& stream, std::chrono::milliseconds after)
      : timer_(stream.get_executor()), state_(std::make_shared<State>()) {
    timer_.expires_after(after);
    timer_.async_wait([state = state_, &socket = stream.socket()](const beast::error_code& ec) {
      if (ec || !state->armed) return;  // cancelled, or the read is over and the socket may be gone
      state->fired = true;
      beast::error_code ignored;
      socket.cancel(ignored);
    });
  }
  ~ReadDeadline() {
    state_->armed = false;
    timer_.cancel();
  }
  ReadDeadline(const ReadDeadline&) = delete;
  ReadDeadline& operator=(const ReadDeadline&) = delete;
  bool fired() const { return state_->fired; }

 private:
  struct State {
    bool armed = true;
    bool fired = false;
  };
  asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

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
    : ioc_(ioc),
      handler_(std::move(handler)),
      limits_(limits),
      acceptor_(ioc),
      cap_(limits.max_connections ? limits.max_connections
                                  : default_connection_cap(current_fd_limit())),
      refusal_slots_(refusal_slots(current_fd_limit())) {}

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

void HttpServer::start() {
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
}

void HttpServer::stop() {
  if (stopping_.exchange(true)) return;
  asio::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  std::lock_guard lock(connections_mu_);
  for (const auto& conn : connections_) {
    // Idle keep-alive connection: close it so that its pending read ends now. Checked on the
    // connection's strand, where a request would have marked it busy.
    asio::post(conn->stream.get_executor(), [conn] {
      beast::error_code ec;
      if (!conn->busy.load()) conn->stream.socket().close(ec);
    });
  }
}

asio::awaitable<void> HttpServer::accept_loop() {
  spdlog::info("http: at most {} connections (fd limit {})", cap_, current_fd_limit());
  AcceptBackoff backoff;
  asio::steady_timer pause(acceptor_.get_executor());
  for (;;) {
    // Each connection gets its own strand so that many are served in parallel on the pool.
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), kUseTuple);
    if (!ec) {
      backoff.succeeded();
      admit(std::move(socket));
      continue;
    }
    if (stopping_) co_return;
    switch (classify_accept_error(ec)) {
      case AcceptFailure::stopped:
        co_return;
      case AcceptFailure::transient:
        spdlog::debug("accept failed: {}", ec.message());
        continue;
      case AcceptFailure::exhausted:
        break;
    }
    // Out of fds (or memory): retrying at once would spin, since the pending connection keeps
    // the acceptor readable. Free an fd if an idle connection can go, and wait.
    const bool freed = close_longest_idle();
    const auto delay = backoff.failed();
    std::size_t count = 0;
    std::size_t open = 0;
    {
      std::lock_guard lock(connections_mu_);
      count = accept_log_.note(std::chrono::steady_clock::now());
      open = connections_.size() + links_.load();
    }
    if (count) {
      spdlog::warn(
          "accept failed: {} ({} times since the last report; {} connections open{}); retrying in "
          "{} ms",
          ec.message(), count, open, freed ? ", closing the longest idle" : "", delay.count());
    }
    pause.expires_after(delay);
    co_await pause.async_wait(kUseTuple);
  }
}

void HttpServer::admit(tcp::socket socket) {
  bool full = false;
  {
    std::lock_guard lock(connections_mu_);
    full = connections_.size() - closing_ + links_.load() >= cap_;
  }
  const bool made_room = full && close_longest_idle();
  if (made_room) {
    std::size_t count = 0;
    {
      std::lock_guard lock(connections_mu_);
      count = room_log_.note(std::chrono::steady_clock::now());
    }
    if (count) {
      spdlog::info(
          "{} connections open (the cap): closed {} idle ones to make room since the last report",
          cap_, count);
    }
  }
  if (full && !made_room) {
    std::size_t count = 0;
    {
      std::lock_guard lock(connections_mu_);
      count = full_log_.note(std::chrono::steady_clock::now());
    }
    if (count)
      spdlog::warn(
          "{} connections open (the cap) and all busy: refused {} with 503 since the last report",
          cap_, count);
    if (refusing_.load() >= refusal_slots_)
      return;  // no fd to spare for an answer: the socket closes here
    refusing_++;
    auto executor = socket.get_executor();
    asio::co_spawn(executor, refuse(std::move(socket)),
                   [this](std::exception_ptr) { refusing_--; });
    return;
  }
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
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
    forget(conn);
  });
}

void HttpServer::forget(const std::shared_ptr<Connection>& conn) {
  std::lock_guard lock(connections_mu_);
  if (connections_.erase(conn) && conn->closing) closing_--;
}

bool HttpServer::close_longest_idle() {
  std::shared_ptr<Connection> victim;
  {
    std::lock_guard lock(connections_mu_);
    std::vector<ConnectionState> states;
    std::vector<const std::shared_ptr<Connection>*> conns;
    states.reserve(connections_.size());
    conns.reserve(connections_.size());
    for (const auto& c : connections_) {
      states.push_back({c->busy.load(), c->closing, c->idle_since.load()});
      conns.push_back(&c);
    }
    auto pick = pick_connection_to_close(states);
    if (!pick) return false;
    victim = *conns[*pick];
    victim->closing = true;
    closing_++;
  }
  // On its strand, where a request that has just arrived would have marked it busy: then it
  // stays open (and the cap is exceeded by one for the time of that request).
  asio::post(victim->stream.get_executor(), [victim] {
    beast::error_code ec;
    if (!victim->busy.load()) victim->stream.socket().close(ec);
  });
  return true;
}

// 503 for a connection beyond the cap: short deadlines, since it holds an fd the reserve lends.
asio::awaitable<void> HttpServer::refuse(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  auto res = transport_error(11, server_busy_answer());
  res.set(http::field::retry_after, "1");
  stream.expires_after(std::chrono::seconds(2));
  auto [wec, wn] = co_await http::async_write(stream, res, kUseTuple);
  if (wec) co_return;
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  // Read what the client sent (so that the close sends no reset that would destroy the
  // answer), briefly.
  std::array<char, 4096> sink;
  stream.expires_after(std::chrono::seconds(1));
  for (std::size_t drained = 0; drained < (256u << 10);) {
    auto [rec, n] = co_await stream.async_read_some(asio::buffer(sink), kUseTuple);
    if (rec) break;
    drained += n;
  }
  stream.socket().close(ec);
}

asio::awaitable<void> HttpServer::serve(std::shared_ptr<Connection> conn) {
  beast::flat_buffer buffer;
  auto& stream = conn->stream;
  bool first = true;
  // Writes the transport's own answer to a request that cannot be served, then closes.
  auto refuse_request = [&](unsigned version, const TransportAnswer& answer) {
    return answer_and_close(stream, transport_error(version, answer));
  };
  while (!stopping_) {
    // Wait for the next request's first byte: a new connection must start within the header
    // deadline, a keep-alive one within the idle timeout. Timing out (or being closed to make
    // room, or by stop()) just closes: there is no request to answer.
    if (buffer.size() == 0) {
      stream.expires_after(first ? limits_.header_timeout : limits_.idle_timeout);
      auto [rec, rn] = co_await stream.async_read_some(buffer.prepare(4096), kUseTuple);
      if (rec) break;
      buffer.commit(rn);
    }
    first = false;
    stream.expires_never();
    // The header first: whether the body is read whole (and how much of it is allowed)
    // depends on the route.
    HeaderParser header_parser;
    header_parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    header_parser.body_limit(boost::none);  // checked below, per route
    bool header_late = false;
    beast::error_code hec;
    {
      ReadDeadline deadline(stream, limits_.header_timeout);
      auto [ec, n] = co_await http::async_read_header(stream, buffer, header_parser, kUseTuple);
      hec = ec;
      header_late = deadline.fired();
    }
    if (hec) {
      std::optional<TransportAnswer> answer =
          header_late ? request_timeout_answer() : answer_for_read_error(hec);
      if (hec == http::error::bad_version) {
        const auto data = buffer.cdata();
        answer = answer_for_bad_version(std::string_view(static_cast<const char*>(data.data()),
                                                         std::min<std::size_t>(data.size(), 8192)));
      }
      if (answer && !stopping_ && stream.socket().is_open()) co_await refuse_request(11, *answer);
      break;
    }
    if (auto answer = answer_for_version(header_parser.get().version())) {
      co_await refuse_request(11, *answer);
      break;
    }
    conn->busy = true;
    in_flight_++;
    struct Done {
      HttpServer* s;
      Connection* c;
      ~Done() {
        if (!c) return;  // handed over to the upgrade handler
        c->idle_since = steady_now();
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
    beast::error_code bec;
    bool body_late = false;
    {
      ReadDeadline deadline(stream, limits_.body_timeout);
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, kUseTuple);
      bec = ec;
      body_late = deadline.fired();
    }
    if (bec) {
      std::optional<TransportAnswer> answer =
          body_late ? request_timeout_answer() : answer_for_read_error(bec);
      if (answer && stream.socket().is_open())
        co_await refuse_request(parser.get().version(), *answer);
      break;
    }
    api::HttpRequest request = parser.release();
    const bool keep_alive = request.keep_alive();
    const bool head = request.method() == http::verb::head;
    stream.expires_never();
    const bool prefixed =
        !prefix_.empty() &&
        std::string_view(request.target().data(), request.target().size()).starts_with(prefix_);
    if (prefixed && upgrade_ && beast::websocket::is_upgrade(request)) {
      // The connection now belongs to the upgrade handler (a long-lived agent link): it is no
      // request in flight, and stop() must not wait for it.
      in_flight_--;
      conn->busy = false;
      done.c = nullptr;
      // It still holds an fd: counted against the cap as a link, never closed to make room.
      links_++;
      forget(conn);
      struct Unlink {
        std::atomic<std::size_t>& links;
        ~Unlink() { links--; }
      } unlink{links_};
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
