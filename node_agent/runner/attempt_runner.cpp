// AttemptRunner: prepare, launch, supervise and stop attempts (see attempt_runner.hpp).
#include "node_agent/runner/attempt_runner.hpp"

#include "common/posix/unique_fd.hpp"
#include "common/time.hpp"
#include "node_agent/runner/attempt_plan.hpp"
#include "node_agent/runner/disk_full.hpp"
#include "node_agent/runner/task_dirs.hpp"
#include "node_agent/runner/user_identity.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace openbatch::agent::runner {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::string now_text() { return format_iso8601(std::chrono::system_clock::now()); }

// How long a shim may take to start its task and answer before it is killed.
constexpr std::chrono::seconds kShimAnswerTimeout{30};
// An answer is a few hundred bytes; more is not a shim's.
constexpr std::size_t kMaxShimAnswer = 64 * 1024;

int exit_code_of(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace

struct AttemptRunner::Attempt {
  std::string id;
  protocol::Assignment assignment;
  AttemptKind kind = AttemptKind::Task;
  std::optional<std::size_t> task_user;  // the leased task-scope auto-user, while it runs
  std::optional<AttemptPlan> plan;
  bool started = false;  // start() ran
  exec::Child child;     // pid > 0 once the process runs
  std::string start_time;
  SteadyClock::time_point started_at;
  bool running_reported = false;
  KillReason kill = KillReason::None;
  std::optional<protocol::CancelReason> cancel_reason;
  std::unique_ptr<asio::steady_timer> wall_timer;
  std::unique_ptr<asio::steady_timer> kill_timer;
  // Multi-instance instances only (see start_application in the header).
  enum class Phase { Setup, Coordination, Waiting, Application };
  Phase phase = Phase::Setup;
  bool application_requested = false;  // startApplication came before coordination ended
  int coordination_exit = 0;
  exec::Child coordination_group;  // daemons the coordination command left run with the instance
  // Shims: the directory where this attempt's shim keeps its status ("" = no shim), and for an
  // attempt adopted from a previous agent process (its shim is not our child), the shim's pidfd.
  std::filesystem::path shim_dir;
  bool adopted = false;
  std::unique_ptr<asio::posix::stream_descriptor> shim_watch;
  // A shim that has not answered yet (its pid is in by_pid_; child stays empty until then).
  // A cancel, wall-clock stop or shutdown meanwhile is held in `kill` and applied when the
  // answer says the task runs: until then there is no task group to signal.
  struct ShimLaunch {
    exec::Child shim;
    std::string start_time;
    std::unique_ptr<asio::posix::stream_descriptor> socket;
    std::array<char, 1024> buffer{};
    std::string reply;
    std::unique_ptr<asio::steady_timer> timeout;
    std::optional<int> exit_status;  // the shim was reaped before its answer was read
    std::optional<Error> failure;    // it answered an error; killed, waiting to be reaped
  };
  std::unique_ptr<ShimLaunch> shim_launch;

  bool multi() const { return kind == AttemptKind::Task && assignment.multi_instance.has_value(); }
  bool primary() const { return multi() && assignment.multi_instance->subtask_id == 0; }
};

AttemptRunner::AttemptRunner(asio::io_context& io, exec::Launcher& launcher, RunnerOptions options,
                             RunnerEvents& events)
    : io_(io),
      launcher_(launcher),
      options_(std::move(options)),
      events_(events),
      reaper_(io, [this](pid_t pid, int status) { on_exit(pid, status); }),
      running_timer_(io) {}

AttemptRunner::~AttemptRunner() {
  *alive_ = false;
  downloads_.join();
}

void AttemptRunner::accept(protocol::Assignment assignment, AttemptKind kind) {
  if (attempts_.contains(assignment.attempt_id)) return;
  auto a = std::make_unique<Attempt>();
  a->id = assignment.attempt_id;
  a->assignment = std::move(assignment);
  a->kind = kind;
  if (kind == AttemptKind::StartTask) {
    a->assignment.required_slots = 0;
    start_tasks_++;
  }
  used_slots_ += a->assignment.required_slots;
  attempts_.emplace(a->id, std::move(a));
}

void AttemptRunner::start(const std::string& attempt_id) {
  auto it = attempts_.find(attempt_id);
  if (it == attempts_.end() || stopping_ || it->second->started) return;
  Attempt& a = *it->second;
  a.started = true;
  if (a.kill == KillReason::Cancel && a.cancel_reason) {  // cancelled while being recorded
    events_.attempt_report(cancelled_before_start_report(a.id, *a.cancel_reason, now_text()));
    finish(a.id);
    return;
  }
  prepare(a);
}

void AttemptRunner::prepare(Attempt& a) {
  std::string task_scope_user;
  // Most tasks carry no userIdentity ({}: the pool's user); only a task-scope one leases a user.
  if (!options_.facts.run_as_agent_user && !a.assignment.user_identity.empty()) {
    auto identity = parse_user_identity(a.assignment.user_identity);
    if (identity && !identity->user_name && identity->scope == tasks::AutoUserScope::Task &&
        identity->elevation == tasks::ElevationLevel::NonAdmin) {
      std::size_t n = 0;
      while (n < task_users_leased_.size() && task_users_leased_[n]) ++n;
      if (n == task_users_leased_.size()) task_users_leased_.push_back(false);
      task_users_leased_[n] = true;
      a.task_user = n;
      task_scope_user = options_.facts.task_scope_user_prefix + std::to_string(n);
      // Created once per lease slot, so at most as many users as tasks ever ran at once.
      if (options_.ensure_user) {
        if (auto st = options_.ensure_user(task_scope_user); !st) return fail(a, st.error());
      }
    }
  }
  auto plan = plan_attempt(a.assignment, options_.facts, options_.lookup, a.kind, task_scope_user);
  if (!plan) return fail(a, plan.error());
  a.plan = std::move(*plan);
  const AttemptPlan& p = *a.plan;
  if (a.assignment.multi_instance && a.assignment.multi_instance->subtask_id != 0) {
    if (auto st = make_task_dir(p.paths.dir.parent_path(), p.owner); !st)
      return fail(a, st.error());
  }
  if (auto st = make_task_dir(p.paths.dir, p.owner); !st) return fail(a, st.error());
  if (auto st = make_working_dir(p.paths.working_dir, p.owner); !st) return fail(a, st.error());
  if (a.multi()) {
    if (auto st = write_task_file(p.hostfile, p.hostfile_text, p.owner); !st)
      return fail(a, st.error());
    if (auto st = write_task_file(p.transport_log, p.transport_log_text, p.owner); !st)
      return fail(a, st.error());
  }
  const auto& packages = a.assignment.application_packages;
  if (p.resource_files.empty() && p.common_resource_files.empty() && packages.empty())
    return launch(a);

  // Packages and downloads block: a worker does them and posts the outcome back to the event
  // loop. Packages first: Azure installs them before the task's resource files; a
  // multi-instance task's common resource files go to the shared task directory first.
  asio::post(
      downloads_, [this, alive = std::weak_ptr<bool>(alive_), id = a.id, packages,
                   install = options_.install_packages, files = p.resource_files,
                   common = p.common_resource_files, shared = p.shared_dir,
                   wd = p.paths.working_dir, owner = p.owner, timeout = options_.download_timeout] {
        Status status;
        if (!packages.empty()) {
          if (!install) {
            status = Error(500, std::string(kPackageInstallFailed),
                           "this node cannot install application packages");
          } else if (auto installed = install(packages); !installed) {
            status = Error(500, std::string(kPackageInstallFailed), installed.error().message);
          }
        }
        for (const auto& f : common) {
          if (!status) break;
          status = download_resource_file(f, shared, owner, timeout);
        }
        for (const auto& f : files) {
          if (!status) break;
          status = download_resource_file(f, wd, owner, timeout);
        }
        auto token = alive.lock();
        if (!token || !*token) return;
        asio::post(io_, [this, alive, id, status] {
          auto t = alive.lock();
          if (t && *t) on_downloaded(id, status);
        });
      });
}

void AttemptRunner::on_downloaded(const std::string& attempt_id, Status status) {
  auto it = attempts_.find(attempt_id);
  if (it == attempts_.end()) return;  // abandoned by a shutdown meanwhile
  Attempt& a = *it->second;
  if (a.kill == KillReason::Cancel && a.cancel_reason) {
    events_.attempt_report(cancelled_before_start_report(a.id, *a.cancel_reason, now_text()));
    return finish(a.id);
  }
  if (!status) return fail(a, status.error());
  launch(a);
}

void AttemptRunner::launch(Attempt& a) {
  if (a.multi()) return launch_coordination(a);
  start_process(a, a.plan->spec);
}

// Starts `spec` as the attempt's process: its first start sets startTime and the wall-clock
// limit, which covers every phase of a multi-instance instance. False when it could not start
// (the attempt is then reported failed and gone).
bool AttemptRunner::start_process(Attempt& a, const exec::LaunchSpec& spec) {
  const std::string start_time = now_text();
  const bool shimmed = options_.shim && a.kind == AttemptKind::Task && !a.multi() &&
                       shim::escape_attempt_id(a.id);  // else no directory can be named after it
  if (shimmed) return start_under_shim(a, spec, start_time);
  auto child = launcher_.launch(spec);
  if (!child) {
    fail(a, child.error());
    return false;
  }
  running(a, *child, start_time);
  return true;
}

// The attempt's process runs: journal it, arm its timers.
void AttemptRunner::running(Attempt& a, exec::Child child, const std::string& start_time) {
  a.child = child;
  by_pid_[a.child.pid] = &a;
  if (a.start_time.empty()) {
    a.start_time = start_time;
    a.started_at = SteadyClock::now();
  }
  events_.attempt_started(a.id, a.child.pid, a.child.pgid, a.start_time);
  if (a.plan->max_wall_clock && !a.wall_timer) {
    arm_wall_timer(a,
                   std::chrono::duration_cast<std::chrono::milliseconds>(*a.plan->max_wall_clock));
  }
  arm_running_reports();
}

void AttemptRunner::arm_wall_timer(Attempt& a, std::chrono::milliseconds after) {
  a.wall_timer = std::make_unique<asio::steady_timer>(io_);
  a.wall_timer->expires_after(after);
  a.wall_timer->async_wait([this, id = a.id](const boost::system::error_code& ec) {
    if (ec) return;
    auto it = attempts_.find(id);
    if (it != attempts_.end() && it->second->kill == KillReason::None) {
      spdlog::info("attempt {}: maxWallClockTime {} expired, stopping it", id,
                   it->second->plan->max_wall_clock_text);
      begin_kill(*it->second, KillReason::WallClock);
    }
  });
}

// The attempt's shim directory (attempt.json first: a restarted agent needs it), then the shim;
// its answer is read on the event loop (read_shim_answer), so launches do not wait for each
// other. False when it could not start (the attempt is then reported failed and gone).
bool AttemptRunner::start_under_shim(Attempt& a, const exec::LaunchSpec& spec,
                                     const std::string& start_time) {
  const auto dir = options_.shim->dir / *shim::escape_attempt_id(a.id);
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  nlohmann::json attempt = {
      {"assignment", a.assignment},
      {"taskUser", a.task_user ? nlohmann::json(*a.task_user) : nlohmann::json(nullptr)},
      {"startTime", start_time},
      {"startedAtMs", std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count()}};
  if (auto st = shim::make_attempt_dir(dir, attempt); !st) {
    fail(a, st.error());
    return false;
  }
  auto starting = shim::spawn_shim(launcher_, spec, *options_.shim, dir);
  if (!starting) {
    shim::remove_attempt_dir(dir);
    fail(a, starting.error());
    return false;
  }
  a.shim_dir = dir;
  auto launch = std::make_unique<Attempt::ShimLaunch>();
  launch->shim = starting->shim;
  launch->start_time = start_time;
  launch->socket =
      std::make_unique<asio::posix::stream_descriptor>(io_, starting->socket.release());
  launch->timeout = std::make_unique<asio::steady_timer>(io_);
  launch->timeout->expires_after(kShimAnswerTimeout);
  launch->timeout->async_wait([this, id = a.id](const boost::system::error_code& ec) {
    if (ec) return;
    auto it = attempts_.find(id);
    if (it == attempts_.end() || !it->second->shim_launch) return;
    auto& l = *it->second->shim_launch;
    // Reaped, but its socket stays open (something else holds it): what it wrote is all.
    if (l.exit_status) return shim_answered(*it->second);
    spdlog::warn("attempt {}: its shim (pid {}) did not answer in {} s; killing it", id, l.shim.pid,
                 kShimAnswerTimeout.count());
    (void)launcher_.kill_group(l.shim, SIGKILL);  // its socket closes: no answer
  });
  by_pid_[launch->shim.pid] = &a;
  a.shim_launch = std::move(launch);
  read_shim_answer(a.id);
  return true;
}

void AttemptRunner::read_shim_answer(const std::string& attempt_id) {
  auto& l = *attempts_.at(attempt_id)->shim_launch;
  l.socket->async_read_some(
      asio::buffer(l.buffer),
      [this, id = attempt_id](const boost::system::error_code& ec, std::size_t n) {
        if (ec == asio::error::operation_aborted) return;  // the attempt (or runner) is gone
        auto it = attempts_.find(id);
        if (it == attempts_.end() || !it->second->shim_launch) return;
        auto& launch = *it->second->shim_launch;
        if (!ec) {
          launch.reply.append(launch.buffer.data(), n);
          if (launch.reply.size() <= kMaxShimAnswer) return read_shim_answer(id);
        }
        shim_answered(*it->second);  // end of file (the shim closed it), or an error
      });
}

// The shim's socket closed: it answered, or died without answering.
void AttemptRunner::shim_answered(Attempt& a) {
  auto& l = *a.shim_launch;
  l.timeout.reset();
  l.socket.reset();
  auto task = shim::read_shim_answer(l.reply);
  if (!task) {
    if (l.exit_status) return shim_launch_failed(a, task.error());
    // It exits right after answering; make sure, and fail the attempt once it is reaped.
    l.failure = task.error();
    (void)launcher_.kill_group(l.shim, SIGKILL);
    return;
  }
  const exec::Child shim = l.shim;
  const std::string start_time = l.start_time;
  const std::optional<int> exit_status = l.exit_status;
  a.shim_launch.reset();
  running(a, exec::Child{shim.pid, *task}, start_time);
  if (exit_status) {  // already over (a short task): report it
    by_pid_.erase(shim.pid);
    return ended(a, *exit_status);
  }
  if (a.kill != KillReason::None) begin_kill(a, a.kill);  // held while the shim started it
}

// The shim could not start the task (and is reaped): as a direct launch's failure.
void AttemptRunner::shim_launch_failed(Attempt& a, const Error& error) {
  by_pid_.erase(a.shim_launch->shim.pid);
  a.shim_launch.reset();
  shim::remove_attempt_dir(a.shim_dir);
  a.shim_dir.clear();
  if (a.kill == KillReason::Shutdown) {
    abandoned_.push_back(a.id);
    finish(a.id);
    return maybe_stopped();
  }
  if (a.kill == KillReason::Cancel && a.cancel_reason) {
    events_.attempt_report(cancelled_before_start_report(a.id, *a.cancel_reason, now_text()));
    return finish(a.id);
  }
  fail(a, error);
}

void AttemptRunner::adopt(AdoptedAttempt adopted) {
  if (attempts_.contains(adopted.attempt_id) || stopping_) return;
  auto owned = std::make_unique<Attempt>();
  Attempt& a = *owned;
  a.id = adopted.attempt_id;
  try {
    a.assignment = adopted.attempt.at("assignment").get<protocol::Assignment>();
  } catch (const std::exception& e) {
    spdlog::error("attempt {}: cannot adopt it: {} in {}", a.id, e.what(), adopted.dir.string());
    return;
  }
  a.started = true;
  a.adopted = true;
  a.shim_dir = adopted.dir;
  a.start_time = adopted.attempt.value("startTime", now_text());
  std::string task_scope_user;
  if (auto u = adopted.attempt.find("taskUser");
      u != adopted.attempt.end() && u->is_number_unsigned()) {
    const auto n = u->get<std::size_t>();
    if (n < 4096) {  // a lease slot, as prepare() hands them out
      if (task_users_leased_.size() <= n) task_users_leased_.resize(n + 1, false);
      task_users_leased_[n] = true;
      a.task_user = n;
      task_scope_user = options_.facts.task_scope_user_prefix + std::to_string(n);
    }
  }
  auto plan = plan_attempt(a.assignment, options_.facts, options_.lookup, AttemptKind::Task,
                           task_scope_user);
  if (plan) {
    a.plan = std::move(*plan);
  } else {
    spdlog::warn("attempt {}: adopted, but its plan fails now ({}): no wall-clock limit", a.id,
                 plan.error().message);
    a.plan.emplace();
  }
  a.child = exec::Child{adopted.status.shim_pid, adopted.status.task_pid};
  used_slots_ += a.assignment.required_slots;
  attempts_.emplace(a.id, std::move(owned));
  if (adopted.status.state == shim::ShimStatus::State::Exited) {
    spdlog::info("attempt {}: ended while the agent was away; reporting its exit status", a.id);
    return ended(a, 0);
  }
  spdlog::info("attempt {}: still running under its shim (pid {}); adopted", a.id, a.child.pid);
  const auto started_ms = adopted.attempt.value("startedAtMs", std::int64_t{0});
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const auto ran = std::chrono::milliseconds(std::max<std::int64_t>(0, now_ms - started_ms));
  a.started_at = SteadyClock::now() - ran;
  if (a.plan->max_wall_clock) {
    const auto limit =
        std::chrono::duration_cast<std::chrono::milliseconds>(*a.plan->max_wall_clock);
    arm_wall_timer(a, std::max(std::chrono::milliseconds(0), limit - ran));
  }
  by_pid_[a.child.pid] = &a;
  watch_adopted(a, std::move(adopted.pidfd));
  arm_running_reports();
}

// An adopted shim is not our child: its pidfd becomes readable when it exits.
void AttemptRunner::watch_adopted(Attempt& a, posix::UniqueFd pidfd) {
  const int fd = ::fcntl(pidfd.get(), F_DUPFD_CLOEXEC, 3);
  if (fd < 0) {
    spdlog::error("attempt {}: cannot watch its shim: {}", a.id, std::strerror(errno));
    return;
  }
  a.shim_watch = std::make_unique<asio::posix::stream_descriptor>(io_, fd);
  a.shim_watch->async_wait(asio::posix::stream_descriptor::wait_read,
                           [this, id = a.id](const boost::system::error_code& ec) {
                             if (ec) return;
                             auto it = attempts_.find(id);
                             if (it == attempts_.end()) return;
                             Attempt& adopted = *it->second;
                             by_pid_.erase(adopted.child.pid);
                             ended(adopted, 0);
                           });
}

void AttemptRunner::launch_coordination(Attempt& a) {
  a.phase = Attempt::Phase::Coordination;
  if (a.plan->coordination_argv.empty()) {
    a.start_time = now_text();
    a.started_at = SteadyClock::now();
    return coordinated(a);
  }
  exec::LaunchSpec spec = a.plan->spec;
  spec.argv = a.plan->coordination_argv;
  spdlog::info("attempt {}: instance {} of {}: coordination command", a.id,
               a.assignment.multi_instance->subtask_id,
               a.assignment.multi_instance->number_of_instances);
  start_process(a, spec);
}

void AttemptRunner::coordinated(Attempt& a) {
  a.phase = Attempt::Phase::Waiting;
  protocol::Report r;
  r.attempt_id = a.id;
  r.state = protocol::AttemptState::Running;
  r.start_time = a.start_time;
  r.coordinated = true;
  events_.attempt_report(std::move(r));
  if (a.primary() && a.application_requested) launch_application(a);
}

void AttemptRunner::launch_application(Attempt& a) {
  a.phase = Attempt::Phase::Application;
  exec::LaunchSpec spec = a.plan->spec;
  // After the coordination command's output, in the same files.
  spec.stdout_file->mode = exec::OutputMode::Append;
  spec.stderr_file->mode = exec::OutputMode::Append;
  const auto& mi = *a.assignment.multi_instance;
  spdlog::info("attempt {}: all {} instances coordinated; application command (MPI transport {})",
               a.id, mi.number_of_instances, mi.transport.empty() ? "not chosen" : mi.transport);
  start_process(a, spec);
}

void AttemptRunner::start_application(const std::string& attempt_id) {
  auto it = attempts_.find(attempt_id);
  if (it == attempts_.end() || !it->second->primary() || it->second->kill != KillReason::None)
    return;
  Attempt& a = *it->second;
  if (a.phase == Attempt::Phase::Waiting) return launch_application(a);
  if (a.phase != Attempt::Phase::Application) a.application_requested = true;
}

// A waiting instance (no process) ends: cancelled, out of wall-clock time. A subtask stopped
// because its task ended normally succeeded with its coordination command's exit code.
void AttemptRunner::end_waiting(Attempt& a) {
  const bool task_ended = a.kill == KillReason::Cancel &&
                          a.cancel_reason == protocol::CancelReason::TaskCompleted && !a.primary();
  const KillReason kill = task_ended ? KillReason::None : a.kill;
  events_.attempt_report(completed_report(a.id, a.coordination_exit, a.start_time, now_text(), kill,
                                          a.plan->max_wall_clock_text,
                                          task_ended ? std::nullopt : a.cancel_reason));
  finish(a.id);
}

Result<InstanceContext> AttemptRunner::instance_for(std::string_view job_id,
                                                    std::string_view task_id,
                                                    std::string_view token) const {
  for (const auto& [id, a] : attempts_) {
    if (!a->multi() || a->assignment.job_id != job_id || a->assignment.task_id != task_id) continue;
    if (!a->plan || a->kill != KillReason::None || a->phase == Attempt::Phase::Setup) continue;
    const std::string& expected = a->assignment.multi_instance->exec_token;
    // Constant time in the token's bytes: no early exit on the first difference.
    unsigned char diff = expected.size() == token.size() ? 0 : 1;
    for (std::size_t i = 0; i < token.size(); ++i) {
      diff |= static_cast<unsigned char>(token[i] ^
                                         expected[i % std::max<std::size_t>(1, expected.size())]);
    }
    if (expected.empty() || diff != 0) {
      return Error(403, "ExecTokenRefused",
                   "the token does not belong to the running instance of task " +
                       std::string(job_id) + "/" + std::string(task_id) + " on this node");
    }
    const exec::LaunchSpec& spec = a->plan->spec;
    return InstanceContext{id, spec.env, spec.cwd, spec.uid, spec.gid, spec.groups};
  }
  return Error(404, "NoRunningInstance",
               "no instance of task " + std::string(job_id) + "/" + std::string(task_id) +
                   " runs on this node");
}

void AttemptRunner::begin_kill(Attempt& a, KillReason reason) {
  a.kill = reason;
  if (a.child.pid <= 0) {
    if (a.phase == Attempt::Phase::Waiting && reason != KillReason::Shutdown) end_waiting(a);
    return;
  }
  if (auto st = launcher_.kill_group(a.child, SIGTERM); !st) {
    spdlog::warn("attempt {}: {}", a.id, st.error().message);
  }
  a.kill_timer = std::make_unique<asio::steady_timer>(io_);
  a.kill_timer->expires_after(options_.kill_grace);
  a.kill_timer->async_wait([this, id = a.id](const boost::system::error_code& ec) {
    if (ec) return;
    auto it = attempts_.find(id);
    if (it == attempts_.end() || it->second->child.pid <= 0) return;
    (void)launcher_.kill_group(it->second->child, SIGKILL);
  });
}

void AttemptRunner::on_exit(pid_t pid, int wait_status) {
  auto pit = by_pid_.find(pid);
  if (pit == by_pid_.end() || pit->second->adopted) {
    // Not an attempt's process: the remote launcher's (or already handled). An adopted shim
    // is not our child either: this is another process that got its pid.
    if (foreign_child_) foreign_child_(pid, wait_status);
    return;
  }
  Attempt& a = *pit->second;
  if (a.shim_launch) {  // a shim that has not answered (or whose answer is not read yet)
    auto& l = *a.shim_launch;
    if (l.exit_status) {  // another process that got its pid
      if (foreign_child_) foreign_child_(pid, wait_status);
      return;
    }
    if (l.failure) return shim_launch_failed(a, Error(*l.failure));
    l.exit_status = wait_status;  // its socket is closed too: shim_answered() goes on
    return;
  }
  by_pid_.erase(pit);
  ended(a, wait_status);
}

// The attempt's process is gone: `wait_status` is its own, or (an attempt under a shim) its
// shim's, which says the same; the shim's status file says more (the output cap).
void AttemptRunner::ended(Attempt& a, int wait_status) {
  if (a.phase == Attempt::Phase::Coordination && a.kill == KillReason::None) {
    a.coordination_exit = exit_code_of(wait_status);
    if (a.coordination_exit == 0) {
      // Daemons it started keep running in its group until the instance ends.
      a.coordination_group = a.child;
      a.child = {};
      return coordinated(a);
    }
  }
  const std::string end_time = now_text();
  int exit_code = exit_code_of(wait_status);
  std::optional<shim::OutputLimitHit> output_limit;
  if (!a.shim_dir.empty()) {
    auto status = shim::read_status_file(a.shim_dir);
    if (status && *status && (*status)->state == shim::ShimStatus::State::Exited) {
      exit_code = (*status)->report_exit_code();
      output_limit = (*status)->output_limit;
    } else {
      // The shim died before its task (killed by hand?): nobody could report the task's end.
      spdlog::warn("attempt {}: its shim ended without the task's exit status{}; stopping the task",
                   a.id, status ? "" : ": " + status.error().message);
      (void)launcher_.kill_group(a.child, SIGKILL);
      if (a.adopted) exit_code = 128 + SIGKILL;
    }
  }
  // Whatever the group left behind after a stop goes too.
  if (a.kill != KillReason::None) (void)launcher_.kill_group(a.child, SIGKILL);
  if (a.kill == KillReason::Shutdown) {
    abandoned_.push_back(a.id);
    finish(a.id);
    return maybe_stopped();
  }
  auto report = completed_report(a.id, exit_code, a.start_time, end_time, a.kill,
                                 a.plan->max_wall_clock_text, a.cancel_reason);
  if (output_limit && a.kill == KillReason::None) {
    // The cap's verdict names the cause; a disk that is full as well is a consequence.
    report.failure_info = output_limit_failure(output_limit->file, output_limit->cap_bytes);
    report.result = protocol::TaskResult::Failure;
    events_.attempt_report(std::move(report));
  } else {
    report_with_disk_check(std::move(report));
  }
  finish(a.id);
}

void AttemptRunner::fail(Attempt& a, const Error& error) {
  spdlog::info("attempt {}: could not start: {}", a.id, error.message);
  report_with_disk_check(failed_to_start_report(a.id, error, std::nullopt, now_text()));
  finish(a.id);
}

void AttemptRunner::report_with_disk_check(protocol::Report report) {
  if (report.failure_info) {
    const auto& root = options_.facts.node_root;
    classify_disk_full(report, root, filesystem_space(root));
  }
  events_.attempt_report(std::move(report));
}

void AttemptRunner::finish(std::string attempt_id) {
  auto it = attempts_.find(attempt_id);
  if (it == attempts_.end()) return;
  if (it->second->coordination_group.pid > 0) {
    (void)launcher_.kill_group(it->second->coordination_group, SIGKILL);
  }
  used_slots_ -= it->second->assignment.required_slots;
  if (it->second->kind == AttemptKind::StartTask) start_tasks_--;
  if (auto n = it->second->task_user) {
    // The next task leasing this user must not read this one's files: the directory goes to
    // root with mode 0700, the agent still serves them.
    if (it->second->plan) {
      if (auto st = close_task_dir(it->second->plan->paths.dir); !st) {
        spdlog::warn("attempt {}: handing its directory to root: {}", attempt_id,
                     st.error().message);
      }
    }
    task_users_leased_[*n] = false;
  }
  attempts_.erase(it);  // its timers are cancelled with it
  events_.attempt_ended(attempt_id);
}

bool AttemptRunner::cancel(const std::string& attempt_id, protocol::CancelReason reason) {
  auto it = attempts_.find(attempt_id);
  if (it == attempts_.end()) return false;
  Attempt& a = *it->second;
  if (a.kill != KillReason::None) return true;  // already stopping; that stop reports
  a.cancel_reason = reason;
  if (a.child.pid > 0 || a.phase == Attempt::Phase::Waiting) {
    begin_kill(a, KillReason::Cancel);
  } else {
    a.kill = KillReason::Cancel;  // start() or the download's end reports it
  }
  return true;
}

void AttemptRunner::stop_all(std::function<void(std::vector<std::string>)> done) {
  stopping_ = true;
  stopped_ = std::move(done);
  std::vector<std::string> not_running;
  for (auto& [id, a] : attempts_) {
    if (a->child.pid > 0) {
      begin_kill(*a, KillReason::Shutdown);
    } else if (a->shim_launch) {
      a->kill = KillReason::Shutdown;  // stopped (or abandoned) once its shim answers
    } else {
      not_running.push_back(id);
    }
  }
  for (const auto& id : not_running) {
    abandoned_.push_back(id);
    finish(id);
  }
  maybe_stopped();
}

void AttemptRunner::maybe_stopped() {
  if (!stopping_ || !by_pid_.empty() || !stopped_) return;
  auto done = std::exchange(stopped_, nullptr);
  asio::post(io_, [done = std::move(done), ids = std::exchange(abandoned_, {})]() mutable {
    done(std::move(ids));
  });
}

std::vector<protocol::RunningAttempt> AttemptRunner::running_attempts() const {
  std::vector<protocol::RunningAttempt> out;
  out.reserve(attempts_.size());
  for (const auto& [id, a] : attempts_) {
    if (a->kind == AttemptKind::StartTask) continue;  // the node's own business
    if (a->child.pid > 0 || a->phase == Attempt::Phase::Waiting) {
      out.push_back({id, protocol::AttemptState::Running, a->start_time});
    } else {
      out.push_back({id, protocol::AttemptState::Preparing, std::nullopt});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto& x, const auto& y) { return x.attempt_id < y.attempt_id; });
  return out;
}

void AttemptRunner::arm_running_reports() {
  if (running_timer_armed_ || options_.running_report_delay.count() <= 0) return;
  running_timer_armed_ = true;
  running_timer_.expires_after(options_.running_report_delay);
  running_timer_.async_wait([this](const boost::system::error_code& ec) {
    running_timer_armed_ = false;
    if (!ec) send_running_reports();
  });
}

void AttemptRunner::send_running_reports() {
  const auto due = SteadyClock::now() - options_.running_report_delay;
  bool waiting = false;
  for (auto& [pid, a] : by_pid_) {
    if (a->running_reported || a->kill != KillReason::None || a->shim_launch) continue;
    if (a->started_at > due) {
      waiting = true;
      continue;
    }
    a->running_reported = true;
    protocol::Report r;
    r.attempt_id = a->id;
    r.state = protocol::AttemptState::Running;
    r.start_time = a->start_time;
    events_.attempt_report(std::move(r));
  }
  if (waiting) arm_running_reports();
}

}  // namespace openbatch::agent::runner
