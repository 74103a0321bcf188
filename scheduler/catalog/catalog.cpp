// Catalog lookups, the pool image compatibility checks, and the /supportedimages wire shape.
#include "scheduler/catalog/catalog.hpp"

#include "common/text/ascii.hpp"

#include <algorithm>

namespace openbatch::catalog {
namespace {

std::string image_name(const SupportedImage& img) {
  return img.publisher + " " + img.offer + " " + img.sku;
}

std::string_view generation_words(HyperVGeneration g) {
  return g == HyperVGeneration::V1 ? "generation 1 (V1)" : "generation 2 (V2)";
}

}  // namespace

bool SupportedImage::has_capability(std::string_view capability) const {
  return std::any_of(capabilities.begin(), capabilities.end(),
                     [capability](const std::string& c) { return text::iequals(c, capability); });
}

const VmSize* Catalog::find_vm_size(std::string_view name) const {
  auto it = std::lower_bound(sizes_by_name_.begin(), sizes_by_name_.end(), name,
                             [this](std::uint32_t idx, std::string_view key) {
                               return text::iless(sizes_[idx].name, key);
                             });
  if (it == sizes_by_name_.end() || !text::iequals(sizes_[*it].name, name)) return nullptr;
  return &sizes_[*it];
}

const SupportedImage* Catalog::find_image(std::string_view publisher, std::string_view offer,
                                          std::string_view sku) const {
  for (const auto& img : images_) {
    if (text::iequals(img.publisher, publisher) && text::iequals(img.offer, offer) &&
        text::iequals(img.sku, sku)) {
      return &img;
    }
  }
  return nullptr;
}

std::optional<OsType> Catalog::node_agent_os(std::string_view node_agent_sku_id) const {
  for (const auto& img : images_) {
    if (text::iequals(img.node_agent_sku_id, node_agent_sku_id)) return img.os_type;
  }
  return std::nullopt;
}

Result<const VmSize*> Catalog::require_vm_size(std::string_view name) const {
  if (const VmSize* size = find_vm_size(name)) return size;
  return errors::invalid_property(
      "vmSize", name, "The VM size is not in the OpenBatch catalog (images/vm_sizes.json).");
}

Result<const SupportedImage*> Catalog::require_image(std::string_view publisher,
                                                     std::string_view offer,
                                                     std::string_view sku) const {
  if (const SupportedImage* img = find_image(publisher, offer, sku)) return img;
  std::string value;
  value.append(publisher).append(" ").append(offer).append(" ").append(sku);
  return errors::invalid_property(
      "imageReference", value,
      "The image is not in the OpenBatch catalog; GET /supportedimages lists the images "
      "OpenBatch can run.");
}

Status Catalog::check_custom_image(std::string_view node_agent_sku_id) const {
  auto os = node_agent_os(node_agent_sku_id);
  if (!os) {
    return Error(
        404, "NodeAgentSKUNotFound", "The specified node agent SKU does not exist.",
        {{"PropertyName", "nodeAgentSKUId"}, {"PropertyValue", std::string(node_agent_sku_id)}});
  }
  if (*os == OsType::Windows) {
    return errors::invalid_property(
        "nodeAgentSKUId", node_agent_sku_id,
        "Windows nodes are not supported by OpenBatch; use a Linux image and node agent SKU.");
  }
  return {};
}

Status Catalog::check_compatible(const VmSize& size, const SupportedImage& image,
                                 std::string_view node_agent_sku_id) const {
  if (image.os_type == OsType::Windows) {
    return errors::invalid_property(
        "imageReference", image_name(image),
        "Windows nodes are not supported by OpenBatch; choose a Linux image from "
        "/supportedimages.");
  }
  if (!text::iequals(image.node_agent_sku_id, node_agent_sku_id)) {
    if (auto st = check_custom_image(node_agent_sku_id); !st) return st;
    return errors::invalid_property("nodeAgentSKUId", node_agent_sku_id,
                                    "The image " + image_name(image) +
                                        " requires nodeAgentSKUId '" + image.node_agent_sku_id +
                                        "'.");
  }
  if (!size.supports(image.hyperv_generation)) {
    const auto other = image.hyperv_generation == HyperVGeneration::V1 ? HyperVGeneration::V2
                                                                       : HyperVGeneration::V1;
    std::string reason = "The image is a Hyper-V ";
    reason.append(generation_words(image.hyperv_generation))
        .append(" image but vmSize ")
        .append(size.name)
        .append(" supports only ")
        .append(generation_words(other))
        .append(
            " images; choose an image whose hyperVGeneration matches (see "
            "/supportedimages).");
    return errors::invalid_property("imageReference", image_name(image), reason);
  }
  return {};
}

nlohmann::json to_wire(const SupportedImage& image) {
  nlohmann::json out = {
      {"imageReference",
       {{"publisher", image.publisher},
        {"offer", image.offer},
        {"sku", image.sku},
        {"version", image.version}}},
      {"nodeAgentSKUId", image.node_agent_sku_id},
      {"osType", to_string(image.os_type)},
      {"verificationType", image.verification_type},
  };
  if (!image.capabilities.empty()) out["capabilities"] = image.capabilities;
  if (!image.batch_support_end_of_life.empty()) {
    out["batchSupportEndOfLife"] = image.batch_support_end_of_life;
  }
  return out;
}

std::string_view to_string(HyperVGeneration g) { return g == HyperVGeneration::V1 ? "V1" : "V2"; }

std::string_view to_string(OsType os) { return os == OsType::Linux ? "linux" : "windows"; }

}  // namespace openbatch::catalog
