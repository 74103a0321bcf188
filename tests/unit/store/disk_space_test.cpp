// Disk space: thresholds scale with the filesystem, the low/reserve decisions (with
// hysteresis), SQLite's "disk full" codes mapped to 507 InsufficientDiskSpace, and the guard's
// reserve file.
#include "scheduler/store/disk_space.hpp"

#include "scheduler/store/disk_guard.hpp"
#include "scheduler/store/sqlite_connection.hpp"
#include "tests/unit/store/store_test_support.hpp"

#include <sqlite3.h>

#include <cerrno>
#include <sys/stat.h>
#include <thread>

namespace openbatch::store::testing {
namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

TEST(DiskSpace, ThresholdsScaleWithTheFilesystemWithinBounds) {
  const auto tiny = thresholds_for(20 * kMiB);
  EXPECT_EQ(tiny.reserve, 320 * 1024u);
  EXPECT_EQ(tiny.critical, 160 * 1024u);
  EXPECT_GE(tiny.low, 1 * kMiB);
  EXPECT_LT(tiny.low + tiny.reserve, 2 * kMiB);             // a 20 MiB filesystem is still usable
  const auto huge = thresholds_for(4096ull * 1024 * kMiB);  // 4 TiB
  EXPECT_EQ(huge.reserve, 32 * kMiB);
  EXPECT_EQ(huge.low, 1024 * kMiB);
  EXPECT_EQ(thresholds_for(0).reserve, 256 * 1024u);
}

TEST(DiskSpace, PlentyOfSpaceCreatesTheReserveAndIsNotLow) {
  const auto d = decide({100 * kMiB, 80 * kMiB}, {.low = false, .reserve_held = false});
  EXPECT_FALSE(d.next.low);
  EXPECT_TRUE(d.create_reserve);
  EXPECT_TRUE(d.next.reserve_held);
  EXPECT_FALSE(d.release_reserve);
}

TEST(DiskSpace, BelowLowRefusesButKeepsTheReserve) {
  const auto t = thresholds_for(100 * kMiB);
  const auto d = decide({100 * kMiB, t.low - 1}, {.low = false, .reserve_held = true});
  EXPECT_TRUE(d.next.low);
  EXPECT_FALSE(d.release_reserve);
  EXPECT_TRUE(d.next.reserve_held);
}

TEST(DiskSpace, BelowCriticalReleasesTheReserve) {
  const auto d = decide({100 * kMiB, 4096}, {.low = true, .reserve_held = true});
  EXPECT_TRUE(d.next.low);
  EXPECT_TRUE(d.release_reserve);
  EXPECT_FALSE(d.next.reserve_held);
  EXPECT_FALSE(d.create_reserve);
}

TEST(DiskSpace, LeavesLowOnlyWithRoomForTheReserveToo) {
  const auto t = thresholds_for(100 * kMiB);
  // Just above low, reserve gone: still low, and no reserve yet (it would make it low again).
  auto d = decide({100 * kMiB, t.low + 1}, {.low = true, .reserve_held = false});
  EXPECT_TRUE(d.next.low);
  EXPECT_FALSE(d.create_reserve);
  // Room for both: not low, reserve recreated.
  d = decide({100 * kMiB, t.low + t.reserve}, {.low = true, .reserve_held = false});
  EXPECT_FALSE(d.next.low);
  EXPECT_TRUE(d.create_reserve);
  // The look after: the reserve's bytes are gone from `available`; it stays not low.
  d = decide({100 * kMiB, t.low}, d.next);
  EXPECT_FALSE(d.next.low);
  EXPECT_FALSE(d.create_reserve);
}

TEST(DiskSpace, SqliteFullAndEnospcAreDiskFull) {
  EXPECT_TRUE(is_disk_full(SQLITE_FULL, 0));
  EXPECT_TRUE(is_disk_full(SQLITE_IOERR_WRITE, ENOSPC));
  EXPECT_TRUE(is_disk_full(SQLITE_IOERR_FSYNC, EDQUOT));
  EXPECT_FALSE(is_disk_full(SQLITE_IOERR_WRITE, EIO));
  EXPECT_FALSE(is_disk_full(SQLITE_CONSTRAINT_UNIQUE, ENOSPC));
  EXPECT_FALSE(is_disk_full(SQLITE_BUSY, 0));
}

TEST(DiskSpace, TheErrorIs507InsufficientDiskSpaceAndSaysSo) {
  const Error e = insufficient_disk_space({20 * kMiB, 12 * 1024});
  EXPECT_EQ(e.status, 507);
  EXPECT_EQ(e.code, "InsufficientDiskSpace");
  EXPECT_NE(e.message.find("low on disk space"), std::string::npos);
  EXPECT_NE(e.message.find("12.0 KiB free of 20.0 MiB"), std::string::npos);
  EXPECT_NE(e.message.find("deletes"), std::string::npos);
  EXPECT_TRUE(is_insufficient_disk_space(e));
  EXPECT_EQ(insufficient_disk_space({}).message.find("free of"), std::string::npos);
}

TEST(DiskSpace, AFullDatabaseFailsWithTheDiskSpaceErrorNotInternalError) {
  TempDir dir;
  auto connection = Connection::open((dir.path() / "db").string(), {.read_only = false});
  ASSERT_TRUE(connection) << connection.error().message;
  ASSERT_TRUE((*connection)->exec("CREATE TABLE t (x BLOB)"));
  // max_page_count makes SQLite answer SQLITE_FULL exactly as a full disk does.
  ASSERT_TRUE((*connection)->exec("PRAGMA max_page_count = 8"));
  Status st;
  for (int i = 0; i < 64 && st; ++i)
    st = (*connection)->exec("INSERT INTO t VALUES (zeroblob(4000))");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().status, 507);
  EXPECT_EQ(st.error().code, "InsufficientDiskSpace");
}

TEST(DiskGuard, KeepsAReserveFileOfTheThresholdSize) {
  TempDir dir;
  {
    DiskGuard guard(dir.path(), std::chrono::milliseconds(50));
    EXPECT_FALSE(guard.low());  // the build machine's disk is not full
    struct stat st {};
    ASSERT_EQ(::stat((dir.path() / kReserveFile).c_str(), &st), 0);
    EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), thresholds_for(guard.space().total).reserve);
    EXPECT_GE(static_cast<std::uint64_t>(st.st_blocks) * 512,
              static_cast<std::uint64_t>(st.st_size));
    EXPECT_EQ(guard.refusal().status, 507);
  }
  // It stays for the next start.
  EXPECT_TRUE(std::filesystem::exists(dir.path() / kReserveFile));
}

TEST(DiskGuard, DiskFullReleasesTheReserveAtOnce) {
  TempDir dir;
  DiskGuard guard(dir.path(), std::chrono::hours(1));  // no periodic look during the test
  ASSERT_TRUE(std::filesystem::exists(dir.path() / kReserveFile));
  guard.disk_full();
  for (int i = 0; i < 200 && std::filesystem::exists(dir.path() / kReserveFile); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() / kReserveFile));
  EXPECT_TRUE(guard.low());  // until a look finds room again
}

}  // namespace
}  // namespace openbatch::store::testing
