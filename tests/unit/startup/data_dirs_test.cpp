// The data directory (0700, files 0600) and the nodes directory (0755, beside it, on a path
// nobody else can swap).
#include "scheduler/startup/data_dirs.hpp"

#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace openbatch::startup {
namespace {

namespace fs = std::filesystem;

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST(DataDirs, TheDefaultNodesDirIsBesideTheDataDir) {
  EXPECT_EQ(default_nodes_dir("/var/lib/openbatch"), fs::path("/var/lib/openbatch.nodes"));
  EXPECT_EQ(default_nodes_dir("/var/lib/openbatch/"), fs::path("/var/lib/openbatch.nodes"));
  EXPECT_EQ(default_nodes_dir("./openbatch-data"), fs::path("openbatch-data.nodes"));
}

TEST(DataDirs, AnAncestorIsUnsafeWhenAnotherUserOwnsItOrMayWriteIt) {
  const uid_t me = 1000;
  EXPECT_FALSE(unsafe_ancestor(0, S_IFDIR | 0755, me));
  EXPECT_FALSE(unsafe_ancestor(me, S_IFDIR | 0755, me));
  EXPECT_FALSE(unsafe_ancestor(0, S_IFDIR | 01777, me)) << "/tmp: sticky";
  EXPECT_TRUE(unsafe_ancestor(1001, S_IFDIR | 0755, me));
  EXPECT_TRUE(unsafe_ancestor(0, S_IFDIR | 0777, me));
  EXPECT_TRUE(unsafe_ancestor(0, S_IFDIR | 0775, me));
}

TEST(DataDirs, ANewDataDirIs0700AndALooseOneOfOursIsTightened) {
  openbatch::testing::TempDir dir;
  ::umask(022);
  const fs::path data = dir.path() / "a" / "data";
  ::umask(077);  // the scheduler's
  ASSERT_TRUE(prepare_data_dir(data));
  EXPECT_EQ(mode_of(data), 0700u);
  EXPECT_EQ(mode_of(dir.path() / "a"), 0755u) << "a parent made on the way, as mkdir -p would";
  ::umask(022);

  const fs::path loose = dir.path() / "loose";
  fs::create_directories(loose);
  ::chmod(loose.c_str(), 0755);
  std::ofstream(loose / "openbatch.db") << "x";
  std::ofstream(loose / "openbatch.db-wal") << "x";
  ::chmod((loose / "openbatch.db").c_str(), 0644);
  ::chmod((loose / "openbatch.db-wal").c_str(), 0644);
  ASSERT_TRUE(prepare_data_dir(loose));
  EXPECT_EQ(mode_of(loose), 0700u);
  EXPECT_EQ(mode_of(loose / "openbatch.db"), 0600u);
  EXPECT_EQ(mode_of(loose / "openbatch.db-wal"), 0600u);
}

TEST(DataDirs, ADataDirOfAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory away";
  openbatch::testing::TempDir dir;
  const fs::path data = dir.path() / "theirs";
  fs::create_directories(data);
  ASSERT_EQ(::chown(data.c_str(), 65534, 65534), 0);
  auto st = prepare_data_dir(data);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("belongs to uid 65534"), std::string::npos)
      << st.error().message;
}

TEST(DataDirs, TheNodesDirIs0755AndNeverInsideOrAroundTheDataDir) {
  openbatch::testing::TempDir dir;
  ::umask(077);  // the scheduler's
  ::chmod(dir.path().c_str(), 0755);
  const fs::path data = dir.path() / "data";
  ASSERT_TRUE(prepare_data_dir(data));
  const fs::path nodes = dir.path() / "sub" / "nodes";
  ASSERT_TRUE(prepare_nodes_dir(nodes, data)) << prepare_nodes_dir(nodes, data).error().message;
  EXPECT_EQ(mode_of(nodes), 0755u);
  EXPECT_EQ(mode_of(dir.path() / "sub"), 0755u) << "made on the way, reachable";
  EXPECT_FALSE(prepare_nodes_dir(data / "nodes", data));
  EXPECT_FALSE(prepare_nodes_dir(dir.path(), data));
  EXPECT_FALSE(prepare_nodes_dir(data, data));
  ::umask(022);
}

TEST(DataDirs, ANodesDirUnderAWritableDirectoryIsRefused) {
  openbatch::testing::TempDir dir;
  ::chmod(dir.path().c_str(), 0777);  // anyone may swap what lies below, and it is not sticky
  auto st = prepare_nodes_dir(dir.path() / "nodes", dir.path() / "data");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("not sticky"), std::string::npos) << st.error().message;
}

}  // namespace
}  // namespace openbatch::startup
