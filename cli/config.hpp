// Connection settings of the `openbatch` CLI (base URL, account name, account key) and where
// they come from. Each setting is taken, independently of the others, from the first source
// that has it: the --url/--account/--key-file flags, then the environment (OPENBATCH_URL,
// OPENBATCH_ACCOUNT, OPENBATCH_ACCOUNT_KEY, or az batch's AZURE_BATCH_ENDPOINT,
// AZURE_BATCH_ACCOUNT, AZURE_BATCH_ACCESS_KEY), then the config file (TOML/INI keys `url`,
// `account`, `key`; default ~/.config/openbatch/config).
//
// Pure functions over values (the environment arrives as a lookup function, the config file
// as its text); thread-safe.
#pragma once

#include "cli/errors.hpp"
#include "common/error.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace openbatch::cli {

// Settings as one source gives them; an unset optional means "this source says nothing".
struct ConnectionSettings {
  std::optional<std::string> url;
  std::optional<std::string> account;
  std::optional<std::string> key;
};

// The resolved settings.
struct Connection {
  std::string url;  // normalized: "http://" added when no scheme, no trailing '/'
  std::string account;
  std::string key;  // base64, as the portal shows it
};

// Returns the value of an environment variable, or nullopt when it is unset or empty.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

// The process environment, as an EnvLookup.
std::optional<std::string> process_env(const char* name);

// Settings from the environment: OPENBATCH_* first, then AZURE_BATCH_*.
ConnectionSettings settings_from_env(const EnvLookup& env);

// Parses the config file text (TOML or INI, read with CLI11's parser). Only `url`, `account`
// and `key` are allowed, at the top level; anything else is a usage error (kUsageError)
// naming `origin`.
Result<ConnectionSettings> parse_config_text(std::string_view text, std::string_view origin);

// Where the config file is looked for when --config is not given: $OPENBATCH_CONFIG, else
// $XDG_CONFIG_HOME/openbatch/config, else $HOME/.config/openbatch/config; nullopt when none
// of those variables is set.
std::optional<std::string> default_config_path(const EnvLookup& env);

// "http://" prefixed when the text has no scheme; trailing slashes removed.
std::string normalize_url(std::string_view url);

// Merges the sources (flags > env > file, per setting) and checks that each setting is
// present; a missing one is a usage error (kUsageError) whose message says how to give it.
Result<Connection> resolve_connection(const ConnectionSettings& flags,
                                      const ConnectionSettings& env,
                                      const ConnectionSettings& file);

}  // namespace openbatch::cli
