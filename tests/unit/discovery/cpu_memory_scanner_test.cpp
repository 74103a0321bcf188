// CpuMemoryScanner on the 2-socket 96-core fixture, on small cpuinfo texts, and on this
// machine's /proc.
#include "node_agent/discovery/cpu_memory_scanner.hpp"

#include "tests/support/temp_dir.hpp"
#include "tests/unit/discovery/discovery_fixtures.hpp"

#include <gtest/gtest.h>

#include <string>

namespace openbatch::agent::discovery {
namespace {

using testing::fixture;
using testing::write_file;

TEST(CpuMemoryScanner, ReadsTheTwoSocketNinetySixCoreFixture) {
  CpuMemoryScanner scanner(fixture("proc/2socket_96core"));
  Inventory inv;
  auto status = scanner.scan(inv);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(inv.cpus.logical_count, 96);
  EXPECT_EQ(inv.cpus.model_name, "Intel(R) Xeon(R) Platinum 8480C");
  EXPECT_EQ(inv.cpus.sockets, 2);
  EXPECT_EQ(inv.cpus.physical_cores, 96);
  EXPECT_EQ(inv.memory_bytes, 1981438132ull * 1024);
  EXPECT_TRUE(inv.warnings.empty());
}

TEST(ParseCpuinfo, CountsSocketsAndCoresWithHyperThreads) {
  // 2 sockets x 2 cores x 2 threads; core ids repeat across sockets.
  std::string text;
  int processor = 0;
  for (int socket = 0; socket < 2; ++socket) {
    for (int thread = 0; thread < 2; ++thread) {
      for (int core = 0; core < 2; ++core) {
        text += "processor\t: " + std::to_string(processor++) +
                "\nmodel name\t: AMD EPYC 7V13 64-Core Processor\nphysical id\t: " +
                std::to_string(socket) + "\ncore id\t\t: " + std::to_string(core) + "\n\n";
      }
    }
  }
  CpuInfo info = parse_cpuinfo(text);
  EXPECT_EQ(info.logical_count, 8);
  EXPECT_EQ(info.sockets, 2);
  EXPECT_EQ(info.physical_cores, 4);
  EXPECT_EQ(info.model_name, "AMD EPYC 7V13 64-Core Processor");
}

TEST(ParseCpuinfo, ArmStanzasWithoutTopologyLeaveItUnknown) {
  CpuInfo info = parse_cpuinfo(
      "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\nCPU part\t: 0xd40\n\n"
      "processor\t: 1\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\nCPU part\t: 0xd40\n");
  EXPECT_EQ(info.logical_count, 2);
  EXPECT_EQ(info.model_name, "");
  EXPECT_EQ(info.sockets, 0);
  EXPECT_EQ(info.physical_cores, 0);
}

TEST(ParseMeminfo, ReadsMemTotalInBytes) {
  EXPECT_EQ(parse_meminfo_total("MemFree: 1 kB\nMemTotal:       24684084 kB\n"),
            24684084ull * 1024);
  EXPECT_EQ(parse_meminfo_total("MemFree: 1 kB\n"), std::nullopt);
  EXPECT_EQ(parse_meminfo_total("MemTotal: lots kB\n"), std::nullopt);
}

TEST(CpuMemoryScanner, UnreadableProcRootIsAnError) {
  openbatch::testing::TempDir dir;
  Inventory inv;
  auto missing = CpuMemoryScanner(dir.path() / "nope").scan(inv);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("cpuinfo"), std::string::npos);

  write_file(dir.path() / "cpuinfo", "vendor_id: GenuineIntel\n");
  write_file(dir.path() / "meminfo", "MemTotal: 1024 kB\n");
  auto no_processor = CpuMemoryScanner(dir.path()).scan(inv);
  ASSERT_FALSE(no_processor);
  EXPECT_NE(no_processor.error().message.find("no processor"), std::string::npos);

  write_file(dir.path() / "cpuinfo", "processor: 0\n");
  write_file(dir.path() / "meminfo", "MemFree: 1024 kB\n");
  auto no_total = CpuMemoryScanner(dir.path()).scan(inv);
  ASSERT_FALSE(no_total);
  EXPECT_NE(no_total.error().message.find("MemTotal"), std::string::npos);
}

TEST(CpuMemoryScanner, ReadsThisMachine) {
  Inventory inv;
  auto status = CpuMemoryScanner().scan(inv);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_GE(inv.cpus.logical_count, 1);
  EXPECT_GT(inv.memory_bytes, 0u);
}

}  // namespace
}  // namespace openbatch::agent::discovery
