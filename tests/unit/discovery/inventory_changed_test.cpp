// inventory_changed: volatile fields and list order are ignored; hardware changes are not.
#include "node_agent/discovery/inventory.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace openbatch::agent::discovery {
namespace {

Inventory node() {
  Inventory v;
  v.hostname = "hpc-node-07";
  v.addresses = {{"eth0", "10.1.0.7", "ipv4"}, {"ib0", "172.16.0.7", "ipv4"}};
  v.cpus = {96, "AMD EPYC 7V73X 64-Core Processor", 2, 96};
  v.memory_bytes = 472446402560;
  v.gpu_source = "nvml";
  v.gpu_driver_version = "535.104.05";
  v.cuda_driver_version = "12.2";
  v.gpus = {{0, "NVIDIA A100-SXM4-80GB", "GPU-a", 81920, "00000000:07:00.0", false},
            {1, "NVIDIA A100-SXM4-80GB", "GPU-b", 81920, "00000000:0F:00.0", false}};
  v.infiniband_ports = {{"mlx5_0", 1, "ACTIVE", "LinkUp", "100 Gb/sec (4X EDR)", 100, "InfiniBand",
                         "g0", "16.35.2000", "MT4119"},
                        {"mlx5_1", 1, "ACTIVE", "LinkUp", "100 Gb/sec (4X EDR)", 100, "InfiniBand",
                         "g1", "16.35.2000", "MT4119"}};
  v.ucx_transports = {{"rc_mlx5", "mlx5_0:1", "network"}, {"tcp", "eth0", "network"}};
  return v;
}

TEST(InventoryChanged, SameScanIsUnchanged) { EXPECT_FALSE(inventory_changed(node(), node())); }

TEST(InventoryChanged, IgnoresWarningsGpuSourceAndOrder) {
  Inventory b = node();
  b.warnings = {"ucx: ucx_info -d exited with status 1"};
  b.gpu_source = "nvidia-smi";
  std::ranges::reverse(b.addresses);
  std::ranges::reverse(b.gpus);
  std::ranges::reverse(b.infiniband_ports);
  std::ranges::reverse(b.ucx_transports);
  EXPECT_FALSE(inventory_changed(node(), b));
}

TEST(InventoryChanged, SeesHardwareAndDriverChanges) {
  auto changed = [](auto edit) {
    Inventory b = node();
    edit(b);
    return inventory_changed(node(), b);
  };
  EXPECT_TRUE(changed([](Inventory& b) { b.gpus.pop_back(); }));
  EXPECT_TRUE(changed([](Inventory& b) { b.gpus[0].mig_enabled = true; }));
  EXPECT_TRUE(changed([](Inventory& b) { b.gpu_driver_version = "550.54.15"; }));
  EXPECT_TRUE(changed([](Inventory& b) { b.cuda_driver_version = "12.4"; }));
  EXPECT_TRUE(changed([](Inventory& b) { b.infiniband_ports[1].state = "DOWN"; }));
  EXPECT_TRUE(changed([](Inventory& b) { b.ucx_transports.pop_back(); }));
  EXPECT_TRUE(changed([](Inventory& b) { b.addresses[0].address = "10.1.0.8"; }));
  EXPECT_TRUE(changed([](Inventory& b) { b.memory_bytes /= 2; }));
  EXPECT_TRUE(changed([](Inventory& b) { b.cpus.logical_count = 48; }));
  EXPECT_TRUE(changed([](Inventory& b) { b.hostname = "hpc-node-08"; }));
}

}  // namespace
}  // namespace openbatch::agent::discovery
