// Shared command state: connection resolution, the Api, error and result printing
// (see context.hpp).
#include "cli/context.hpp"

#include "cli/errors.hpp"
#include "cli/table.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <fstream>
#include <ostream>
#include <sstream>
#include <sys/stat.h>

namespace openbatch::cli {
namespace {

// The config file's settings: --config FILE must exist; the default path may be absent.
Result<ConnectionSettings> config_file_settings(const std::optional<std::string>& explicit_path,
                                                const EnvLookup& env) {
  const std::optional<std::string> path = explicit_path ? explicit_path : default_config_path(env);
  if (!path) return ConnectionSettings{};
  std::ifstream in(*path, std::ios::binary);
  if (!in) {
    if (explicit_path) return usage_error("cannot read the config file " + *path);
    return ConnectionSettings{};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config_text(text.str(), *path);
}

// --key-file FILE: the key on its first line; a file group or others may read is refused,
// as ssh refuses a readable private key.
Result<std::string> key_file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  struct stat st {};
  if (!in || ::stat(path.c_str(), &st) != 0) return usage_error("cannot read the key file " + path);
  if ((st.st_mode & 077) != 0) {
    return usage_error("the key file " + path + " may be read by group or others: chmod 600 " +
                       path);
  }
  std::string key;
  std::getline(in, key);
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
  if (key.empty()) return usage_error("the key file " + path + " is empty");
  return key;
}

}  // namespace

Context::Context(std::ostream& out, std::ostream& err, EnvLookup env)
    : out_(out), err_(err), env_(std::move(env)) {}

Result<Connection> Context::connection() {
  if (!connection_) {
    auto file = config_file_settings(options.config, env_);
    if (options.key_on_command_line) {
      connection_ = Result<Connection>(usage_error(kKeyFlagRefused));
      return *connection_;
    }
    if (options.key_file) {
      auto key = key_file_text(*options.key_file);
      if (!key) {
        connection_ = Result<Connection>(key.error());
        return *connection_;
      }
      options.flags.key = std::move(*key);
    }
    if (!file) {
      connection_ = Result<Connection>(file.error());
    } else {
      connection_ = resolve_connection(options.flags, settings_from_env(env_), *file);
    }
  }
  return *connection_;
}

Result<Api*> Context::api() {
  if (!api_) {
    auto conn = connection();
    if (!conn) return conn.error();
    auto api = std::make_unique<Api>(*conn);
    if (auto valid = api->valid(); !valid) return usage_error(describe_error(valid.error()));
    api_ = std::move(api);
  }
  return api_.get();
}

int Context::fail(const Error& error) {
  err_ << format_error(error) << '\n';
  err_.flush();
  return exit_code_for(error);
}

void Context::print_list(const EntityView& view, const nlohmann::json& items) {
  if (options.json) {
    out_ << to_body_pretty(items) << '\n';
    return;
  }
  out_ << list_table(view, items).render();
}

void Context::print_entity(const EntityView& view, const nlohmann::json& entity) {
  if (options.json) {
    out_ << to_body_pretty(entity) << '\n';
    return;
  }
  out_ << render_properties(entity_fields(view, entity));
}

}  // namespace openbatch::cli
