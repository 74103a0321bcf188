// Tests of the image and VM size catalog: the shipped images/ files against batch-api.md
// section 13, lookups, the compatibility checks, the wire shape and load errors.
#include "scheduler/catalog/catalog.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace openbatch::catalog {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const Catalog& shipped() {
  static const Catalog catalog = [] {
    auto c = Catalog::load(fs::path(OPENBATCH_SOURCE_DIR) / "images");
    if (!c) throw std::runtime_error(c.error().message);
    return *c;
  }();
  return catalog;
}

const VmSize& size(std::string_view name) {
  const VmSize* s = shipped().find_vm_size(name);
  if (s == nullptr) throw std::runtime_error("no size " + std::string(name));
  return *s;
}

const SupportedImage& image(std::string_view publisher, std::string_view offer,
                            std::string_view sku) {
  const SupportedImage* i = shipped().find_image(publisher, offer, sku);
  if (i == nullptr) throw std::runtime_error("no image " + std::string(sku));
  return *i;
}

// A scratch directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("openbatch-catalog-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

json one_size(json overrides = json::object()) {
  json s = {{"name", "Standard_X1"},
            {"vCPUs", 4},
            {"memoryGiB", 16},
            {"hyperVGenerations", {"V1", "V2"}},
            {"family", "f"}};
  s.update(overrides);
  return s;
}

json one_image(json overrides = json::object()) {
  json i = {{"imageReference", {{"publisher", "p"}, {"offer", "o"}, {"sku", "s"}}},
            {"nodeAgentSKUId", "batch.node.x 1"},
            {"osType", "linux"},
            {"verificationType", "verified"},
            {"hyperVGeneration", "V1"}};
  i.update(overrides);
  return i;
}

std::string load_error(const json& sizes, const json& images) {
  auto c = Catalog::from_json(sizes, images);
  return c ? std::string() : c.error().message;
}

TEST(Catalog, ShipsEverySizeOfTheWireReferenceAndCommonCpuSizes) {
  for (auto name : {"A8",
                    "A9",
                    "H16r",
                    "H16mr",
                    "NC6",
                    "NC12",
                    "NC24",
                    "NC24r",
                    "NC6s_v2",
                    "NC12s_v2",
                    "NC24s_v2",
                    "NC24rs_v2",
                    "NC6s_v3",
                    "NC12s_v3",
                    "NC24s_v3",
                    "NC24rs_v3",
                    "ND6s",
                    "ND12s",
                    "ND24s",
                    "ND24rs",
                    "ND40rs_v2",
                    "NV6",
                    "NV12",
                    "NV24",
                    "NV12s_v3",
                    "NV24s_v3",
                    "NV48s_v3",
                    "NC4as_T4_v3",
                    "NC8as_T4_v3",
                    "NC16as_T4_v3",
                    "NC64as_T4_v3",
                    "ND96asr_v4",
                    "ND96isr_H100_v5",
                    "NC40ads_H100_v5",
                    "NC80adis_H100_v5",
                    "ND96isr_H200_v5",
                    "D2s_v3",
                    "D4s_v3",
                    "D8s_v3",
                    "D16s_v3",
                    "F4s_v2",
                    "HB120rs_v3",
                    "HC44rs"}) {
    EXPECT_NE(shipped().find_vm_size(std::string("Standard_") + name), nullptr) << name;
  }
}

TEST(Catalog, FindsSizesIgnoringCase) {
  EXPECT_EQ(shipped().find_vm_size("standard_nc24rs_v3"), &size("Standard_NC24rs_v3"));
  EXPECT_EQ(shipped().find_vm_size("STANDARD_ND96ASR_V4"), &size("Standard_ND96asr_v4"));
  EXPECT_EQ(shipped().find_vm_size("Standard_NC24rs"), nullptr);
  EXPECT_EQ(shipped().find_vm_size("NC24rs_v3"), nullptr);  // the prefix is part of the name
  EXPECT_EQ(shipped().find_vm_size(""), nullptr);
}

TEST(Catalog, RecordsGpuAndInfinibandFactsOfSection13) {
  const VmSize& a100 = size("standard_nd96asr_v4");
  EXPECT_EQ(a100.vcpus, 96);
  EXPECT_EQ(a100.memory_gib, 900);
  ASSERT_TRUE(a100.gpus);
  EXPECT_EQ(a100.gpus->count, 8);
  EXPECT_EQ(a100.gpus->model, "A100");
  EXPECT_EQ(a100.gpus->memory_gib, 40);
  ASSERT_TRUE(a100.rdma());
  EXPECT_EQ(a100.infiniband->rate_gbps, 200);
  EXPECT_EQ(a100.infiniband->ports, 8);

  EXPECT_EQ(size("standard_nd96isr_h100_v5").infiniband->rate_gbps, 400);
  EXPECT_EQ(size("standard_nd96isr_h200_v5").gpus->memory_gib, 141);
  EXPECT_EQ(size("standard_nd40rs_v2").infiniband->rate_gbps, 100);
  EXPECT_EQ(size("standard_h16r").infiniband->rate_gbps, 56);
  EXPECT_EQ(size("standard_hb120rs_v3").infiniband->rate_gbps, 200);
  EXPECT_EQ(size("standard_hc44rs").infiniband->rate_gbps, 100);
  EXPECT_EQ(size("standard_nc6").gpus->model, "K80");
  EXPECT_EQ(size("standard_nc64as_t4_v3").gpus->count, 4);

  // Only the "r" sizes of a family have the RDMA network; H100 NVL sizes have none.
  EXPECT_TRUE(size("standard_nc24rs_v3").rdma());
  EXPECT_FALSE(size("standard_nc24s_v3").rdma());
  EXPECT_FALSE(size("standard_nc40ads_h100_v5").infiniband.has_value());
  EXPECT_FALSE(size("standard_d2s_v3").gpus.has_value());
}

TEST(Catalog, MarksTheA100H100AndH200SizesAsGeneration2Only) {
  for (auto name : {"standard_nd96asr_v4", "standard_nd96isr_h100_v5", "standard_nd96isr_h200_v5",
                    "standard_nc40ads_h100_v5", "standard_nc80adis_h100_v5"}) {
    EXPECT_FALSE(size(name).supports(HyperVGeneration::V1)) << name;
    EXPECT_TRUE(size(name).supports(HyperVGeneration::V2)) << name;
  }
  EXPECT_TRUE(size("standard_d4s_v3").supports(HyperVGeneration::V1));
  EXPECT_TRUE(size("standard_d4s_v3").supports(HyperVGeneration::V2));
}

TEST(Catalog, CapsTaskSlotsAtFourPerVcpuAndAt256) {
  EXPECT_EQ(size("standard_d2s_v3").max_task_slots(), 8);
  EXPECT_EQ(size("standard_nc24rs_v3").max_task_slots(), 96);
  EXPECT_EQ(size("standard_hb120rs_v3").max_task_slots(), 256);
}

TEST(Catalog, FindsImagesIgnoringCase) {
  const SupportedImage* img =
      shipped().find_image("Canonical", "0001-COM-ubuntu-server-jammy", "22_04-LTS-gen2");
  ASSERT_NE(img, nullptr);
  EXPECT_EQ(img->node_agent_sku_id, "batch.node.ubuntu 22.04");
  EXPECT_EQ(img->hyperv_generation, HyperVGeneration::V2);
  EXPECT_EQ(shipped().find_image("canonical", "ubuntuserver", "18.04-lts"), nullptr);
  EXPECT_TRUE(
      image("microsoft-dsvm", "ubuntu-hpc", "2204").has_capability("nvidiateslaDriverInstalled"));
  EXPECT_FALSE(image("canonical", "0001-com-ubuntu-server-focal", "20_04-lts")
                   .has_capability("NvidiaTeslaDriverInstalled"));
}

TEST(Catalog, ListsLinuxAndWindowsImages) {
  int linux_images = 0;
  int windows_images = 0;
  for (const auto& img : shipped().images()) {
    (img.os_type == OsType::Linux ? linux_images : windows_images)++;
  }
  EXPECT_GE(linux_images, 8);
  EXPECT_EQ(windows_images, 2);
  EXPECT_EQ(shipped().node_agent_os("BATCH.NODE.WINDOWS AMD64"), OsType::Windows);
  EXPECT_EQ(shipped().node_agent_os("batch.node.el 8"), OsType::Linux);
  EXPECT_FALSE(shipped().node_agent_os("batch.node.centos 7").has_value());
}

TEST(Catalog, WritesImageInformationAsTheWireHasIt) {
  json wire = to_wire(image("microsoft-dsvm", "ubuntu-hpc", "2004"));
  EXPECT_EQ(wire["imageReference"], json({{"publisher", "microsoft-dsvm"},
                                          {"offer", "ubuntu-hpc"},
                                          {"sku", "2004"},
                                          {"version", "latest"}}));
  EXPECT_EQ(wire["nodeAgentSKUId"], "batch.node.ubuntu 20.04");
  EXPECT_EQ(wire["osType"], "linux");
  EXPECT_EQ(wire["verificationType"], "verified");
  EXPECT_EQ(wire["batchSupportEndOfLife"], "2025-04-30T00:00:00Z");
  EXPECT_TRUE(wire["capabilities"].is_array());
  EXPECT_FALSE(wire.contains("hyperVGeneration"));  // not an ImageInformation property

  json plain = to_wire(image("canonical", "0001-com-ubuntu-server-jammy", "22_04-lts"));
  EXPECT_FALSE(plain.contains("capabilities"));
  EXPECT_FALSE(plain.contains("batchSupportEndOfLife"));
  EXPECT_EQ(to_wire(image("microsoftwindowsserver", "windowsserver", "2022-datacenter"))["osType"],
            "windows");
}

TEST(CatalogCheck, AcceptsAMatchingLinuxImage) {
  EXPECT_TRUE(shipped().check_compatible(size("standard_nd96asr_v4"),
                                         image("microsoft-dsvm", "ubuntu-hpc", "2204"),
                                         "batch.node.ubuntu 22.04"));
  EXPECT_TRUE(shipped().check_compatible(
      size("standard_d2s_v3"), image("canonical", "0001-com-ubuntu-server-focal", "20_04-lts"),
      "Batch.Node.Ubuntu 20.04"));
}

TEST(CatalogCheck, RefusesWindowsImages) {
  auto st = shipped().check_compatible(
      size("standard_d2s_v3"), image("microsoftwindowsserver", "windowsserver", "2019-datacenter"),
      "batch.node.windows amd64");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().status, 400);
  EXPECT_EQ(st.error().code, "InvalidPropertyValue");
  EXPECT_EQ(st.error().detail("PropertyName"), "imageReference");
  EXPECT_NE(st.error().detail("Reason").find("Windows nodes are not supported by OpenBatch"),
            std::string::npos);
}

TEST(CatalogCheck, AnswersNotFoundForAnUnknownNodeAgentSku) {
  auto st = shipped().check_compatible(
      size("standard_d2s_v3"), image("canonical", "0001-com-ubuntu-server-focal", "20_04-lts"),
      "batch.node.centos 7");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().status, 404);
  EXPECT_EQ(st.error().code, "NodeAgentSKUNotFound");
}

TEST(CatalogCheck, RefusesTheNodeAgentSkuOfAnotherImage) {
  auto st = shipped().check_compatible(
      size("standard_d2s_v3"), image("canonical", "0001-com-ubuntu-server-focal", "20_04-lts"),
      "batch.node.ubuntu 22.04");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().status, 400);
  EXPECT_EQ(st.error().detail("PropertyName"), "nodeAgentSKUId");
  EXPECT_NE(st.error().detail("Reason").find("batch.node.ubuntu 20.04"), std::string::npos);
}

TEST(CatalogCheck, RefusesAGeneration1ImageOnAGeneration2OnlySize) {
  auto st = shipped().check_compatible(
      size("standard_nd96isr_h100_v5"),
      image("canonical", "0001-com-ubuntu-server-jammy", "22_04-lts"), "batch.node.ubuntu 22.04");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().status, 400);
  EXPECT_EQ(st.error().detail("PropertyName"), "imageReference");
  EXPECT_NE(st.error().detail("Reason").find("generation 1 (V1)"), std::string::npos);
  EXPECT_NE(st.error().detail("Reason").find("supports only generation 2"), std::string::npos);
}

TEST(CatalogCheck, RefusesAGeneration2ImageOnAGeneration1OnlySize) {
  auto st = shipped().check_compatible(
      size("standard_nc6"), image("canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2"),
      "batch.node.ubuntu 22.04");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().detail("Reason").find("supports only generation 1"), std::string::npos);
}

TEST(CatalogCheck, ChecksOnlyTheAgentSkuOfACustomImage) {
  EXPECT_TRUE(shipped().check_custom_image("batch.node.ubuntu 22.04"));
  EXPECT_EQ(shipped().check_custom_image("batch.node.windows amd64").error().status, 400);
  EXPECT_EQ(shipped().check_custom_image("batch.node.centos 7").error().code,
            "NodeAgentSKUNotFound");
}

TEST(CatalogCheck, NamesTheUnknownSizeOrImage) {
  auto s = shipped().require_vm_size("Standard_Q9000");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().status, 400);
  EXPECT_EQ(s.error().code, "InvalidPropertyValue");
  EXPECT_EQ(s.error().detail("PropertyName"), "vmSize");
  EXPECT_EQ(s.error().detail("PropertyValue"), "Standard_Q9000");
  auto i = shipped().require_image("canonical", "ubuntuserver", "16.04-lts");
  ASSERT_FALSE(i);
  EXPECT_EQ(i.error().detail("PropertyName"), "imageReference");
  EXPECT_TRUE(shipped().require_vm_size("standard_hc44rs"));
}

TEST(CatalogLoad, ReportsAMissingDirectory) {
  auto c = Catalog::load("/nonexistent/openbatch/images");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("vm_sizes.json"), std::string::npos);
}

TEST(CatalogLoad, ReportsMalformedJsonWithTheFileName) {
  TempDir dir;
  dir.write("vm_sizes.json", R"({"vmSizes": [)");
  dir.write("supported_images.json", R"({"images": []})");
  auto c = Catalog::load(dir.path());
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("vm_sizes.json"), std::string::npos);

  dir.write("vm_sizes.json", json({{"vmSizes", {one_size()}}}).dump());
  dir.write("supported_images.json", "[]");
  c = Catalog::load(dir.path());
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("supported_images.json"), std::string::npos);

  dir.write("supported_images.json", json({{"images", {one_image()}}}).dump());
  EXPECT_TRUE(Catalog::load(dir.path()));
}

TEST(CatalogLoad, NamesTheBadEntryAndField) {
  const json images = {{"images", json::array()}};
  EXPECT_NE(
      load_error({{"vmSizes", {one_size(), one_size({{"name", "B"}, {"vCPUs", -2}})}}}, images)
          .find("vmSizes[1].vCPUs"),
      std::string::npos);
  EXPECT_NE(load_error({{"vmSizes", {one_size({{"hyperVGenerations", {"V3"}}})}}}, images)
                .find("hyperVGenerations"),
            std::string::npos);
  EXPECT_NE(load_error({{"vmSizes", {one_size({{"gpus", {{"count", 1}}}})}}}, images)
                .find("gpus.memoryGiB"),
            std::string::npos);
  EXPECT_NE(load_error({{"vmSizes", {one_size({{"infiniband", {{"rateGbps", 1}, {"ports", 1}}}})}}},
                       images)
                .find("infiniband.rdma"),
            std::string::npos);
  const json sizes = {{"vmSizes", json::array()}};
  EXPECT_NE(load_error(sizes, {{"images", {one_image({{"osType", "bsd"}})}}}).find("osType"),
            std::string::npos);
  EXPECT_NE(load_error(sizes, {{"images", {one_image({{"batchSupportEndOfLife", "soon"}})}}})
                .find("batchSupportEndOfLife"),
            std::string::npos);
  EXPECT_NE(load_error(sizes, {{"images", {one_image({{"imageReference", {{"publisher", "p"}}}})}}})
                .find("images[0].imageReference.offer"),
            std::string::npos);
}

TEST(CatalogLoad, RefusesDuplicates) {
  const json images = {{"images", json::array()}};
  EXPECT_NE(load_error({{"vmSizes", {one_size(), one_size({{"name", "standard_x1"}})}}}, images)
                .find("duplicate"),
            std::string::npos);
  const json sizes = {{"vmSizes", json::array()}};
  EXPECT_NE(load_error(sizes, {{"images", {one_image(), one_image()}}}).find("duplicate"),
            std::string::npos);
  json other_os = one_image({{"osType", "windows"}});
  other_os["imageReference"]["sku"] = "s2";
  EXPECT_NE(load_error(sizes, {{"images", {one_image(), other_os}}}).find("two OS types"),
            std::string::npos);
}

TEST(CatalogLoad, DefaultsTheImageVersionToLatest) {
  auto c = Catalog::from_json({{"vmSizes", json::array()}}, {{"images", {one_image()}}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->images()[0].version, "latest");
  EXPECT_TRUE(c->vm_sizes().empty());
}

}  // namespace
}  // namespace openbatch::catalog
