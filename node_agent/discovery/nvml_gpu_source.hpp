// NvmlGpuSource: the GPUs as NVML reports them, with libnvidia-ml loaded at run time by
// dlopen so that the agent builds and runs on nodes without NVIDIA software. Only the calls
// listed in nvml_gpu_source.cpp are resolved.
// Thread-safety: see GpuSource. Each query() initialises NVML and shuts it down again.
#pragma once

#include "node_agent/discovery/gpu_source.hpp"

#include <string>

namespace openbatch::agent::discovery {

// 12020 -> "12.2": NVML's CUDA driver version (1000 * major + 10 * minor) as text; "" for <= 0.
std::string cuda_version_text(int version);

class NvmlGpuSource final : public GpuSource {
 public:
  // `library`: what to dlopen; a soname (searched the dynamic loader's way) or a path.
  explicit NvmlGpuSource(std::string library = "libnvidia-ml.so.1")
      : library_(std::move(library)) {}

  std::string_view name() const override { return "nvml"; }

  // nullopt when the library does not exist. An Error when it exists but cannot be loaded,
  // lacks a required call, or nvmlInit_v2 / nvmlSystemGetDriverVersion / nvmlDeviceGetCount_v2
  // fail (e.g. NVML_ERROR_DRIVER_NOT_LOADED). A device whose handle or UUID cannot be read is
  // left out with a warning; its other attributes are left empty with a warning.
  [[nodiscard]] Result<std::optional<GpuReport>> query() override;

 private:
  std::string library_;
};

}  // namespace openbatch::agent::discovery
