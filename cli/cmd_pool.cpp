// `openbatch pool create|list|show|delete|resize` (batch-api.md section 2).
#include "cli/commands.hpp"
#include "cli/errors.hpp"
#include "cli/input_file.hpp"
#include "cli/json_fields.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

namespace openbatch::cli {
namespace {

using nlohmann::json;

struct PoolOptions {
  std::string id;
  std::string file;
  std::string filter;
  bool wait = false;
  double timeout = 0;
  int target = 0;
  std::optional<int> target_low_priority;
  std::string resize_timeout;
};

int create(Context& ctx, const PoolOptions& o) {
  auto body = read_json_object(o.file);
  if (!body) return ctx.fail(body.error());
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  auto res = (*api)->call("POST", "/pools", 201, to_body(*body));
  if (!res) return ctx.fail(res.error());
  ctx.out() << "pool " << text_at(*body, "id") << " created\n";
  return kExitOk;
}

int list(Context& ctx, const PoolOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  std::string target = "/pools";
  if (!o.filter.empty()) target = with_query(target, "$filter", o.filter);
  auto items = (*api)->list(target);
  if (!items) return ctx.fail(items.error());
  ctx.print_list(pool_view(), *items);
  return kExitOk;
}

int show(Context& ctx, const PoolOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  auto pool = (*api)->get_json(path_of({"pools", o.id}));
  if (!pool) return ctx.fail(pool.error());
  ctx.print_entity(pool_view(), *pool);
  return kExitOk;
}

// Polls the pool until it is gone (404) or `timeout` seconds pass (0: no limit).
int wait_gone(Context& ctx, Api& api, const PoolOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    auto res = api.send("GET", path_of({"pools", o.id}) + "?$select=id,state");
    if (!res) return ctx.fail(res.error());
    if (res->status == 404) return kExitOk;
    if (res->status != 200) return ctx.fail(error_from_reply(res->status, res->body));
    const std::chrono::duration<double> waited = std::chrono::steady_clock::now() - start;
    if (o.timeout > 0 && waited.count() >= o.timeout) {
      return ctx.fail(Error(0, "WaitTimedOut", "pool " + o.id + " still exists"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

int remove(Context& ctx, const PoolOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  auto res = (*api)->call("DELETE", path_of({"pools", o.id}), 202);
  if (!res) return ctx.fail(res.error());
  if (!o.wait) {
    ctx.out() << "pool " << o.id << " is being deleted\n";
    return kExitOk;
  }
  if (int rc = wait_gone(ctx, **api, o); rc != kExitOk) return rc;
  ctx.out() << "pool " << o.id << " deleted\n";
  return kExitOk;
}

int resize(Context& ctx, const PoolOptions& o) {
  json body = {{"targetDedicatedNodes", o.target}};
  if (o.target_low_priority) body["targetLowPriorityNodes"] = *o.target_low_priority;
  if (!o.resize_timeout.empty()) body["resizeTimeout"] = o.resize_timeout;
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  auto res = (*api)->call("POST", path_of({"pools", o.id, "resize"}), 202, to_body(body));
  if (!res) return ctx.fail(res.error());
  ctx.out() << "pool " << o.id << " resizing to " << o.target << " dedicated nodes\n";
  return kExitOk;
}

// A new join token for agents on other machines (static pools). The scheduler shows it once.
int join_token(Context& ctx, const PoolOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  auto res = (*api)->call("POST", path_of({"pools", o.id, "jointoken"}), 200);
  if (!res) return ctx.fail(res.error());
  auto body = json::parse(res->body, nullptr, false);
  if (!body.is_object())
    return ctx.fail(Error(0, "InvalidResponse", "the join token answer is not JSON"));
  if (!o.file.empty()) {
    std::ofstream out(o.file, std::ios::trunc);
    out << body.value("joinToken", "") << '\n';
    out.close();
    std::filesystem::permissions(
        o.file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
        std::filesystem::perm_options::replace);
    ctx.out() << "join token for pool " << o.id << " written to " << o.file
              << " (the previous token no longer works)\n";
    return kExitOk;
  }
  ctx.out() << body.value("joinToken", "") << '\n';
  return kExitOk;
}

}  // namespace

void add_pool_commands(CLI::App& root, Context& ctx) {
  auto* pool = root.add_subcommand("pool", "Pools: create, list, show, delete, resize, join-token");
  pool->require_subcommand(1);
  auto o = std::make_shared<PoolOptions>();

  auto* create_cmd = pool->add_subcommand("create", "Add a pool from a PoolAddParameter JSON file");
  create_cmd->add_option("-f,--file", o->file, "pool JSON file (- for stdin)")->required();
  on_parsed(create_cmd, ctx, [&ctx, o] { return create(ctx, *o); });

  auto* list_cmd = pool->add_subcommand("list", "List pools");
  list_cmd->add_option("--filter", o->filter, "OData $filter, e.g. \"state eq 'active'\"");
  on_parsed(list_cmd, ctx, [&ctx, o] { return list(ctx, *o); });

  auto* show_cmd = pool->add_subcommand("show", "Show one pool");
  show_cmd->add_option("id", o->id, "pool id")->required();
  on_parsed(show_cmd, ctx, [&ctx, o] { return show(ctx, *o); });

  auto* delete_cmd = pool->add_subcommand("delete", "Delete a pool");
  delete_cmd->add_option("id", o->id, "pool id")->required();
  delete_cmd->add_flag("--wait", o->wait, "return once the pool is gone");
  delete_cmd
      ->add_option("--timeout", o->timeout, "with --wait: give up after SECONDS (default: never)")
      ->check(CLI::NonNegativeNumber);
  on_parsed(delete_cmd, ctx, [&ctx, o] { return remove(ctx, *o); });

  auto* resize_cmd = pool->add_subcommand("resize", "Change a pool's target node count");
  resize_cmd->add_option("id", o->id, "pool id")->required();
  resize_cmd->add_option("--target", o->target, "target dedicated nodes")
      ->required()
      ->check(CLI::NonNegativeNumber);
  resize_cmd
      ->add_option("--target-low-priority", o->target_low_priority, "target low-priority nodes")
      ->check(CLI::NonNegativeNumber);
  resize_cmd->add_option("--resize-timeout", o->resize_timeout,
                         "ISO 8601 duration (default PT15M)");
  on_parsed(resize_cmd, ctx, [&ctx, o] { return resize(ctx, *o); });

  auto* token_cmd = pool->add_subcommand("join-token",
                                         "Issue a new join token for agents on other machines "
                                         "(openbatch-agent run --join-token-file)");
  token_cmd->add_option("id", o->id, "pool id")->required();
  token_cmd->add_option("-o,--output", o->file,
                        "write the token to FILE (mode 0600) instead of printing it");
  on_parsed(token_cmd, ctx, [&ctx, o] { return join_token(ctx, *o); });
}

}  // namespace openbatch::cli
