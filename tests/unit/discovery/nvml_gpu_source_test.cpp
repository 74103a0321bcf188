// NvmlGpuSource: no NVML on the machine (dlopen fails -> no GPUs, no error), a broken
// library, and the stand-in libraries of tests/unit/discovery/fake_nvml for a current driver,
// an older one and one whose kernel driver is not loaded.
#include "node_agent/discovery/nvml_gpu_source.hpp"

#include "tests/unit/discovery/discovery_fixtures.hpp"

#include <gtest/gtest.h>

#include <dlfcn.h>

namespace openbatch::agent::discovery {
namespace {

// Holds a fake library open for the whole test, so that its counters survive the source's
// dlclose, and reads them.
class FakeNvml {
 public:
  explicit FakeNvml(const char* path) : handle_(::dlopen(path, RTLD_NOW | RTLD_LOCAL)) {
    EXPECT_NE(handle_, nullptr) << path;
  }
  ~FakeNvml() {
    if (handle_ != nullptr) ::dlclose(handle_);
  }
  FakeNvml(const FakeNvml&) = delete;
  FakeNvml& operator=(const FakeNvml&) = delete;
  int counter(const char* name) const {
    auto fn = reinterpret_cast<int (*)()>(::dlsym(handle_, name));
    return fn == nullptr ? -1 : fn();
  }

 private:
  void* handle_;
};

TEST(NvmlGpuSource, AbsentLibraryMeansNoGpusAndNoError) {
  auto answer = NvmlGpuSource("libnvidia-ml-openbatch-test-absent.so.1").query();
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_FALSE(*answer);
  auto by_path = NvmlGpuSource("/nonexistent/libnvidia-ml.so.1").query();
  ASSERT_TRUE(by_path) << by_path.error().message;
  EXPECT_FALSE(*by_path);
}

TEST(NvmlGpuSource, DefaultLibraryOnThisMachine) {
  if (void* h = ::dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL)) {
    ::dlclose(h);
    GTEST_SKIP() << "this machine has NVML; the absent case cannot be checked here";
  }
  auto answer = NvmlGpuSource().query();
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_FALSE(*answer) << "dlopen fails, so the source reports itself absent";
}

TEST(NvmlGpuSource, LibraryThatCannotLoadIsAnError) {
  auto answer = NvmlGpuSource(testing::fixture("gpu/nvidia-smi-8x_a100.csv").string()).query();
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().code, "NvmlFailed");
}

TEST(NvmlGpuSource, ReadsACurrentDriver) {
  FakeNvml fake(FAKE_NVML_CURRENT_PATH);
  auto answer = NvmlGpuSource(FAKE_NVML_CURRENT_PATH).query();
  ASSERT_TRUE(answer) << answer.error().message;
  ASSERT_TRUE(*answer);
  const GpuReport& report = **answer;
  EXPECT_EQ(report.driver_version, "535.104.05");
  EXPECT_EQ(report.cuda_driver_version, "12.2");
  ASSERT_EQ(report.gpus.size(), 2u);
  EXPECT_EQ(report.gpus[0],
            (Gpu{0, "NVIDIA H100 80GB HBM3", "GPU-6513270e-269e-0d37-f2a7-4de452e6b438", 81559,
                 "00000000:18:00.0", true}));
  EXPECT_EQ(report.gpus[1],
            (Gpu{1, "NVIDIA H100 80GB HBM3", "GPU-d23f0824-128b-2f33-0c5c-7fd0a6a3a450", 81559,
                 "00000000:2A:00.0", false}));
  EXPECT_TRUE(report.warnings.empty());
  EXPECT_EQ(fake.counter("fake_nvml_init_calls"), 1);
  EXPECT_EQ(fake.counter("fake_nvml_open_sessions"), 0) << "nvmlShutdown balances nvmlInit_v2";
}

TEST(NvmlGpuSource, FallsBackToOlderCallsAndLeavesMigUnknown) {
  FakeNvml fake(FAKE_NVML_OLD_PATH);
  auto answer = NvmlGpuSource(FAKE_NVML_OLD_PATH).query();
  ASSERT_TRUE(answer) << answer.error().message;
  ASSERT_TRUE(*answer);
  const GpuReport& report = **answer;
  EXPECT_EQ(report.cuda_driver_version, "11.4");
  ASSERT_EQ(report.gpus.size(), 2u);
  EXPECT_EQ(report.gpus[1].pci_bus_id, "00000000:2A:00.0") << "formatted from domain/bus/device";
  EXPECT_FALSE(report.gpus[0].mig_enabled.has_value());
  EXPECT_EQ(fake.counter("fake_nvml_open_sessions"), 0);
}

TEST(NvmlGpuSource, DriverNotLoadedIsAnError) {
  FakeNvml fake(FAKE_NVML_NO_DRIVER_PATH);
  auto answer = NvmlGpuSource(FAKE_NVML_NO_DRIVER_PATH).query();
  ASSERT_FALSE(answer);
  EXPECT_NE(answer.error().message.find("NVML_ERROR_DRIVER_NOT_LOADED (9)"), std::string::npos)
      << answer.error().message;
  EXPECT_EQ(fake.counter("fake_nvml_init_calls"), 1);
  EXPECT_EQ(fake.counter("fake_nvml_open_sessions"), 0) << "no shutdown after a failed init";
}

TEST(CudaVersionText, MajorAndMinorOfNvmlsNumber) {
  EXPECT_EQ(cuda_version_text(12020), "12.2");
  EXPECT_EQ(cuda_version_text(12040), "12.4");
  EXPECT_EQ(cuda_version_text(11080), "11.8");
  EXPECT_EQ(cuda_version_text(0), "");
}

}  // namespace
}  // namespace openbatch::agent::discovery
