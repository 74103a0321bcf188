// AttemptRunner: runs the attempts the scheduler assigns to this node, one process group
// each, and says what became of them.
//
// Lifecycle of one attempt (the agent drives the first two steps around its journal):
//   accept(a)   counts the attempt (preparing) from now on: hello, heartbeat slots
//   start(id)   after the accepted record is durable: plan (pure, attempt_plan.hpp), make the
//               task directory, fetch resource files (on a worker thread, rare), clone/exec
//               with PosixLauncher; RunnerEvents::attempt_started(pid) once it runs (under a
//               shim: once the shim's answer, read asynchronously, says the task runs)
//   exit        SIGCHLD (ChildReaper) -> attempt_report(completed, exit code)
// Shims: with RunnerOptions::shim set, a plain task (not a multi-instance instance, not a start
// task) runs under its own supervisor process (shim/shim_main.hpp), which survives the agent
// and keeps the task's exit status and output-cap verdict in the attempt's shim directory. The
// runner reaps the shim (it exits as its task did) and reads that status. A restarted agent
// hands the attempts their shims still hold to adopt(): a running one is watched through its
// shim's pidfd and reported when it ends, a finished one is reported at once.
// Stops: the maxWallClockTime timer, cancel() and stop_all() send SIGTERM to the group and
// SIGKILL after the kill grace; the report then carries the reason (MaxWallClockTimeExpiry,
// TaskEnded, ...). stop_all() (agent shutdown) reports nothing: those attempts are
// abandoned and the scheduler requeues them.
// An attempt still running `running_report_delay` after it started gets a "running" report;
// short tasks go straight to "completed", which halves the report traffic of small tasks.
//
// Retries are the scheduler's business: it sends a new assignment with a new attempt id.
// Thread-safety: none; everything on the io_context's thread (the resource file worker only
// touches its own copies and posts back).
#pragma once

#include "common/posix/unique_fd.hpp"
#include "common/protocol/agent_protocol.hpp"
#include "node_agent/exec/launcher.hpp"
#include "node_agent/runner/attempt_plan.hpp"
#include "node_agent/runner/attempt_reports.hpp"
#include "node_agent/runner/child_reaper.hpp"
#include "node_agent/shim/shim_launch.hpp"
#include "node_agent/shim/shim_status.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace openbatch::agent::runner {

struct RunnerOptions {
  NodeFacts facts;
  UserLookup lookup;  // exec::lookup_user in the agent
  std::chrono::milliseconds kill_grace{5000};
  std::chrono::milliseconds running_report_delay{1000};  // 0: never send "running"
  std::chrono::milliseconds download_timeout{std::chrono::minutes(10)};
  // Installs application packages (download once, verify, extract) and blocks until done; the
  // runner calls it on its download worker before a task with packages starts. Unset: a task
  // with packages fails with a pre-processing error.
  std::function<Status(const std::vector<protocol::PackageRef>&)> install_packages;
  // Creates a local user (and its own group) when it does not exist yet; used for the leased
  // task-scope auto-users. Unset: the user must exist already.
  std::function<Status(const std::string& name)> ensure_user;
  // Plain tasks run under shims that outlive the agent (see above); unset: directly.
  std::optional<shim::ShimConfig> shim;
};

// An attempt a previous agent process left to its shim (recovered at startup): its shim
// directory, attempt.json, and the shim's status -- running (then `pidfd` is the shim's,
// opened after its identity was checked) or exited.
struct AdoptedAttempt {
  std::string attempt_id;
  std::filesystem::path dir;
  nlohmann::json attempt;
  shim::ShimStatus status;
  posix::UniqueFd pidfd;
};

// The failureInfo code of a task whose application packages could not be installed.
inline constexpr std::string_view kPackageInstallFailed = "ApplicationPackageInstallationFailed";

class RunnerEvents {
 public:
  virtual ~RunnerEvents() = default;
  // The process runs (journal it: recovery kills this group after a crash).
  virtual void attempt_started(const std::string& attempt_id, pid_t pid, pid_t pgid,
                               const std::string& start_time) = 0;
  // A running or completed report to queue in the outbox.
  virtual void attempt_report(protocol::Report report) = 0;
  // The attempt is gone (after its completed report, or abandoned): whatever else ran for it
  // (processes peers started through the remote launcher) must go too.
  virtual void attempt_ended(const std::string& attempt_id) { (void)attempt_id; }
};

// What a peer's launcher may run for a multi-instance task on this node: the identity,
// environment and working directory of the local instance (remote/exec_server.hpp).
struct InstanceContext {
  std::string attempt_id;
  std::vector<std::string> env;
  std::filesystem::path cwd;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::optional<std::vector<gid_t>> groups;
};

class AttemptRunner {
 public:
  AttemptRunner(boost::asio::io_context& io, exec::Launcher& launcher, RunnerOptions options,
                RunnerEvents& events);
  ~AttemptRunner();
  AttemptRunner(const AttemptRunner&) = delete;
  AttemptRunner& operator=(const AttemptRunner&) = delete;

  // Registers the attempt (preparing). An id it already holds is ignored. A start task takes
  // no slot and is not listed in running_attempts() or attempt_count().
  void accept(protocol::Assignment assignment, AttemptKind kind = AttemptKind::Task);
  // Starts an accepted attempt; a no-op for an unknown id or after stop_all().
  void start(const std::string& attempt_id);
  // Stops the attempt and reports it completed with the cancel's failureInfo. False when the
  // attempt is not here (already finished, or never assigned).
  bool cancel(const std::string& attempt_id, protocol::CancelReason reason);
  // Takes over an attempt a previous agent process left running under its shim (or finished
  // there): it counts as running from now on and is reported when its shim says it ended.
  void adopt(AdoptedAttempt adopted);
  // Stops everything for shutdown; `done` receives the ids to record abandoned, once every
  // process is gone.
  void stop_all(std::function<void(std::vector<std::string>)> done);

  // Multi-instance tasks (batch-api.md section 11). Each instance prepares (common resource
  // files into the shared task directory, the primary's resource files, the hostfile), runs
  // the coordination command and, when it exits 0, sends a "coordinated" running report and
  // waits. The primary runs the application command on start_application() (the scheduler's
  // startApplication: every instance is coordinated); its exit ends the attempt. The other
  // instances wait for the cancel that ends the task: with reason taskCompleted they report
  // success and their coordination exit code. Idempotent; unknown ids are ignored.
  void start_application(const std::string& attempt_id);
  // The running instance of (job, task) on this node whose exec token is `token` (compared
  // in constant time); an Error saying why not otherwise.
  Result<InstanceContext> instance_for(std::string_view job_id, std::string_view task_id,
                                       std::string_view token) const;
  // A child the reaper collected that is not an attempt's goes here (the remote launcher's).
  void set_foreign_child_handler(std::function<void(pid_t, int)> handler) {
    foreign_child_ = std::move(handler);
  }

  bool has(const std::string& attempt_id) const { return attempts_.contains(attempt_id); }
  std::vector<protocol::RunningAttempt> running_attempts() const;
  int attempt_count() const { return static_cast<int>(attempts_.size()) - start_tasks_; }
  int used_slots() const { return used_slots_; }
  NodeFacts& facts() { return options_.facts; }

 private:
  struct Attempt;

  void prepare(Attempt& a);
  void launch(Attempt& a);
  void launch_coordination(Attempt& a);
  void launch_application(Attempt& a);
  bool start_process(Attempt& a, const exec::LaunchSpec& spec);
  void coordinated(Attempt& a);
  void end_waiting(Attempt& a);
  void on_exit(pid_t pid, int wait_status);
  void ended(Attempt& a, int wait_status);
  void running(Attempt& a, exec::Child child, const std::string& start_time);
  bool start_under_shim(Attempt& a, const exec::LaunchSpec& spec, const std::string& start_time);
  void read_shim_answer(const std::string& attempt_id);
  void shim_answered(Attempt& a);
  void shim_launch_failed(Attempt& a, const Error& error);
  void watch_adopted(Attempt& a, posix::UniqueFd pidfd);
  void arm_wall_timer(Attempt& a, std::chrono::milliseconds after);
  void on_downloaded(const std::string& attempt_id, Status status);
  void begin_kill(Attempt& a, KillReason reason);
  void fail(Attempt& a, const Error& error);
  // Sends a completed report, as DiskFull when it failed on a full node filesystem.
  void report_with_disk_check(protocol::Report report);
  void finish(std::string attempt_id);  // by value: callers pass the attempt's own id
  void arm_running_reports();
  void send_running_reports();
  void maybe_stopped();

  boost::asio::io_context& io_;
  exec::Launcher& launcher_;
  RunnerOptions options_;
  RunnerEvents& events_;
  ChildReaper reaper_;
  std::unordered_map<std::string, std::unique_ptr<Attempt>> attempts_;
  std::unordered_map<pid_t, Attempt*> by_pid_;
  int used_slots_ = 0;
  int start_tasks_ = 0;                  // start-task attempts in attempts_
  std::vector<bool> task_users_leased_;  // task-scope auto-user n is running a task
  boost::asio::steady_timer running_timer_;
  bool running_timer_armed_ = false;
  bool stopping_ = false;
  std::vector<std::string> abandoned_;
  std::function<void(std::vector<std::string>)> stopped_;
  std::function<void(pid_t, int)> foreign_child_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  boost::asio::thread_pool downloads_{2};  // last: joined first on destruction
};

}  // namespace openbatch::agent::runner
