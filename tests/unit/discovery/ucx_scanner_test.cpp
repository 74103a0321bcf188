// UcxScanner: the ucx_info -d parser on captured output (an mlx5 node, a TCP-only node), and
// the scanner against a missing, a failing and the real ucx_info.
#include "node_agent/discovery/ucx_scanner.hpp"

#include "tests/support/temp_dir.hpp"
#include "tests/unit/discovery/discovery_fixtures.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace openbatch::agent::discovery {
namespace {

using testing::read_fixture;

bool has(const std::vector<UcxTransport>& list, const UcxTransport& t) {
  return std::ranges::find(list, t) != list.end();
}

TEST(ParseUcxInfo, Mlx5NodeListsVerbsMlx5TcpSharedMemoryAndCuda) {
  auto list = parse_ucx_info(read_fixture("ucx/ucx_info_d_mlx5.txt"));
  ASSERT_EQ(list.size(), 15u);
  EXPECT_EQ(list.front(), (UcxTransport{"self", "memory0", "loopback"}));
  EXPECT_TRUE(has(list, {"rc_mlx5", "mlx5_0:1", "network"}));
  EXPECT_TRUE(has(list, {"rc_verbs", "mlx5_0:1", "network"}));
  EXPECT_TRUE(has(list, {"dc_mlx5", "mlx5_0:1", "network"}));
  EXPECT_TRUE(has(list, {"ud_verbs", "mlx5_0:1", "network"}));
  EXPECT_TRUE(has(list, {"ud_mlx5", "mlx5_0:1", "network"}));
  EXPECT_TRUE(has(list, {"tcp", "ib0", "network"}));
  EXPECT_TRUE(has(list, {"tcp", "eth0", "network"}));
  EXPECT_TRUE(has(list, {"sysv", "memory", "intra-node"}));
  EXPECT_TRUE(has(list, {"cuda_copy", "cuda", "accelerator"}));
  EXPECT_TRUE(has(list, {"cuda_ipc", "cuda", "intra-node"}));
  EXPECT_EQ(list.back(), (UcxTransport{"cma", "memory", "intra-node"}));
  for (const auto& t : list) EXPECT_NE(t.name, "rdmacm") << "a connection manager, not a transport";
}

TEST(ParseUcxInfo, TcpOnlyNodeHasNoRdmaTransport) {
  auto list = parse_ucx_info(read_fixture("ucx/ucx_info_d_tcp_only.txt"));
  std::vector<UcxTransport> expected = {
      {"self", "memory0", "loopback"},   {"tcp", "lo", "network"},
      {"tcp", "eth0", "network"},        {"sysv", "memory", "intra-node"},
      {"posix", "memory", "intra-node"}, {"cma", "memory", "intra-node"}};
  EXPECT_EQ(list, expected);
}

TEST(ParseUcxInfo, OlderFormatWithoutTypeLinesAndNoise) {
  auto list = parse_ucx_info(
      "#\n# Memory domain: mlx5_0\n#   component: ib\n#\n#   Transport: rc\n#\n"
      "#   Device: mlx5_0:1\n#\n#      capabilities:\n#            bandwidth: 11794.23 MB/sec\n"
      "#   Transport: ud\n#   Device: mlx5_0:1\n"
      "[1700000000.123456] [node:1234:0] ib_iface.c:123 UCX WARN something\n"
      "#   Transport: ud\n#   Device: mlx5_0:1\n");
  std::vector<UcxTransport> expected = {{"rc", "mlx5_0:1", ""}, {"ud", "mlx5_0:1", ""}};
  EXPECT_EQ(list, expected);
  EXPECT_TRUE(parse_ucx_info("").empty());
}

TEST(UcxScanner, MissingUcxInfoIsAWarningNotAnError) {
  Inventory inv;
  auto status = UcxScanner("openbatch-test-no-ucx_info").scan(inv);
  ASSERT_TRUE(status);
  EXPECT_TRUE(inv.ucx_transports.empty());
  ASSERT_EQ(inv.warnings.size(), 1u);
  EXPECT_NE(inv.warnings[0].find("not found"), std::string::npos) << inv.warnings[0];
}

TEST(UcxScanner, FailingOrHangingUcxInfoIsAWarning) {
  openbatch::testing::TempDir dir;
  testing::write_script(dir.path() / "fails", "echo 'UCX ERROR no memory domains' >&2; exit 1\n");
  testing::write_script(dir.path() / "hangs", "exec sleep 30\n");
  Inventory inv;
  ASSERT_TRUE(UcxScanner((dir.path() / "fails").string()).scan(inv));
  ASSERT_TRUE(
      UcxScanner((dir.path() / "hangs").string(), std::chrono::milliseconds(200)).scan(inv));
  EXPECT_TRUE(inv.ucx_transports.empty());
  ASSERT_EQ(inv.warnings.size(), 2u);
  EXPECT_NE(inv.warnings[0].find("UCX ERROR no memory domains"), std::string::npos);
  EXPECT_NE(inv.warnings[1].find("did not finish"), std::string::npos) << inv.warnings[1];
}

TEST(UcxScanner, RunsTheInstalledUcxInfo) {
  if (!resolve_program("ucx_info")) GTEST_SKIP() << "ucx_info is not installed here";
  Inventory inv;
  ASSERT_TRUE(UcxScanner().scan(inv));
  EXPECT_TRUE(inv.warnings.empty()) << inv.warnings.front();
  EXPECT_TRUE(std::ranges::any_of(inv.ucx_transports,
                                  [](const UcxTransport& t) { return t.name == "tcp"; }));
}

}  // namespace
}  // namespace openbatch::agent::discovery
