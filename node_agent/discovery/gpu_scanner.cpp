// GpuScanner: the GPU source selection order (see gpu_source.hpp).
#include "node_agent/discovery/gpu_source.hpp"

#include <system_error>

namespace openbatch::agent::discovery {

Status GpuScanner::scan(Inventory& inventory) {
  bool warned = false;
  for (const auto& source : sources_) {
    auto answer = source->query();
    if (!answer) {
      if (source->authoritative()) return answer.error();
      inventory.warnings.push_back(std::string(source->name()) + ": " + answer.error().message);
      warned = true;
      continue;
    }
    if (!*answer) continue;
    GpuReport& report = **answer;
    inventory.gpu_source = std::string(source->name());
    inventory.gpu_driver_version = std::move(report.driver_version);
    inventory.cuda_driver_version = std::move(report.cuda_driver_version);
    inventory.gpus = std::move(report.gpus);
    for (auto& w : report.warnings) {
      inventory.warnings.push_back(std::string(source->name()) + ": " + std::move(w));
    }
    return {};
  }
  const auto driver = proc_root_ / "driver" / "nvidia" / "version";
  std::error_code ec;
  if (!warned && std::filesystem::exists(driver, ec)) {
    inventory.warnings.push_back("the NVIDIA kernel driver is loaded (" + driver.string() +
                                 ") but neither NVML nor nvidia-smi is installed; GPUs not listed");
  }
  return {};
}

}  // namespace openbatch::agent::discovery
