// NvidiaSmiGpuSource and the nvidia-smi CSV / header parsers (see the header).
#include "node_agent/discovery/nvidia_smi_gpu_source.hpp"

#include "node_agent/discovery/text.hpp"

#include <utility>

namespace openbatch::agent::discovery {
namespace {

constexpr std::size_t kColumns = 6;

// nvidia-smi writes "[N/A]", "[Not Supported]", "[Unknown Error]" for values it lacks.
bool unknown(std::string_view field) { return field.starts_with('[') && field.ends_with(']'); }

Error bad_csv(std::size_t line, std::string_view what) {
  return discovery_error("NvidiaSmiFailed", "unexpected nvidia-smi output, line " +
                                                std::to_string(line) + ": " + std::string(what));
}

}  // namespace

Result<GpuReport> parse_nvidia_smi_csv(std::string_view csv) {
  GpuReport report;
  std::size_t line_number = 0;
  std::size_t rows = 0;
  for (auto line : split_lines(csv)) {
    ++line_number;
    if (trim(line).empty()) continue;
    auto fields = split(line, ',');
    if (fields.size() != kColumns) {
      return bad_csv(line_number, "expected " + std::to_string(kColumns) + " fields, got " +
                                      std::to_string(fields.size()) + ": \"" +
                                      std::string(trim(line)) + "\"");
    }
    for (auto& f : fields) f = trim(f);
    ++rows;
    auto index = parse_uint(fields[0]);
    if (!index || *index > 1024)
      return bad_csv(line_number, "bad index \"" + std::string(fields[0]) + "\"");
    Gpu gpu;
    gpu.index = static_cast<int>(*index);
    if (unknown(fields[2]) || fields[2].empty()) {
      report.warnings.push_back("GPU " + std::to_string(gpu.index) + " left out: no UUID (" +
                                std::string(fields[2]) + ")");
      continue;
    }
    gpu.uuid = std::string(fields[2]);
    if (!unknown(fields[1])) gpu.name = std::string(fields[1]);
    if (!unknown(fields[3])) {
      auto mib = parse_uint(fields[3]);
      if (!mib) return bad_csv(line_number, "bad memory.total \"" + std::string(fields[3]) + "\"");
      gpu.memory_mib = *mib;
    }
    if (report.driver_version.empty() && !unknown(fields[4])) {
      report.driver_version = std::string(fields[4]);
    }
    if (!unknown(fields[5])) gpu.pci_bus_id = std::string(fields[5]);
    report.gpus.push_back(std::move(gpu));
  }
  if (rows == 0) return bad_csv(line_number, "no GPU lines");
  return report;
}

std::string parse_nvidia_smi_cuda_version(std::string_view header) {
  constexpr std::string_view kKey = "CUDA Version:";
  auto at = header.find(kKey);
  if (at == std::string_view::npos) return {};
  std::string_view rest = trim(header.substr(at + kKey.size()));
  auto end = rest.find_first_not_of("0123456789.");
  std::string_view version = rest.substr(0, end);
  if (version.empty() || version.front() == '.') return {};
  return std::string(version);
}

Result<std::optional<GpuReport>> NvidiaSmiGpuSource::query() {
  auto run = run_command({program_, std::string(kNvidiaSmiQuery), std::string(kNvidiaSmiFormat)},
                         timeout_, search_path_);
  if (!run) {
    if (is_command_not_found(run.error())) return std::nullopt;
    return run.error();
  }
  if (!run->ok()) {
    std::string said = first_line(run->out);
    if (said.empty()) said = first_line(run->err);
    return discovery_error(
        "NvidiaSmiFailed",
        program_ + " exited with status " + std::to_string(run->exit_code) +
            (run->signal != 0 ? " (signal " + std::to_string(run->signal) + ")" : std::string()) +
            (said.empty() ? std::string() : ": " + said));
  }
  auto report = parse_nvidia_smi_csv(run->out);
  if (!report) return report.error();

  auto header = run_command({program_}, timeout_, search_path_);
  if (header && header->ok())
    report->cuda_driver_version = parse_nvidia_smi_cuda_version(header->out);
  if (report->cuda_driver_version.empty()) {
    report->warnings.push_back("no CUDA version in the output of plain " + program_ +
                               (header ? std::string() : ": " + header.error().message));
  }
  return std::optional<GpuReport>(std::move(*report));
}

}  // namespace openbatch::agent::discovery
