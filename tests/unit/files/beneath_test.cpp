// Beneath: no path leaves its directory and no symlink is followed, in the middle or at the end,
// by openat2 and by the component walk alike; '..' and absolute paths are refused; removal of
// a tree never descends through a link; and a task swapping a directory for a link while the
// agent opens or deletes through it (renameat2 RENAME_EXCHANGE in a loop) never gets the
// agent outside.
#include "common/files/beneath.hpp"

#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace openbatch::files {
namespace {
namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string read_fd(int fd) {
  std::string out(64, '\0');
  const ssize_t n = ::pread(fd, out.data(), out.size(), 0);
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

using Opener = std::function<FdResult(int, std::string_view, int, mode_t)>;

// Each test runs with the kernel's openat2 (when present) and with the fallback walk.
class BeneathTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam() && !openat2_available()) GTEST_SKIP() << "this kernel has no openat2";
    root_ = dir_.path() / "root";
    outside_ = dir_.path() / "outside";
    write(root_ / "d/file.txt", "inside");
    write(outside_ / "file.txt", "outside");
    auto fd = open_trusted_dir(root_);
    ASSERT_TRUE(fd) << fd.err;
    root_fd_ = std::move(fd.fd);
  }
  FdResult open(std::string_view rel, int flags, mode_t mode = 0) const {
    return GetParam() ? open_beneath(root_fd_.get(), rel, flags, mode)
                      : open_beneath_walk(root_fd_.get(), rel, flags, mode);
  }
  testing::TempDir dir_;
  fs::path root_;
  fs::path outside_;
  posix::UniqueFd root_fd_;
};

INSTANTIATE_TEST_SUITE_P(Resolvers, BeneathTest, ::testing::Values(true, false),
                         [](const auto& p) { return p.param ? "Openat2" : "Walk"; });

TEST_P(BeneathTest, OpensPathsInside) {
  auto f = open("d/file.txt", O_RDONLY);
  ASSERT_TRUE(f) << f.err;
  EXPECT_EQ(read_fd(f.fd.get()), "inside");
  EXPECT_TRUE(open("./d//file.txt", O_RDONLY));
  EXPECT_TRUE(open("", O_RDONLY | O_DIRECTORY));
  EXPECT_EQ(open("d/missing", O_RDONLY).err, ENOENT);
  auto made = open("d/new.txt", O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_TRUE(made) << made.err;
  EXPECT_TRUE(fs::exists(root_ / "d/new.txt"));
}

TEST_P(BeneathTest, ASymlinkInTheMiddleIsRefused) {
  fs::create_symlink(outside_, root_ / "out");
  fs::create_symlink(root_ / "d", root_ / "in");  // even one that stays inside
  EXPECT_EQ(open("out/file.txt", O_RDONLY).err, ELOOP);
  EXPECT_EQ(open("in/file.txt", O_RDONLY).err, ELOOP);
  EXPECT_EQ(open("out/new.txt", O_WRONLY | O_CREAT, 0600).err, ELOOP);
  EXPECT_FALSE(fs::exists(outside_ / "new.txt"));
}

TEST_P(BeneathTest, ASymlinkAsTheLastComponentIsRefused) {
  fs::create_symlink(outside_ / "file.txt", root_ / "d/link.txt");
  fs::create_symlink(outside_, root_ / "d/dirlink");
  EXPECT_EQ(open("d/link.txt", O_RDONLY).err, ELOOP);
  EXPECT_EQ(open("d/link.txt", O_PATH).err, ELOOP);
  EXPECT_EQ(open("d/link.txt", O_WRONLY | O_CREAT | O_TRUNC, 0600).err, ELOOP);
  EXPECT_EQ(open("d/dirlink", O_RDONLY | O_DIRECTORY).err, ELOOP);
  std::ifstream in(outside_ / "file.txt");
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "outside");
}

TEST_P(BeneathTest, DotDotAndAbsolutePathsAreRefused) {
  EXPECT_EQ(open("../outside/file.txt", O_RDONLY).err, EXDEV);
  EXPECT_EQ(open("d/../../outside/file.txt", O_RDONLY).err, EXDEV);
  EXPECT_EQ(open("d/../d/file.txt", O_RDONLY).err, EXDEV);  // '..' is refused even inside
  EXPECT_EQ(open((outside_ / "file.txt").string(), O_RDONLY).err, EXDEV);
  EXPECT_EQ(open("/d/file.txt", O_RDONLY).err, EXDEV);
}

TEST(Beneath, OperationsStayBeneathAndNeverFollowLinks) {
  testing::TempDir dir;
  write(dir.path() / "root/d/file.txt", "inside");
  write(dir.path() / "outside/file.txt", "outside");
  fs::create_symlink(dir.path() / "outside", dir.path() / "root/out");
  fs::create_symlink(dir.path() / "outside/file.txt", dir.path() / "root/d/link");
  auto root = open_trusted_dir(dir.path() / "root");
  ASSERT_TRUE(root);
  const int r = root.fd.get();

  struct stat st {};
  EXPECT_EQ(stat_beneath(r, "d/file.txt", st), 0);
  EXPECT_EQ(st.st_size, 6);
  EXPECT_EQ(stat_beneath(r, "d/link", st), 0);  // lstat: the link itself
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(stat_beneath(r, "out/file.txt", st), ELOOP);

  EXPECT_EQ(mkdir_beneath(r, "d/sub", 0700), 0);
  EXPECT_EQ(mkdir_beneath(r, "out/sub", 0700), ELOOP);
  EXPECT_EQ(chmod_beneath(r, "d/sub", 0750), 0);
  EXPECT_EQ(fs::status(dir.path() / "root/d/sub").permissions(), static_cast<fs::perms>(0750));
  EXPECT_EQ(chmod_beneath(r, "d/link", 0600), ELOOP);
  EXPECT_EQ(chown_beneath(r, "d/link", ::geteuid(), ::getegid()), ELOOP);
  EXPECT_EQ(chown_beneath(r, "d/sub", ::geteuid(), ::getegid()), 0);
  EXPECT_EQ(rename_beneath(r, "d/file.txt", "d/sub/moved.txt"), 0);
  EXPECT_EQ(rename_beneath(r, "d/sub/moved.txt", "out/moved.txt"), ELOOP);
  EXPECT_EQ(unlink_beneath(r, "out/file.txt"), ELOOP);
  EXPECT_EQ(unlink_beneath(r, "d/link"), 0);  // the link goes, not its target
  EXPECT_TRUE(fs::exists(dir.path() / "outside/file.txt"));
  EXPECT_EQ(rmdir_beneath(r, "d/sub"), ENOTEMPTY);
  EXPECT_EQ(unlink_beneath(r, "d/sub/moved.txt"), 0);
  EXPECT_EQ(rmdir_beneath(r, "d/sub"), 0);

  // A regular file only: a FIFO or a second name of another file is refused before any write.
  ASSERT_EQ(::mkfifo((dir.path() / "root/d/fifo").c_str(), 0600), 0);
  const int fifo = open_regular_beneath(r, "d/fifo", O_WRONLY | O_CREAT | O_TRUNC, 0600).err;
  EXPECT_TRUE(fifo == EPERM || fifo == ENXIO) << fifo;  // ENXIO: no reader, and no waiting for one
  ASSERT_EQ(::link((dir.path() / "outside/file.txt").c_str(), (dir.path() / "root/d/hard").c_str()),
            0);
  EXPECT_EQ(open_regular_beneath(r, "d/hard", O_WRONLY | O_CREAT | O_TRUNC, 0600).err, EPERM);
  EXPECT_EQ(fs::file_size(dir.path() / "outside/file.txt"), 7u);
  auto made = open_regular_file(dir.path() / "root/d/out.txt", O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_TRUE(made) << made.err;
}

TEST(Beneath, RemovingATreeNeverDescendsThroughALink) {
  testing::TempDir dir;
  write(dir.path() / "root/t/wd/a/b/c.txt", "x");
  write(dir.path() / "outside/keep/file.txt", "outside");
  fs::create_symlink(dir.path() / "outside", dir.path() / "root/t/wd/a/out");
  fs::create_symlink(dir.path() / "outside/keep/file.txt", dir.path() / "root/t/wd/f");
  auto root = open_trusted_dir(dir.path() / "root");
  ASSERT_TRUE(root);
  EXPECT_EQ(remove_tree_beneath(root.fd.get(), "t"), 0);
  EXPECT_FALSE(fs::exists(dir.path() / "root/t"));
  EXPECT_TRUE(fs::exists(dir.path() / "outside/keep/file.txt"));
  EXPECT_EQ(remove_tree_beneath(root.fd.get(), "t"), ENOENT);
  write(dir.path() / "root/u/x", "x");
  EXPECT_EQ(remove_tree(dir.path() / "root/u"), 0);
  EXPECT_FALSE(fs::exists(dir.path() / "root/u"));
}

// The attack of a task on the file API: while the agent opens (or deletes) d/secret, the task
// exchanges d with a symlink to a directory it cannot read, thousands of times a second.
class SwapRace : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam() && !openat2_available()) GTEST_SKIP() << "this kernel has no openat2";
    write(dir_.path() / "root/d/secret", "inside");
    write(dir_.path() / "outside/secret", "outside");
    fs::create_symlink(dir_.path() / "outside", dir_.path() / "root/swap");
    auto fd = open_trusted_dir(dir_.path() / "root");
    ASSERT_TRUE(fd);
    root_fd_ = std::move(fd.fd);
    swapper_ = std::thread([this] {
      const int r = root_fd_.get();
      while (!stop_.load()) {
        if (::renameat2(r, "d", r, "swap", RENAME_EXCHANGE) == 0) swaps_.fetch_add(1);
      }
    });
  }
  void TearDown() override {
    stop_ = true;
    if (swapper_.joinable()) swapper_.join();
  }
  FdResult open(std::string_view rel, int flags) const {
    return GetParam() ? open_beneath(root_fd_.get(), rel, flags)
                      : open_beneath_walk(root_fd_.get(), rel, flags);
  }
  testing::TempDir dir_;
  posix::UniqueFd root_fd_;
  std::atomic<bool> stop_{false};
  std::atomic<long> swaps_{0};
  std::thread swapper_;
};

INSTANTIATE_TEST_SUITE_P(Resolvers, SwapRace, ::testing::Values(true, false),
                         [](const auto& p) { return p.param ? "Openat2" : "Walk"; });

TEST_P(SwapRace, OpensNeverReachTheOutsideFile) {
  int inside = 0;
  for (int i = 0; i < 20000; ++i) {
    auto f = open("d/secret", O_RDONLY);
    if (!f) {
      ASSERT_TRUE(f.err == ELOOP || f.err == ENOENT || f.err == ENOTDIR) << f.err;
      continue;
    }
    ASSERT_EQ(read_fd(f.fd.get()), "inside") << "opened the file outside on try " << i;
    ++inside;
  }
  EXPECT_GT(swaps_.load(), 100) << "the swapper did not run";
  EXPECT_GT(inside, 0) << "never opened the file inside: the test proves nothing";
}

TEST_P(SwapRace, DeletesNeverReachTheOutsideFile) {
  int deleted = 0;
  for (int i = 0; i < 5000; ++i) {
    // Recreate the inside file where it is now (d may be either name meanwhile).
    for (const char* name : {"root/d", "root/swap"}) {
      const fs::path p = dir_.path() / name;
      if (!fs::is_symlink(p)) std::ofstream(p / "secret") << "inside";
    }
    if (remove_tree_beneath(root_fd_.get(), "d/secret") == 0) ++deleted;
    ASSERT_TRUE(fs::exists(dir_.path() / "outside/secret"))
        << "deleted the file outside on try " << i;
  }
  EXPECT_GT(swaps_.load(), 100) << "the swapper did not run";
  EXPECT_GT(deleted, 0) << "never deleted the file inside: the test proves nothing";
}

}  // namespace
}  // namespace openbatch::files
