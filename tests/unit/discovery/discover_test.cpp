// discover(): the scanners composed over fixtures -- a 2-port ConnectX node with 8 GPUs, a
// two-HCA node whose GPUs come from nvidia-smi, a node with neither -- and over this machine.
#include "node_agent/discovery/discover.hpp"

#include "tests/support/temp_dir.hpp"
#include "tests/unit/discovery/discovery_fixtures.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace openbatch::agent::discovery {
namespace {

using testing::fixture;

// Options that read only fixtures and stand-ins, never this machine's GPU software.
DiscoveryOptions fixture_options(const std::string& sysfs) {
  DiscoveryOptions o;
  o.proc_root = fixture("proc/2socket_96core");
  o.sysfs_root = fixture("sysfs/" + sysfs);
  o.nvml_library = "libnvidia-ml-openbatch-test-absent.so.1";
  o.nvidia_smi = "/nonexistent/nvidia-smi";
  o.run_ucx_info = false;
  return o;
}

TEST(Discover, TwoPortConnectXNodeWithEightGpus) {
  DiscoveryOptions o = fixture_options("ib_2port_active");
  o.gpu_inventory_file = fixture("gpu/8x_h100.json");
  o.nvml_library = FAKE_NVML_CURRENT_PATH;  // present and working, yet the file wins
  auto inv = discover(o);
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_FALSE(inv->hostname.empty());
  EXPECT_EQ(inv->cpus.logical_count, 96);
  EXPECT_EQ(inv->cpus.sockets, 2);
  EXPECT_EQ(inv->memory_bytes, 1981438132ull * 1024);
  EXPECT_EQ(inv->gpu_source, "inventory-file");
  EXPECT_EQ(inv->gpus.size(), 8u);
  EXPECT_EQ(inv->gpu_driver_version, "535.104.05");
  EXPECT_EQ(inv->cuda_driver_version, "12.2");
  ASSERT_EQ(inv->infiniband_ports.size(), 2u);
  EXPECT_TRUE(inv->infiniband_ports[0].active());
  EXPECT_FALSE(inv->infiniband_ports[1].active());
  EXPECT_TRUE(inv->ucx_transports.empty());
  EXPECT_TRUE(inv->warnings.empty()) << inv->warnings.front();
}

TEST(Discover, NvidiaSmiAnswersWhenNvmlIsAbsent) {
  openbatch::testing::TempDir dir;
  testing::write_script(
      dir.path() / "nvidia-smi",
      "[ $# -eq 0 ] && exec cat '" + fixture("gpu/nvidia-smi-8x_a100-header.txt").string() +
          "'\nexec cat '" + fixture("gpu/nvidia-smi-8x_a100.csv").string() + "'\n");
  DiscoveryOptions o = fixture_options("ib_2hca_edr");
  o.nvidia_smi = "nvidia-smi";
  o.search_path = dir.path().string();
  auto inv = discover(o);
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_EQ(inv->gpu_source, "nvidia-smi");
  EXPECT_EQ(inv->gpus.size(), 8u);
  EXPECT_EQ(inv->cuda_driver_version, "12.2");
  EXPECT_EQ(inv->infiniband_ports.size(), 2u);
  EXPECT_TRUE(inv->warnings.empty()) << inv->warnings.front();
}

TEST(Discover, NodeWithNeitherGpusNorInfiniband) {
  openbatch::testing::TempDir proc;  // the fixture's cpuinfo/meminfo, without an NVIDIA driver
  std::filesystem::copy_file(fixture("proc/2socket_96core/cpuinfo"), proc.path() / "cpuinfo");
  std::filesystem::copy_file(fixture("proc/2socket_96core/meminfo"), proc.path() / "meminfo");
  DiscoveryOptions o = fixture_options("no_ib");
  o.proc_root = proc.path();
  auto inv = discover(o);
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_EQ(inv->cpus.logical_count, 96);
  EXPECT_TRUE(inv->gpus.empty());
  EXPECT_EQ(inv->gpu_source, "");
  EXPECT_TRUE(inv->infiniband_ports.empty());
  EXPECT_TRUE(inv->warnings.empty()) << inv->warnings.front();
}

TEST(Discover, FailingNvmlFallsBackToNoGpusWithAWarning) {
  DiscoveryOptions o = fixture_options("no_ib");
  o.nvml_library = FAKE_NVML_NO_DRIVER_PATH;
  auto inv = discover(o);
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_TRUE(inv->gpus.empty());
  ASSERT_EQ(inv->warnings.size(), 1u);
  EXPECT_NE(inv->warnings[0].find("nvml: nvmlInit_v2"), std::string::npos) << inv->warnings[0];
}

TEST(Discover, BadConfigurationIsAnErrorNamingTheScanner) {
  DiscoveryOptions bad_file = fixture_options("no_ib");
  bad_file.gpu_inventory_file = "/nonexistent/gpus.json";
  auto r = discover(bad_file);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().message.starts_with("gpu: ")) << r.error().message;

  DiscoveryOptions bad_proc = fixture_options("no_ib");
  bad_proc.proc_root = "/nonexistent/proc";
  auto p = discover(bad_proc);
  ASSERT_FALSE(p);
  EXPECT_TRUE(p.error().message.starts_with("cpu-memory: ")) << p.error().message;
}

TEST(Discover, ScansThisMachineWithTheDefaults) {
  auto inv = discover(DiscoveryOptions{});
  ASSERT_TRUE(inv) << inv.error().message;
  EXPECT_FALSE(inv->hostname.empty());
  EXPECT_GE(inv->cpus.logical_count, 1);
  EXPECT_GT(inv->memory_bytes, 0u);
  auto back = inventory_from_json(nlohmann::json(*inv));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, *inv);
  EXPECT_FALSE(inventory_changed(*inv, *back));
}

}  // namespace
}  // namespace openbatch::agent::discovery
