// Task directories: a new one is 0700 (0711, the agent's, when a task user runs there), its
// parents are made when missing, an existing one is brought to its mode and owner, a file or a
// symlink in the way is an Error (never followed), and (root only) wd/ goes to the task user
// while the task directory stays root's, handed back 0700 when the task ends.
#include "node_agent/runner/task_dirs.hpp"

#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace openbatch::agent::runner {
namespace {

using openbatch::testing::TempDir;

struct stat stat_of(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st;
}

TEST(TaskDirs, ANewDirectoryAndItsMissingParentsAreMade) {
  TempDir root;
  const auto dir = root.path() / "workitems" / "job" / "job-1" / "task";
  ASSERT_TRUE(make_task_dir(dir, std::nullopt));
  ASSERT_TRUE(make_working_dir(dir / "wd", std::nullopt));
  EXPECT_EQ(stat_of(dir).st_mode & 07777, 0700u);
  EXPECT_EQ(stat_of(dir / "wd").st_mode & 07777, 0700u);
  EXPECT_TRUE(std::filesystem::is_directory(root.path() / "workitems" / "job" / "job-1"));
}

TEST(TaskDirs, AnExistingDirectoryIsBroughtToTheTaskMode) {
  TempDir root;
  const auto dir = root.path() / "task";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  ASSERT_TRUE(make_task_dir(dir, std::nullopt));  // a retried task: same directory
  EXPECT_EQ(stat_of(dir).st_mode & 07777, 0700u);
}

TEST(TaskDirs, AFileInTheWayIsAnError) {
  TempDir root;
  const auto dir = root.path() / "task";
  std::ofstream(dir) << "x";
  auto st = make_task_dir(dir, std::nullopt);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "TaskPreparationFailed");
}

TEST(TaskDirs, ASymlinkInTheWayIsNeverFollowed) {
  TempDir root;
  const auto outside = root.path() / "outside";
  ASSERT_EQ(::mkdir(outside.c_str(), 0755), 0);
  ASSERT_EQ(::symlink(outside.c_str(), (root.path() / "task").c_str()), 0);
  EXPECT_FALSE(make_task_dir(root.path() / "task", std::nullopt));
  EXPECT_FALSE(make_working_dir(root.path() / "task", std::nullopt));
  EXPECT_FALSE(close_task_dir(root.path() / "task"));
  EXPECT_EQ(stat_of(outside).st_mode & 07777, 0755u);
  // A hostfile the task replaced with a link to another file: that file is not written.
  ASSERT_EQ(::mkdir((root.path() / "t").c_str(), 0700), 0);
  std::ofstream(outside / "victim") << "keep";
  ASSERT_EQ(::symlink((outside / "victim").c_str(), (root.path() / "t/hostfile").c_str()), 0);
  EXPECT_FALSE(write_task_file(root.path() / "t/hostfile", "evil", std::nullopt));
  ASSERT_EQ(::link((outside / "victim").c_str(), (root.path() / "t/hard").c_str()), 0);
  EXPECT_FALSE(write_task_file(root.path() / "t/hard", "evil", std::nullopt));
  std::ifstream in(outside / "victim");
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "keep");
}

TEST(TaskDirs, TheTaskUserOwnsWdButNotTheTaskDirectory) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  TempDir root;
  const FileOwner owner{65534, 65534};
  const auto dir = root.path() / "task";
  ASSERT_TRUE(make_task_dir(dir, owner));
  ASSERT_TRUE(make_working_dir(dir / "wd", owner));
  EXPECT_EQ(stat_of(dir).st_uid, 0u);
  EXPECT_EQ(stat_of(dir).st_mode & 07777, 0711u);
  EXPECT_EQ(stat_of(dir / "wd").st_uid, 65534u);
  EXPECT_EQ(stat_of(dir / "wd").st_gid, 65534u);
  EXPECT_EQ(stat_of(dir / "wd").st_mode & 07777, 0700u);
  // The end of the task: root's, 0700.
  ASSERT_TRUE(close_task_dir(dir));
  EXPECT_EQ(stat_of(dir).st_mode & 07777, 0700u);
  // A directory an earlier agent handed to the task user is taken back; a retry's wd goes to
  // the new user.
  const auto old = root.path() / "old";
  ASSERT_EQ(::mkdir(old.c_str(), 0700), 0);
  ASSERT_EQ(::chown(old.c_str(), 65534, 65534), 0);
  ASSERT_TRUE(make_task_dir(old, owner));
  EXPECT_EQ(stat_of(old).st_uid, 0u);
  ASSERT_TRUE(make_working_dir(dir / "wd", FileOwner{65533, 65533}));
  EXPECT_EQ(stat_of(dir / "wd").st_uid, 65533u);
}

}  // namespace
}  // namespace openbatch::agent::runner
