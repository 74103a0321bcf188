// InfinibandScanner on the sysfs fixtures (2-port ConnectX-6, two ConnectX-5, no InfiniBand),
// on hand-made trees for RoCE and odd attributes, and its attribute parsers.
#include "node_agent/discovery/infiniband_scanner.hpp"

#include "tests/support/temp_dir.hpp"
#include "tests/unit/discovery/discovery_fixtures.hpp"

#include <gtest/gtest.h>

namespace openbatch::agent::discovery {
namespace {

using testing::fixture;
using testing::write_file;

Inventory scan_sysfs(const std::filesystem::path& root) {
  Inventory inv;
  auto status = InfinibandScanner(root).scan(inv);
  EXPECT_TRUE(status);
  return inv;
}

TEST(InfinibandScanner, TwoPortConnectX6WithOnePortUp) {
  Inventory inv = scan_sysfs(fixture("sysfs/ib_2port_active"));
  ASSERT_EQ(inv.infiniband_ports.size(), 2u);
  const auto& up = inv.infiniband_ports[0];
  EXPECT_EQ(up.device, "mlx5_0");
  EXPECT_EQ(up.port, 1);
  EXPECT_EQ(up.state, "ACTIVE");
  EXPECT_EQ(up.phys_state, "LinkUp");
  EXPECT_EQ(up.rate, "200 Gb/sec (4X HDR)");
  EXPECT_EQ(up.rate_gbps, 200);
  EXPECT_EQ(up.link_layer, "InfiniBand");
  EXPECT_EQ(up.node_guid, "b859:9f03:00d7:4e2a");
  EXPECT_EQ(up.fw_version, "20.35.1012");
  EXPECT_EQ(up.hca_type, "MT4123");
  EXPECT_TRUE(up.active());
  const auto& down = inv.infiniband_ports[1];
  EXPECT_EQ(down.port, 2);
  EXPECT_EQ(down.state, "DOWN");
  EXPECT_EQ(down.phys_state, "Disabled");
  EXPECT_FALSE(down.active());
  EXPECT_EQ(down.hca_type, "MT4123") << "device attributes repeat on each port";
  EXPECT_TRUE(inv.warnings.empty());
}

TEST(InfinibandScanner, TwoConnectX5HcasBothUpAtEdr) {
  Inventory inv = scan_sysfs(fixture("sysfs/ib_2hca_edr"));
  ASSERT_EQ(inv.infiniband_ports.size(), 2u);
  EXPECT_EQ(inv.infiniband_ports[0].device, "mlx5_0");
  EXPECT_EQ(inv.infiniband_ports[1].device, "mlx5_1");
  for (const auto& p : inv.infiniband_ports) {
    EXPECT_EQ(p.port, 1);
    EXPECT_TRUE(p.active());
    EXPECT_EQ(p.rate_gbps, 100);
    EXPECT_EQ(p.rate, "100 Gb/sec (4X EDR)");
    EXPECT_EQ(p.link_layer, "InfiniBand");
    EXPECT_EQ(p.hca_type, "MT4119");
  }
  EXPECT_NE(inv.infiniband_ports[0].node_guid, inv.infiniband_ports[1].node_guid);
  EXPECT_TRUE(inv.warnings.empty());
}

TEST(InfinibandScanner, NodeWithoutInfinibandHasNoPortsAndNoWarning) {
  for (const char* root : {"sysfs/no_ib", "sysfs/does_not_exist"}) {
    Inventory inv = scan_sysfs(fixture(root));
    EXPECT_TRUE(inv.infiniband_ports.empty()) << root;
    EXPECT_TRUE(inv.warnings.empty()) << root;
  }
}

TEST(InfinibandScanner, RecordsRoceLinkLayerAndSortsPortsNumerically) {
  openbatch::testing::TempDir dir;
  auto dev = dir.path() / "class/infiniband/mlx5_2";
  write_file(dev / "hca_type", "MT4129\n");
  for (const char* n : {"10", "2", "1"}) {
    auto port = dev / "ports" / n;
    write_file(port / "state", "4: ACTIVE\n");
    write_file(port / "phys_state", "5: LinkUp\n");
    write_file(port / "rate", "100 Gb/sec (2X HDR)\n");
    write_file(port / "link_layer", "Ethernet\n");
  }
  Inventory inv = scan_sysfs(dir.path());
  ASSERT_EQ(inv.infiniband_ports.size(), 3u);
  EXPECT_EQ(inv.infiniband_ports[0].port, 1);
  EXPECT_EQ(inv.infiniband_ports[1].port, 2);
  EXPECT_EQ(inv.infiniband_ports[2].port, 10);
  EXPECT_EQ(inv.infiniband_ports[0].link_layer, "Ethernet");
  EXPECT_TRUE(inv.infiniband_ports[0].active()) << "the caller decides whether RoCE will do";
  EXPECT_EQ(inv.infiniband_ports[0].node_guid, "") << "absent attributes stay empty";
}

TEST(InfinibandScanner, WarnsAboutUnreadableStateAndOddValues) {
  openbatch::testing::TempDir dir;
  auto ports = dir.path() / "class/infiniband/mlx5_0/ports";
  write_file(ports / "1/rate", "100 Gb/sec (4X EDR)\n");  // no state file
  write_file(ports / "2/state", "ACTIVE\n");
  write_file(ports / "2/rate", "fast\n");
  Inventory inv = scan_sysfs(dir.path());
  ASSERT_EQ(inv.infiniband_ports.size(), 1u);
  EXPECT_EQ(inv.infiniband_ports[0].port, 2);
  EXPECT_EQ(inv.infiniband_ports[0].state, "ACTIVE") << "kept as read";
  EXPECT_EQ(inv.infiniband_ports[0].rate, "fast");
  EXPECT_EQ(inv.infiniband_ports[0].rate_gbps, 0);
  ASSERT_EQ(inv.warnings.size(), 3u);
  EXPECT_NE(inv.warnings[0].find("ports/1/state"), std::string::npos) << inv.warnings[0];
  EXPECT_NE(inv.warnings[1].find("ACTIVE"), std::string::npos) << inv.warnings[1];
  EXPECT_NE(inv.warnings[2].find("fast"), std::string::npos) << inv.warnings[2];
}

TEST(ParseCodedValue, SplitsCodeAndName) {
  auto active = parse_coded_value("4: ACTIVE\n");
  ASSERT_TRUE(active);
  EXPECT_EQ(active->code, 4);
  EXPECT_EQ(active->name, "ACTIVE");
  auto polling = parse_coded_value("2: Polling");
  ASSERT_TRUE(polling);
  EXPECT_EQ(polling->name, "Polling");
  EXPECT_FALSE(parse_coded_value("ACTIVE"));
  EXPECT_FALSE(parse_coded_value("x: ACTIVE"));
  EXPECT_FALSE(parse_coded_value("4:"));
}

TEST(ParseRateGbps, ReadsTheLeadingFigure) {
  EXPECT_EQ(parse_rate_gbps("100 Gb/sec (4X EDR)"), 100.0);
  EXPECT_EQ(parse_rate_gbps("200 Gb/sec (4X HDR)\n"), 200.0);
  EXPECT_EQ(parse_rate_gbps("400 Gb/sec (4X NDR)"), 400.0);
  EXPECT_EQ(parse_rate_gbps("2.5 Gb/sec (1X SDR)"), 2.5);
  EXPECT_EQ(parse_rate_gbps("56 Gb/sec (4X FDR)"), 56.0);
  EXPECT_FALSE(parse_rate_gbps("fast"));
  EXPECT_FALSE(parse_rate_gbps("100 Mb/sec"));
  EXPECT_FALSE(parse_rate_gbps("x100 Gb/sec"));
}

}  // namespace
}  // namespace openbatch::agent::discovery
