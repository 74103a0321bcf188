// The shim's status file and its messages with the agent: what one side writes, the other
// reads back exactly; anything else is refused, never half-read.
#include "node_agent/shim/shim_status.hpp"

#include "node_agent/shim/shim_launch.hpp"
#include "node_agent/shim/shim_request.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sys/stat.h>

namespace openbatch::agent::shim {
namespace {

using openbatch::testing::TempDir;

ShimStatus running() {
  ShimStatus s;
  s.shim_pid = 4242;
  s.shim_start_ticks = 987654321;
  s.boot_id = "boot-1";
  s.task_pid = 4243;
  return s;
}

TEST(ShimStatus, RunningAndExitedRoundTrip) {
  ShimStatus r = running();
  auto back = decode_status(encode_status(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, r);

  ShimStatus e = running();
  e.state = ShimStatus::State::Exited;
  e.signal = 9;
  e.output_limit = OutputLimitHit{"stdout.txt", 1048576};
  back = decode_status(encode_status(e));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, e);
  EXPECT_EQ(back->report_exit_code(), 137);

  ShimStatus code = running();
  code.state = ShimStatus::State::Exited;
  code.exit_code = 3;
  EXPECT_EQ(decode_status(encode_status(code))->report_exit_code(), 3);
}

TEST(ShimStatus, RefusesWhatIsNotAStatus) {
  for (const char* text :
       {"", "{", "[]", R"({"state":"running"})",
        R"({"state":"odd","shimPid":5,"shimStartTicks":1,"bootId":"b","taskPid":6})",
        R"({"state":"exited","shimPid":5,"shimStartTicks":1,"bootId":"b","taskPid":6})",
        R"({"state":"running","shimPid":1,"shimStartTicks":1,"bootId":"b","taskPid":6})",
        R"({"state":"running","shimPid":"5","shimStartTicks":1,"bootId":"b","taskPid":6})"}) {
    auto s = decode_status(text);
    ASSERT_FALSE(s) << text;
    EXPECT_EQ(s.error().code, "CorruptShimStatus");
  }
}

TEST(ShimStatus, FileIsReplacedWholeAndPrivate) {
  TempDir dir;
  auto none = read_status_file(dir.path());
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  ASSERT_TRUE(write_status_file(dir.path(), running()));
  ShimStatus e = running();
  e.state = ShimStatus::State::Exited;
  e.exit_code = 0;
  ASSERT_TRUE(write_status_file(dir.path(), e));
  auto read = read_status_file(dir.path());
  ASSERT_TRUE(read && *read);
  EXPECT_EQ(**read, e);
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() / kStatusFile).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "status.tmp"));

  std::ofstream(dir.path() / kStatusFile) << "garbage";
  EXPECT_FALSE(read_status_file(dir.path()));
}

TEST(ShimRequest, RoundTripsEverythingTheTaskNeeds) {
  ShimRequest r;
  r.spec.argv = {"/bin/sh", "-c", "echo 'a b'"};
  r.spec.env = {"PATH=/usr/bin", "SECRET=x=y"};
  r.spec.cwd = "/tmp/wd";
  r.spec.uid = 1001;
  r.spec.gid = 1002;
  r.spec.groups = std::vector<gid_t>{};
  r.spec.rlimits = {{RLIMIT_NOFILE, 1024, 4096}};
  r.max_output_bytes = 12345;
  r.stdout_name = "stdout.txt";
  r.stderr_name = "stderr.txt";
  r.boot_id = "boot-1";
  auto back = decode_request(encode_request(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->spec.argv, r.spec.argv);
  EXPECT_EQ(back->spec.env, r.spec.env);
  EXPECT_EQ(back->spec.cwd, r.spec.cwd);
  EXPECT_EQ(back->spec.uid, r.spec.uid);
  EXPECT_EQ(back->spec.gid, r.spec.gid);
  EXPECT_EQ(back->spec.groups, r.spec.groups);
  ASSERT_EQ(back->spec.rlimits.size(), 1u);
  EXPECT_EQ(back->spec.rlimits[0].soft, 1024u);
  EXPECT_EQ(back->spec.rlimits[0].hard, 4096u);
  EXPECT_EQ(back->max_output_bytes, 12345u);
  EXPECT_EQ(back->boot_id, "boot-1");

  // No identity given: none is set (the shim must not invent root or anything else).
  ShimRequest plain;
  plain.spec.argv = {"true"};
  back = decode_request(encode_request(plain));
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->spec.uid);
  EXPECT_FALSE(back->spec.gid);
  EXPECT_FALSE(back->spec.groups);

  EXPECT_FALSE(decode_request(R"({"argv":[]})"));
  EXPECT_FALSE(decode_request("not json"));
}

TEST(ShimRequest, AnswersCarryThePidOrTheLaunchError) {
  auto ok = decode_answer(encode_answer({777, std::nullopt}));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->task_pid, 777);
  EXPECT_FALSE(ok->error);

  Error e(500, "ProgramNotFound", "cannot execute 'nope': No such file", {{"errno", "2"}});
  auto failed = decode_answer(encode_answer({0, e}));
  ASSERT_TRUE(failed);
  ASSERT_TRUE(failed->error);
  EXPECT_EQ(failed->error->code, "ProgramNotFound");
  EXPECT_EQ(failed->error->message, e.message);
  EXPECT_EQ(failed->error->detail("errno"), "2");

  EXPECT_FALSE(decode_answer(""));  // the shim died before answering
  EXPECT_FALSE(decode_answer(R"({"taskPid":1})"));
}

TEST(ShimDirectories, AttemptIdsBecomeSafeNamesAndBack) {
  const std::vector<std::string> ids = {"job-1:task_2:3",      "a", "..", ".", "a/b", "x%y",
                                        std::string("z\0q", 3)};
  for (const std::string& id : ids) {
    auto name = escape_attempt_id(id);
    ASSERT_TRUE(name) << id;
    EXPECT_EQ(name->find('/'), std::string::npos);
    EXPECT_NE(*name, ".");
    EXPECT_NE(*name, "..");
    EXPECT_EQ(unescape_attempt_id(*name), id);
  }
  EXPECT_EQ(*escape_attempt_id("job-1:t"), "job-1%3At");
  EXPECT_FALSE(escape_attempt_id(""));
  EXPECT_FALSE(escape_attempt_id(std::string(200, ':')));
  for (const char* bad : {"", "%", "%4", "%zz", "a.b", "status.tmp"})
    EXPECT_FALSE(unescape_attempt_id(bad)) << bad;
}

TEST(ShimDirectories, AttemptFileIsPrivateAndReadBack) {
  TempDir root;
  const auto dir = root.path() / "a1";
  ASSERT_TRUE(make_attempt_dir(dir, {{"startTime", "t"}}));
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto back = read_attempt_file(dir);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->value("startTime", ""), "t");
  // A leftover of an earlier attempt with the same id is replaced, never reused.
  std::ofstream(dir / kStatusFile) << "old";
  ASSERT_TRUE(make_attempt_dir(dir, {{"startTime", "u"}}));
  EXPECT_FALSE(std::filesystem::exists(dir / kStatusFile));
  remove_attempt_dir(dir);
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace openbatch::agent::shim
