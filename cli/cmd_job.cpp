// `openbatch job create|list|show|terminate|delete` (batch-api.md section 4); `job wait` is
// in cmd_wait.cpp.
#include "cli/commands.hpp"
#include "cli/errors.hpp"
#include "cli/input_file.hpp"
#include "cli/json_fields.hpp"

#include <memory>

namespace openbatch::cli {
namespace {

using nlohmann::json;

struct JobOptions {
  std::string id;
  std::string file;
  std::string pool;
  std::optional<int> priority;
  std::string filter;
  std::string reason;
};

Result<json> job_body(const JobOptions& o) {
  if (!o.file.empty()) return read_json_object(o.file);
  if (o.id.empty() || o.pool.empty())
    return usage_error("job create needs -f FILE, or --id and --pool");
  json body = {{"id", o.id}, {"poolInfo", {{"poolId", o.pool}}}};
  if (o.priority) body["priority"] = *o.priority;
  return body;
}

int create(Context& ctx, const JobOptions& o) {
  auto body = job_body(o);
  if (!body) return ctx.fail(body.error());
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  auto res = (*api)->call("POST", "/jobs", 201, to_body(*body));
  if (!res) return ctx.fail(res.error());
  ctx.out() << "job " << text_at(*body, "id") << " created\n";
  return kExitOk;
}

int list(Context& ctx, const JobOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  std::string target = "/jobs";
  if (!o.filter.empty()) target = with_query(target, "$filter", o.filter);
  auto items = (*api)->list(target);
  if (!items) return ctx.fail(items.error());
  ctx.print_list(job_view(), *items);
  return kExitOk;
}

int show(Context& ctx, const JobOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  auto job = (*api)->get_json(path_of({"jobs", o.id}));
  if (!job) return ctx.fail(job.error());
  ctx.print_entity(job_view(), *job);
  return kExitOk;
}

int terminate(Context& ctx, const JobOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  const std::string body =
      o.reason.empty() ? std::string() : to_body({{"terminateReason", o.reason}});
  auto res = (*api)->call("POST", path_of({"jobs", o.id, "terminate"}), 202, body);
  if (!res) return ctx.fail(res.error());
  ctx.out() << "job " << o.id << " is terminating\n";
  return kExitOk;
}

int remove(Context& ctx, const JobOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  auto res = (*api)->call("DELETE", path_of({"jobs", o.id}), 202);
  if (!res) return ctx.fail(res.error());
  ctx.out() << "job " << o.id << " is being deleted\n";
  return kExitOk;
}

}  // namespace

std::string and_filters(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return "(" + a + ") and (" + b + ")";
}

void add_job_commands(CLI::App& root, Context& ctx) {
  auto* job = root.add_subcommand("job", "Jobs: create, list, show, terminate, delete, wait");
  job->require_subcommand(1);
  auto o = std::make_shared<JobOptions>();

  auto* create_cmd = job->add_subcommand(
      "create", "Add a job from a JobAddParameter JSON file, or by --id and --pool");
  auto* file = create_cmd->add_option("-f,--file", o->file, "job JSON file (- for stdin)");
  auto* id = create_cmd->add_option("--id", o->id, "job id")->excludes(file);
  create_cmd->add_option("--pool", o->pool, "pool id the job runs on")->excludes(file)->needs(id);
  create_cmd->add_option("--priority", o->priority, "-1000..1000 (default 0)")
      ->excludes(file)
      ->check(CLI::Range(-1000, 1000));
  on_parsed(create_cmd, ctx, [&ctx, o] { return create(ctx, *o); });

  auto* list_cmd = job->add_subcommand("list", "List jobs");
  list_cmd->add_option("--filter", o->filter, "OData $filter, e.g. \"state eq 'active'\"");
  on_parsed(list_cmd, ctx, [&ctx, o] { return list(ctx, *o); });

  auto* show_cmd = job->add_subcommand("show", "Show one job");
  show_cmd->add_option("id", o->id, "job id")->required();
  on_parsed(show_cmd, ctx, [&ctx, o] { return show(ctx, *o); });

  auto* terminate_cmd = job->add_subcommand(
      "terminate", "Terminate a job: running tasks are killed, active ones never run");
  terminate_cmd->add_option("id", o->id, "job id")->required();
  terminate_cmd->add_option("--reason", o->reason, "terminateReason (default UserTerminate)");
  on_parsed(terminate_cmd, ctx, [&ctx, o] { return terminate(ctx, *o); });

  auto* delete_cmd = job->add_subcommand("delete", "Delete a job and its tasks");
  delete_cmd->add_option("id", o->id, "job id")->required();
  on_parsed(delete_cmd, ctx, [&ctx, o] { return remove(ctx, *o); });
}

}  // namespace openbatch::cli
