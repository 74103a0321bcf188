// make_task_dir: a new directory is 0700 (private to its task user; under the tests' umask),
// its parents are made when missing, an existing one is brought to 0700 and the task user, a
// file in the way is an Error, and (root only) the directory is handed to the task user.
#include "node_agent/runner/task_dirs.hpp"

#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

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
  ASSERT_TRUE(make_task_dir(dir / "wd", std::nullopt));
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

TEST(TaskDirs, NewAndExistingDirectoriesGoToTheTaskUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  TempDir root;
  const FileOwner owner{65534, 65534};
  const auto fresh = root.path() / "fresh";
  ASSERT_TRUE(make_task_dir(fresh, owner));
  EXPECT_EQ(stat_of(fresh).st_uid, 65534u);
  EXPECT_EQ(stat_of(fresh).st_gid, 65534u);
  const auto old = root.path() / "old";
  ASSERT_EQ(::mkdir(old.c_str(), 0755), 0);  // root's, from an earlier attempt
  ASSERT_TRUE(make_task_dir(old, owner));
  EXPECT_EQ(stat_of(old).st_uid, 65534u);
}

}  // namespace
}  // namespace openbatch::agent::runner
