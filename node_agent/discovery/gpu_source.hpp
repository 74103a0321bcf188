// GpuSource: one way of listing a node's NVIDIA GPUs (NVML, nvidia-smi, a captured inventory
// file), and GpuScanner, which asks a list of them in order and keeps the first answer. The
// order itself is chosen by gpu_sources() in discover.hpp: --gpu-inventory FILE alone when
// given, else NVML, then nvidia-smi.
// Thread-safety: a GpuSource is used by one thread at a time.
#pragma once

#include "node_agent/discovery/scanner.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace openbatch::agent::discovery {

class GpuSource {
 public:
  virtual ~GpuSource() = default;

  // "nvml", "nvidia-smi", "inventory-file": recorded as Inventory::gpu_source.
  virtual std::string_view name() const = 0;

  // The node's GPUs as this source sees them:
  //  * nullopt -- the source is not on this node (no libnvidia-ml, no nvidia-smi): a node
  //    without NVIDIA software, nothing to report;
  //  * Error -- the source is there but failed (driver not loaded, command timed out);
  //  * a GpuReport -- possibly with zero GPUs, and with warnings about single devices.
  [[nodiscard]] virtual Result<std::optional<GpuReport>> query() = 0;

  // True for a source a person configured explicitly (an inventory file): its failure fails
  // discovery instead of falling through to the next source.
  virtual bool authoritative() const { return false; }
};

class GpuScanner final : public Scanner {
 public:
  // `proc_root` is only used to notice a loaded NVIDIA kernel driver
  // (<proc>/driver/nvidia/version) when no source answers.
  GpuScanner(std::vector<std::unique_ptr<GpuSource>> sources, std::filesystem::path proc_root)
      : sources_(std::move(sources)), proc_root_(std::move(proc_root)) {}

  std::string_view name() const override { return "gpu"; }

  // Asks the sources in order. The first report fills gpus, gpu_source, the driver and CUDA
  // versions, and adds its warnings. A source that is absent is skipped silently; one that
  // fails is skipped with a warning ("nvml: ..."), unless it is authoritative, whose Error is
  // returned. When no source answers the node has no GPUs -- not an error; a warning only
  // if the kernel driver is loaded and no source said why it could not be used.
  [[nodiscard]] Status scan(Inventory& inventory) override;

 private:
  std::vector<std::unique_ptr<GpuSource>> sources_;
  std::filesystem::path proc_root_;
};

}  // namespace openbatch::agent::discovery
