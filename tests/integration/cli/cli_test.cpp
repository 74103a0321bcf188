// The `openbatch` binary end to end: a real scheduler (temp data dir, port 0, random key) and
// the CLI run as a subprocess, its stdout, stderr and exit code checked. One scheduler serves
// the whole suite; each test uses its own ids.
#include "common/encoding.hpp"
#include "tests/support/temp_dir.hpp"

#include "process.hpp"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>

namespace openbatch::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string random_key() {
  std::random_device rd;
  std::string bytes(32, '\0');
  for (char& b : bytes) b = static_cast<char>(rd() & 0xff);
  return encoding::base64_encode(bytes);
}

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    shared_dir = std::make_unique<TempDir>();
    shared_key = random_key();
    fs::create_directories(shared_dir->path() / "data");
    shared_scheduler =
        std::make_unique<SchedulerProcess>(shared_dir->path() / "data", "cliacct", shared_key);
  }
  static void TearDownTestSuite() {
    shared_scheduler.reset();
    shared_dir.reset();
  }
  void SetUp() override {
    ASSERT_FALSE(shared_scheduler->url().empty()) << shared_scheduler->log();
  }

  // Runs `openbatch ARGS` with the connection in the environment, HOME pointing at an empty
  // dir (no config file) and nothing else inherited.
  ProcessResult cli(std::vector<std::string> args) {
    args.insert(args.begin(), OPENBATCH_CLI_BIN);
    return run_process(args,
                       {"OPENBATCH_URL=" + shared_scheduler->url(), "OPENBATCH_ACCOUNT=cliacct",
                        "OPENBATCH_ACCOUNT_KEY=" + shared_key, "HOME=" + scratch_.path().string()},
                       scratch_.path());
  }

  std::string write(const std::string& name, const std::string& text) {
    std::string path = scratch_.file(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::string pool_file(const std::string& id, const std::string& vm_size = "STANDARD_NC6") {
    std::ifstream in(fs::path(OPENBATCH_SOURCE_DIR) / "examples/pools/gpu-pool.json");
    json pool = json::parse(in);
    pool["id"] = id;
    pool["vmSize"] = vm_size;
    return write(id + ".json", pool.dump());
  }

  static json parse_json(const ProcessResult& r) {
    json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }

  static inline std::unique_ptr<TempDir> shared_dir;
  static inline std::string shared_key;
  static inline std::unique_ptr<SchedulerProcess> shared_scheduler;
  TempDir scratch_;
};

TEST_F(CliTest, PoolCreateListShow) {
  auto created = cli({"pool", "create", "-f", pool_file("cli-pool")});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(created.out, "pool cli-pool created\n");

  auto list = cli({"pool", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out.rfind("ID        STATE   ALLOCATION  VM SIZE       NODES  SLOTS\n", 0), 0u)
      << list.out;
  EXPECT_NE(list.out.find("cli-pool  active  "), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("standard_nc6  0/1    1\n"), std::string::npos) << list.out;

  auto filtered = cli({"pool", "list", "--filter", "id eq 'nothing-like-this'", "--json"});
  ASSERT_EQ(filtered.exit_code, 0) << filtered.err;
  EXPECT_EQ(parse_json(filtered), json::array());

  auto show = cli({"pool", "show", "cli-pool"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("VM size:                   standard_nc6\n"), std::string::npos)
      << show.out;
  EXPECT_NE(show.out.find("Node agent SKU:            batch.node.ubuntu 20.04\n"),
            std::string::npos);

  auto show_json = cli({"pool", "show", "cli-pool", "--json"});
  ASSERT_EQ(show_json.exit_code, 0);
  EXPECT_EQ(parse_json(show_json)["id"], "cli-pool");
}

TEST_F(CliTest, UnknownVmSizeExitsOneWithTheAzureError) {
  auto r = cli({"pool", "create", "-f", pool_file("bad-pool", "Standard_X")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(r.err.rfind("error: 400 InvalidPropertyValue: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("(vmSize=Standard_X"), std::string::npos) << r.err;
  auto missing = cli({"pool", "show", "bad-pool"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "error: 404 PoolNotFound: The specified pool does not exist.\n");
}

TEST_F(CliTest, JobWithTwoHundredFiftyTasksFromAFile) {
  ASSERT_EQ(cli({"pool", "create", "-f", pool_file("task-pool")}).exit_code, 0);
  auto job = cli({"job", "create", "--id", "big-job", "--pool", "task-pool"});
  ASSERT_EQ(job.exit_code, 0) << job.err;
  EXPECT_EQ(job.out, "job big-job created\n");

  json tasks = json::array();
  for (int i = 0; i < 250; ++i)
    tasks.push_back({{"id", "t" + std::to_string(i)}, {"commandLine", "/bin/true"}});
  const std::string file = write("tasks.json", tasks.dump());
  auto added = cli({"task", "add", "big-job", "-f", file});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(added.out, "added 250 of 250 tasks to job big-job\n");

  auto listed = cli({"task", "list", "big-job", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const json items = parse_json(listed);
  ASSERT_TRUE(items.is_array());
  EXPECT_EQ(items.size(), 250u);
  auto table = cli({"task", "list", "big-job", "--state", "active"});
  ASSERT_EQ(table.exit_code, 0);
  EXPECT_EQ(count_lines(table.out), 251u);  // header + 250
  EXPECT_EQ(table.out.rfind("ID    STATE   RESULT  EXIT  RETRIES  NODE  COMMAND\n", 0), 0u)
      << table.out;

  auto show = cli({"task", "show", "big-job", "t42"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(show.out.rfind(
                "ID:              t42\nState:           active\nCommand line:    /bin/true\n", 0),
            0u)
      << show.out;

  // The same tasks again: every one is reported as a per-task failure.
  auto again = cli({"task", "add", "big-job", "-f", file});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.out, "added 0 of 250 tasks to job big-job (250 failed)\n");
  EXPECT_NE(again.err.find("task t0: TaskExists: The specified task already exists.\n"),
            std::string::npos)
      << again.err;
  EXPECT_NE(again.err.find("... and 200 more failures\n"), std::string::npos);
}

TEST_F(CliTest, TerminatedTaskMakesTaskWaitFail) {
  ASSERT_EQ(cli({"job", "create", "--id", "wait-job", "--pool", "task-pool"}).exit_code, 0);
  const std::string single = write("one.json", R"({"id":"only","commandLine":"/bin/true"})");
  auto added = cli({"task", "add", "wait-job", "-f", single});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(added.out, "task only added to job wait-job\n");

  auto terminated = cli({"task", "terminate", "wait-job", "only"});
  ASSERT_EQ(terminated.exit_code, 0) << terminated.err;
  auto waited = cli({"task", "wait", "wait-job", "only", "--interval", "0.1"});
  EXPECT_EQ(waited.exit_code, 1) << waited.err;
  EXPECT_EQ(waited.out, "1 tasks: 0 succeeded, 1 failed\nfailed: only\n");
  EXPECT_NE(waited.err.find("1/1 done (100%)"), std::string::npos) << waited.err;

  auto completed = cli({"task", "list", "wait-job", "--state", "completed"});
  EXPECT_NE(completed.out.find("only  completed  failure"), std::string::npos) << completed.out;
  auto deleted = cli({"task", "delete", "wait-job", "only"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(cli({"task", "show", "wait-job", "only"}).exit_code, 1);
}

TEST_F(CliTest, JobTerminateEndsJobWaitWithTasksNotRun) {
  ASSERT_EQ(cli({"job", "create", "--id", "end-job", "--pool", "task-pool"}).exit_code, 0);
  const std::string file =
      write("two.json", R"({"value":[{"id":"a","commandLine":"x"},{"id":"b","commandLine":"y"}]})");
  ASSERT_EQ(cli({"task", "add", "end-job", "-f", file}).exit_code, 0);

  auto terminated = cli({"job", "terminate", "end-job", "--reason", "enough"});
  ASSERT_EQ(terminated.exit_code, 0) << terminated.err;
  EXPECT_EQ(terminated.out, "job end-job is terminating\n");
  auto waited = cli({"job", "wait", "end-job", "--interval", "0.2", "--timeout", "60"});
  EXPECT_EQ(waited.exit_code, 1) << waited.err;
  EXPECT_EQ(waited.out, "2 tasks: 0 succeeded, 0 failed, 2 not run (job completed (enough))\n");
  auto show = cli({"job", "show", "end-job"});
  EXPECT_NE(show.out.find("State:                  completed\n"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("Terminate reason:       enough\n"), std::string::npos) << show.out;
}

TEST_F(CliTest, WaitingOnAnEmptyJobSucceedsAtOnce) {
  ASSERT_EQ(cli({"job", "create", "--id", "empty-job", "--pool", "task-pool"}).exit_code, 0);
  auto waited = cli({"job", "wait", "empty-job"});
  EXPECT_EQ(waited.exit_code, 0) << waited.err;
  EXPECT_EQ(waited.out, "0 tasks: 0 succeeded, 0 failed\n");
}

TEST_F(CliTest, ApplicationUploadThenList) {
  std::string empty_zip = "PK\x05\x06";
  empty_zip.append(18, '\0');
  auto uploaded = cli({"app", "upload", "cli-app", "1.0", write("pkg.zip", empty_zip),
                       "--display-name", "CLI app"});
  ASSERT_EQ(uploaded.exit_code, 0) << uploaded.err;
  // sha256 of 'PK\5\6' and 18 zero bytes.
  EXPECT_EQ(uploaded.out,
            "uploaded cli-app 1.0 (22 bytes, sha256 "
            "8739c76e681f900923b900c9df0ef75cf421d39cabb54650c4b9ad19b6a76d85, active)\n");
  auto listed = cli({"app", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("cli-app  CLI app       1.0\n"), std::string::npos) << listed.out;
  auto not_zip = cli({"app", "upload", "cli-app", "2.0", write("pkg.txt", "hello")});
  EXPECT_EQ(not_zip.exit_code, 1);
  EXPECT_EQ(not_zip.err.rfind("error: 400 InvalidRequestBody", 0), 0u) << not_zip.err;
}

TEST_F(CliTest, ApplicationLifecycle) {
  ASSERT_EQ(cli({"app", "create", "life", "--display-name", "Life"}).out,
            "application life created\n");
  // 3 MiB: over the 1 MiB body limit of every other request.
  std::string big("PK\x03\x04", 4);
  big.append(3u << 20, 'z');
  auto pending = cli({"app", "upload", "life", "2.0", write("big.zip", big), "--no-activate"});
  ASSERT_EQ(pending.exit_code, 0) << pending.err;
  EXPECT_NE(pending.out.find("(3145732 bytes, sha256 "), std::string::npos) << pending.out;
  EXPECT_NE(pending.out.find(", pending)\n"), std::string::npos) << pending.out;
  EXPECT_EQ(cli({"app", "list"}).out.find("life"), std::string::npos);

  auto show = cli({"app", "show", "life"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("Display name:"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("VERSION  STATE    SIZE     SHA256"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("2.0      pending  3145732  "), std::string::npos) << show.out;

  EXPECT_EQ(cli({"app", "activate", "life", "2.0"}).out, "activated life 2.0\n");
  std::string small("PK\x05\x06", 4);
  small.append(18, '\0');
  auto with_default =
      cli({"app", "upload", "life", "3.0", write("small.zip", small), "--default", "--json"});
  ASSERT_EQ(with_default.exit_code, 0) << with_default.err;
  EXPECT_EQ(parse_json(with_default)["state"], "active");
  auto show_json = parse_json(cli({"app", "show", "life", "--json"}));
  EXPECT_EQ(show_json["defaultVersion"], "3.0");
  ASSERT_EQ(show_json["value"].size(), 2u);
  EXPECT_EQ(show_json["value"][0]["size"], big.size());
  auto listed = cli({"app", "list"});
  const auto row = listed.out.find("\nlife ");
  ASSERT_NE(row, std::string::npos) << listed.out;
  const std::string line = listed.out.substr(row + 1, listed.out.find('\n', row + 1) - row - 1);
  EXPECT_TRUE(line.ends_with("Life          2.0, 3.0")) << listed.out;

  auto refused = cli({"app", "delete", "life"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.err.rfind("error: 409 ApplicationPackagesExist", 0), 0u) << refused.err;
  EXPECT_EQ(cli({"app", "delete", "life", "2.0"}).out, "deleted life 2.0\n");
  EXPECT_EQ(cli({"app", "delete", "life", "3.0"}).out, "deleted life 3.0\n");
  EXPECT_EQ(cli({"app", "delete", "life"}).out, "deleted life\n");
  auto gone = cli({"app", "show", "life"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_EQ(gone.err.rfind("error: 404 ApplicationNotFound", 0), 0u) << gone.err;
}

TEST_F(CliTest, PoolDeleteWaitsUntilGone) {
  ASSERT_EQ(cli({"pool", "create", "-f", pool_file("gone-pool")}).exit_code, 0);
  auto deleted = cli({"pool", "delete", "gone-pool", "--wait", "--timeout", "60"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(deleted.out, "pool gone-pool deleted\n");
  EXPECT_EQ(cli({"pool", "show", "gone-pool"}).exit_code, 1);
}

TEST_F(CliTest, NodesAndFilesOfAPoolWithoutNodes) {
  ASSERT_EQ(cli({"pool", "create", "-f", pool_file("node-pool")}).exit_code, 0);
  auto nodes = cli({"node", "list", "node-pool"});
  ASSERT_EQ(nodes.exit_code, 0) << nodes.err;
  EXPECT_EQ(nodes.out, "ID  STATE  SCHEDULING  IP  VM SIZE  RUNNING  TOTAL RUN\n");
  auto node = cli({"node", "show", "node-pool", "no-such-node"});
  EXPECT_EQ(node.exit_code, 1);
  EXPECT_EQ(node.err.rfind("error: 404 NodeNotFound", 0), 0u) << node.err;

  ASSERT_EQ(cli({"job", "create", "--id", "file-job", "--pool", "node-pool"}).exit_code, 0);
  ASSERT_EQ(
      cli({"task", "add", "file-job", "-f", write("f.json", R"({"id":"f","commandLine":"x"})")})
          .exit_code,
      0);
  auto files = cli({"file", "get", "file-job", "f", "stdout.txt"});
  EXPECT_EQ(files.exit_code, 1);
  EXPECT_EQ(files.err.rfind("error: 409 TaskFilesUnavailable", 0), 0u) << files.err;
}

}  // namespace
}  // namespace openbatch::testing
