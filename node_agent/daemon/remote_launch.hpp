// RemoteLaunch: the agent's remote-launch server (remote/exec_server.hpp) over the agent's
// life. It runs only while the node's pool has inter-node communication, on the node's
// pool-network address (remote/exec_listen.hpp decides both). The scheduler says both in
// welcome; they are remembered in a file of the state directory (`exec.json`, 0600), so that
// after a restart the server is up before hello and hello announces its port. A server that
// starts on a welcome is announced in the nodeStatus that answers it.
//
// Thread-safety: none; the io_context's one thread.
#pragma once

#include "node_agent/exec/launcher.hpp"
#include "node_agent/remote/exec_listen.hpp"
#include "node_agent/remote/exec_server.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace openbatch::agent::daemon {

inline constexpr const char* kRemoteLaunchStateFile = "exec.json";

class RemoteLaunch {
 public:
  // `state_file` empty: nothing is remembered (tests).
  RemoteLaunch(boost::asio::io_context& io, exec::Launcher& launcher, remote::Authorize authorize,
               remote::ExecListen listen, std::chrono::milliseconds kill_grace,
               std::filesystem::path state_file);
  ~RemoteLaunch();

  // At start: what an earlier welcome said, if anything.
  void start_remembered();
  // On each welcome: the pool's enableInterNodeCommunication and the node's address. Starts,
  // moves or stops the server accordingly and remembers them.
  void on_welcome(bool inter_node_communication, const std::optional<std::string>& node_address);

  // The port it listens on; nullopt when none runs.
  std::optional<int> port() const;
  // ExecServer's, when one runs (false / nothing otherwise).
  bool on_child_exit(pid_t pid, int wait_status);
  void end_attempt(const std::string& attempt_id);
  void stop();

 private:
  void apply(const std::optional<remote::ExecBind>& bind);

  boost::asio::io_context& io_;
  exec::Launcher& launcher_;
  remote::Authorize authorize_;
  remote::ExecListen listen_;
  std::chrono::milliseconds kill_grace_;
  std::filesystem::path state_file_;
  std::optional<remote::ExecBind> bound_;  // what the running server was asked for
  std::unique_ptr<remote::ExecServer> server_;
  bool stopped_ = false;
};

}  // namespace openbatch::agent::daemon
