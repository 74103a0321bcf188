// nvidia-smi: the CSV and header parsers on captured-style output (including odd spacing and
// "[N/A]"), and NvidiaSmiGpuSource against stand-in scripts: working, failing, hanging, absent.
#include "node_agent/discovery/nvidia_smi_gpu_source.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/discovery/discovery_fixtures.hpp"

#include <gtest/gtest.h>

namespace openbatch::agent::discovery {
namespace {

using namespace std::chrono_literals;
using testing::fixture;
using testing::read_fixture;

TEST(ParseNvidiaSmiCsv, ReadsTheEightA100Capture) {
  auto report = parse_nvidia_smi_csv(read_fixture("gpu/nvidia-smi-8x_a100.csv"));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->driver_version, "535.129.03");
  ASSERT_EQ(report->gpus.size(), 8u);
  const Gpu& first = report->gpus[0];
  EXPECT_EQ(first.index, 0);
  EXPECT_EQ(first.name, "NVIDIA A100-SXM4-80GB");
  EXPECT_EQ(first.uuid, "GPU-0cb1e29c-658c-da14-95e6-0af593bd04cf");
  EXPECT_EQ(first.memory_mib, 81920u);
  EXPECT_EQ(first.pci_bus_id, "00000000:07:00.0");
  EXPECT_FALSE(first.mig_enabled) << "the query does not ask for MIG";
  EXPECT_EQ(report->gpus[7].index, 7);
  EXPECT_EQ(report->gpus[7].pci_bus_id, "00000000:BD:00.0");
  EXPECT_TRUE(report->warnings.empty());
}

TEST(ParseNvidiaSmiCsv, AcceptsOddSpacingCrlfAndBlankLines) {
  auto report = parse_nvidia_smi_csv(
      "\n  0 ,NVIDIA H100 80GB HBM3 ,  GPU-6513270e-269e-0d37-f2a7-4de452e6b438,81559 ,"
      "535.104.05,00000000:18:00.0  \r\n\r\n1,\tNVIDIA H100 80GB HBM3,GPU-d23f0824-128b-2f33-"
      "0c5c-7fd0a6a3a450 ,  81559,  535.104.05 , 00000000:2A:00.0\r\n");
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->gpus.size(), 2u);
  EXPECT_EQ(report->gpus[0].name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(report->gpus[0].uuid, "GPU-6513270e-269e-0d37-f2a7-4de452e6b438");
  EXPECT_EQ(report->gpus[0].memory_mib, 81559u);
  EXPECT_EQ(report->gpus[0].pci_bus_id, "00000000:18:00.0");
  EXPECT_EQ(report->gpus[1].index, 1);
  EXPECT_EQ(report->gpus[1].uuid, "GPU-d23f0824-128b-2f33-0c5c-7fd0a6a3a450");
  EXPECT_EQ(report->driver_version, "535.104.05");
}

TEST(ParseNvidiaSmiCsv, BracketedValuesAreUnknown) {
  auto report = parse_nvidia_smi_csv(
      "0, NVIDIA A100-SXM4-40GB, GPU-0fd630f1-f29d-0da9-953f-48f1a09f76b5, [N/A], [N/A], [N/A]\n"
      "1, [Not Supported], GPU-0cb1e29c-658c-da14-95e6-0af593bd04cf, 40960, 535.129.03, "
      "00000000:0F:00.0\n"
      "2, NVIDIA A100-SXM4-40GB, [N/A], 40960, 535.129.03, 00000000:47:00.0\n");
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->gpus.size(), 2u) << "the GPU without a UUID is left out";
  EXPECT_EQ(report->gpus[0].memory_mib, 0u);
  EXPECT_EQ(report->gpus[0].pci_bus_id, "");
  EXPECT_EQ(report->gpus[1].name, "");
  EXPECT_EQ(report->driver_version, "535.129.03") << "the first known value";
  ASSERT_EQ(report->warnings.size(), 1u);
  EXPECT_NE(report->warnings[0].find("GPU 2"), std::string::npos) << report->warnings[0];
}

TEST(ParseNvidiaSmiCsv, RefusesMalformedOutput) {
  EXPECT_FALSE(parse_nvidia_smi_csv(""));
  EXPECT_FALSE(parse_nvidia_smi_csv("No devices were found\n"));
  EXPECT_FALSE(parse_nvidia_smi_csv("0, NVIDIA H100, GPU-x, 81559, 535.104.05\n"));
  EXPECT_FALSE(parse_nvidia_smi_csv("zero, NVIDIA H100, GPU-x, 81559, 535.104.05, 0:18:00.0\n"));
  auto bad_memory =
      parse_nvidia_smi_csv("0, NVIDIA H100, GPU-x, 81559 MiB, 535.104.05, 00000000:18:00.0\n");
  ASSERT_FALSE(bad_memory);
  EXPECT_NE(bad_memory.error().message.find("line 1"), std::string::npos);
}

TEST(ParseNvidiaSmiCudaVersion, ReadsTheHeader) {
  EXPECT_EQ(parse_nvidia_smi_cuda_version(read_fixture("gpu/nvidia-smi-8x_a100-header.txt")),
            "12.2");
  EXPECT_EQ(parse_nvidia_smi_cuda_version(
                "| NVIDIA-SMI 450.80.02    Driver Version: 450.80.02    CUDA Version: 11.0     |"),
            "11.0");
  EXPECT_EQ(parse_nvidia_smi_cuda_version("| NVIDIA-SMI 535.129.03  Driver Version: 535.129.03 |"),
            "");
  EXPECT_EQ(parse_nvidia_smi_cuda_version("CUDA Version: N/A"), "");
}

// A stand-in nvidia-smi that checks its arguments and prints the A100 captures.
void write_fake_nvidia_smi(const std::filesystem::path& path) {
  testing::write_script(path, "if [ $# -eq 0 ]; then cat '" +
                                  fixture("gpu/nvidia-smi-8x_a100-header.txt").string() +
                                  "'; exit 0; fi\n"
                                  "[ \"$1\" = '" +
                                  std::string(kNvidiaSmiQuery) + "' ] && [ \"$2\" = '" +
                                  std::string(kNvidiaSmiFormat) +
                                  "' ] || { echo \"bad arguments: $*\" >&2; exit 2; }\n"
                                  "cat '" +
                                  fixture("gpu/nvidia-smi-8x_a100.csv").string() + "'\n");
}

TEST(NvidiaSmiGpuSource, ReadsGpusAndCudaVersionFromTheTool) {
  openbatch::testing::TempDir dir;
  write_fake_nvidia_smi(dir.path() / "nvidia-smi");
  NvidiaSmiGpuSource source("nvidia-smi", 5s, dir.path().string());
  auto answer = source.query();
  ASSERT_TRUE(answer) << answer.error().message;
  ASSERT_TRUE(*answer);
  const GpuReport& report = **answer;
  EXPECT_EQ(report.gpus.size(), 8u);
  EXPECT_EQ(report.driver_version, "535.129.03");
  EXPECT_EQ(report.cuda_driver_version, "12.2");
  EXPECT_TRUE(report.warnings.empty());
}

TEST(NvidiaSmiGpuSource, AbsentToolIsNotAnError) {
  openbatch::testing::TempDir dir;
  NvidiaSmiGpuSource source("nvidia-smi", 5s, dir.path().string());
  auto answer = source.query();
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_FALSE(*answer);
}

TEST(NvidiaSmiGpuSource, FailingDriverIsAnErrorQuotingTheTool) {
  openbatch::testing::TempDir dir;
  testing::write_script(dir.path() / "nvidia-smi",
                        "echo \"NVIDIA-SMI has failed because it couldn't communicate with the "
                        "NVIDIA driver. Make sure that the latest NVIDIA driver is installed and "
                        "running.\"\nexit 9\n");
  auto answer = NvidiaSmiGpuSource((dir.path() / "nvidia-smi").string(), 5s).query();
  ASSERT_FALSE(answer);
  EXPECT_NE(answer.error().message.find("status 9"), std::string::npos) << answer.error().message;
  EXPECT_NE(answer.error().message.find("couldn't communicate"), std::string::npos);
}

TEST(NvidiaSmiGpuSource, HangingToolTimesOut) {
  openbatch::testing::TempDir dir;
  testing::write_script(dir.path() / "nvidia-smi", "exec sleep 30\n");
  auto answer = NvidiaSmiGpuSource((dir.path() / "nvidia-smi").string(), 200ms).query();
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().code, kCommandTimedOut);
}

TEST(NvidiaSmiGpuSource, MissingCudaVersionIsAWarning) {
  openbatch::testing::TempDir dir;
  testing::write_script(
      dir.path() / "nvidia-smi",
      "[ $# -eq 0 ] && exit 1\ncat '" + fixture("gpu/nvidia-smi-8x_a100.csv").string() + "'\n");
  auto answer = NvidiaSmiGpuSource((dir.path() / "nvidia-smi").string(), 5s).query();
  ASSERT_TRUE(answer) << answer.error().message;
  ASSERT_TRUE(*answer);
  EXPECT_EQ((*answer)->gpus.size(), 8u);
  EXPECT_EQ((*answer)->cuda_driver_version, "");
  EXPECT_EQ((*answer)->warnings.size(), 1u);
}

}  // namespace
}  // namespace openbatch::agent::discovery
