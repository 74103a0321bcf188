// `openbatch job wait JOB` and `openbatch task wait JOB [TASK...]`: poll until every task
// (of the job, or the ones named) has completed, showing done/running/failed, rate and ETA on
// stderr, then print a summary on stdout. Exit 0 when all succeeded, else 1.
#include "cli/commands.hpp"
#include "cli/errors.hpp"
#include "cli/wait_sources.hpp"
#include "cli/waiter.hpp"

#include <memory>
#include <sys/ioctl.h>
#include <unistd.h>

namespace openbatch::cli {
namespace {

struct WaitCommandOptions {
  std::string job;
  std::vector<std::string> tasks;
  double interval = 2.0;
  double timeout = 0.0;
};

constexpr std::size_t kMaxFailedShown = 20;

WaitOptions wait_options(const WaitCommandOptions& o) {
  WaitOptions w;
  w.interval_seconds = o.interval;
  w.timeout_seconds = o.timeout;
  w.tty = ::isatty(STDERR_FILENO) == 1;
  winsize size{};
  if (w.tty && ::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0) w.columns = size.ws_col;
  return w;
}

// "250 tasks: 248 succeeded, 2 failed[, 3 never ran (job completed)]" and the failed ids.
int report(Context& ctx, const WaitState& state, const std::vector<std::string>& failed) {
  const TaskCounts& c = state.counts;
  ctx.out() << c.total() << " tasks: " << c.completed - c.failed << " succeeded, " << c.failed
            << " failed";
  if (c.remaining() > 0) ctx.out() << ", " << c.remaining() << " not run (" << state.reason << ")";
  ctx.out() << '\n';
  if (!failed.empty()) {
    ctx.out() << "failed:";
    for (std::size_t i = 0; i < failed.size() && i < kMaxFailedShown; ++i)
      ctx.out() << ' ' << failed[i];
    if (static_cast<std::int64_t>(failed.size()) < c.failed || failed.size() > kMaxFailedShown) {
      ctx.out() << " ...";
    }
    ctx.out() << '\n';
  }
  return c.failed == 0 && c.remaining() == 0 ? kExitOk : kExitFailure;
}

int wait_job(Context& ctx, const WaitCommandOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  JobWaitSource source(**api, o.job);
  auto state = wait_until_settled([&] { return source.poll(); }, wait_options(o), ctx.err());
  if (!state) return ctx.fail(state.error());
  std::vector<std::string> failed;
  if (state->counts.failed > 0) {
    auto ids = source.failed_ids(kMaxFailedShown);
    if (!ids) return ctx.fail(ids.error());
    failed = std::move(*ids);
  }
  return report(ctx, *state, failed);
}

int wait_tasks(Context& ctx, const WaitCommandOptions& o) {
  if (o.tasks.empty()) return wait_job(ctx, o);
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  TaskSetWaitSource source(**api, o.job, o.tasks);
  auto state = wait_until_settled([&] { return source.poll(); }, wait_options(o), ctx.err());
  if (!state) return ctx.fail(state.error());
  return report(ctx, *state, source.failed_ids());
}

void timing_options(CLI::App* cmd, WaitCommandOptions& o) {
  cmd->add_option("--interval", o.interval, "seconds between polls (default 2)")
      ->check(CLI::Range(0.05, 3600.0));
  cmd->add_option("--timeout", o.timeout, "give up after SECONDS, exit 1 (default: never)")
      ->check(CLI::NonNegativeNumber);
}

}  // namespace

void add_wait_commands(CLI::App& job, CLI::App& task, Context& ctx) {
  auto o = std::make_shared<WaitCommandOptions>();

  auto* job_wait = job.add_subcommand("wait", "Wait until all of a job's tasks have completed");
  job_wait->add_option("id", o->job, "job id")->required();
  timing_options(job_wait, *o);
  on_parsed(job_wait, ctx, [&ctx, o] { return wait_job(ctx, *o); });

  auto* task_wait = task.add_subcommand(
      "wait", "Wait until the given tasks (default: all of the job's) have completed");
  task_wait->add_option("job", o->job, "job id")->required();
  task_wait->add_option("tasks", o->tasks, "task ids (default: every task of the job)");
  timing_options(task_wait, *o);
  on_parsed(task_wait, ctx, [&ctx, o] { return wait_tasks(ctx, *o); });
}

}  // namespace openbatch::cli
