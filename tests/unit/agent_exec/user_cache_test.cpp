// UserCache: one resolve per user until /etc/passwd or /etc/group (here: temp files) change;
// failures are not cached; the real files and resolver agree with lookup_user.
#include "node_agent/exec/user_cache.hpp"

#include "node_agent/exec/launcher.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <string>

namespace openbatch::agent::exec {
namespace {

using namespace std::chrono_literals;
using openbatch::testing::TempDir;

struct CountingResolver {
  std::map<std::string, int> calls;
  Result<UserIds> operator()(std::string_view name) {
    ++calls[std::string(name)];
    if (name == "missing") return Error(404, std::string(kUserNotFound), "no user");
    return UserIds{std::string(name), 1000, 1000, {1000, 27}, "/home/" + std::string(name)};
  }
};

void write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::trunc) << text;
}

TEST(UserCache, ResolvesEachUserOnceUntilAWatchedFileChanges) {
  TempDir dir;
  const auto passwd = dir.path() / "passwd";
  const auto group = dir.path() / "group";
  write(passwd, "a\n");
  write(group, "g\n");
  CountingResolver counting;
  UserCache cache([&](std::string_view n) { return counting(n); }, {passwd, group}, 0ms);
  for (int i = 0; i < 5; ++i) {
    auto u = cache.lookup("alice");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->uid, 1000u);
    EXPECT_EQ(u->groups.size(), 2u);
    EXPECT_EQ(u->home, "/home/alice");
  }
  ASSERT_TRUE(cache.lookup("bob"));
  EXPECT_EQ(counting.calls["alice"], 1);
  EXPECT_EQ(counting.calls["bob"], 1);

  write(group, "g\nnewgroup\n");  // a group added: every user is resolved again
  ASSERT_TRUE(cache.lookup("alice"));
  ASSERT_TRUE(cache.lookup("alice"));
  EXPECT_EQ(counting.calls["alice"], 2);

  std::filesystem::remove(passwd);  // replaced (a new inode), as useradd does
  write(passwd, "a\n");
  ASSERT_TRUE(cache.lookup("bob"));
  EXPECT_EQ(counting.calls["bob"], 2);
}

TEST(UserCache, FailuresAreNotCached) {
  TempDir dir;
  write(dir.path() / "passwd", "a\n");
  CountingResolver counting;
  UserCache cache([&](std::string_view n) { return counting(n); }, {dir.path() / "passwd"}, 0ms);
  for (int i = 0; i < 3; ++i) {
    auto u = cache.lookup("missing");
    ASSERT_FALSE(u);
    EXPECT_EQ(u.error().code, kUserNotFound);
  }
  EXPECT_EQ(counting.calls["missing"], 3);
}

TEST(UserCache, ChecksTheFilesAtMostOncePerInterval) {
  TempDir dir;
  const auto passwd = dir.path() / "passwd";
  write(passwd, "a\n");
  CountingResolver counting;
  UserCache cache([&](std::string_view n) { return counting(n); }, {passwd}, 1h);
  ASSERT_TRUE(cache.lookup("alice"));
  write(passwd, "a\nb\n");  // within the interval: not looked at yet
  ASSERT_TRUE(cache.lookup("alice"));
  EXPECT_EQ(counting.calls["alice"], 1);
}

TEST(UserCache, TheRealResolverAgreesWithLookupUser) {
  UserCache cache;
  auto cached = cache.lookup("root");
  auto direct = lookup_user("root");
  ASSERT_TRUE(cached);
  ASSERT_TRUE(direct);
  EXPECT_EQ(cached->uid, direct->uid);
  EXPECT_EQ(cached->gid, direct->gid);
  EXPECT_EQ(cached->groups, direct->groups);
  EXPECT_EQ(cached->home, direct->home);
  EXPECT_FALSE(cache.lookup("no-such-user-openbatch"));
}

}  // namespace
}  // namespace openbatch::agent::exec
