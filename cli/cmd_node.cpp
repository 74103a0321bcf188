// `openbatch node list POOL` and `openbatch node show POOL NODE` (batch-api.md section 3).
#include "cli/commands.hpp"
#include "cli/errors.hpp"

#include <memory>

namespace openbatch::cli {
namespace {

struct NodeOptions {
  std::string pool;
  std::string node;
  std::string filter;
};

int list(Context& ctx, const NodeOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  std::string target = path_of({"pools", o.pool, "nodes"});
  if (!o.filter.empty()) target = with_query(target, "$filter", o.filter);
  auto items = (*api)->list(target);
  if (!items) return ctx.fail(items.error());
  ctx.print_list(node_view(), *items);
  return kExitOk;
}

int show(Context& ctx, const NodeOptions& o) {
  auto api = ctx.api();
  if (!api) return ctx.fail(api.error());
  auto node = (*api)->get_json(path_of({"pools", o.pool, "nodes", o.node}));
  if (!node) return ctx.fail(node.error());
  ctx.print_entity(node_view(), *node);
  return kExitOk;
}

}  // namespace

void add_node_commands(CLI::App& root, Context& ctx) {
  auto* node = root.add_subcommand("node", "Compute nodes: list, show");
  node->require_subcommand(1);
  auto o = std::make_shared<NodeOptions>();

  auto* list_cmd = node->add_subcommand("list", "List a pool's nodes");
  list_cmd->add_option("pool", o->pool, "pool id")->required();
  list_cmd->add_option("--filter", o->filter, "OData $filter, e.g. \"state eq 'idle'\"");
  on_parsed(list_cmd, ctx, [&ctx, o] { return list(ctx, *o); });

  auto* show_cmd = node->add_subcommand("show", "Show one node");
  show_cmd->add_option("pool", o->pool, "pool id")->required();
  show_cmd->add_option("node", o->node, "node id")->required();
  on_parsed(show_cmd, ctx, [&ctx, o] { return show(ctx, *o); });
}

}  // namespace openbatch::cli
