// choose_mpi_transport and mpi_node_net_of: UCX only when every node has an active InfiniBand
// port, TCP on the network the instances share otherwise, and the user's settings winning.
#include "scheduler/dispatch/mpi_transport.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace openbatch::dispatch {
namespace {

using nlohmann::json;
using Env = std::vector<protocol::EnvironmentSetting>;

MpiNodeNet node(std::string id, std::string address, int prefix,
                std::vector<std::string> ib_ports = {}) {
  MpiNodeNet n;
  n.node_id = std::move(id);
  n.address = address;
  n.interfaces = {{"eth0", address, prefix}};
  n.infiniband_ports = std::move(ib_ports);
  return n;
}

std::optional<std::string> value_of(const Env& env, const std::string& name) {
  auto it = std::ranges::find(env, name, &protocol::EnvironmentSetting::name);
  if (it == env.end()) return std::nullopt;
  return it->value;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(MpiTransport, EveryNodeWithInfinibandGetsUcxOnItsOwnDevices) {
  std::vector<MpiNodeNet> nodes = {node("n0", "10.1.0.4", 24, {"mlx5_0:1"}),
                                   node("n1", "10.1.0.5", 24, {"mlx5_0:1", "mlx5_1:1"})};
  const MpiTransport t = choose_mpi_transport(nodes, {});
  EXPECT_EQ(t.kind, "ucx");
  EXPECT_EQ(t.network, "10.1.0.0/24");
  EXPECT_TRUE(t.overridden_by.empty());
  EXPECT_TRUE(contains(t.reason, "InfiniBand")) << t.reason;
  ASSERT_EQ(t.environment.size(), 2u);
  for (const Env& env : t.environment) {
    EXPECT_EQ(value_of(env, "OMPI_MCA_pml"), "ucx");
    EXPECT_EQ(value_of(env, "OMPI_MCA_osc"), "ucx");
    // No byte-transfer layer of Open MPI's own next to UCX: no TCP BTL, no openib/uct.
    EXPECT_EQ(value_of(env, "OMPI_MCA_btl"), "^vader,tcp,openib,uct");
    EXPECT_EQ(value_of(env, "OMPI_MCA_oob_tcp_if_include"), "10.1.0.0/24");
    EXPECT_FALSE(value_of(env, "OMPI_MCA_btl_tcp_if_include"));
  }
  EXPECT_EQ(value_of(t.environment[0], "UCX_NET_DEVICES"), "mlx5_0:1");
  EXPECT_EQ(value_of(t.environment[1], "UCX_NET_DEVICES"), "mlx5_0:1,mlx5_1:1");

  const json j = t.to_json();
  EXPECT_EQ(j["kind"], "ucx");
  EXPECT_EQ(j["network"], "10.1.0.0/24");
  EXPECT_EQ(j["devices"], (json{{"n0", "mlx5_0:1"}, {"n1", "mlx5_0:1,mlx5_1:1"}}));
  EXPECT_EQ(j["reason"], t.reason);
  EXPECT_FALSE(j.contains("overriddenBy"));
}

TEST(MpiTransport, InfinibandOnOnlySomeNodesMeansTcpOnTheSharedNetwork) {
  std::vector<MpiNodeNet> nodes = {node("n0", "10.1.0.4", 24, {"mlx5_0:1"}),
                                   node("n1", "10.1.0.5", 24),
                                   node("n2", "10.1.0.6", 24, {"mlx5_0:1"})};
  const MpiTransport t = choose_mpi_transport(nodes, {});
  EXPECT_EQ(t.kind, "tcp");
  EXPECT_EQ(t.network, "10.1.0.0/24");
  EXPECT_TRUE(contains(t.reason, "n1")) << "names the node without InfiniBand: " << t.reason;
  ASSERT_EQ(t.environment.size(), 3u);
  for (const Env& env : t.environment) {
    EXPECT_EQ(value_of(env, "OMPI_MCA_pml"), "ob1");
    EXPECT_EQ(value_of(env, "OMPI_MCA_btl"), "self,vader,tcp");
    EXPECT_EQ(value_of(env, "OMPI_MCA_btl_tcp_if_include"), "10.1.0.0/24");
    EXPECT_EQ(value_of(env, "OMPI_MCA_oob_tcp_if_include"), "10.1.0.0/24");
    EXPECT_FALSE(value_of(env, "UCX_NET_DEVICES"));
  }
  const json j = t.to_json();
  EXPECT_EQ(j["kind"], "tcp");
  EXPECT_EQ(j["network"], "10.1.0.0/24");
  EXPECT_FALSE(j.contains("devices"));
}

TEST(MpiTransport, NoInfinibandAnywhereIsTcpAndSaysSo) {
  std::vector<MpiNodeNet> nodes = {node("n0", "172.16.3.10", 16), node("n1", "172.16.200.7", 16)};
  const MpiTransport t = choose_mpi_transport(nodes, {});
  EXPECT_EQ(t.kind, "tcp");
  EXPECT_EQ(t.network, "172.16.0.0/16");
  EXPECT_TRUE(contains(t.reason, "InfiniBand")) << t.reason;
}

TEST(MpiTransport, RoceAndPortsThatAreNotActiveDoNotCount) {
  auto inventory = [](json ports) {
    return json{{"hostname", "h"},
                {"addresses",
                 {{{"interface", "eth0"},
                   {"address", "10.1.0.4"},
                   {"family", "ipv4"},
                   {"prefixLength", 24}}}},
                {"infinibandPorts", std::move(ports)}};
  };
  const json roce = inventory(
      {{{"device", "mlx5_0"}, {"port", 1}, {"state", "ACTIVE"}, {"linkLayer", "Ethernet"}}});
  const json down = inventory(
      {{{"device", "mlx5_0"}, {"port", 1}, {"state", "DOWN"}, {"linkLayer", "InfiniBand"}},
       {{"device", "mlx5_1"}, {"port", 1}, {"state", "INIT"}, {"linkLayer", "InfiniBand"}}});
  const json ib = inventory(
      {{{"device", "mlx5_0"}, {"port", 1}, {"state", "ACTIVE"}, {"linkLayer", "InfiniBand"}}});
  EXPECT_TRUE(mpi_node_net_of("a", "10.1.0.4", roce).infiniband_ports.empty());
  EXPECT_TRUE(mpi_node_net_of("b", "10.1.0.4", down).infiniband_ports.empty());
  EXPECT_EQ(mpi_node_net_of("c", "10.1.0.4", ib).infiniband_ports,
            std::vector<std::string>{"mlx5_0:1"});

  std::vector<MpiNodeNet> with_roce = {mpi_node_net_of("a", "10.1.0.4", roce),
                                       mpi_node_net_of("c", "10.1.0.4", ib)};
  EXPECT_EQ(choose_mpi_transport(with_roce, {}).kind, "tcp");
  std::vector<MpiNodeNet> with_down = {mpi_node_net_of("b", "10.1.0.4", down),
                                       mpi_node_net_of("c", "10.1.0.4", ib)};
  EXPECT_EQ(choose_mpi_transport(with_down, {}).kind, "tcp");
}

TEST(MpiTransport, InstancesAllOnLoopbackNameNoInterface) {
  std::vector<MpiNodeNet> nodes = {node("n0", "127.0.0.1", 0), node("n1", "127.0.0.1", 0)};
  nodes[0].interfaces.clear();  // the agent never reports loopback addresses
  const MpiTransport t = choose_mpi_transport(nodes, {});
  EXPECT_EQ(t.kind, "tcp");
  EXPECT_EQ(t.network, "");
  EXPECT_TRUE(contains(t.reason, "loopback")) << t.reason;
  for (const Env& env : t.environment) {
    EXPECT_FALSE(value_of(env, "OMPI_MCA_btl_tcp_if_include"));
    EXPECT_FALSE(value_of(env, "OMPI_MCA_oob_tcp_if_include"));
    EXPECT_EQ(value_of(env, "OMPI_MCA_btl"), "self,vader,tcp");
  }
  EXPECT_FALSE(t.to_json().contains("network"));
}

TEST(MpiTransport, NoCommonNetworkNamesTheNodeThatDiffers) {
  std::vector<MpiNodeNet> nodes = {node("n0", "10.1.0.4", 24), node("n1", "10.1.0.5", 24),
                                   node("n2", "10.2.0.5", 24)};
  const MpiTransport t = choose_mpi_transport(nodes, {});
  EXPECT_EQ(t.kind, "tcp");
  EXPECT_EQ(t.network, "");
  EXPECT_TRUE(contains(t.reason, "n2")) << t.reason;
  for (const Env& env : t.environment) {
    EXPECT_FALSE(value_of(env, "OMPI_MCA_btl_tcp_if_include"));
    EXPECT_FALSE(value_of(env, "OMPI_MCA_oob_tcp_if_include"));
  }

  // Same addresses but different prefix lengths: not one network either.
  std::vector<MpiNodeNet> prefixes = {node("n0", "10.1.0.4", 24), node("n1", "10.1.0.5", 16)};
  EXPECT_EQ(choose_mpi_transport(prefixes, {}).network, "");
  // An agent that predates prefixLength: the network is unknown, so no interface is named.
  std::vector<MpiNodeNet> unknown = {node("n0", "10.1.0.4", 0), node("n1", "10.1.0.5", 24)};
  const MpiTransport u = choose_mpi_transport(unknown, {});
  EXPECT_EQ(u.network, "");
  EXPECT_TRUE(contains(u.reason, "n0")) << u.reason;
  // The address must be on an interface of the node for its network to be known.
  std::vector<MpiNodeNet> elsewhere = {node("n0", "10.1.0.4", 24), node("n1", "10.1.0.5", 24)};
  elsewhere[1].interfaces[0].address = "192.168.0.5";
  EXPECT_EQ(choose_mpi_transport(elsewhere, {}).network, "");
}

TEST(MpiTransport, TheNetworkIsMaskedToItsPrefix) {
  std::vector<MpiNodeNet> nodes = {node("n0", "10.128.77.4", 9), node("n1", "10.200.1.1", 9)};
  EXPECT_EQ(choose_mpi_transport(nodes, {}).network, "10.128.0.0/9");
  std::vector<MpiNodeNet> one = {node("n0", "10.1.0.4", 32)};
  EXPECT_EQ(choose_mpi_transport(one, {}).network, "10.1.0.4/32");
}

TEST(MpiTransport, TheUsersSettingsOverrideAndAreNamed) {
  std::vector<MpiNodeNet> tcp_nodes = {node("n0", "10.1.0.4", 24), node("n1", "10.1.0.5", 24)};
  // The job asks for UCX on nodes without InfiniBand (UCX over TCP, say); the task adds its own.
  const Env user = {{"OMPI_MCA_pml", "ucx"},
                    {"UCX_TLS", "tcp,self"},
                    {"FOO", "bar"},
                    {"OMPI_MCA_btl_tcp_if_include", "eth1"},
                    {"OMPI_MCA_pml", "ucx"}};
  const MpiTransport t = choose_mpi_transport(tcp_nodes, user);
  EXPECT_EQ(t.kind, "ucx");
  EXPECT_EQ(t.overridden_by,
            (std::vector<std::string>{"OMPI_MCA_pml", "UCX_TLS", "OMPI_MCA_btl_tcp_if_include"}));
  EXPECT_TRUE(contains(t.reason, "OMPI_MCA_pml")) << t.reason;
  EXPECT_EQ(t.to_json()["overriddenBy"],
            json({"OMPI_MCA_pml", "UCX_TLS", "OMPI_MCA_btl_tcp_if_include"}));
  // Ours are still there, first: the agent applies the user's after them.
  EXPECT_EQ(value_of(t.environment[0], "OMPI_MCA_pml"), "ob1");

  std::vector<MpiNodeNet> ib_nodes = {node("n0", "10.1.0.4", 24, {"mlx5_0:1"}),
                                      node("n1", "10.1.0.5", 24, {"mlx5_0:1"})};
  EXPECT_EQ(choose_mpi_transport(ib_nodes, Env{{"OMPI_MCA_pml", "ob1"}}).kind, "tcp");
  EXPECT_EQ(choose_mpi_transport(ib_nodes, Env{{"OMPI_MCA_pml", "cm"}}).kind, "tcp");
  const MpiTransport devices = choose_mpi_transport(ib_nodes, Env{{"UCX_NET_DEVICES", "mlx5_1:1"}});
  EXPECT_EQ(devices.kind, "ucx") << "no pml given: the kind stays ours";
  EXPECT_EQ(devices.overridden_by, std::vector<std::string>{"UCX_NET_DEVICES"});
  const MpiTransport oob =
      choose_mpi_transport(ib_nodes, Env{{"OMPI_MCA_oob_tcp_if_include", "ib0"}, {"PATH", "/x"}});
  EXPECT_EQ(oob.overridden_by, std::vector<std::string>{"OMPI_MCA_oob_tcp_if_include"});
  EXPECT_TRUE(choose_mpi_transport(ib_nodes, Env{{"FOO", "1"}}).overridden_by.empty());
}

// What `openbatch-agent discover` reports on a node like tests/fixtures/sysfs/ib_2port_active
// plus a RoCE NIC and IPv6 addresses.
const char* kRealisticInventory = R"json({
  "hostname": "nd96-node-0",
  "addresses": [
    {"interface": "eth0", "address": "10.1.0.4", "family": "ipv4", "prefixLength": 24},
    {"interface": "eth0", "address": "fd00:1::4", "family": "ipv6", "prefixLength": 64},
    {"interface": "ib0", "address": "172.16.0.4", "family": "ipv4", "prefixLength": 16},
    {"interface": "docker0", "address": "172.17.0.1", "family": "ipv4"}
  ],
  "cpus": {"logicalCount": 96, "modelName": "Intel(R) Xeon(R) Platinum 8480C", "sockets": 2,
           "physicalCores": 96},
  "memoryBytes": 2028992647168,
  "infinibandPorts": [
    {"device": "mlx5_0", "port": 1, "state": "ACTIVE", "physState": "LinkUp",
     "rate": "200 Gb/sec (4X HDR)", "rateGbps": 200, "linkLayer": "InfiniBand",
     "nodeGuid": "b859:9f03:00d7:4e2a", "fwVersion": "20.35.1012", "hcaType": "MT4123"},
    {"device": "mlx5_0", "port": 2, "state": "DOWN", "physState": "Disabled",
     "rate": "10 Gb/sec (4X SDR)", "rateGbps": 10, "linkLayer": "InfiniBand",
     "nodeGuid": "b859:9f03:00d7:4e2a", "fwVersion": "20.35.1012", "hcaType": "MT4123"},
    {"device": "mlx5_2", "port": 1, "state": "ACTIVE", "physState": "LinkUp",
     "rate": "100 Gb/sec (4X EDR)", "rateGbps": 100, "linkLayer": "Ethernet",
     "nodeGuid": "0c42:a103:0065:1f30", "fwVersion": "16.35.2000", "hcaType": "MT4119"}
  ],
  "ucxTransports": [{"name": "rc_mlx5", "device": "mlx5_0:1", "type": "network"}],
  "warnings": []
})json";

TEST(MpiNodeNet, ReadsARealisticInventory) {
  const MpiNodeNet n = mpi_node_net_of("tvmps_1", "10.1.0.4", json::parse(kRealisticInventory));
  EXPECT_EQ(n.node_id, "tvmps_1");
  EXPECT_EQ(n.address, "10.1.0.4");
  ASSERT_EQ(n.interfaces.size(), 3u) << "IPv4 only";
  EXPECT_EQ(n.interfaces[0], (MpiNodeNet::Interface{"eth0", "10.1.0.4", 24}));
  EXPECT_EQ(n.interfaces[1], (MpiNodeNet::Interface{"ib0", "172.16.0.4", 16}));
  EXPECT_EQ(n.interfaces[2], (MpiNodeNet::Interface{"docker0", "172.17.0.1", 0}));
  EXPECT_EQ(n.infiniband_ports, std::vector<std::string>{"mlx5_0:1"});

  // Two such nodes on eth0's network, addressed there: UCX, out-of-band on 10.1.0.0/24.
  std::vector<MpiNodeNet> nodes = {n, mpi_node_net_of("tvmps_2", "10.1.0.5", [] {
                                     json j = json::parse(kRealisticInventory);
                                     j["addresses"][0]["address"] = "10.1.0.5";
                                     return j;
                                   }())};
  const MpiTransport t = choose_mpi_transport(nodes, {});
  EXPECT_EQ(t.kind, "ucx");
  EXPECT_EQ(t.network, "10.1.0.0/24");
  EXPECT_EQ(t.to_json()["devices"], (json{{"tvmps_1", "mlx5_0:1"}, {"tvmps_2", "mlx5_0:1"}}));
}

TEST(MpiNodeNet, ToleratesMissingAndMistypedFields) {
  EXPECT_EQ(mpi_node_net_of("n", "10.1.0.4", json()), (MpiNodeNet{"n", "10.1.0.4", {}, {}}));
  EXPECT_EQ(mpi_node_net_of("n", "10.1.0.4", json::array()).interfaces.size(), 0u);
  EXPECT_EQ(mpi_node_net_of("n", "10.1.0.4", json{{"addresses", "eth0"}}).interfaces.size(), 0u);
  const json odd = {
      {"addresses",
       {1,
        {{"address", 5}},
        {{"interface", "eth0"}, {"address", "10.1.0.4"}, {"prefixLength", "24"}},
        {{"address", "not-an-address"}, {"family", "ipv4"}}}},
      {"infinibandPorts",
       {"mlx5_0",
        {{"device", "mlx5_0"}, {"port", "1"}, {"state", "ACTIVE"}, {"linkLayer", "InfiniBand"}},
        {{"device", "mlx5_1"}, {"port", 1}, {"state", "4: ACTIVE"}, {"linkLayer", "InfiniBand"}},
        {{"port", 1}, {"state", "ACTIVE"}, {"linkLayer", "InfiniBand"}}}}};
  const MpiNodeNet n = mpi_node_net_of("n", "10.1.0.4", odd);
  ASSERT_EQ(n.interfaces.size(), 1u);
  EXPECT_EQ(n.interfaces[0], (MpiNodeNet::Interface{"eth0", "10.1.0.4", 0}))
      << "a prefix length that is not a number is unknown";
  EXPECT_EQ(n.infiniband_ports, std::vector<std::string>{"mlx5_1:1"})
      << "sysfs's \"4: ACTIVE\" counts; a port that is not a number or a nameless device does not";
}

TEST(MpiTransport, NoNodesIsHarmless) {
  const MpiTransport t = choose_mpi_transport({}, {});
  EXPECT_EQ(t.kind, "tcp");
  EXPECT_TRUE(t.environment.empty());
  EXPECT_FALSE(t.reason.empty());
}

}  // namespace
}  // namespace openbatch::dispatch
