// InventoryFileGpuSource: the GPUs recorded in a JSON file (--gpu-inventory FILE) instead of
// asked of the driver -- fixtures captured on real machines for tests and development, as
// flux reads hwloc XML from FLUX_HWLOC_XMLFILE. The file is a GpuReport:
//   {"gpuDriverVersion": "535.104.05", "cudaDriverVersion": "12.2", "gpus": [Gpu...]}
// and a whole Inventory document (which has the same three fields) is accepted too; other
// fields ("comment", "placeholder", ...) are ignored. See docs/gpu-discovery.md.
// Thread-safety: see GpuSource.
#pragma once

#include "node_agent/discovery/gpu_source.hpp"

#include <filesystem>
#include <utility>

namespace openbatch::agent::discovery {

class InventoryFileGpuSource final : public GpuSource {
 public:
  explicit InventoryFileGpuSource(std::filesystem::path file) : file_(std::move(file)) {}

  std::string_view name() const override { return "inventory-file"; }

  // The file's report; never nullopt. An Error "InvalidInventory" / "DiscoveryFailed" naming
  // the file when it is missing, not JSON, not of the shape above, or lists a GPU without a
  // uuid or two GPUs with the same index or uuid.
  [[nodiscard]] Result<std::optional<GpuReport>> query() override;

  // A person asked for this file: its failure fails discovery.
  bool authoritative() const override { return true; }

 private:
  std::filesystem::path file_;
};

}  // namespace openbatch::agent::discovery
