// Connection settings: precedence flags > env > config file (per setting), env aliases,
// the config file parser and URL normalization.
#include "cli/config.hpp"

#include "cli/errors.hpp"

#include <gtest/gtest.h>

#include <map>

namespace openbatch::cli {
namespace {

EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
}

TEST(ConnectionSettings, FlagsBeatEnvironmentWhichBeatsTheConfigFile) {
  const ConnectionSettings flags{"http://flag:1", std::nullopt, std::nullopt};
  const ConnectionSettings env{"http://env:2", "env-account", std::nullopt};
  const ConnectionSettings file{"http://file:3", "file-account", "ZmlsZQ=="};
  auto c = resolve_connection(flags, env, file);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->url, "http://flag:1");
  EXPECT_EQ(c->account, "env-account");
  EXPECT_EQ(c->key, "ZmlsZQ==");
}

TEST(ConnectionSettings, EachMissingSettingIsAUsageErrorSayingHowToGiveIt) {
  const ConnectionSettings none;
  auto no_url = resolve_connection(none, {std::nullopt, "a", "k"}, none);
  ASSERT_FALSE(no_url);
  EXPECT_EQ(exit_code_for(no_url.error()), kExitUsage);
  EXPECT_NE(no_url.error().message.find("OPENBATCH_URL"), std::string::npos);
  auto no_account = resolve_connection(none, {"u", std::nullopt, "k"}, none);
  ASSERT_FALSE(no_account);
  EXPECT_NE(no_account.error().message.find("--account"), std::string::npos);
  auto no_key = resolve_connection(none, {"u", "a", std::nullopt}, none);
  ASSERT_FALSE(no_key);
  EXPECT_NE(no_key.error().message.find("OPENBATCH_ACCOUNT_KEY"), std::string::npos);
}

TEST(ConnectionSettings, EnvironmentAcceptsAzBatchNamesButPrefersOpenBatchOnes) {
  auto azure = settings_from_env(fake_env({{"AZURE_BATCH_ENDPOINT", "http://az:1"},
                                           {"AZURE_BATCH_ACCOUNT", "azacct"},
                                           {"AZURE_BATCH_ACCESS_KEY", "YXo="}}));
  EXPECT_EQ(azure.url, "http://az:1");
  EXPECT_EQ(azure.account, "azacct");
  EXPECT_EQ(azure.key, "YXo=");
  auto both = settings_from_env(fake_env({{"AZURE_BATCH_ENDPOINT", "http://az:1"},
                                          {"OPENBATCH_URL", "http://ob:2"},
                                          {"OPENBATCH_ACCOUNT_KEY", "b2I="},
                                          {"AZURE_BATCH_ACCESS_KEY", "YXo="}}));
  EXPECT_EQ(both.url, "http://ob:2");
  EXPECT_EQ(both.key, "b2I=");
  EXPECT_FALSE(both.account);
}

TEST(ConfigFile, ReadsTomlAndIniForms) {
  auto toml = parse_config_text(
      "# comment\nurl = \"http://h:8080\"\naccount = 'acct'\nkey = \"a2V5\"\n", "cfg");
  ASSERT_TRUE(toml) << toml.error().message;
  EXPECT_EQ(toml->url, "http://h:8080");
  EXPECT_EQ(toml->account, "acct");
  EXPECT_EQ(toml->key, "a2V5");
  auto ini = parse_config_text("; ini\naccount=other\n", "cfg");
  ASSERT_TRUE(ini);
  EXPECT_EQ(ini->account, "other");
  EXPECT_FALSE(ini->url);
}

TEST(ConfigFile, UnknownSettingsAndSectionsAreUsageErrorsNamingTheFile) {
  auto unknown = parse_config_text("endpoint = \"x\"\n", "/home/u/.config/openbatch/config");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, kUsageError);
  EXPECT_NE(unknown.error().message.find("/home/u/.config/openbatch/config"), std::string::npos);
  EXPECT_NE(unknown.error().message.find("endpoint"), std::string::npos);
  auto section = parse_config_text("[profile]\nurl = \"x\"\n", "cfg");
  ASSERT_FALSE(section);
  EXPECT_NE(section.error().message.find("profile.url"), std::string::npos);
}

TEST(ConfigFile, DefaultPathFollowsOpenBatchConfigThenXdgThenHome) {
  EXPECT_EQ(default_config_path(fake_env({{"HOME", "/h"}})), "/h/.config/openbatch/config");
  EXPECT_EQ(default_config_path(fake_env({{"HOME", "/h"}, {"XDG_CONFIG_HOME", "/x"}})),
            "/x/openbatch/config");
  EXPECT_EQ(default_config_path(fake_env({{"HOME", "/h"}, {"OPENBATCH_CONFIG", "/c"}})), "/c");
  EXPECT_FALSE(default_config_path(fake_env({})));
}

TEST(ConnectionSettings, UrlGetsASchemeAndLosesTrailingSlashes) {
  EXPECT_EQ(normalize_url("127.0.0.1:8080"), "http://127.0.0.1:8080");
  EXPECT_EQ(normalize_url("http://h:1//"), "http://h:1");
  EXPECT_EQ(normalize_url("https://a.westus.batch.azure.com/"), "https://a.westus.batch.azure.com");
}

}  // namespace
}  // namespace openbatch::cli
