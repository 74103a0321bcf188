// NvidiaSmiGpuSource: the GPUs as `nvidia-smi --query-gpu` prints them, for nodes where NVML
// cannot be loaded but the tool runs. The CSV and header parsers are pure functions, tested
// on captured output.
// Thread-safety: see GpuSource.
#pragma once

#include "node_agent/discovery/command.hpp"
#include "node_agent/discovery/gpu_source.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace openbatch::agent::discovery {

// The arguments after the program name, in the column order parse_nvidia_smi_csv expects.
inline constexpr std::string_view kNvidiaSmiQuery =
    "--query-gpu=index,name,uuid,memory.total,driver_version,pci.bus_id";
inline constexpr std::string_view kNvidiaSmiFormat = "--format=csv,noheader,nounits";

// Parses the output of `nvidia-smi <kNvidiaSmiQuery> <kNvidiaSmiFormat>`: one line per GPU,
// "index, name, uuid, memory.total (MiB), driver_version, pci.bus_id". Fields are trimmed, so
// any spacing is accepted; blank lines are skipped. A bracketed value ("[N/A]",
// "[Not Supported]") means unknown: an empty name / bus id or 0 MiB; a GPU whose uuid is
// unknown is left out with a warning. The report's driver version is the first row's. An
// Error when a line has another number of fields or a bad index or memory figure, or when
// the text holds no GPU line at all.
[[nodiscard]] Result<GpuReport> parse_nvidia_smi_csv(std::string_view csv);

// The "CUDA Version: 12.2" of plain `nvidia-smi`'s header; "" when absent.
std::string parse_nvidia_smi_cuda_version(std::string_view header);

class NvidiaSmiGpuSource final : public GpuSource {
 public:
  explicit NvidiaSmiGpuSource(std::string program = "nvidia-smi",
                              std::chrono::milliseconds timeout = std::chrono::seconds(10),
                              std::string search_path = std::string(kSystemSearchPath))
      : program_(std::move(program)), timeout_(timeout), search_path_(std::move(search_path)) {}

  std::string_view name() const override { return "nvidia-smi"; }

  // nullopt when the program is not installed. An Error when it times out, exits non-zero
  // ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver") or
  // prints what parse_nvidia_smi_csv rejects. The CUDA version comes from a second, plain
  // run; when that fails the report carries a warning and no CUDA version.
  [[nodiscard]] Result<std::optional<GpuReport>> query() override;

 private:
  std::string program_;
  std::chrono::milliseconds timeout_;
  std::string search_path_;
};

}  // namespace openbatch::agent::discovery
