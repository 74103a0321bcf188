// ExecServer: the peer side of `openbatch-agent rsh` (rsh_client.hpp). mpirun on a
// multi-instance task's primary starts its remote daemons through OMPI_MCA_plm_rsh_agent; the
// launcher connects here, and this server runs the command as the subtask on this node would
// run (its user, environment and directory) and streams its stdout and stderr back, then its
// exit status. No sshd and no shared keys. The wire format is in rsh_wire.hpp.
//
// Per connection:
//   1. read the request line (deadline: ExecServerOptions::request_timeout; at most
//      kMaxRequestBytes) and decode it; a bad request is refused;
//   2. Authorize (the agent's callback, on this thread) maps it to an ExecTarget or refuses:
//      refused -> an 'R' frame saying only kNotAuthorized (never which tasks run here or
//      which part of the request was wrong), the connection closed, the Error's message in a
//      warning log;
//   3. launch `{shell, "-c", words joined by ' '}` in a new process group, stdout and stderr
//      to pipes streamed back as 'O' / 'E' frames (backpressure: the pipes are not read while
//      more than 1 MiB waits for the client);
//   4. when the process has been reaped (on_child_exit) and both pipes reached EOF: an 'X'
//      frame, then close. EOF or an error from the client first: the process group gets
//      SIGTERM, SIGKILL after kill_grace, and its output is drained and dropped.
//
// Reaping: the agent reaps every child with one SIGCHLD handler (runner/child_reaper.hpp);
// it must pass each pid it does not own to on_child_exit. Until then running() counts it.
//
// Thread-safety: none; everything runs on the io_context's one thread, and the methods must
// be called there. Destroying the server calls stop().
#pragma once

#include "common/error.hpp"
#include "node_agent/exec/launcher.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace openbatch::agent::remote {

// A decoded request, with where it came from.
struct ExecRequest {
  std::string job_id;
  std::string task_id;
  std::string token;
  std::vector<std::string> command;  // the words; run as `shell -c "<words joined by ' '>"`
  std::string peer;                  // "ip:port" of the client
};

// What the peer may run: the subtask's identity and environment on this node.
struct ExecTarget {
  std::string attempt_id;        // the local attempt the process belongs to (end_attempt kills it)
  std::vector<std::string> env;  // complete NAME=VALUE environment
  std::filesystem::path cwd;     // empty: the agent's
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::optional<std::vector<gid_t>> groups;
};

// Decides on the io thread; an Error refuses (its message goes to the log; the client gets
// kNotAuthorized). It is where the token is checked (in constant time) against the task's.
using Authorize = std::function<Result<ExecTarget>(const ExecRequest&)>;

// The whole of what a refused client is told.
inline constexpr std::string_view kNotAuthorized = "not authorized";

struct ExecServerOptions {
  std::string bind_address = "127.0.0.1";  // the node's pool-network address (exec_listen.hpp)
  std::uint16_t port = 0;                  // 0: an ephemeral port (see port())
  std::chrono::milliseconds kill_grace{2000};
  std::string shell = "/bin/sh";
  // How long a client may take to send its request line.
  std::chrono::milliseconds request_timeout{10000};
};

class ExecServer {
 public:
  ExecServer(boost::asio::io_context& io, exec::Launcher& launcher, Authorize authorize,
             ExecServerOptions options = {});
  ~ExecServer();
  ExecServer(const ExecServer&) = delete;
  ExecServer& operator=(const ExecServer&) = delete;

  // Binds and listens (port 0 = ephemeral); an Error "RshListenFailed" when it cannot. Call
  // once.
  [[nodiscard]] Status start();
  // The bound port; 0 before start().
  std::uint16_t port() const;

  // A child exited (the agent's reaper calls this for every pid it does not own): true when it
  // was one of ours, which the server then finishes with; false otherwise.
  bool on_child_exit(pid_t pid, int wait_status);

  // The attempt ended: SIGTERM the groups of every process started for it, SIGKILL after
  // kill_grace; their clients get exit frames and are closed. Unknown ids are fine. Later
  // requests for it must be refused by Authorize.
  void end_attempt(const std::string& attempt_id);

  // Closes the acceptor and every connection and SIGKILLs every child group; the children
  // still count in running() until reaped. start() is not possible again.
  void stop();

  // Processes started and not reaped yet.
  std::size_t running() const;

 private:
  class Session;  // one connection (exec_server.cpp)

  void accept_next();
  void launched(pid_t pid, std::shared_ptr<Session> session);
  void finished(std::uint64_t id);

  boost::asio::io_context& io_;
  exec::Launcher& launcher_;
  Authorize authorize_;
  ExecServerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  bool stopped_ = false;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::shared_ptr<Session>> sessions_;  // by connection id
  std::map<pid_t, std::shared_ptr<Session>> children_;          // not reaped yet, by pid
  // Handlers still queued after the server is gone check this first.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace openbatch::agent::remote
