// discover(): the agent's whole hardware discovery -- the scanners composed in order over one
// Inventory -- and the configuration that points each at real or fixture sources
// (--proc-root, --sysfs-root, --gpu-inventory). Sources are chosen by these options, never by
// build flags, so that tests run the same code as a real node.
// Thread-safety: discover() may run on any thread; it shares nothing between calls.
#pragma once

#include "node_agent/discovery/command.hpp"
#include "node_agent/discovery/gpu_source.hpp"
#include "node_agent/discovery/inventory.hpp"
#include "node_agent/discovery/scanner.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace openbatch::agent::discovery {

struct DiscoveryOptions {
  std::filesystem::path proc_root = "/proc";  // cpuinfo, meminfo, driver/nvidia/version
  std::filesystem::path sysfs_root = "/sys";  // class/infiniband
  std::filesystem::path gpu_inventory_file;   // --gpu-inventory: when set, the only GPU source
  bool run_ucx_info = true;                   // run `ucx_info -d` for UCX transports
  std::chrono::milliseconds command_timeout = std::chrono::seconds(10);  // each helper program
  // Where the helpers are found; overridable so that tests can use stand-ins.
  std::string nvml_library = "libnvidia-ml.so.1";
  std::string nvidia_smi = "nvidia-smi";
  std::string ucx_info = "ucx_info";
  std::string search_path = std::string(kSystemSearchPath);
};

// The GPU sources in the order they are asked: [inventory file] when gpu_inventory_file is
// set, else [NVML, nvidia-smi].
std::vector<std::unique_ptr<GpuSource>> gpu_sources(const DiscoveryOptions& options);

// The scanners in order: cpu-memory, host, infiniband, gpu, and ucx when run_ucx_info.
std::vector<std::unique_ptr<Scanner>> scanners(const DiscoveryOptions& options);

// scan(scanners(options)). An Error only when the node's basics cannot be read (see each
// Scanner) or the configured GPU inventory file is bad; missing GPUs, InfiniBand or UCX are
// empty lists, with warnings where something seemed present but failed.
[[nodiscard]] Result<Inventory> discover(const DiscoveryOptions& options);

}  // namespace openbatch::agent::discovery
