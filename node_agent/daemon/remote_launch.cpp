#include "node_agent/daemon/remote_launch.hpp"

#include "node_agent/state/atomic_file.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

namespace openbatch::agent::daemon {
namespace {

struct PoolNetwork {
  bool inter_node_communication = false;
  std::optional<std::string> node_address;
  bool operator==(const PoolNetwork&) const = default;
};

std::optional<PoolNetwork> load(const std::filesystem::path& file) {
  if (file.empty()) return std::nullopt;
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  auto j = nlohmann::json::parse(text.str(), nullptr, false);
  if (!j.is_object()) {
    spdlog::warn("remote launch: ignoring {}: not a JSON object", file.string());
    return std::nullopt;
  }
  PoolNetwork out;
  if (auto v = j.find("interNodeCommunication"); v != j.end() && v->is_boolean()) {
    out.inter_node_communication = v->get<bool>();
  }
  if (auto v = j.find("nodeAddress"); v != j.end() && v->is_string())
    out.node_address = v->get<std::string>();
  return out;
}

void save(const std::filesystem::path& file, const PoolNetwork& network) {
  if (file.empty()) return;
  nlohmann::json j = {{"interNodeCommunication", network.inter_node_communication}};
  if (network.node_address) j["nodeAddress"] = *network.node_address;
  // Not fatal: without it, a restarted agent announces its server in nodeStatus instead.
  if (auto st = state::write_file_atomically(file, j.dump() + "\n", 0600); !st) {
    spdlog::warn("remote launch: {}", st.error().message);
  }
}

}  // namespace

RemoteLaunch::RemoteLaunch(boost::asio::io_context& io, exec::Launcher& launcher,
                           remote::Authorize authorize, remote::ExecListen listen,
                           std::chrono::milliseconds kill_grace, std::filesystem::path state_file)
    : io_(io),
      launcher_(launcher),
      authorize_(std::move(authorize)),
      listen_(std::move(listen)),
      kill_grace_(kill_grace),
      state_file_(std::move(state_file)) {}

RemoteLaunch::~RemoteLaunch() = default;

void RemoteLaunch::start_remembered() {
  if (auto remembered = load(state_file_)) {
    apply(remote::exec_bind_for(listen_, remembered->inter_node_communication,
                                remembered->node_address));
  }
}

void RemoteLaunch::on_welcome(bool inter_node_communication,
                              const std::optional<std::string>& node_address) {
  const PoolNetwork now{inter_node_communication, node_address};
  if (load(state_file_) != now) save(state_file_, now);
  apply(remote::exec_bind_for(listen_, inter_node_communication, node_address));
}

void RemoteLaunch::apply(const std::optional<remote::ExecBind>& bind) {
  if (stopped_) return;
  if (server_ && bind && bound_ && bound_->address == bind->address &&
      (bind->port == 0 || bind->port == server_->port())) {
    return;  // already where it should be
  }
  if (server_) {
    spdlog::info("remote launch: stopping the server on {}:{}{}", bound_ ? bound_->address : "?",
                 server_->port(),
                 bind ? " to listen elsewhere" : ": the pool has no inter-node communication");
    server_.reset();  // stop(): its commands are killed
    bound_.reset();
  }
  if (!bind) return;
  remote::ExecServerOptions options;
  options.bind_address = bind->address;
  options.port = bind->port;
  options.kill_grace = kill_grace_;
  auto server = std::make_unique<remote::ExecServer>(io_, launcher_, authorize_, options);
  if (auto st = server->start(); !st) {
    spdlog::warn("remote launch: the server did not start, so mpirun cannot reach this node: {}",
                 st.error().message);
    return;
  }
  spdlog::info("remote launch: server on {}:{}", bind->address, server->port());
  server_ = std::move(server);
  bound_ = bind;
}

std::optional<int> RemoteLaunch::port() const {
  if (!server_) return std::nullopt;
  return static_cast<int>(server_->port());
}

bool RemoteLaunch::on_child_exit(pid_t pid, int wait_status) {
  return server_ && server_->on_child_exit(pid, wait_status);
}

void RemoteLaunch::end_attempt(const std::string& attempt_id) {
  if (server_) server_->end_attempt(attempt_id);
}

void RemoteLaunch::stop() {
  stopped_ = true;
  if (server_) server_->stop();
}

}  // namespace openbatch::agent::daemon
