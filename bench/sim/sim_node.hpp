// One simulated node of openbatch-bench-agent_sim: a WebSocket link to the scheduler speaking
// the real agent protocol (docs/dev/agent-protocol.md) with no processes behind it. It joins
// with the pool's join token, links with its node token, says hello, answers the welcome with
// its inventory (when asked) and nodeStatus ready, heartbeats at the welcome's interval, acks
// every assignment and cancel, and "runs" each attempt for a fixed time:
//   plain task: (running, when run time >= 1 s, as the real agent) -> completed, exit 0;
//   multi-instance instance: running + coordinated at once (the coordination command "ran");
//     the primary completes run time after startApplication, the others when the scheduler
//     cancels them with taskCompleted (success, as the real agent does).
// Every handler of one node runs on the node's strand; counters shared with the driver are
// atomics in SimCounters.
#pragma once

#include "common/encoding.hpp"
#include "common/protocol/agent_protocol.hpp"
#include "common/time.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <unordered_map>

namespace openbatch::bench::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// What the driver reads while the nodes run. Times are steady_clock nanoseconds since epoch,
// 0 = not yet.
struct SimCounters {
  std::atomic<std::uint64_t> joined{0}, ready{0}, failed{0}, links_lost{0};
  std::atomic<std::uint64_t> heartbeats{0}, frames_in{0}, frames_out{0};
  std::atomic<std::uint64_t> assignments{0}, cancels{0}, completed_acked{0};
  std::atomic<std::int64_t> first_assignment_ns{0}, last_completed_ack_ns{0};
  std::atomic<std::uint64_t> gang_instances_coordinated{0};
  std::atomic<std::int64_t> gang_primary_done_ns{0};
  std::string first_error;  // written once under first_error_taken
  std::atomic<bool> first_error_taken{false};

  void fail(const std::string& why) {
    failed.fetch_add(1);
    if (!first_error_taken.exchange(true)) first_error = why;
  }
};

inline std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

// What every node shares: where the scheduler is, the pool, how long an attempt "runs".
struct SimConfig {
  tcp::endpoint scheduler;
  std::string host_header;  // "127.0.0.1:PORT"
  std::string pool_id;
  std::string join_token;
  std::chrono::milliseconds run_time{0};
};

// 127.0.0.0/8 source address of node `index`: one per node (up to ~16 M), so the ephemeral
// ports of one address never run out however many nodes link.
inline asio::ip::address_v4 source_address(std::uint64_t index) {
  const std::uint32_t host =
      0x7f000000u + 0x000101u + std::uint32_t((index / 250) << 8) + std::uint32_t(index % 250);
  return asio::ip::address_v4(host);
}

// Opens `socket` bound to `source` (port chosen at connect: IP_BIND_ADDRESS_NO_PORT) and
// connects it to `to`.
inline asio::awaitable<beast::error_code> connect_from(tcp::socket& socket,
                                                       asio::ip::address_v4 source,
                                                       const tcp::endpoint& to) {
  beast::error_code ec;
  socket.open(tcp::v4(), ec);
  if (ec) co_return ec;
#ifdef IP_BIND_ADDRESS_NO_PORT
  const int one = 1;
  ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
  socket.bind(tcp::endpoint(source, 0), ec);
  if (ec) co_return ec;
  auto [connect_ec] = co_await socket.async_connect(to, kTuple);
  co_return connect_ec;
}

class SimNode : public std::enable_shared_from_this<SimNode> {
 public:
  SimNode(asio::io_context& io, const SimConfig& config, SimCounters& counters, std::uint64_t index)
      : strand_(asio::make_strand(io)),
        config_(config),
        counters_(counters),
        index_(index),
        ws_(strand_),
        heartbeat_timer_(strand_) {}

  asio::strand<asio::io_context::executor_type>& strand() { return strand_; }

  // Join, link, hello, welcome, inventory, nodeStatus ready. True when the node is ready;
  // then run() keeps it alive.
  // With `link` false the node only joins (POST /agent/v1/join) and keeps no link: join cost
  // at more nodes than the scheduler's fd limit allows links.
  asio::awaitable<bool> start(bool link_after_join = true) {
    // Not `if (!co_await join())`: GCC 12 miscompiles that form (the callee's `this` is
    // garbage), and the simulator crashed with it.
    const bool joined = co_await join();
    if (!joined) co_return false;
    counters_.joined.fetch_add(1);
    if (!link_after_join) co_return true;
    const bool linked = co_await link();
    if (!linked) co_return false;
    counters_.ready.fetch_add(1);
    co_return true;
  }

  // Reads frames until the link closes; heartbeats meanwhile.
  asio::awaitable<void> run() {
    auto self = shared_from_this();
    asio::co_spawn(strand_, heartbeat_loop(), asio::detached);
    for (;;) {
      beast::flat_buffer buffer;
      auto [ec, n] = co_await ws_.async_read(buffer, kTuple);
      if (ec) {
        counters_.links_lost.fetch_add(1);
        heartbeat_timer_.cancel();
        co_return;
      }
      counters_.frames_in.fetch_add(1);
      on_frame(beast::buffers_to_string(buffer.data()));
    }
  }

 private:
  struct Attempt {
    bool multi = false;
    bool primary = false;
    bool done = false;
  };
  enum class Sent { Completed, CompletedGangPrimary, Other };

  std::string hostname() const { return "sim-" + std::to_string(index_); }

  nlohmann::json inventory() const {
    return {{"hostname", hostname()},
            {"cpu", {{"logicalCount", 2}}},
            {"memoryMiB", 8192},
            {"gpus", nlohmann::json::array()}};
  }

  asio::awaitable<bool> join() {
    beast::tcp_stream stream(strand_);
    if (auto ec =
            co_await connect_from(stream.socket(), source_address(index_), config_.scheduler)) {
      counters_.fail("join connect: " + ec.message());
      co_return false;
    }
    http::request<http::string_body> req{http::verb::post, "/agent/v1/join", 11};
    req.set(http::field::host, config_.host_header);
    req.set(http::field::authorization, "Bearer " + config_.join_token);
    req.set(http::field::content_type, "application/json");
    req.keep_alive(false);
    req.body() =
        nlohmann::json{
            {"poolId", config_.pool_id}, {"hostname", hostname()}, {"inventory", inventory()}}
            .dump();
    req.prepare_payload();
    stream.expires_after(std::chrono::seconds(120));
    auto [wec, wn] = co_await http::async_write(stream, req, kTuple);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    auto [rec, rn] = co_await http::async_read(stream, buffer, res, kTuple);
    if (wec || rec || res.result() != http::status::ok) {
      counters_.fail("join: " + (wec ? wec.message() : rec ? rec.message() : res.body()));
      co_return false;
    }
    auto body = nlohmann::json::parse(res.body(), nullptr, false);
    if (body.is_discarded() || !body.contains("nodeToken")) {
      counters_.fail("join: unexpected answer " + res.body().substr(0, 200));
      co_return false;
    }
    node_id_ = body.value("nodeId", "");
    token_ = body.value("nodeToken", "");
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return true;
  }

  asio::awaitable<bool> link() {
    if (auto ec = co_await connect_from(beast::get_lowest_layer(ws_).socket(),
                                        source_address(index_), config_.scheduler)) {
      counters_.fail("link connect: " + ec.message());
      co_return false;
    }
    ws_.set_option(websocket::stream_base::decorator([token = token_](websocket::request_type& r) {
      r.set(http::field::authorization, "Bearer " + token);
    }));
    ws_.read_message_max(protocol::kMaxFrameBytes);
    auto [hec] = co_await ws_.async_handshake(config_.host_header, "/agent/v1/link", kTuple);
    if (hec) {
      counters_.fail("link handshake: " + hec.message());
      co_return false;
    }
    ws_.text(true);
    protocol::Hello hello;
    hello.agent_version = "agent-sim";
    hello.node_id = node_id_;
    hello.inventory_hash = inventory_hash();
    send(std::move(hello));
    beast::flat_buffer buffer;
    auto [rec, n] = co_await ws_.async_read(buffer, kTuple);
    if (rec) {
      counters_.fail("link: no welcome: " + rec.message());
      co_return false;
    }
    auto message = protocol::decode(beast::buffers_to_string(buffer.data()));
    auto* welcome = message ? std::get_if<protocol::Welcome>(&message->payload) : nullptr;
    if (!welcome) {
      counters_.fail("link: the first frame is not a welcome");
      co_return false;
    }
    heartbeat_interval_ = std::chrono::seconds(std::max(1, welcome->heartbeat_interval_seconds));
    if (welcome->inventory_wanted) send(protocol::InventoryUpdate{inventory_hash(), inventory()});
    protocol::NodeStatus status;
    status.generation = welcome->node_setup ? welcome->node_setup->generation : 1;
    status.state = protocol::SetupState::Ready;
    status.start_task_info = nullptr;
    send(std::move(status));
    co_return true;
  }

  // As the real agent computes it (node_agent/link/inventory_hash.cpp): the scheduler stores
  // this hash of the inventory a node joined with, and asks for no inventory when hello's equals
  // it.
  std::string inventory_hash() const {
    const std::string text = inventory().dump();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
    return openbatch::encoding::hex_encode(
        std::string_view(reinterpret_cast<const char*>(digest), length));
  }

  asio::awaitable<void> heartbeat_loop() {
    auto self = shared_from_this();
    for (;;) {
      heartbeat_timer_.expires_after(heartbeat_interval_);
      auto [ec] = co_await heartbeat_timer_.async_wait(kTuple);
      if (ec || closed_) co_return;
      send(protocol::Heartbeat{running_, running_});
      counters_.heartbeats.fetch_add(1);
    }
  }

  void on_frame(const std::string& frame) {
    auto message = protocol::decode(frame);
    if (!message) {
      counters_.fail("invalid frame from the scheduler: " + message.error().message);
      return;
    }
    const std::uint64_t seq = message->seq;
    if (auto* a = std::get_if<protocol::Assignment>(&message->payload))
      return on_assignment(seq, *a);
    if (auto* c = std::get_if<protocol::Cancel>(&message->payload)) return on_cancel(seq, *c);
    if (auto* s = std::get_if<protocol::StartApplication>(&message->payload))
      return on_start_application(s->attempt_id);
    if (auto* k = std::get_if<protocol::Ack>(&message->payload)) return on_ack(*k);
  }

  void on_assignment(std::uint64_t seq, const protocol::Assignment& a) {
    send(protocol::Ack{{seq}});
    counters_.assignments.fetch_add(1);
    std::int64_t zero = 0;
    counters_.first_assignment_ns.compare_exchange_strong(zero, steady_ns());
    if (attempts_.contains(a.attempt_id)) return;  // a resend: acked, not started again
    Attempt& attempt = attempts_[a.attempt_id];
    start_times_[a.attempt_id] = format_iso8601(std::chrono::system_clock::now());
    ++running_;
    if (a.multi_instance) {
      attempt.multi = true;
      attempt.primary = a.multi_instance->subtask_id == 0;
      protocol::Report r;
      r.attempt_id = a.attempt_id;
      r.state = protocol::AttemptState::Running;
      r.start_time = start_times_[a.attempt_id];
      r.coordinated = true;
      send(std::move(r));
      counters_.gang_instances_coordinated.fetch_add(1);
      return;
    }
    if (config_.run_time >= std::chrono::seconds(1)) {
      protocol::Report r;
      r.attempt_id = a.attempt_id;
      r.state = protocol::AttemptState::Running;
      r.start_time = start_times_[a.attempt_id];
      send(std::move(r));
    }
    complete_after_run_time(a.attempt_id);
  }

  void on_start_application(const std::string& attempt_id) {
    auto it = attempts_.find(attempt_id);
    if (it == attempts_.end() || !it->second.primary || it->second.done) return;
    complete_after_run_time(attempt_id);
  }

  void on_cancel(std::uint64_t seq, const protocol::Cancel& c) {
    send(protocol::Ack{{seq}});
    counters_.cancels.fetch_add(1);
    complete(c.attempt_id);
  }

  void on_ack(const protocol::Ack& ack) {
    for (std::uint64_t s : ack.seqs) {
      auto it = unacked_.find(s);
      if (it == unacked_.end()) continue;
      if (it->second != Sent::Other) {
        counters_.completed_acked.fetch_add(1);
        counters_.last_completed_ack_ns.store(steady_ns());
      }
      if (it->second == Sent::CompletedGangPrimary)
        counters_.gang_primary_done_ns.store(steady_ns());
      unacked_.erase(it);
    }
  }

  void complete_after_run_time(const std::string& attempt_id) {
    if (config_.run_time.count() == 0) return complete(attempt_id);
    auto timer = std::make_shared<asio::steady_timer>(strand_, config_.run_time);
    timer->async_wait([self = shared_from_this(), timer, attempt_id](beast::error_code) {
      self->complete(attempt_id);
    });
  }

  void complete(const std::string& attempt_id) {
    auto it = attempts_.find(attempt_id);
    if (it == attempts_.end() || it->second.done) return;
    it->second.done = true;
    --running_;
    protocol::Report r;
    r.attempt_id = attempt_id;
    r.state = protocol::AttemptState::Completed;
    r.exit_code = 0;
    r.start_time = start_times_[attempt_id];
    r.end_time = format_iso8601(std::chrono::system_clock::now());
    r.result = protocol::TaskResult::Success;
    start_times_.erase(attempt_id);
    const bool gang_primary = it->second.multi && it->second.primary;
    const std::uint64_t seq = send(std::move(r));
    unacked_[seq] = it->second.multi ? (gang_primary ? Sent::CompletedGangPrimary : Sent::Other)
                                     : Sent::Completed;
    // The scheduler may send a cancel for it later (taskCompleted); the entry stays so that it
    // is recognised, and goes when the link does.
  }

  template <class Payload>
  std::uint64_t send(Payload payload) {
    const std::uint64_t seq = ++seq_;
    out_.push_back(protocol::encode(protocol::Message{seq, protocol::Payload(std::move(payload))}));
    if (!writing_) {
      writing_ = true;
      asio::co_spawn(strand_, write_loop(), asio::detached);
    }
    return seq;
  }

  asio::awaitable<void> write_loop() {
    auto self = shared_from_this();
    while (!out_.empty()) {
      auto [ec, n] = co_await ws_.async_write(asio::buffer(out_.front()), kTuple);
      if (ec) {
        closed_ = true;
        out_.clear();
        break;
      }
      counters_.frames_out.fetch_add(1);
      out_.pop_front();
    }
    writing_ = false;
  }

  asio::strand<asio::io_context::executor_type> strand_;
  const SimConfig& config_;
  SimCounters& counters_;
  std::uint64_t index_;
  websocket::stream<beast::tcp_stream> ws_;
  asio::steady_timer heartbeat_timer_;
  std::chrono::seconds heartbeat_interval_{10};
  std::string node_id_, token_;
  std::uint64_t seq_ = 0;
  std::deque<std::string> out_;
  bool writing_ = false;
  bool closed_ = false;
  int running_ = 0;
  std::unordered_map<std::string, Attempt> attempts_;
  std::unordered_map<std::string, std::string> start_times_;
  std::unordered_map<std::uint64_t, Sent> unacked_;
};

}  // namespace openbatch::bench::sim
