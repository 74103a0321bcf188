// extract_archive: good packages land with normalized modes and replace an older folder
// atomically; every malicious package is refused with an Error naming the entry, and the test
// proves that nothing was written outside the package folder (the whole temp tree, a sentinel
// folder next to the destination included, is the same before and after).
#include "node_agent/packages/safe_extract.hpp"

#include "tests/support/temp_dir.hpp"
#include "tests/unit/agent_packages/archive_builder.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <sys/stat.h>

namespace openbatch::agent::packages {
namespace {

namespace fs = std::filesystem;
using openbatch::testing::TempDir;
using namespace packages::testing;  // NOLINT(google-build-using-namespace): test builders

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// Every path under `root` (links not followed), with file contents, for before/after checks.
std::map<std::string, std::string> snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const auto rel = fs::relative(it->path(), root).string();
    out[rel] = it->is_regular_file() && !it->is_symlink() ? file_bytes(it->path()) : "<not a file>";
  }
  return out;
}

// A temp tree: in/ (archives), apps/ (the destination's parent) and sentinel/ next to it.
struct Tree {
  TempDir tmp;
  fs::path archive = tmp.path() / "in" / "package.zip";
  fs::path apps = tmp.path() / "apps";
  fs::path dest = apps / "pkg";
  fs::path sentinel = tmp.path() / "sentinel";

  Tree() {
    fs::create_directories(archive.parent_path());
    fs::create_directories(apps);
    fs::create_directories(sentinel / "inner");
    std::ofstream(sentinel / "keep.txt") << "sentinel";
  }
};

ExtractLimits small_limits() {
  ExtractLimits limits;
  limits.max_entries = 100;
  limits.max_total_bytes = 10 << 20;
  limits.max_entry_bytes = 10 << 20;
  limits.max_ratio = 200;
  limits.ratio_floor_bytes = 1 << 20;
  return limits;
}

// Extracts an archive that must be refused; checks the error names `entry` and `reason`, and
// that the temp tree (except the archive itself) is unchanged.
void expect_refused(const std::vector<ArchiveEntry>& entries, const std::string& entry,
                    const std::string& reason, ArchiveFormat format = ArchiveFormat::Zip,
                    ExtractLimits limits = small_limits()) {
  Tree t;
  write_archive(t.archive, entries, format);
  const auto before = snapshot(t.tmp.path());
  auto result = extract_archive(t.archive, t.dest, limits);
  ASSERT_FALSE(result) << "extracted " << entry;
  EXPECT_EQ(result.error().code, kPackageExtractionFailed);
  EXPECT_NE(result.error().message.find("entry '" + entry + "'"), std::string::npos)
      << result.error().message;
  EXPECT_NE(result.error().message.find(reason), std::string::npos) << result.error().message;
  EXPECT_EQ(snapshot(t.tmp.path()), before) << result.error().message;
  EXPECT_FALSE(fs::exists(t.dest));
  EXPECT_TRUE(fs::is_empty(t.apps)) << "the temporary folder was left behind";
}

TEST(SafeExtract, ANormalZipWithNestedFoldersIsExtracted) {
  Tree t;
  write_archive(t.archive, {folder_entry("bin/"), file_entry("bin/run.sh", "#!/bin/sh\n", 0755),
                            file_entry("lib/deep/er/data.txt", "nested"),
                            file_entry("./top.txt", "top"), folder_entry("empty/")});
  auto stats = extract_archive(t.archive, t.dest, small_limits());
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->entries, 5u);
  EXPECT_EQ(stats->files, 3u);
  EXPECT_EQ(stats->directories, 2u);
  EXPECT_EQ(stats->bytes, 10u + 6u + 3u);
  EXPECT_EQ(file_bytes(t.dest / "bin" / "run.sh"), "#!/bin/sh\n");
  EXPECT_EQ(file_bytes(t.dest / "lib" / "deep" / "er" / "data.txt"), "nested");
  EXPECT_EQ(file_bytes(t.dest / "top.txt"), "top");
  EXPECT_TRUE(fs::is_directory(t.dest / "empty"));
  for (const auto& d : {t.dest, t.dest / "bin", t.dest / "lib", t.dest / "lib" / "deep",
                        t.dest / "lib" / "deep" / "er", t.dest / "empty"}) {
    EXPECT_EQ(mode_of(d), 0755u) << d;
  }
  EXPECT_EQ(std::set<fs::path>({fs::directory_iterator(t.apps)->path()}),
            std::set<fs::path>({t.dest}));  // no temporary folder left
}

TEST(SafeExtract, ExecutablesKeepExecuteAndSpecialBitsAndGroupWriteAreStripped) {
  Tree t;
  write_archive(t.archive, {file_entry("tool", "x", 0755), file_entry("suid", "x", 04755),
                            file_entry("sticky", "x", 01777), file_entry("shared", "x", 0666),
                            file_entry("private", "x", 0600), file_entry("owner-x", "x", 0700),
                            file_entry("readonly", "x", 0444)});
  ASSERT_TRUE(extract_archive(t.archive, t.dest, small_limits()));
  EXPECT_EQ(mode_of(t.dest / "tool"), 0755u);
  EXPECT_EQ(mode_of(t.dest / "suid"), 0755u);
  EXPECT_EQ(mode_of(t.dest / "sticky"), 0755u);
  EXPECT_EQ(mode_of(t.dest / "shared"), 0644u);
  EXPECT_EQ(mode_of(t.dest / "private"), 0644u);  // tasks must be able to read it
  EXPECT_EQ(mode_of(t.dest / "owner-x"), 0755u);  // ... and run it
  EXPECT_EQ(mode_of(t.dest / "readonly"), 0444u);
}

TEST(SafeExtract, ALinkInsideThePackageIsKept) {
  Tree t;
  write_archive(t.archive, {file_entry("lib/libx.so.1", "elf"),
                            symlink_entry("lib/libx.so", "libx.so.1"), folder_entry("bin/"),
                            symlink_entry("bin/lib", "../lib"), symlink_entry("here", ".")});
  auto stats = extract_archive(t.archive, t.dest, small_limits());
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->symlinks, 3u);
  EXPECT_EQ(fs::read_symlink(t.dest / "lib" / "libx.so"), "libx.so.1");
  EXPECT_EQ(file_bytes(t.dest / "bin" / "lib" / "libx.so"), "elf");
}

TEST(SafeExtract, ATarGzIsExtractedToo) {
  Tree t;
  t.archive.replace_extension(".tar.gz");
  write_archive(t.archive, {folder_entry("a/"), file_entry("a/b.txt", "tar")},
                ArchiveFormat::TarGz);
  ASSERT_TRUE(extract_archive(t.archive, t.dest, small_limits()));
  EXPECT_EQ(file_bytes(t.dest / "a" / "b.txt"), "tar");
}

TEST(SafeExtract, AnExistingFolderIsReplacedWhole) {
  Tree t;
  write_archive(t.archive, {file_entry("old.txt", "v1"), file_entry("both.txt", "v1")});
  ASSERT_TRUE(extract_archive(t.archive, t.dest, small_limits()));
  write_archive(t.archive, {file_entry("new.txt", "v2"), file_entry("both.txt", "v2")});
  auto stats = extract_archive(t.archive, t.dest, small_limits());
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_FALSE(fs::exists(t.dest / "old.txt"));
  EXPECT_EQ(file_bytes(t.dest / "new.txt"), "v2");
  EXPECT_EQ(file_bytes(t.dest / "both.txt"), "v2");
  EXPECT_EQ(std::distance(fs::directory_iterator(t.apps), fs::directory_iterator()), 1);
}

TEST(SafeExtract, ARefusedPackageLeavesTheInstalledOneAlone) {
  Tree t;
  write_archive(t.archive, {file_entry("good.txt", "v1")});
  ASSERT_TRUE(extract_archive(t.archive, t.dest, small_limits()));
  write_archive(t.archive, {file_entry("fine.txt", "v2"), file_entry("../evil.sh", "x")});
  ASSERT_FALSE(extract_archive(t.archive, t.dest, small_limits()));
  EXPECT_EQ(file_bytes(t.dest / "good.txt"), "v1");
  EXPECT_FALSE(fs::exists(t.dest / "fine.txt"));
  EXPECT_FALSE(fs::exists(t.apps / "evil.sh"));
  EXPECT_EQ(std::distance(fs::directory_iterator(t.apps), fs::directory_iterator()), 1);
}

TEST(SafeExtract, NotAnArchiveIsAnError) {
  Tree t;
  std::ofstream(t.archive) << "this is not a zip";
  auto result = extract_archive(t.archive, t.dest, small_limits());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, kPackageExtractionFailed);
  EXPECT_TRUE(fs::is_empty(t.apps));
}

TEST(SafeExtract, ZipSlipIsRefused) {
  expect_refused({file_entry("ok.txt", "fine"), file_entry("../evil.sh", "x")}, "../evil.sh",
                 "path escapes the package folder");
}

TEST(SafeExtract, ADeeperDotDotIsRefused) {
  expect_refused({folder_entry("a/"), file_entry("a/../../x", "x")}, "a/../../x",
                 "path escapes the package folder");
  expect_refused({file_entry("a/b/../../../../sentinel/keep.txt", "x")},
                 "a/b/../../../../sentinel/keep.txt", "path escapes the package folder");
}

TEST(SafeExtract, AnAbsolutePathIsRefused) {
  Tree t;  // only for a path inside a temp dir: a bug must not touch the system
  const std::string target = (t.sentinel / "abs.txt").string();
  expect_refused({file_entry(target, "x")}, target, "absolute paths are not allowed");
  EXPECT_FALSE(fs::exists(target));
}

TEST(SafeExtract, ALinkThatClimbsOutIsRefused) {
  expect_refused({symlink_entry("link", "../../outside"), file_entry("link/file", "x")}, "link",
                 "points outside the package folder");
  expect_refused(
      {folder_entry("a/"), symlink_entry("a/link", "../.."), file_entry("a/link/f", "x")}, "a/link",
      "points outside the package folder");
}

TEST(SafeExtract, ALinkWithAnAbsoluteTargetIsRefused) {
  Tree t;
  expect_refused({symlink_entry("link", t.sentinel.string()), file_entry("link/keep.txt", "x")},
                 "link", "is an absolute path");
}

TEST(SafeExtract, AnEntryThroughALinkIsRefused) {
  // The link itself points inside; writing through it is still refused (the link could be
  // replaced later, and its target need not be a folder of the package).
  expect_refused({folder_entry("sub/"), symlink_entry("link", "sub"), file_entry("link/file", "x")},
                 "link/file", "passes through the symbolic link 'link'");
}

TEST(SafeExtract, DotDotAfterANameInALinkTargetIsRefused) {
  // d/l -> .. is the root; m -> d/l/.. would then be the root's parent, which a lexical check
  // of "d/l/.." (= "d") would miss.
  expect_refused({folder_entry("d/"), symlink_entry("d/l", ".."), symlink_entry("m", "d/l/..")},
                 "m", "uses '..' after a folder name");
}

TEST(SafeExtract, AFileWhereALinkIsIsRefused) {
  expect_refused({symlink_entry("x", "y"), file_entry("x", "overwrite through the link?")}, "x",
                 "appears more than once");
}

TEST(SafeExtract, HardLinksDevicesAndFifosAreRefused) {
  expect_refused({file_entry("a", "x"), hardlink_entry("b", "a")}, "b",
                 "hard links are not supported", ArchiveFormat::Tar);
  expect_refused({fifo_entry("pipe")}, "pipe", "only files, folders and symbolic links",
                 ArchiveFormat::Tar);
}

TEST(SafeExtract, AZipBombIsStoppedAtTheTotalLimit) {
  ExtractLimits limits = small_limits();
  limits.max_entry_bytes = 1ull << 30;
  limits.max_ratio = 1u << 30;  // only the total, counted as the bytes are written
  expect_refused({zeros_entry("bomb.bin", 50u << 20)}, "bomb.bin",
                 "expands to more than 10485760 bytes", ArchiveFormat::Zip, limits);
}

TEST(SafeExtract, ManyEntriesUnderTheEntryLimitAreStoppedAtTheTotalLimit) {
  ExtractLimits limits = small_limits();
  limits.max_entry_bytes = 8 << 20;
  limits.max_ratio = 1u << 30;
  expect_refused({zeros_entry("1", 4 << 20), zeros_entry("2", 4 << 20), zeros_entry("3", 4 << 20),
                  zeros_entry("4", 4 << 20)},
                 "3", "expands to more than 10485760 bytes", ArchiveFormat::Zip, limits);
}

TEST(SafeExtract, AZipBombIsStoppedByTheRatioLimit) {
  ExtractLimits limits = small_limits();
  limits.max_total_bytes = 1ull << 30;
  limits.max_entry_bytes = 1ull << 30;
  expect_refused({zeros_entry("bomb.bin", 50u << 20)}, "bomb.bin", "200 times the size",
                 ArchiveFormat::Zip, limits);
}

TEST(SafeExtract, AnEntryAboveTheEntryLimitIsRefused) {
  ExtractLimits limits = small_limits();
  limits.max_entry_bytes = 1 << 20;
  limits.max_ratio = 1u << 30;
  expect_refused({file_entry("small", "ok"), zeros_entry("big", 2u << 20)}, "big",
                 "larger than 1048576 bytes", ArchiveFormat::Zip, limits);
}

TEST(SafeExtract, TooManyEntriesAreRefused) {
  ExtractLimits limits = small_limits();
  limits.max_entries = 3;
  Tree t;
  write_archive(t.archive, {file_entry("1", "a"), file_entry("2", "b"), file_entry("3", "c"),
                            file_entry("4", "d")});
  auto result = extract_archive(t.archive, t.dest, limits);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("more than 3 entries"), std::string::npos)
      << result.error().message;
  EXPECT_TRUE(fs::is_empty(t.apps));
}

}  // namespace
}  // namespace openbatch::agent::packages
