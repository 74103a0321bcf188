// GPU source selection: the inventory file wins; else NVML, then nvidia-smi; absent sources
// are skipped silently, failing ones with a warning; no source means no GPUs, not an error.
// Also InventoryFileGpuSource on the captured fixtures and on bad files.
#include "node_agent/discovery/discover.hpp"
#include "node_agent/discovery/inventory_file_gpu_source.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/discovery/discovery_fixtures.hpp"

#include <gtest/gtest.h>

namespace openbatch::agent::discovery {
namespace {

using testing::fixture;
using Answer = Result<std::optional<GpuReport>>;

// A GpuSource that answers what it is told and counts the questions.
class ScriptedSource final : public GpuSource {
 public:
  ScriptedSource(std::string name, Answer answer, int* calls, bool authoritative = false)
      : name_(std::move(name)),
        answer_(std::move(answer)),
        calls_(calls),
        authoritative_(authoritative) {}
  std::string_view name() const override { return name_; }
  Answer query() override {
    ++*calls_;
    return answer_;
  }
  bool authoritative() const override { return authoritative_; }

 private:
  std::string name_;
  Answer answer_;
  int* calls_;
  bool authoritative_;
};

GpuReport report_of(const std::string& driver, int gpus) {
  GpuReport r;
  r.driver_version = driver;
  r.cuda_driver_version = "12.2";
  for (int i = 0; i < gpus; ++i)
    r.gpus.push_back(Gpu{i, "GPU", "GPU-" + std::to_string(i), 1, "", {}});
  return r;
}

Answer absent() { return std::optional<GpuReport>(); }
Answer failing(const std::string& why) { return discovery_error("NvmlFailed", why); }
Answer found(GpuReport r) { return std::optional<GpuReport>(std::move(r)); }

struct ScanOutcome {
  Status status;
  Inventory inventory;
};

ScanOutcome run_scanner(std::vector<std::unique_ptr<GpuSource>> sources,
                        const std::filesystem::path& proc_root = "/nonexistent-proc") {
  ScanOutcome run;
  GpuScanner scanner(std::move(sources), proc_root);
  run.status = scanner.scan(run.inventory);
  return run;
}

TEST(GpuSelection, FirstSourceThatAnswersWins) {
  int nvml = 0;
  int smi = 0;
  std::vector<std::unique_ptr<GpuSource>> sources;
  sources.push_back(
      std::make_unique<ScriptedSource>("nvml", found(report_of("535.104.05", 8)), &nvml));
  sources.push_back(std::make_unique<ScriptedSource>("nvidia-smi", found(report_of("x", 1)), &smi));
  ScanOutcome run = run_scanner(std::move(sources));
  ASSERT_TRUE(run.status);
  EXPECT_EQ(run.inventory.gpu_source, "nvml");
  EXPECT_EQ(run.inventory.gpus.size(), 8u);
  EXPECT_EQ(run.inventory.gpu_driver_version, "535.104.05");
  EXPECT_EQ(run.inventory.cuda_driver_version, "12.2");
  EXPECT_EQ(smi, 0) << "nvidia-smi is not run once NVML answered";
}

TEST(GpuSelection, AbsentNvmlFallsThroughToNvidiaSmiSilently) {
  int nvml = 0;
  int smi = 0;
  std::vector<std::unique_ptr<GpuSource>> sources;
  sources.push_back(std::make_unique<ScriptedSource>("nvml", absent(), &nvml));
  GpuReport smi_report = report_of("535.129.03", 8);
  smi_report.warnings.push_back("GPU 3 left out: no UUID ([N/A])");
  sources.push_back(std::make_unique<ScriptedSource>("nvidia-smi", found(smi_report), &smi));
  ScanOutcome run = run_scanner(std::move(sources));
  ASSERT_TRUE(run.status);
  EXPECT_EQ(nvml, 1);
  EXPECT_EQ(run.inventory.gpu_source, "nvidia-smi");
  EXPECT_EQ(run.inventory.gpus.size(), 8u);
  ASSERT_EQ(run.inventory.warnings.size(), 1u) << "only the source's own warning";
  EXPECT_EQ(run.inventory.warnings[0], "nvidia-smi: GPU 3 left out: no UUID ([N/A])");
}

TEST(GpuSelection, FailingNvmlWarnsAndFallsThrough) {
  int nvml = 0;
  int smi = 0;
  std::vector<std::unique_ptr<GpuSource>> sources;
  sources.push_back(std::make_unique<ScriptedSource>(
      "nvml", failing("nvmlInit_v2: NVML_ERROR_DRIVER_NOT_LOADED (9)"), &nvml));
  sources.push_back(
      std::make_unique<ScriptedSource>("nvidia-smi", found(report_of("535", 2)), &smi));
  ScanOutcome run = run_scanner(std::move(sources));
  ASSERT_TRUE(run.status);
  EXPECT_EQ(run.inventory.gpu_source, "nvidia-smi");
  ASSERT_EQ(run.inventory.warnings.size(), 1u);
  EXPECT_EQ(run.inventory.warnings[0], "nvml: nvmlInit_v2: NVML_ERROR_DRIVER_NOT_LOADED (9)");
}

TEST(GpuSelection, NoSourceMeansNoGpusAndNoWarning) {
  int calls = 0;
  std::vector<std::unique_ptr<GpuSource>> sources;
  sources.push_back(std::make_unique<ScriptedSource>("nvml", absent(), &calls));
  sources.push_back(std::make_unique<ScriptedSource>("nvidia-smi", absent(), &calls));
  ScanOutcome run = run_scanner(std::move(sources));
  ASSERT_TRUE(run.status);
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(run.inventory.gpus.empty());
  EXPECT_EQ(run.inventory.gpu_source, "");
  EXPECT_TRUE(run.inventory.warnings.empty());
}

TEST(GpuSelection, LoadedKernelDriverWithoutToolsIsAWarning) {
  int calls = 0;
  std::vector<std::unique_ptr<GpuSource>> sources;
  sources.push_back(std::make_unique<ScriptedSource>("nvml", absent(), &calls));
  sources.push_back(std::make_unique<ScriptedSource>("nvidia-smi", absent(), &calls));
  // The 2-socket fixture has driver/nvidia/version, as a node with the driver loaded does.
  ScanOutcome run = run_scanner(std::move(sources), fixture("proc/2socket_96core"));
  ASSERT_TRUE(run.status);
  EXPECT_TRUE(run.inventory.gpus.empty());
  ASSERT_EQ(run.inventory.warnings.size(), 1u);
  EXPECT_NE(run.inventory.warnings[0].find("kernel driver is loaded"), std::string::npos);
}

TEST(GpuSelection, AuthoritativeSourceFailureFailsTheScan) {
  int calls = 0;
  std::vector<std::unique_ptr<GpuSource>> sources;
  sources.push_back(std::make_unique<ScriptedSource>("inventory-file", failing("bad file"), &calls,
                                                     /*authoritative=*/true));
  ScanOutcome run = run_scanner(std::move(sources));
  ASSERT_FALSE(run.status);
  EXPECT_EQ(run.status.error().message, "bad file");
}

std::vector<std::string> names(const std::vector<std::unique_ptr<GpuSource>>& sources) {
  std::vector<std::string> out;
  out.reserve(sources.size());
  for (const auto& s : sources) out.emplace_back(s->name());
  return out;
}

TEST(GpuSelection, InventoryFileAloneElseNvmlThenNvidiaSmi) {
  DiscoveryOptions options;
  EXPECT_EQ(names(gpu_sources(options)), (std::vector<std::string>{"nvml", "nvidia-smi"}));
  options.gpu_inventory_file = fixture("gpu/8x_h100.json");
  auto with_file = gpu_sources(options);
  EXPECT_EQ(names(with_file), (std::vector<std::string>{"inventory-file"}));
  EXPECT_TRUE(with_file[0]->authoritative());
}

TEST(InventoryFileGpuSource, ReadsTheEightH100Capture) {
  auto answer = InventoryFileGpuSource(fixture("gpu/8x_h100.json")).query();
  ASSERT_TRUE(answer) << answer.error().message;
  ASSERT_TRUE(*answer);
  const GpuReport& r = **answer;
  EXPECT_EQ(r.driver_version, "535.104.05");
  EXPECT_EQ(r.cuda_driver_version, "12.2");
  ASSERT_EQ(r.gpus.size(), 8u);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(r.gpus[i].index, i);
    EXPECT_EQ(r.gpus[i].name, "NVIDIA H100 80GB HBM3");
    EXPECT_EQ(r.gpus[i].memory_mib, 81559u);
    EXPECT_TRUE(r.gpus[i].uuid.starts_with("GPU-"));
    EXPECT_EQ(r.gpus[i].uuid.size(), 40u);
  }
  EXPECT_EQ(r.gpus[0].pci_bus_id, "00000000:18:00.0");
}

TEST(InventoryFileGpuSource, ReadsTheH200Placeholder) {
  auto answer = InventoryFileGpuSource(fixture("gpu/1x_h200.json")).query();
  ASSERT_TRUE(answer) << answer.error().message;
  ASSERT_TRUE(*answer);
  ASSERT_EQ((*answer)->gpus.size(), 1u);
  EXPECT_EQ((*answer)->gpus[0].name, "NVIDIA H200");
  EXPECT_EQ((*answer)->gpus[0].memory_mib, 143771u);
  EXPECT_EQ((*answer)->cuda_driver_version, "12.4");
  EXPECT_TRUE((*answer)->driver_version.starts_with("550."));
}

TEST(InventoryFileGpuSource, AcceptsAWholeInventoryDocument) {
  openbatch::testing::TempDir dir;
  Inventory inv;
  inv.hostname = "gpu-node";
  inv.cpus.logical_count = 8;
  inv.memory_bytes = 1;
  inv.gpu_driver_version = "550.54.15";
  inv.cuda_driver_version = "12.4";
  inv.gpus = {{0, "NVIDIA H200", "GPU-0fd630f1-f29d-0da9-953f-48f1a09f76b5", 143771, "", {}}};
  testing::write_file(dir.path() / "inventory.json", nlohmann::json(inv).dump());
  auto answer = InventoryFileGpuSource(dir.path() / "inventory.json").query();
  ASSERT_TRUE(answer) << answer.error().message;
  ASSERT_TRUE(*answer);
  EXPECT_EQ((*answer)->gpus, inv.gpus);
  EXPECT_EQ((*answer)->driver_version, "550.54.15");
}

TEST(InventoryFileGpuSource, BadFilesAreErrorsNamingTheFile) {
  openbatch::testing::TempDir dir;
  auto expect_error = [](const std::filesystem::path& file, const std::string& what) {
    auto answer = InventoryFileGpuSource(file).query();
    ASSERT_FALSE(answer) << file;
    EXPECT_NE(answer.error().message.find(file.string()), std::string::npos)
        << answer.error().message;
    EXPECT_NE(answer.error().message.find(what), std::string::npos) << answer.error().message;
  };
  expect_error(dir.path() / "missing.json", "no such file");
  testing::write_file(dir.path() / "junk.json", "{ gpus: ");
  expect_error(dir.path() / "junk.json", "not valid JSON");
  testing::write_file(dir.path() / "shape.json", R"({"gpus": {"0": "H100"}})");
  expect_error(dir.path() / "shape.json", "gpus");
  testing::write_file(
      dir.path() / "dup.json",
      R"({"gpus": [{"index": 0, "uuid": "GPU-a"}, {"index": 1, "uuid": "GPU-a"}]})");
  expect_error(dir.path() / "dup.json", "duplicate uuid");
  testing::write_file(dir.path() / "empty_uuid.json", R"({"gpus": [{"index": 0, "uuid": ""}]})");
  expect_error(dir.path() / "empty_uuid.json", "empty uuid");
}

}  // namespace
}  // namespace openbatch::agent::discovery
