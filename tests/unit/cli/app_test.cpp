// The command line as a whole without a scheduler: usage errors exit 2 before any request,
// help exits 0, and an unreachable scheduler is an API-side failure (exit 1).
#include "cli/app.hpp"

#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace openbatch::cli {
namespace {

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome run_cli(std::vector<std::string> args, const std::map<std::string, std::string>& env = {}) {
  args.insert(args.begin(), "openbatch");
  std::ostringstream out;
  std::ostringstream err;
  const int code = run(args, out, err, [env](const char* name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
  return {code, out.str(), err.str()};
}

// A connection whose port nothing listens on: port 1 on loopback refuses at once.
const std::map<std::string, std::string> kRefusingEnv{{"OPENBATCH_URL", "http://127.0.0.1:1"},
                                                      {"OPENBATCH_ACCOUNT", "a"},
                                                      {"OPENBATCH_ACCOUNT_KEY", "a2V5"}};

TEST(CommandLine, HelpAndVersionExitZero) {
  auto help = run_cli({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("pool"), std::string::npos);
  EXPECT_NE(help.out.find("OPENBATCH_URL"), std::string::npos);
  EXPECT_EQ(run_cli({"task", "add", "--help"}).code, 0);
  EXPECT_EQ(run_cli({"--version"}).out, "openbatch 0.1.0\n");
}

TEST(CommandLine, ParseErrorsExitTwo) {
  EXPECT_EQ(run_cli({}).code, 2);
  EXPECT_EQ(run_cli({"pool"}).code, 2);
  EXPECT_EQ(run_cli({"pool", "bogus"}).code, 2);
  EXPECT_EQ(run_cli({"pool", "show"}).code, 2);
  EXPECT_EQ(run_cli({"pool", "resize", "p"}).code, 2);  // --target is required
  EXPECT_EQ(run_cli({"task", "list", "j", "--state", "done"}).code, 2);
  EXPECT_EQ(run_cli({"job", "create", "-f", "x.json", "--id", "j"}).code, 2);
  EXPECT_EQ(run_cli({"task", "add", "j", "-f", "t.json", "--connections", "0"}).code, 2);
}

TEST(CommandLine, MissingConnectionSettingsExitTwoAndSayWhatToSet) {
  auto r = run_cli({"pool", "list"}, {{"HOME", "/nonexistent-home"}});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("error: no scheduler URL"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST(CommandLine, AnExplicitConfigFileMustExistAndBeValid) {
  auto missing = run_cli({"--config", "/nonexistent/cfg", "pool", "list"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("cannot read the config file /nonexistent/cfg"), std::string::npos);
  openbatch::testing::TempDir dir;
  const std::string cfg = (dir.path() / "config").string();
  std::ofstream(cfg) << "colour = \"blue\"\n";
  auto invalid = run_cli({"pool", "list", "--config", cfg});
  EXPECT_EQ(invalid.code, 2);
  EXPECT_NE(invalid.err.find("unknown setting 'colour'"), std::string::npos) << invalid.err;
}

TEST(CommandLine, TheDefaultConfigFileSuppliesWhatFlagsAndEnvDoNot) {
  openbatch::testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "openbatch");
  std::ofstream(dir.path() / "openbatch" / "config")
      << "url = \"http://127.0.0.1:1\"\naccount = \"a\"\n";
  auto r = run_cli({"pool", "list"},
                   {{"XDG_CONFIG_HOME", dir.path().string()}, {"OPENBATCH_ACCOUNT_KEY", "a2V5"}});
  EXPECT_EQ(r.code, 1);  // resolved and tried: the port refuses
  EXPECT_NE(r.err.find("error: ConnectFailed"), std::string::npos) << r.err;
}

TEST(CommandLine, AKeyOnTheCommandLineIsRefusedWithTheSafeWays) {
  auto r = run_cli({"pool", "list", "--key", "a2V5"}, kRefusingEnv);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("/proc/<pid>/cmdline"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--key-file"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("ConnectFailed"), std::string::npos) << "no request is sent: " << r.err;
}

TEST(CommandLine, AKeyFileIsReadOnlyWhenPrivate) {
  openbatch::testing::TempDir dir;
  const auto file = dir.path() / "key";
  std::ofstream(file) << "a2V5\n";
  std::filesystem::permissions(
      file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  auto env = kRefusingEnv;
  env.erase("OPENBATCH_ACCOUNT_KEY");
  auto readable = run_cli({"pool", "list", "--key-file", file.string()}, env);
  EXPECT_EQ(readable.code, 2);
  EXPECT_NE(readable.err.find("chmod 600 " + file.string()), std::string::npos) << readable.err;
  std::filesystem::permissions(
      file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto private_file = run_cli({"pool", "list", "--key-file", file.string()}, env);
  EXPECT_EQ(private_file.code, 1);  // resolved and tried: the port refuses
  EXPECT_NE(private_file.err.find("error: ConnectFailed"), std::string::npos) << private_file.err;
}

TEST(CommandLine, BadInputFilesAreUsageErrorsBeforeAnyRequest) {
  openbatch::testing::TempDir dir;
  const std::string bad = (dir.path() / "bad.json").string();
  std::ofstream(bad) << "{\"id\": ";
  auto pool = run_cli({"pool", "create", "-f", bad}, kRefusingEnv);
  EXPECT_EQ(pool.code, 2);
  EXPECT_EQ(pool.err, "error: " + bad + ": not valid JSON\n");
  auto tasks =
      run_cli({"task", "add", "j", "-f", (dir.path() / "none.json").string()}, kRefusingEnv);
  EXPECT_EQ(tasks.code, 2);
  EXPECT_NE(tasks.err.find("cannot read"), std::string::npos);
  auto job = run_cli({"job", "create"}, kRefusingEnv);
  EXPECT_EQ(job.code, 2);
  EXPECT_NE(job.err.find("--id and --pool"), std::string::npos);
}

TEST(CommandLine, AnUnreachableSchedulerExitsOneWithTheTransportError) {
  auto r = run_cli({"job", "list", "--json"}, kRefusingEnv);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("error: ConnectFailed: ", 0), 0u) << r.err;
}

TEST(CommandLine, AMalformedKeyOrUrlIsAUsageError) {
  auto bad_key_env = kRefusingEnv;
  bad_key_env["OPENBATCH_ACCOUNT_KEY"] = "not base64!";
  auto bad_key = run_cli({"job", "list"}, bad_key_env);
  EXPECT_EQ(bad_key.code, 2);
  EXPECT_NE(bad_key.err.find("InvalidAccountKey"), std::string::npos) << bad_key.err;
  auto bad_url = run_cli({"job", "list", "--url", "ftp://h"}, kRefusingEnv);
  EXPECT_EQ(bad_url.code, 2);
  EXPECT_NE(bad_url.err.find("InvalidUrl"), std::string::npos) << bad_url.err;
}

}  // namespace
}  // namespace openbatch::cli
