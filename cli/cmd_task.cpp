// `openbatch task add|list|show|terminate|delete` (batch-api.md section 5); `task wait` is in
// cmd_wait.cpp.
#include "cli/commands.hpp"
#include "cli/errors.hpp"
#include "cli/input_file.hpp"
#include "cli/json_fields.hpp"
#include "cli/task_file.hpp"
#include "cli/task_submit.hpp"

#include <memory>

namespace openbatch::cli {
namespace {

using nlohmann::json;

struct TaskOptions {
  std::string job;
  std::string task;
  std::string file;
  std::string state;
  std::string filter;
  std::size_t connections = 4;
};

// Failures printed one per line, at most this many (then a count of the rest).
constexpr std::size_t kMaxFailuresShown = 50;

int add_one(Context& ctx, Api& api, const std::string& job, const json& task) {
  auto res = api.call("POST", path_of({"jobs", job, "tasks"}), 201, to_body(task));
  if (!res) return ctx.fail(res.error());
  ctx.out() << "task " << text_at(task, "id") << " added to job " << job << '\n';
  return kExitOk;
}

int add(Context& ctx, const TaskOptions& o) {
  auto text = read_input(o.file);
  if (!text) return ctx.fail(text.error());
  auto file = parse_task_file(*text, o.file);
  if (!file) return ctx.fail(file.error());
  auto batches = make_batches(file->tasks);
  if (!batches) return ctx.fail(batches.error());
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  if (file->single) return add_one(ctx, **api, o.job, file->tasks.front());
  auto connection = ctx.connection();
  const SubmitReport report =
      submit_batches(*connection, o.job, file->tasks, *batches, o.connections);
  for (std::size_t i = 0; i < report.failures.size() && i < kMaxFailuresShown; ++i) {
    const auto& f = report.failures[i];
    ctx.err() << "task " << f.task_id << ": " << describe_error(f.error) << '\n';
  }
  if (report.failures.size() > kMaxFailuresShown) {
    ctx.err() << "... and " << report.failures.size() - kMaxFailuresShown << " more failures\n";
  }
  ctx.out() << "added " << report.added << " of " << file->tasks.size() << " tasks to job "
            << o.job;
  if (!report.failures.empty()) ctx.out() << " (" << report.failures.size() << " failed)";
  ctx.out() << '\n';
  return report.failures.empty() ? kExitOk : kExitFailure;
}

int list(Context& ctx, const TaskOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  std::string target = path_of({"jobs", o.job, "tasks"});
  const std::string state = o.state.empty() ? std::string() : "state eq '" + o.state + "'";
  if (auto filter = and_filters(state, o.filter); !filter.empty()) {
    target = with_query(target, "$filter", filter);
  }
  auto items = (*api)->list(target);
  if (!items) return ctx.fail(items.error());
  ctx.print_list(task_view(), *items);
  return kExitOk;
}

int show(Context& ctx, const TaskOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  auto task = (*api)->get_json(path_of({"jobs", o.job, "tasks", o.task}));
  if (!task) return ctx.fail(task.error());
  ctx.print_entity(task_view(), *task);
  return kExitOk;
}

int subtasks(Context& ctx, const TaskOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  auto info = (*api)->get_json(path_of({"jobs", o.job, "tasks", o.task, "subtasksinfo"}));
  if (!info) return ctx.fail(info.error());
  ctx.print_list(subtask_view(), info->value("value", json::array()));
  return kExitOk;
}

int terminate(Context& ctx, const TaskOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  auto res = (*api)->call("POST", path_of({"jobs", o.job, "tasks", o.task, "terminate"}), 204);
  if (!res) return ctx.fail(res.error());
  ctx.out() << "task " << o.task << " terminated\n";
  return kExitOk;
}

int remove(Context& ctx, const TaskOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  auto res = (*api)->call("DELETE", path_of({"jobs", o.job, "tasks", o.task}), 200);
  if (!res) return ctx.fail(res.error());
  ctx.out() << "task " << o.task << " deleted\n";
  return kExitOk;
}

void job_and_task(CLI::App* cmd, TaskOptions& o) {
  cmd->add_option("job", o.job, "job id")->required();
  cmd->add_option("task", o.task, "task id")->required();
}

}  // namespace

void add_task_commands(CLI::App& root, Context& ctx) {
  auto* task =
      root.add_subcommand("task", "Tasks: add, list, show, subtasks, terminate, delete, wait");
  task->require_subcommand(1);
  auto o = std::make_shared<TaskOptions>();

  auto* add_cmd = task->add_subcommand(
      "add", "Add tasks from a JSON file: one task, an array, or {\"value\":[...]} of any length");
  add_cmd->add_option("job", o->job, "job id")->required();
  add_cmd->add_option("-f,--file", o->file, "task JSON file (- for stdin)")->required();
  add_cmd
      ->add_option("--connections", o->connections,
                   "parallel connections for collections (default 4)")
      ->check(CLI::Range(1, 64));
  on_parsed(add_cmd, ctx, [&ctx, o] { return add(ctx, *o); });

  auto* list_cmd = task->add_subcommand("list", "List a job's tasks");
  list_cmd->add_option("job", o->job, "job id")->required();
  list_cmd->add_option("--state", o->state, "only tasks in this state")
      ->check(CLI::IsMember({"active", "preparing", "running", "completed"}, CLI::ignore_case));
  list_cmd->add_option("--filter", o->filter,
                       "OData $filter, e.g. \"executionInfo/exitCode ne 0\"");
  on_parsed(list_cmd, ctx, [&ctx, o] { return list(ctx, *o); });

  auto* show_cmd = task->add_subcommand("show", "Show one task");
  job_and_task(show_cmd, *o);
  on_parsed(show_cmd, ctx, [&ctx, o] { return show(ctx, *o); });

  auto* subtasks_cmd = task->add_subcommand(
      "subtasks", "List the subtasks (instances 1..N-1) of a multi-instance task");
  job_and_task(subtasks_cmd, *o);
  on_parsed(subtasks_cmd, ctx, [&ctx, o] { return subtasks(ctx, *o); });

  auto* terminate_cmd =
      task->add_subcommand("terminate", "Terminate a task (it completes as failed)");
  job_and_task(terminate_cmd, *o);
  on_parsed(terminate_cmd, ctx, [&ctx, o] { return terminate(ctx, *o); });

  auto* delete_cmd = task->add_subcommand("delete", "Delete a task and its files");
  job_and_task(delete_cmd, *o);
  on_parsed(delete_cmd, ctx, [&ctx, o] { return remove(ctx, *o); });
}

}  // namespace openbatch::cli
