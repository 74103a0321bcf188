// Inventory: what a node agent found on its machine, as one plain value -- the document the
// agent sends the scheduler when it joins a pool and again whenever it changes (after a start
// task that installs a driver, say). Also its JSON form and the change test.
//
// The JSON field names are part of the agent protocol: camelCase, stable, and listed below
// next to each member. Readers ignore fields they do not know, so a newer agent can add one.
// A number 0 or a string "" means "not known" unless the comment says otherwise.
//
// Thread-safety: plain values; the functions are pure.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace openbatch::agent::discovery {

// One non-loopback address of an interface that is up.
struct Address {
  std::string interface_name;  // "interface": "eth0", "ib0"
  std::string address;         // "address": "10.1.0.4", "fd00::4" (numeric, no scope suffix)
  std::string family;          // "family": "ipv4" | "ipv6"
  // "prefixLength": 24 -- the length of the network prefix (from the netmask); 0 = unknown,
  // and then omitted (agents before it never sent it).
  int prefix_length = 0;
  bool operator==(const Address&) const = default;
};

struct CpuInfo {
  int logical_count = 0;   // "logicalCount": processors the kernel lists (hardware threads)
  std::string model_name;  // "modelName": "Intel(R) Xeon(R) Platinum 8480C"
  int sockets = 0;         // "sockets": distinct physical ids; 0 where cpuinfo has none (Arm)
  int physical_cores = 0;  // "physicalCores": distinct (socket, core) pairs, all sockets
  bool operator==(const CpuInfo&) const = default;
};

struct Gpu {
  int index = 0;                 // "index": NVML / nvidia-smi index, as CUDA_VISIBLE_DEVICES takes
  std::string name;              // "name": "NVIDIA H100 80GB HBM3"
  std::string uuid;              // "uuid": "GPU-6f5b1d0e-..."; the key the scheduler assigns by
  std::uint64_t memory_mib = 0;  // "memoryMiB": total framebuffer memory in MiB (1 MiB = 2^20 B)
  std::string pci_bus_id;        // "pciBusId": "00000000:18:00.0"
  std::optional<bool> mig_enabled;  // "migEnabled": current MIG mode; absent when not reported
  bool operator==(const Gpu&) const = default;
};

// One port of an RDMA device under /sys/class/infiniband. The device's own attributes are
// repeated on each of its ports so that a port stands alone.
struct InfinibandPort {
  std::string device;      // "device": "mlx5_0"
  int port = 0;            // "port": 1-based port number
  std::string state;       // "state": "ACTIVE", "DOWN", "INIT", "ARMED", "ACTIVE_DEFER"
  std::string phys_state;  // "physState": "LinkUp", "Polling", "Disabled", ...
  std::string rate;        // "rate": as sysfs words it, "200 Gb/sec (4X HDR)"
  double rate_gbps = 0;    // "rateGbps": 200
  std::string link_layer;  // "linkLayer": "InfiniBand" | "Ethernet" (RoCE)
  std::string node_guid;   // "nodeGuid": "b859:9f03:00d7:4e2a"
  std::string fw_version;  // "fwVersion": "20.35.1012"
  std::string hca_type;    // "hcaType": "MT4123"
  bool operator==(const InfinibandPort&) const = default;

  // The port is up and can carry traffic. Whether an Ethernet (RoCE) port is acceptable for
  // MPI is the caller's choice: test link_layer as well.
  bool active() const { return state == "ACTIVE"; }
};

// One UCX transport on one device, as `ucx_info -d` lists it.
struct UcxTransport {
  std::string name;    // "name": "rc_mlx5", "ud_verbs", "tcp", "self", "sysv", "cuda_copy"
  std::string device;  // "device": "mlx5_0:1", "eth0", "memory"
  std::string type;    // "type": "network", "intra-node", "loopback", "accelerator"; "" if absent
  bool operator==(const UcxTransport&) const = default;
};

// What a GPU source reports: the same shape as the Inventory's GPU fields, which is also the
// shape of a --gpu-inventory file ({"gpuDriverVersion", "cudaDriverVersion", "gpus"}).
struct GpuReport {
  std::string driver_version;         // "gpuDriverVersion": "535.104.05"
  std::string cuda_driver_version;    // "cudaDriverVersion": "12.2", the highest CUDA it supports
  std::vector<Gpu> gpus;              // "gpus"
  std::vector<std::string> warnings;  // not serialised; moved into Inventory::warnings
};

struct Inventory {
  std::string hostname;             // "hostname"
  std::vector<Address> addresses;   // "addresses"
  CpuInfo cpus;                     // "cpus"
  std::uint64_t memory_bytes = 0;   // "memoryBytes": MemTotal
  std::string gpu_source;           // "gpuSource": "nvml" | "nvidia-smi" | "inventory-file" | ""
  std::string gpu_driver_version;   // "gpuDriverVersion"
  std::string cuda_driver_version;  // "cudaDriverVersion"
  std::vector<Gpu> gpus;            // "gpus", by index
  std::vector<InfinibandPort> infiniband_ports;  // "infinibandPorts", by device then port
  std::vector<UcxTransport> ucx_transports;      // "ucxTransports", in ucx_info's order
  std::vector<std::string> warnings;  // "warnings": what discovery could not do, for people
  bool operator==(const Inventory&) const = default;
};

// nlohmann ADL conversions. from_json throws nlohmann::json::exception on a missing required
// field or a wrong type; outside nlohmann's own conversions use inventory_from_json.
// Required: Inventory.hostname, Inventory.cpus.logicalCount, Inventory.memoryBytes,
// Gpu.index, Gpu.uuid, InfinibandPort.device, InfinibandPort.port, UcxTransport.name,
// Address.address. Everything else defaults when absent.
void to_json(nlohmann::json& j, const Address& v);
void from_json(const nlohmann::json& j, Address& v);
void to_json(nlohmann::json& j, const CpuInfo& v);
void from_json(const nlohmann::json& j, CpuInfo& v);
void to_json(nlohmann::json& j, const Gpu& v);
void from_json(const nlohmann::json& j, Gpu& v);
void to_json(nlohmann::json& j, const InfinibandPort& v);
void from_json(const nlohmann::json& j, InfinibandPort& v);
void to_json(nlohmann::json& j, const UcxTransport& v);
void from_json(const nlohmann::json& j, UcxTransport& v);
void to_json(nlohmann::json& j, const GpuReport& v);
void from_json(const nlohmann::json& j, GpuReport& v);
void to_json(nlohmann::json& j, const Inventory& v);
void from_json(const nlohmann::json& j, Inventory& v);

// Non-throwing decoders: an Error "InvalidInventory" naming what is wrong.
[[nodiscard]] Result<Inventory> inventory_from_json(const nlohmann::json& j);
[[nodiscard]] Result<GpuReport> gpu_report_from_json(const nlohmann::json& j);

// Whether b describes different hardware or configuration than a, so that the agent must send
// it again. Ignores what varies between two scans of the same machine: warnings, gpuSource
// (NVML one time, nvidia-smi the next, same GPUs), and the order of every list.
bool inventory_changed(const Inventory& a, const Inventory& b);

}  // namespace openbatch::agent::discovery
