// InventoryFileGpuSource: reads and checks a --gpu-inventory JSON file (see the header).
#include "node_agent/discovery/inventory_file_gpu_source.hpp"

#include "node_agent/discovery/text.hpp"

#include <set>
#include <string>

namespace openbatch::agent::discovery {
namespace {

Error bad_file(const std::filesystem::path& file, std::string_view what) {
  return Error(500, "InvalidInventory",
               "GPU inventory file " + file.string() + ": " + std::string(what));
}

}  // namespace

Result<std::optional<GpuReport>> InventoryFileGpuSource::query() {
  auto text = read_text_file(file_);
  if (!text) return text.error();
  auto doc = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return bad_file(file_, "not valid JSON");
  auto report = gpu_report_from_json(doc);
  if (!report) return bad_file(file_, report.error().detail("Reason"));
  std::set<int> indices;
  std::set<std::string> uuids;
  for (const auto& gpu : report->gpus) {
    const std::string which = "gpus[index " + std::to_string(gpu.index) + "]";
    if (gpu.uuid.empty()) return bad_file(file_, which + " has an empty uuid");
    if (!indices.insert(gpu.index).second) return bad_file(file_, which + ": duplicate index");
    if (!uuids.insert(gpu.uuid).second) return bad_file(file_, which + ": duplicate uuid");
  }
  return std::optional<GpuReport>(std::move(*report));
}

}  // namespace openbatch::agent::discovery
