// Builds the CLI11 app, parses, then runs the chosen command (see app.hpp).
#include "cli/app.hpp"

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/errors.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace openbatch::cli {
namespace {

constexpr const char* kDescription =
    "openbatch: command-line client for an OpenBatch scheduler (Azure Batch REST API, SharedKey).\n"
    "Connection: --url/--account/--key-file, else "
    "OPENBATCH_URL/OPENBATCH_ACCOUNT/OPENBATCH_ACCOUNT_KEY\n"
    "(or AZURE_BATCH_ENDPOINT/AZURE_BATCH_ACCOUNT/AZURE_BATCH_ACCESS_KEY), else the config file\n"
    "(--config, default ~/.config/openbatch/config; keys url, account, key).";

void add_global_options(CLI::App& app, GlobalOptions& o) {
  app.add_option("--url", o.flags.url, "scheduler base URL, e.g. http://127.0.0.1:8080");
  app.add_option("--account", o.flags.account, "account name");
  app.add_option("--key-file", o.key_file, "file (mode 0600) holding the account key (base64)");
  // Refused when used (kKeyFlagRefused): a key in argv is readable by every local user.
  app.add_option_function<std::string>(
         "--key", [&o](const std::string&) { o.key_on_command_line = true; },
         "refused: use --key-file")
      ->group("");
  app.add_option("--config", o.config, "config file (TOML/INI: url, account, key)");
  app.add_flag("--json", o.json, "print the raw JSON (lists: the array of items)");
}

}  // namespace

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
        const EnvLookup& env) {
  Context ctx(out, err, env);
  CLI::App app(kDescription, args.empty() ? "openbatch" : args.front());
  app.fallthrough();  // global options may follow the subcommand: `pool list --json`
  app.require_subcommand(1);
  app.set_version_flag("--version", "openbatch 0.1.0");
  add_global_options(app, ctx.options);
  add_pool_commands(app, ctx);
  add_job_commands(app, ctx);
  add_task_commands(app, ctx);
  add_wait_commands(*app.get_subcommand("job"), *app.get_subcommand("task"), ctx);
  add_node_commands(app, ctx);
  add_file_commands(app, ctx);
  add_app_commands(app, ctx);

  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 parses from the back
  if (!reversed.empty()) reversed.pop_back();
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {  // CLI11 reports by exception; it stops here
    const int code = app.exit(e, out, err);
    return code == static_cast<int>(CLI::ExitCodes::Success) ? kExitOk : kExitUsage;
  }
  if (!ctx.action) return ctx.fail(usage_error("no command given (see --help)"));
  return ctx.action();
}

}  // namespace openbatch::cli
