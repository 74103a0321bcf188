// Catalog::load and Catalog::from_json: reading and checking the images/ JSON files. Every
// field is checked here once, so that lookups and checks later can trust the values.
#include "common/text/ascii.hpp"
#include "scheduler/catalog/catalog.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace openbatch::catalog {
namespace {

using nlohmann::json;

constexpr std::string_view kSizesFile = "vm_sizes.json";
constexpr std::string_view kImagesFile = "supported_images.json";

Error bad_catalog(std::string_view file, const std::string& where, std::string_view what) {
  std::string msg = "invalid image catalog ";
  msg += file;
  msg += ": ";
  msg += where;
  msg += ": ";
  msg += what;
  return Error(500, "InvalidCatalog", std::move(msg));
}

// Field readers: each fails with the file and the JSON path of the offending value.
class EntryReader {
 public:
  EntryReader(std::string_view file, std::string where, const json& entry)
      : file_(file), where_(std::move(where)), entry_(entry) {}

  Result<std::string> string(const char* key, bool required = true) const {
    auto it = entry_.find(key);
    if (it == entry_.end()) {
      if (!required) return std::string();
      return fail(key, "is required");
    }
    if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
      return fail(key, "must be a non-empty string");
    }
    return it->get<std::string>();
  }

  Result<int> positive_int(const json& obj, const std::string& where, const char* key) const {
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_number_integer() || it->get<int64_t>() <= 0 ||
        it->get<int64_t>() > 1'000'000) {
      return bad_catalog(file_, where + "." + key, "must be a positive integer");
    }
    return static_cast<int>(it->get<int64_t>());
  }

  Result<double> positive_number(const json& obj, const std::string& where, const char* key) const {
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_number() || !(it->get<double>() > 0)) {
      return bad_catalog(file_, where + "." + key, "must be a positive number");
    }
    return it->get<double>();
  }

  Error fail(const char* key, std::string_view what) const {
    return bad_catalog(file_, where_ + "." + key, what);
  }
  const json& entry() const { return entry_; }
  const std::string& where() const { return where_; }
  std::string_view file() const { return file_; }

 private:
  std::string_view file_;
  std::string where_;
  const json& entry_;
};

Result<const json*> entries(const json& doc, std::string_view file, const char* key) {
  if (!doc.is_object()) return bad_catalog(file, "$", "must be a JSON object");
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_array()) {
    return bad_catalog(file, std::string("$.") + key, "must be an array");
  }
  return &*it;
}

Result<std::optional<GpuInfo>> read_gpus(const EntryReader& r) {
  auto it = r.entry().find("gpus");
  if (it == r.entry().end()) return std::optional<GpuInfo>();
  const std::string where = r.where() + ".gpus";
  if (!it->is_object()) return bad_catalog(r.file(), where, "must be an object");
  GpuInfo g;
  auto count = r.positive_int(*it, where, "count");
  if (!count) return count.error();
  auto mem = r.positive_number(*it, where, "memoryGiB");
  if (!mem) return mem.error();
  auto model = it->find("model");
  if (model == it->end() || !model->is_string() || model->get_ref<const std::string&>().empty()) {
    return bad_catalog(r.file(), where + ".model", "must be a non-empty string");
  }
  g.count = *count;
  g.memory_gib = *mem;
  g.model = model->get<std::string>();
  return std::optional<GpuInfo>(std::move(g));
}

Result<std::optional<InfinibandInfo>> read_infiniband(const EntryReader& r) {
  auto it = r.entry().find("infiniband");
  if (it == r.entry().end()) return std::optional<InfinibandInfo>();
  const std::string where = r.where() + ".infiniband";
  if (!it->is_object()) return bad_catalog(r.file(), where, "must be an object");
  auto rdma = it->find("rdma");
  if (rdma == it->end() || !rdma->is_boolean()) {
    return bad_catalog(r.file(), where + ".rdma", "must be true or false");
  }
  auto rate = r.positive_int(*it, where, "rateGbps");
  if (!rate) return rate.error();
  auto ports = r.positive_int(*it, where, "ports");
  if (!ports) return ports.error();
  return std::optional<InfinibandInfo>(InfinibandInfo{rdma->get<bool>(), *rate, *ports});
}

Status read_generations(const EntryReader& r, VmSize& size) {
  auto it = r.entry().find("hyperVGenerations");
  if (it == r.entry().end() || !it->is_array() || it->empty()) {
    return r.fail("hyperVGenerations", "must be a non-empty array of \"V1\"/\"V2\"");
  }
  for (const auto& g : *it) {
    if (g == "V1") {
      size.gen1 = true;
    } else if (g == "V2") {
      size.gen2 = true;
    } else {
      return r.fail("hyperVGenerations", "entries must be \"V1\" or \"V2\"");
    }
  }
  return {};
}

Result<VmSize> read_vm_size(const EntryReader& r) {
  if (!r.entry().is_object()) return bad_catalog(r.file(), r.where(), "must be an object");
  VmSize size;
  auto name = r.string("name");
  if (!name) return name.error();
  size.name = std::move(*name);
  auto vcpus = r.positive_int(r.entry(), r.where(), "vCPUs");
  if (!vcpus) return vcpus.error();
  size.vcpus = *vcpus;
  auto mem = r.positive_number(r.entry(), r.where(), "memoryGiB");
  if (!mem) return mem.error();
  size.memory_gib = *mem;
  auto gpus = read_gpus(r);
  if (!gpus) return gpus.error();
  size.gpus = std::move(*gpus);
  auto ib = read_infiniband(r);
  if (!ib) return ib.error();
  size.infiniband = *ib;
  if (auto st = read_generations(r, size); !st) return st.error();
  auto family = r.string("family");
  if (!family) return family.error();
  size.family = std::move(*family);
  return size;
}

// Accepts the shape Azure sends for batchSupportEndOfLife: YYYY-MM-DDTHH:MM:SS[.f+]Z.
bool is_iso_date_time(std::string_view s) {
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (s.size() < kShape.size() + 1 || s.back() != 'Z') return false;
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const bool digit = s[i] >= '0' && s[i] <= '9';
    if (kShape[i] == 'd' ? !digit : s[i] != kShape[i]) return false;
  }
  std::string_view rest = s.substr(kShape.size(), s.size() - kShape.size() - 1);
  if (rest.empty()) return true;
  if (rest.size() < 2 || rest[0] != '.') return false;
  return std::all_of(rest.begin() + 1, rest.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Status read_image_reference(const EntryReader& r, SupportedImage& img) {
  auto it = r.entry().find("imageReference");
  if (it == r.entry().end() || !it->is_object()) {
    return r.fail("imageReference", "must be an object");
  }
  EntryReader ref(r.file(), r.where() + ".imageReference", *it);
  auto publisher = ref.string("publisher");
  if (!publisher) return publisher.error();
  auto offer = ref.string("offer");
  if (!offer) return offer.error();
  auto sku = ref.string("sku");
  if (!sku) return sku.error();
  auto version = ref.string("version", false);
  if (!version) return version.error();
  img.publisher = std::move(*publisher);
  img.offer = std::move(*offer);
  img.sku = std::move(*sku);
  img.version = version->empty() ? "latest" : std::move(*version);
  return {};
}

Status read_image_enums(const EntryReader& r, SupportedImage& img) {
  auto os = r.string("osType");
  if (!os) return os.error();
  if (*os != "linux" && *os != "windows") return r.fail("osType", "must be linux or windows");
  img.os_type = *os == "linux" ? OsType::Linux : OsType::Windows;
  auto verification = r.string("verificationType");
  if (!verification) return verification.error();
  if (*verification != "verified" && *verification != "unverified") {
    return r.fail("verificationType", "must be verified or unverified");
  }
  img.verification_type = std::move(*verification);
  auto gen = r.string("hyperVGeneration");
  if (!gen) return gen.error();
  if (*gen != "V1" && *gen != "V2") return r.fail("hyperVGeneration", "must be V1 or V2");
  img.hyperv_generation = *gen == "V1" ? HyperVGeneration::V1 : HyperVGeneration::V2;
  return {};
}

Result<SupportedImage> read_image(const EntryReader& r) {
  if (!r.entry().is_object()) return bad_catalog(r.file(), r.where(), "must be an object");
  SupportedImage img;
  if (auto st = read_image_reference(r, img); !st) return st.error();
  auto agent = r.string("nodeAgentSKUId");
  if (!agent) return agent.error();
  img.node_agent_sku_id = std::move(*agent);
  if (auto st = read_image_enums(r, img); !st) return st.error();
  if (auto caps = r.entry().find("capabilities"); caps != r.entry().end()) {
    if (!caps->is_array()) return r.fail("capabilities", "must be an array of strings");
    for (const auto& c : *caps) {
      if (!c.is_string() || c.get_ref<const std::string&>().empty()) {
        return r.fail("capabilities", "must be an array of non-empty strings");
      }
      img.capabilities.push_back(c.get<std::string>());
    }
  }
  auto eol = r.string("batchSupportEndOfLife", false);
  if (!eol) return eol.error();
  if (!eol->empty() && !is_iso_date_time(*eol)) {
    return r.fail("batchSupportEndOfLife",
                  "must be an ISO 8601 UTC date-time such as "
                  "2025-04-30T00:00:00Z");
  }
  img.batch_support_end_of_life = std::move(*eol);
  return img;
}

Result<json> read_json_file(const std::filesystem::path& path, std::string_view file) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return bad_catalog(file, path.string(), "cannot be opened");
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return json::parse(text.str());
  } catch (const json::exception& e) {
    return bad_catalog(file, path.string(), e.what());
  }
}

}  // namespace

Result<Catalog> Catalog::load(const std::filesystem::path& images_dir) {
  auto sizes = read_json_file(images_dir / kSizesFile, kSizesFile);
  if (!sizes) return sizes.error();
  auto images = read_json_file(images_dir / kImagesFile, kImagesFile);
  if (!images) return images.error();
  return from_json(*sizes, *images);
}

Result<Catalog> Catalog::from_json(const json& vm_sizes, const json& images) {
  Catalog c;
  auto size_list = entries(vm_sizes, kSizesFile, "vmSizes");
  if (!size_list) return size_list.error();
  for (std::size_t i = 0; i < (*size_list)->size(); ++i) {
    EntryReader r(kSizesFile, "vmSizes[" + std::to_string(i) + "]", (**size_list)[i]);
    auto size = read_vm_size(r);
    if (!size) return size.error();
    if (c.find_vm_size(size->name) != nullptr) {
      return bad_catalog(kSizesFile, r.where(), "duplicate name " + size->name);
    }
    c.sizes_.push_back(std::move(*size));
    // Keep the index sorted as we go so that the duplicate check above can use it.
    const auto idx = static_cast<std::uint32_t>(c.sizes_.size() - 1);
    auto pos = std::lower_bound(c.sizes_by_name_.begin(), c.sizes_by_name_.end(), idx,
                                [&c](std::uint32_t a, std::uint32_t b) {
                                  return text::iless(c.sizes_[a].name, c.sizes_[b].name);
                                });
    c.sizes_by_name_.insert(pos, idx);
  }
  auto image_list = entries(images, kImagesFile, "images");
  if (!image_list) return image_list.error();
  for (std::size_t i = 0; i < (*image_list)->size(); ++i) {
    EntryReader r(kImagesFile, "images[" + std::to_string(i) + "]", (**image_list)[i]);
    auto img = read_image(r);
    if (!img) return img.error();
    if (c.find_image(img->publisher, img->offer, img->sku) != nullptr) {
      return bad_catalog(kImagesFile, r.where(),
                         "duplicate image " + img->publisher + " " + img->offer + " " + img->sku);
    }
    // The OS of an image is inferred from its agent SKU for custom images, so one agent SKU
    // must not serve both Linux and Windows.
    if (auto os = c.node_agent_os(img->node_agent_sku_id); os && *os != img->os_type) {
      return bad_catalog(kImagesFile, r.where(),
                         "nodeAgentSKUId " + img->node_agent_sku_id + " used for two OS types");
    }
    c.images_.push_back(std::move(*img));
  }
  return c;
}

}  // namespace openbatch::catalog
