// The subcommand groups of `openbatch`. Each add_*_commands registers its group on the root
// app; a leaf's parse callback stores what to run in Context::action, which app.cpp runs
// after parsing. Each command returns the process exit code (errors.hpp).
#pragma once

#include "cli/context.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <utility>

namespace openbatch::cli {

void add_pool_commands(CLI::App& root, Context& ctx);
void add_job_commands(CLI::App& root, Context& ctx);
void add_task_commands(CLI::App& root, Context& ctx);
void add_wait_commands(CLI::App& job, CLI::App& task, Context& ctx);
void add_node_commands(CLI::App& root, Context& ctx);
void add_file_commands(CLI::App& root, Context& ctx);
void add_app_commands(CLI::App& root, Context& ctx);

// Makes `run` the action when `cmd` is the subcommand given.
inline void on_parsed(CLI::App* cmd, Context& ctx, std::function<int()> run) {
  cmd->callback([&ctx, run = std::move(run)] { ctx.action = run; });
}

// Shared by list commands: "--filter" text ANDed with extra terms.
std::string and_filters(const std::string& a, const std::string& b);

}  // namespace openbatch::cli
