// discover(): wires the scanners and GPU sources from DiscoveryOptions (see discover.hpp).
#include "node_agent/discovery/discover.hpp"

#include "node_agent/discovery/cpu_memory_scanner.hpp"
#include "node_agent/discovery/host_scanner.hpp"
#include "node_agent/discovery/infiniband_scanner.hpp"
#include "node_agent/discovery/inventory_file_gpu_source.hpp"
#include "node_agent/discovery/nvidia_smi_gpu_source.hpp"
#include "node_agent/discovery/nvml_gpu_source.hpp"
#include "node_agent/discovery/ucx_scanner.hpp"

namespace openbatch::agent::discovery {

std::vector<std::unique_ptr<GpuSource>> gpu_sources(const DiscoveryOptions& options) {
  std::vector<std::unique_ptr<GpuSource>> sources;
  if (!options.gpu_inventory_file.empty()) {
    sources.push_back(std::make_unique<InventoryFileGpuSource>(options.gpu_inventory_file));
    return sources;
  }
  sources.push_back(std::make_unique<NvmlGpuSource>(options.nvml_library));
  sources.push_back(std::make_unique<NvidiaSmiGpuSource>(
      options.nvidia_smi, options.command_timeout, options.search_path));
  return sources;
}

std::vector<std::unique_ptr<Scanner>> scanners(const DiscoveryOptions& options) {
  std::vector<std::unique_ptr<Scanner>> list;
  list.push_back(std::make_unique<CpuMemoryScanner>(options.proc_root));
  list.push_back(std::make_unique<HostScanner>());
  list.push_back(std::make_unique<InfinibandScanner>(options.sysfs_root));
  list.push_back(std::make_unique<GpuScanner>(gpu_sources(options), options.proc_root));
  if (options.run_ucx_info) {
    list.push_back(std::make_unique<UcxScanner>(options.ucx_info, options.command_timeout,
                                                options.search_path));
  }
  return list;
}

Result<Inventory> discover(const DiscoveryOptions& options) { return scan(scanners(options)); }

}  // namespace openbatch::agent::discovery
