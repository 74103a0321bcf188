// The MPI transport of a multi-instance task, chosen by the scheduler from what each node's
// inventory says (architecture.md "Multi-instance tasks and MPI"):
//   * every node has an active InfiniBand port -> UCX: OMPI_MCA_pml=ucx, OMPI_MCA_osc=ucx,
//     no byte-transfer layers of its own (OMPI_MCA_btl=^vader,tcp,openib,uct), and
//     UCX_NET_DEVICES = that node's active ports ("mlx5_0:1,mlx5_1:1");
//   * otherwise TCP through ob1 (OMPI_MCA_pml=ob1, OMPI_MCA_btl=self,vader,tcp), restricted to
//     the IPv4 network every instance's address lies in (btl_tcp_if_include and
//     oob_tcp_if_include = "10.1.0.0/24") when there is one.
// A RoCE port (link layer Ethernet) or a port that is not ACTIVE does not count. The user's own
// settings (the job's commonEnvironmentSettings, then the task's environmentSettings) win: the
// agent sets ours first and theirs after, and the record names what they replaced. The choice
// is recorded on the task as openbatch.mpiTransport (to_json) and logged by the agent.
// Pure; thread-safe.
#pragma once

#include "common/protocol/agent_protocol.hpp"

#include <nlohmann/json.hpp>

#include <span>
#include <string>
#include <vector>

namespace openbatch::dispatch {

struct MpiNodeNet {
  std::string node_id;
  std::string address;  // the node's address as it appears in AZ_BATCH_HOST_LIST
  struct Interface {
    std::string name;
    std::string address;
    int prefix_length = 0;  // 0: unknown
    bool operator==(const Interface&) const = default;
  };
  std::vector<Interface> interfaces;          // IPv4 only
  std::vector<std::string> infiniband_ports;  // active InfiniBand ports, "mlx5_0:1"
  bool operator==(const MpiNodeNet&) const = default;
};

// From the inventory JSON the agent sent ({"addresses": [{"interface", "address", "family",
// "prefixLength"}], "infinibandPorts": [{"device", "port", "state", "linkLayer"}]}); tolerant
// of missing or mistyped fields.
MpiNodeNet mpi_node_net_of(std::string node_id, std::string address,
                           const nlohmann::json& inventory);

struct MpiTransport {
  std::string kind;     // "ucx" | "tcp"
  std::string network;  // the IPv4 network of every instance's address ("" when none)
  std::string reason;   // one sentence for people: why this choice
  std::vector<std::string> overridden_by;  // the user's settings that replace ours
  // Per node, in input order: what the agent sets before the job's and task's own settings.
  std::vector<std::vector<protocol::EnvironmentSetting>> environment;
  std::vector<std::string> node_ids;  // input order, for to_json's devices
  // {"kind", "network"?, "devices"? {"<nodeId>": "mlx5_0:1,..."}, "reason", "overriddenBy"?}
  nlohmann::json to_json() const;
};

MpiTransport choose_mpi_transport(std::span<const MpiNodeNet> nodes,
                                  std::span<const protocol::EnvironmentSetting> user_environment);

}  // namespace openbatch::dispatch
