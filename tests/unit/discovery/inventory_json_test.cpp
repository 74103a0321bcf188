// Inventory JSON: round trip, the camelCase field names of the agent protocol, and the
// non-throwing decoders' refusals.
#include "node_agent/discovery/inventory.hpp"

#include <gtest/gtest.h>

namespace openbatch::agent::discovery {
namespace {

using nlohmann::json;

Inventory full_inventory() {
  Inventory v;
  v.hostname = "nd96-node-0";
  v.addresses = {{"eth0", "10.1.0.4", "ipv4", 24}, {"ib0", "fd00:1::4", "ipv6", 64}};
  v.cpus = {96, "Intel(R) Xeon(R) Platinum 8480C", 2, 96};
  v.memory_bytes = 2028992647168;
  v.gpu_source = "nvml";
  v.gpu_driver_version = "535.104.05";
  v.cuda_driver_version = "12.2";
  v.gpus = {{0, "NVIDIA H100 80GB HBM3", "GPU-6513270e-269e-0d37-f2a7-4de452e6b438", 81559,
             "00000000:18:00.0", true},
            {1, "NVIDIA H100 80GB HBM3", "GPU-d23f0824-128b-2f33-0c5c-7fd0a6a3a450", 81559,
             "00000000:2A:00.0", std::nullopt}};
  v.infiniband_ports = {{"mlx5_0", 1, "ACTIVE", "LinkUp", "200 Gb/sec (4X HDR)", 200, "InfiniBand",
                         "b859:9f03:00d7:4e2a", "20.35.1012", "MT4123"},
                        {"mlx5_0", 2, "DOWN", "Disabled", "2.5 Gb/sec (1X SDR)", 2.5, "InfiniBand",
                         "b859:9f03:00d7:4e2a", "20.35.1012", "MT4123"}};
  v.ucx_transports = {{"rc_mlx5", "mlx5_0:1", "network"}, {"tcp", "eth0", "network"}};
  v.warnings = {"ucx_info not found"};
  return v;
}

TEST(InventoryJson, RoundTripsEveryField) {
  Inventory v = full_inventory();
  json j = v;
  auto back = inventory_from_json(json::parse(j.dump()));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, v);
}

TEST(InventoryJson, UsesTheDocumentedCamelCaseNames) {
  json j = full_inventory();
  for (const char* key :
       {"hostname", "addresses", "cpus", "memoryBytes", "gpuSource", "gpuDriverVersion",
        "cudaDriverVersion", "gpus", "infinibandPorts", "ucxTransports", "warnings"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j.size(), 11u);
  EXPECT_EQ(j["memoryBytes"], 2028992647168ull);
  EXPECT_EQ(j["addresses"][0], (json{{"interface", "eth0"},
                                     {"address", "10.1.0.4"},
                                     {"family", "ipv4"},
                                     {"prefixLength", 24}}));
  EXPECT_EQ(j["cpus"], (json{{"logicalCount", 96},
                             {"modelName", "Intel(R) Xeon(R) Platinum 8480C"},
                             {"sockets", 2},
                             {"physicalCores", 96}}));
  EXPECT_EQ(j["gpus"][0]["memoryMiB"], 81559);
  EXPECT_EQ(j["gpus"][0]["pciBusId"], "00000000:18:00.0");
  EXPECT_EQ(j["gpus"][0]["migEnabled"], true);
  EXPECT_FALSE(j["gpus"][1].contains("migEnabled")) << "absent, not null, when unknown";
  const json& port = j["infinibandPorts"][0];
  EXPECT_EQ(port["linkLayer"], "InfiniBand");
  EXPECT_EQ(port["physState"], "LinkUp");
  EXPECT_EQ(port["rateGbps"], 200.0);
  EXPECT_EQ(port["nodeGuid"], "b859:9f03:00d7:4e2a");
  EXPECT_EQ(port["fwVersion"], "20.35.1012");
  EXPECT_EQ(port["hcaType"], "MT4123");
  EXPECT_EQ(j["ucxTransports"][0],
            (json{{"name", "rc_mlx5"}, {"device", "mlx5_0:1"}, {"type", "network"}}));
}

TEST(InventoryJson, PrefixLengthIsOptional) {
  Address unknown{"eth0", "10.1.0.4", "ipv4"};
  EXPECT_EQ(json(unknown),
            (json{{"interface", "eth0"}, {"address", "10.1.0.4"}, {"family", "ipv4"}}))
      << "0 (unknown) is omitted";
  // An inventory of an agent that predates the field, and one with a value that is no prefix.
  EXPECT_EQ((json{{"address", "10.1.0.4"}}.get<Address>().prefix_length), 0);
  EXPECT_EQ((json{{"address", "10.1.0.4"}, {"prefixLength", 999}}.get<Address>().prefix_length), 0);
  EXPECT_EQ((json{{"address", "10.1.0.4"}, {"prefixLength", 16}}.get<Address>().prefix_length), 16);
}

TEST(InventoryJson, IgnoresUnknownFieldsAndDefaultsOptionalOnes) {
  json j = {{"hostname", "n1"},
            {"cpus", {{"logicalCount", 4}}},
            {"memoryBytes", 1024},
            {"addedByANewerAgent", {1, 2}}};
  auto v = inventory_from_json(j);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->hostname, "n1");
  EXPECT_EQ(v->cpus.logical_count, 4);
  EXPECT_EQ(v->cpus.sockets, 0);
  EXPECT_TRUE(v->gpus.empty());
  EXPECT_TRUE(v->warnings.empty());
}

TEST(InventoryJson, RefusesWhatIsNotAnInventory) {
  EXPECT_EQ(inventory_from_json(json::array()).error().code, "InvalidInventory");
  json missing = {{"cpus", {{"logicalCount", 4}}}, {"memoryBytes", 1}};
  auto r = inventory_from_json(missing);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "InvalidInventory");
  EXPECT_NE(r.error().message.find("hostname"), std::string::npos) << r.error().message;
  json wrong_type = {{"hostname", "n1"}, {"cpus", {{"logicalCount", 4}}}, {"memoryBytes", "lots"}};
  EXPECT_FALSE(inventory_from_json(wrong_type));
  json gpu_without_uuid = {{"hostname", "n1"},
                           {"cpus", {{"logicalCount", 4}}},
                           {"memoryBytes", 1},
                           {"gpus", {{{"index", 0}}}}};
  EXPECT_FALSE(inventory_from_json(gpu_without_uuid));
}

TEST(GpuReportJson, NeedsAGpusArray) {
  EXPECT_FALSE(gpu_report_from_json(json{{"gpuDriverVersion", "535.104.05"}}));
  EXPECT_FALSE(gpu_report_from_json(json{{"gpus", "none"}}));
  auto ok = gpu_report_from_json(json{{"gpus", json::array()}, {"cudaDriverVersion", "12.2"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->cuda_driver_version, "12.2");
  EXPECT_TRUE(ok->gpus.empty());
}

}  // namespace
}  // namespace openbatch::agent::discovery
