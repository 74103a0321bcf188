#include "scheduler/engine/engine.hpp"

#include "common/auth/bearer_token.hpp"
#include "scheduler/packages/access.hpp"
#include "scheduler/store/credentials.hpp"

#include <boost/asio/post.hpp>

namespace openbatch::engine {
namespace asio = boost::asio;

Engine::Engine(asio::io_context& ioc, store::Store& store, const Clock& clock, EngineConfig config,
               std::function<std::string()> next_etag,
               std::unique_ptr<provision::LocalAgents> local_agents)
    : ctx_(asio::make_strand(ioc), store, clock, std::move(config), std::move(next_etag)),
      timer_(ctx_.strand),
      ends_(ctx_),
      reports_(ctx_, ends_),
      updates_(ctx_),
      liveness_(ctx_, ends_),
      files_(ctx_),
      links_(ctx_, {ends_, reports_, updates_, liveness_, files_}),
      dispatcher_(ctx_),
      gangs_(ctx_),
      provisioner_(ctx_, std::move(local_agents)),
      joins_(ctx_),
      feed_(ctx_, ends_, gangs_, provisioner_) {
  ctx_.wiring = this;
}

Engine::~Engine() = default;

void Engine::start() {
  // The feed is installed before loading so nothing committed in between is missed; its
  // handlers queue behind load() on the strand and are idempotent against what load() read.
  ctx_.store.set_change_observer([this](std::vector<store::Change>&& changes) {
    asio::post(ctx_.strand, [this, changes = std::move(changes)]() mutable {
      feed_.apply_changes(std::move(changes));
    });
  });
  asio::post(ctx_.strand, [this] {
    feed_.load();
    tick();
  });
}

void Engine::quiesce() {
  asio::post(ctx_.strand, [this] {
    ctx_.stopped = true;
    timer_.cancel();
  });
}

void Engine::stop(bool stop_agents) {
  // The io_context has stopped: no handler runs concurrently, so the model is ours to touch.
  ctx_.stopped = true;
  ctx_.store.set_change_observer(nullptr);
  for (auto& [id, node] : ctx_.model.nodes) {
    if (node.link) node.link->drop();  // the agent sees its link end now, and can exit at once
    node.link.reset();
    node.linked = false;
  }
  if (stop_agents) provisioner_.stop_agents();
}

void Engine::tick() {
  if (ctx_.stopped) return;
  liveness_.check();
  provisioner_.poll_agents();
  provisioner_.reconcile_pools();
  timer_.expires_after(std::chrono::milliseconds(500));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick();
  });
}

void Engine::join(JoinRequest request, std::function<void(Result<JoinAnswer>)> done) {
  asio::post(ctx_.strand, [this, request = std::move(request), done = std::move(done)]() mutable {
    joins_.join(request, std::move(done));
  });
}

void Engine::on_link_opened(std::shared_ptr<agents::AgentChannel> link, std::string node_id) {
  asio::post(ctx_.strand, [this, link = std::move(link), node_id = std::move(node_id)] {
    links_.opened(link, node_id);
  });
}

void Engine::on_frame(std::shared_ptr<agents::AgentChannel> link, std::string text) {
  asio::post(ctx_.strand,
             [this, link = std::move(link), text = std::move(text)] { links_.frame(link, text); });
}

void Engine::on_link_closed(std::shared_ptr<agents::AgentChannel> link) {
  asio::post(ctx_.strand, [this, link = std::move(link)] { links_.closed(link); });
}

void Engine::file_request(std::string node_id, protocol::FileRequest request, FileAnswer done) {
  asio::post(ctx_.strand, [this, node_id = std::move(node_id), request = std::move(request),
                           done = std::move(done)]() mutable {
    files_.request(node_id, std::move(request), std::move(done));
  });
}

std::optional<std::string> Engine::authenticate_node(std::string_view token) {
  const std::string node_id(auth::token_prefix(token));
  if (node_id.empty()) return std::nullopt;
  auto reader = ctx_.store.reader();
  if (!store::credential_matches(*reader, store::kNodeCredential, node_id, token))
    return std::nullopt;
  return node_id;
}

bool Engine::node_may_download(const std::string& node_id, std::string_view digest) {
  auto reader = ctx_.store.reader();
  return packages::node_may_download(*reader, node_id, digest);
}

// ---- cluster::Wiring ----

void Engine::schedule_round() { dispatcher_.schedule_round(); }
void Engine::end_gang(const std::string& primary, protocol::CancelReason reason) {
  gangs_.end(primary, reason);
}
void Engine::cancel_gang(const std::string& primary, protocol::CancelReason reason,
                         const std::string& except) {
  gangs_.cancel(primary, reason, except);
}
void Engine::handle_coordinated(cluster::NodeInfo& node, protocol::Report report, uint64_t seq) {
  gangs_.handle_coordinated(node, std::move(report), seq);
}
void Engine::resend_start_applications(cluster::NodeInfo& node) {
  gangs_.resend_start_applications(node);
}
void Engine::send(cluster::NodeInfo& node, protocol::Payload payload) {
  links_.send(node, std::move(payload));
}
void Engine::ack(cluster::NodeInfo& node, std::vector<uint64_t> seqs) {
  links_.ack(node, std::move(seqs));
}
void Engine::close_link(cluster::NodeInfo& node, std::uint16_t code, const std::string& reason) {
  if (node.link) node.link->close(code, reason);
}
void Engine::requeue_attempts(const std::string& node_id, std::vector<std::string> attempt_ids,
                              std::optional<domain::NodeState> node_state,
                              std::optional<protocol::CancelReason> cancel) {
  ends_.requeue(node_id, std::move(attempt_ids), node_state, cancel);
}
void Engine::cancel_attempt(const std::string& attempt_id, protocol::CancelReason reason) {
  ends_.cancel(attempt_id, reason);
}
void Engine::forget_attempt(const std::string& attempt_id, const cluster::AttemptInfo& info,
                            const cluster::RequeuedTask& task) {
  ends_.forget(attempt_id, info, task);
}
void Engine::reconcile_pools() { provisioner_.reconcile_pools(); }
void Engine::remove_node(const std::string& node_id) { provisioner_.remove_node(node_id); }

}  // namespace openbatch::engine
