// Context: what every CLI command shares. The global options (connection flags, --config,
// --json), the output streams, the connection resolved once from flags, environment and
// config file, a lazily opened Api, and the command chosen by the parser (run after parsing,
// so that usage errors are all reported before any request is sent).
//
// Not thread-safe: the main thread owns it; worker threads get a Connection and open their
// own Api.
#pragma once

#include "cli/api.hpp"
#include "cli/config.hpp"
#include "cli/views.hpp"
#include "common/error.hpp"

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

namespace openbatch::cli {

// Why `--key` is refused, and what to use instead.
inline constexpr const char* kKeyFlagRefused =
    "--key puts the account key on the command line, where every local user can read it "
    "(/proc/<pid>/cmdline, ps): use --key-file FILE (mode 0600), OPENBATCH_ACCOUNT_KEY, or the "
    "config file's key setting";

struct GlobalOptions {
  ConnectionSettings flags;             // --url, --account; key: from --key-file
  std::optional<std::string> key_file;  // --key-file FILE
  bool key_on_command_line = false;     // --key given: refused (kKeyFlagRefused)
  std::optional<std::string> config;    // --config FILE
  bool json = false;                    // --json
};

class Context {
 public:
  Context(std::ostream& out, std::ostream& err, EnvLookup env);

  GlobalOptions options;
  std::function<int()> action;  // set by the chosen subcommand's parse callback

  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }

  // Flags > environment > config file (config.hpp); resolved on first use.
  Result<Connection> connection();

  // The Api over connection(), opened on first use.
  Result<Api*> api();

  // Prints format_error(error) on err() and returns its exit code.
  int fail(const Error& error);

  // A list as a table (view's columns) or, with --json, the JSON array.
  void print_list(const EntityView& view, const nlohmann::json& items);

  // One entity as "label: value" lines (view's fields) or, with --json, its JSON.
  void print_entity(const EntityView& view, const nlohmann::json& entity);

 private:
  std::ostream& out_;
  std::ostream& err_;
  EnvLookup env_;
  std::optional<Result<Connection>> connection_;
  std::unique_ptr<Api> api_;
};

}  // namespace openbatch::cli
