// NodeTree: paths stay inside the node root ('..', absolute paths and symlinks out are "not
// found"), byte ranges and their 416s, flat and recursive listings, and deletes.
#include "common/files/node_tree.hpp"

#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sys/stat.h>

namespace openbatch::files {
namespace {
namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

class NodeTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() / "root";
    write(root_ / "startup/stdout.txt", "hello world");
    write(root_ / "workitems/j/job-1/t/wd/out.txt", "0123456789");
    write(root_ / "workitems/j/job-1/t/stdout.txt", "");
    write(dir_.path() / "secret.txt", "outside");
  }
  testing::TempDir dir_;
  fs::path root_;
  NodeTree tree() const { return NodeTree(root_); }
};

TEST_F(NodeTreeTest, StatsFilesAndDirectories) {
  auto f = tree().stat("startup/stdout.txt");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->name, "startup/stdout.txt");
  EXPECT_FALSE(f->is_directory);
  EXPECT_EQ(f->size, 11u);
  EXPECT_NE(f->mode, 0u);
  auto d = tree().stat("startup");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->is_directory);
  EXPECT_EQ(d->size, 0u);
  EXPECT_EQ(tree().stat("nope").error().code, "FileNotFound");
}

TEST_F(NodeTreeTest, NothingOutsideTheRootIsReachable) {
  for (const std::string path : {"../secret.txt", "startup/../../secret.txt", "/../secret.txt"}) {
    EXPECT_EQ(tree().stat(path).error().status, 404) << path;
    EXPECT_FALSE(tree().read(path, std::nullopt)) << path;
    EXPECT_EQ(tree().remove(path, false).error().status, 404) << path;
  }
  // An absolute path is taken as relative to the root, not as the host's path.
  EXPECT_EQ(tree().stat("/etc/passwd").error().code, "FileNotFound");
  EXPECT_TRUE(tree().stat("/startup/stdout.txt"));
  // Symlinks out of the root, to a file or a directory, are not followed.
  fs::create_symlink(dir_.path() / "secret.txt", root_ / "shared_link");
  fs::create_symlink(dir_.path(), root_ / "up");
  EXPECT_EQ(tree().stat("shared_link").error().code, "FileNotFound");
  EXPECT_FALSE(tree().read("shared_link", std::nullopt));
  EXPECT_FALSE(tree().read("up/secret.txt", std::nullopt));
  EXPECT_FALSE(tree().read_chunk("up/secret.txt", std::nullopt, 100));
  EXPECT_EQ(tree().list("up", false, 100).error().code, "FileNotFound");
  EXPECT_EQ(tree().remove("up/secret.txt", false).error().code, "FileNotFound");
  EXPECT_TRUE(fs::exists(dir_.path() / "secret.txt"));
  // A listing shows the links themselves and does not descend through them.
  auto all = tree().list("", true, 1000);
  ASSERT_TRUE(all);
  for (const auto& f : *all) EXPECT_EQ(f.name.find("secret"), std::string::npos) << f.name;
  // No symlink is followed, not even one inside the root: a task can swap any link it owns.
  fs::create_symlink(root_ / "startup/stdout.txt", root_ / "inside_link");
  fs::create_symlink(root_ / "startup", root_ / "inside_dir");
  EXPECT_EQ(tree().read("inside_link", std::nullopt).error().code, "FileNotFound");
  EXPECT_EQ(tree().read("inside_dir/stdout.txt", std::nullopt).error().code, "FileNotFound");
  // Deleting a link deletes the link.
  EXPECT_TRUE(tree().remove("inside_dir", true));
  EXPECT_TRUE(fs::exists(root_ / "startup/stdout.txt"));
}

TEST_F(NodeTreeTest, AFifoIsNotReadAndDoesNotBlock) {
  ASSERT_EQ(::mkfifo((root_ / "startup/fifo").c_str(), 0600), 0);
  EXPECT_EQ(tree().read("startup/fifo", std::nullopt).error().code, "FileNotFound");
}

TEST_F(NodeTreeTest, AMissingRootIsUnavailable) {
  NodeTree missing(dir_.path() / "no-such-node");
  EXPECT_EQ(missing.stat("startup").error().code, "NodeFilesUnavailable");
  EXPECT_EQ(missing.stat("startup").error().status, 409);
}

TEST_F(NodeTreeTest, ReadsRanges) {
  const std::string path = "workitems/j/job-1/t/wd/out.txt";
  EXPECT_EQ(*tree().read(path, std::nullopt), "0123456789");
  EXPECT_EQ(*tree().read(path, ByteRange{2, 5}), "2345");
  EXPECT_EQ(*tree().read(path, ByteRange{7, std::nullopt}), "789");
  EXPECT_EQ(*tree().read(path, ByteRange{8, 100}), "89");
  EXPECT_EQ(tree().read(path, ByteRange{10, std::nullopt}).error().status, 416);
  EXPECT_EQ(tree().read(path, ByteRange{10, std::nullopt}).error().code, "InvalidRange");
  // An empty file reads as empty, with or without a range from 0.
  EXPECT_EQ(*tree().read("workitems/j/job-1/t/stdout.txt", std::nullopt), "");
  EXPECT_EQ(*tree().read("workitems/j/job-1/t/stdout.txt", ByteRange{0, std::nullopt}), "");
  // A directory is not a file.
  EXPECT_EQ(tree().read("startup", std::nullopt).error().code, "FileNotFound");
}

TEST_F(NodeTreeTest, ReadsChunksBoundedByMaxBytes) {
  const std::string path = "workitems/j/job-1/t/wd/out.txt";
  auto chunk = tree().read_chunk(path, ByteRange{3, std::nullopt}, 4);
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->data, "3456");
  EXPECT_EQ(chunk->first, 3u);
  EXPECT_EQ(chunk->info.size, 10u);
  chunk = tree().read_chunk(path, ByteRange{3, 4}, 100);
  EXPECT_EQ(chunk->data, "34");
  EXPECT_EQ(tree().read_chunk(path, ByteRange{11, std::nullopt}, 4).error().status, 416);
}

TEST(SelectBytes, AppliesTheRangeAndTheCap) {
  EXPECT_EQ(*select_bytes(10, std::nullopt), std::make_pair(uint64_t{0}, uint64_t{10}));
  EXPECT_EQ(*select_bytes(10, ByteRange{4, 6}), std::make_pair(uint64_t{4}, uint64_t{7}));
  EXPECT_EQ(select_bytes(10, ByteRange{10, std::nullopt}).error().status, 416);
  EXPECT_TRUE(select_bytes(0, ByteRange{0, std::nullopt}));
  EXPECT_EQ(select_bytes(kMaxFileReadBytes + 1, std::nullopt).error().code, "InvalidRange");
  EXPECT_TRUE(select_bytes(kMaxFileReadBytes + 1, ByteRange{1, std::nullopt}));
}

TEST_F(NodeTreeTest, ListsFlatAndRecursiveSortedAndLimited) {
  auto top = tree().list("workitems/j/job-1/t", false, 100);
  ASSERT_TRUE(top);
  ASSERT_EQ(top->size(), 2u);
  EXPECT_EQ((*top)[0].name, "stdout.txt");
  EXPECT_EQ((*top)[1].name, "wd");
  EXPECT_TRUE((*top)[1].is_directory);
  auto all = tree().list("workitems/j/job-1/t", true, 100);
  ASSERT_TRUE(all);
  std::vector<std::string> names;
  for (const auto& f : *all) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"stdout.txt", "wd", "wd/out.txt"}));
  EXPECT_EQ(tree().list("workitems/j/job-1/t", true, 1)->size(), 1u);
  EXPECT_EQ(tree().list("startup/stdout.txt", false, 10).error().code, "FileNotFound");
  EXPECT_EQ(tree().list("nope", false, 10).error().code, "FileNotFound");
}

TEST_F(NodeTreeTest, DeletesFilesAndDirectories) {
  EXPECT_EQ(tree().remove("workitems/j/job-1/t/wd", false).error().code, "DirectoryNotEmpty");
  EXPECT_EQ(tree().remove("workitems/j/job-1/t/wd", false).error().status, 409);
  EXPECT_TRUE(tree().remove("workitems/j/job-1/t/stdout.txt", false));
  EXPECT_FALSE(fs::exists(root_ / "workitems/j/job-1/t/stdout.txt"));
  EXPECT_TRUE(tree().remove("workitems/j/job-1/t/wd", true));
  EXPECT_FALSE(fs::exists(root_ / "workitems/j/job-1/t/wd"));
  EXPECT_EQ(tree().remove("workitems/j/job-1/t/wd", true).error().code, "FileNotFound");
  // The root itself stays.
  EXPECT_EQ(tree().remove("", true).error().status, 409);
  EXPECT_EQ(tree().remove("/", true).error().status, 409);
  EXPECT_EQ(tree().remove("startup/..", true).error().status, 409);
  EXPECT_TRUE(fs::exists(root_ / "startup/stdout.txt"));
  // Deleting a link deletes the link, not what it points to.
  fs::create_symlink(root_ / "startup/stdout.txt", root_ / "link");
  EXPECT_TRUE(tree().remove("link", false));
  EXPECT_TRUE(fs::exists(root_ / "startup/stdout.txt"));
}

}  // namespace
}  // namespace openbatch::files
