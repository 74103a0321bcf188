// Catalog: the VM sizes and node images OpenBatch accepts, loaded once at startup from
// images/vm_sizes.json and images/supported_images.json (see images/README.md), and the
// checks a pool's vmSize + imageReference + nodeAgentSKUId must pass.
//
// A Catalog is immutable after load(); share it by const reference across threads. The
// pointers and spans it hands out live as long as the Catalog.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace openbatch::catalog {

enum class HyperVGeneration { V1, V2 };
enum class OsType { Linux, Windows };

struct GpuInfo {
  int count = 0;          // GPUs the node exposes (half a K80/M60 board counts as one)
  std::string model;      // "V100", "A100", "H100 NVL", ...
  double memory_gib = 0;  // memory of ONE GPU
};

struct InfinibandInfo {
  bool rdma = false;  // the size has an RDMA-capable back-end network
  int rate_gbps = 0;  // per port
  int ports = 0;
};

struct VmSize {
  std::string name;  // as the catalog spells it, e.g. "Standard_NC24rs_v3"
  int vcpus = 0;
  double memory_gib = 0;
  std::optional<GpuInfo> gpus;               // absent: no GPU
  std::optional<InfinibandInfo> infiniband;  // absent: no InfiniBand
  bool gen1 = false;                         // accepts Hyper-V generation 1 (V1) images
  bool gen2 = false;                         // accepts generation 2 (V2) images
  std::string family;                        // quota family, informational

  bool rdma() const { return infiniband && infiniband->rdma; }
  bool supports(HyperVGeneration g) const { return g == HyperVGeneration::V1 ? gen1 : gen2; }
  // Azure's ceiling for taskSlotsPerNode on this size: min(4 x vCPUs, 256).
  int max_task_slots() const { return vcpus * 4 < 256 ? vcpus * 4 : 256; }
};

struct SupportedImage {
  std::string publisher;
  std::string offer;
  std::string sku;
  std::string version;            // "latest"
  std::string node_agent_sku_id;  // e.g. "batch.node.ubuntu 22.04"
  OsType os_type = OsType::Linux;
  std::vector<std::string> capabilities;  // e.g. "NvidiaTeslaDriverInstalled"
  std::string verification_type;          // "verified" | "unverified"
  std::string batch_support_end_of_life;  // ISO 8601 date-time, "" when none
  HyperVGeneration hyperv_generation = HyperVGeneration::V1;

  bool has_capability(std::string_view capability) const;
};

class Catalog {
 public:
  // Reads vm_sizes.json and supported_images.json from `images_dir`. A missing file, bad
  // JSON, a malformed entry or a duplicate name is an Error whose message names the file and
  // the entry (e.g. "vm_sizes.json: vmSizes[3].vCPUs: must be a positive integer").
  static Result<Catalog> load(const std::filesystem::path& images_dir);
  // The same from already-parsed documents ({"vmSizes":[...]}, {"images":[...]}).
  static Result<Catalog> from_json(const nlohmann::json& vm_sizes, const nlohmann::json& images);

  // Case-insensitive; nullptr when unknown.
  const VmSize* find_vm_size(std::string_view name) const;
  const SupportedImage* find_image(std::string_view publisher, std::string_view offer,
                                   std::string_view sku) const;
  std::span<const SupportedImage> images() const { return images_; }
  std::span<const VmSize> vm_sizes() const { return sizes_; }

  // Whether any catalog image uses this node agent SKU (compared case-insensitively), and
  // the OS of that agent.
  std::optional<OsType> node_agent_os(std::string_view node_agent_sku_id) const;

  // find_vm_size / find_image, failing with 400 InvalidPropertyValue naming vmSize or
  // imageReference when the catalog does not have it.
  Result<const VmSize*> require_vm_size(std::string_view name) const;
  Result<const SupportedImage*> require_image(std::string_view publisher, std::string_view offer,
                                              std::string_view sku) const;

  // Whether a pool of `size` nodes can boot `image` through `node_agent_sku_id`:
  //  * Windows image: 400 InvalidPropertyValue (imageReference), OpenBatch has no Windows agent;
  //  * agent SKU unknown to the catalog: 404 NodeAgentSKUNotFound;
  //  * agent SKU of another image: 400 InvalidPropertyValue (nodeAgentSKUId);
  //  * V1 image on a V2-only size, or V2 image on a V1-only size: 400 InvalidPropertyValue
  //    (imageReference) with a Reason naming both generations.
  Status check_compatible(const VmSize& size, const SupportedImage& image,
                          std::string_view node_agent_sku_id) const;
  // The same for a custom image (virtualMachineImageId), whose OS and generation are
  // unknown: only the agent SKU can be checked (known, and not Windows).
  Status check_custom_image(std::string_view node_agent_sku_id) const;

 private:
  std::vector<VmSize> sizes_;
  std::vector<std::uint32_t> sizes_by_name_;  // indices into sizes_, sorted case-insensitively
  std::vector<SupportedImage> images_;
};

// The ImageInformation wire object of GET /supportedimages: imageReference, nodeAgentSKUId,
// osType, capabilities (when any), batchSupportEndOfLife (when set), verificationType.
nlohmann::json to_wire(const SupportedImage& image);

std::string_view to_string(HyperVGeneration g);
std::string_view to_string(OsType os);

}  // namespace openbatch::catalog
