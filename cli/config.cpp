// Connection settings: environment, config file and their precedence (see config.hpp).
#include "cli/config.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <sstream>

namespace openbatch::cli {
namespace {

// The first of `names` that is set.
std::optional<std::string> first_set(const EnvLookup& env,
                                     std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (auto v = env(name)) return v;
  }
  return std::nullopt;
}

template <class T>
const std::optional<T>& pick(const std::optional<T>& a, const std::optional<T>& b,
                             const std::optional<T>& c) {
  if (a) return a;
  if (b) return b;
  return c;
}

}  // namespace

std::optional<std::string> process_env(const char* name) {
  const char* v =
      std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read before any thread starts
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

ConnectionSettings settings_from_env(const EnvLookup& env) {
  return {first_set(env, {"OPENBATCH_URL", "AZURE_BATCH_ENDPOINT"}),
          first_set(env, {"OPENBATCH_ACCOUNT", "AZURE_BATCH_ACCOUNT"}),
          first_set(env, {"OPENBATCH_ACCOUNT_KEY", "AZURE_BATCH_ACCESS_KEY"})};
}

Result<ConnectionSettings> parse_config_text(std::string_view text, std::string_view origin) {
  std::istringstream in{std::string(text)};
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_config(in);
  } catch (const CLI::Error& e) {  // CLI11's parser reports by exception; stop it here
    return usage_error("config file " + std::string(origin) + ": " + e.what());
  }
  ConnectionSettings out;
  for (const auto& item : items) {
    if (item.name == "++" || item.name == "--") continue;  // section markers
    const std::string name = item.fullname();
    std::optional<std::string>* slot = nullptr;
    if (name == "url") slot = &out.url;
    if (name == "account") slot = &out.account;
    if (name == "key") slot = &out.key;
    if (slot == nullptr) {
      return usage_error("config file " + std::string(origin) + ": unknown setting '" + name +
                         "' (allowed: url, account, key)");
    }
    if (item.inputs.size() != 1 || item.inputs.front().empty()) {
      return usage_error("config file " + std::string(origin) + ": '" + name +
                         "' needs one non-empty value");
    }
    *slot = item.inputs.front();
  }
  return out;
}

std::optional<std::string> default_config_path(const EnvLookup& env) {
  if (auto explicit_path = env("OPENBATCH_CONFIG")) return explicit_path;
  if (auto xdg = env("XDG_CONFIG_HOME")) return *xdg + "/openbatch/config";
  if (auto home = env("HOME")) return *home + "/.config/openbatch/config";
  return std::nullopt;
}

std::string normalize_url(std::string_view url) {
  std::string out(url);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  if (out.find("://") == std::string::npos) out = "http://" + out;
  return out;
}

Result<Connection> resolve_connection(const ConnectionSettings& flags,
                                      const ConnectionSettings& env,
                                      const ConnectionSettings& file) {
  const auto& url = pick(flags.url, env.url, file.url);
  const auto& account = pick(flags.account, env.account, file.account);
  const auto& key = pick(flags.key, env.key, file.key);
  if (!url) {
    return usage_error(
        "no scheduler URL: pass --url, set OPENBATCH_URL (or AZURE_BATCH_ENDPOINT), "
        "or put url = \"http://host:port\" in the config file");
  }
  if (!account) {
    return usage_error(
        "no account name: pass --account, set OPENBATCH_ACCOUNT (or "
        "AZURE_BATCH_ACCOUNT), or put account = \"NAME\" in the config file");
  }
  if (!key) {
    return usage_error(
        "no account key: pass --key-file FILE, set OPENBATCH_ACCOUNT_KEY (or "
        "AZURE_BATCH_ACCESS_KEY), or put key = \"BASE64\" in the config file");
  }
  return Connection{normalize_url(*url), *account, *key};
}

}  // namespace openbatch::cli
