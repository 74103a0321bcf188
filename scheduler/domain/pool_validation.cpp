// Pool request validators (pool_validation.hpp).
#include "scheduler/domain/pool_validation.hpp"

#include "common/text/ascii.hpp"
#include "scheduler/domain/duration.hpp"
#include "scheduler/domain/fields.hpp"
#include "scheduler/domain/parts.hpp"
#include "scheduler/domain/pool_parts.hpp"

namespace openbatch::domain {
namespace {

using detail::DurationRule;
using detail::Fields;
using detail::Kind;
using detail::Path;
using nlohmann::json;

constexpr DurationRule kResizeTimeout{.min_ticks = 5 * kTicksPerMinute, .fallback = "PT15M"};
constexpr DurationRule kAutoScaleInterval{
    .min_ticks = 5 * kTicksPerMinute, .max_ticks = 168 * kTicksPerHour, .fallback = "PT15M"};
constexpr std::size_t kMaxFormulaChars = 8192;
constexpr std::size_t kMaxRemoveNodes = 100;

Status require_body(const json& body) {
  if (!body.is_object()) return errors::invalid_body("The request body must be a JSON object.");
  return {};
}

// The catalog names properties by their leaf; say where they sit in the pool instead.
Error under_vm_config(Error e, const Path& vm_config) {
  for (auto& d : e.values) {
    if (d.key == "PropertyName" && (d.value == "imageReference" || d.value == "nodeAgentSKUId")) {
      d.value = (vm_config / d.value).str();
    }
  }
  return e;
}

Status check_image_reference(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  if (f.has("virtualMachineImageId")) {
    for (auto key : {"publisher", "offer", "sku"}) {
      if (f.has(key)) {
        return detail::invalid(f.at(key), *f.find(key),
                               "specify either virtualMachineImageId or publisher, offer and "
                               "sku, not both");
      }
    }
    return f.string("virtualMachineImageId", {.max_chars = detail::kMaxUrlChars});
  }
  for (auto key : {"publisher", "offer", "sku"}) {
    if (auto st = f.string(key, {.required = true, .max_chars = 256}); !st) return st;
  }
  if (auto st = f.string("version", {.max_chars = 256}); !st) return st;
  if (!out.contains("version")) out["version"] = "latest";
  return {};
}

Status check_container_configuration(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  // `type` became required in 2021-06-01; older clients omit it and meant Docker.
  if (auto st = f.enumeration("type", {"dockerCompatible", "criCompatible"}, "dockerCompatible");
      !st) {
    return st;
  }
  if (const json* names = f.find("containerImageNames")) {
    if (auto st = detail::require_array(*names, f.at("containerImageNames"), detail::kMaxListItems);
        !st) {
      return st;
    }
    for (const auto& n : *names) {
      if (!n.is_string() || n.get_ref<const std::string&>().empty()) {
        return detail::invalid(f.at("containerImageNames"), n, "must be non-empty strings");
      }
    }
  }
  if (auto st = f.keep("containerImageNames", Kind::Array); !st) return st;
  auto registry = [](json& s, json& o, const Path& p) -> Status {
    Fields r(s, o, p);
    for (auto key : {"registryServer", "username", "userName", "password"}) {
      if (auto st = r.string(key, {.max_chars = detail::kMaxUrlChars}); !st) return st;
    }
    return r.keep("identityReference", Kind::Object);
  };
  return f.objects("containerRegistries", detail::kMaxListItems, registry);
}

Status check_catalog(const json& vm, const Path& path, const catalog::VmSize& size,
                     const catalog::Catalog& catalog) {
  const json& ref = vm["imageReference"];
  const auto& agent = vm["nodeAgentSKUId"].get_ref<const std::string&>();
  Status st;
  if (ref.contains("virtualMachineImageId")) {
    st = catalog.check_custom_image(agent);
  } else {
    auto image = catalog.require_image(ref["publisher"].get_ref<const std::string&>(),
                                       ref["offer"].get_ref<const std::string&>(),
                                       ref["sku"].get_ref<const std::string&>());
    if (!image) return under_vm_config(image.error(), path);
    st = catalog.check_compatible(size, **image, agent);
  }
  if (!st) return under_vm_config(st.error(), path);
  return {};
}

Status check_vm_configuration(json& src, json& out, const Path& path, const catalog::VmSize& size,
                              const catalog::Catalog& catalog) {
  Fields f(src, out, path);
  if (auto st = f.object("imageReference", check_image_reference, true); !st) return st;
  if (auto st = f.string("nodeAgentSKUId", {.required = true, .max_chars = 256}); !st) return st;
  if (auto st = f.object("containerConfiguration", check_container_configuration); !st) return st;
  for (auto key : {"windowsConfiguration", "diskEncryptionConfiguration",
                   "nodePlacementConfiguration", "osDisk"}) {
    if (auto st = f.keep(key, Kind::Object); !st) return st;
  }
  for (auto key : {"dataDisks", "extensions"}) {
    if (auto st = f.keep(key, Kind::Array); !st) return st;
  }
  if (auto st = f.keep("licenseType", Kind::String); !st) return st;
  return check_catalog(out, path, size, catalog);
}

// enableAutoScale, autoScaleFormula, autoScaleEvaluationInterval and the two targets.
Status take_scaling(Fields& f) {
  if (auto st = f.boolean("enableAutoScale", false); !st) return st;
  constexpr const char* kTargets[] = {"targetDedicatedNodes", "targetLowPriorityNodes"};
  if (f.out()["enableAutoScale"].get<bool>()) {
    for (auto key : kTargets) {
      if (f.has(key)) {
        return detail::invalid(f.at(key), *f.find(key),
                               "must not be specified when enableAutoScale is true");
      }
    }
    if (auto st = f.string("autoScaleFormula", {.required = true, .max_chars = kMaxFormulaChars});
        !st) {
      return st;
    }
    return f.duration("autoScaleEvaluationInterval", kAutoScaleInterval);
  }
  if (f.has("autoScaleFormula")) {
    return detail::invalid(f.at("autoScaleFormula"), *f.find("autoScaleFormula"),
                           "must not be specified when enableAutoScale is false");
  }
  if (!f.has(kTargets[0]) && !f.has(kTargets[1])) return detail::missing(f.at(kTargets[0]));
  for (auto key : kTargets) {
    if (auto st = f.integer(key, {.min = 0, .fallback = 0}); !st) return st;
  }
  return {};
}

// taskSlotsPerNode, or its pre-2020 name maxTasksPerNode, stored as taskSlotsPerNode.
Status take_task_slots(Fields& f, const catalog::VmSize& size) {
  constexpr const char* kName = "taskSlotsPerNode";
  constexpr const char* kAlias = "maxTasksPerNode";
  const json* slots = f.find(kName);
  const json* alias = f.find(kAlias);
  if (slots != nullptr && alias != nullptr && *slots != *alias) {
    return detail::invalid(f.at(kAlias), *alias,
                           "must equal taskSlotsPerNode when both are specified");
  }
  const bool use_alias = slots == nullptr && alias != nullptr;
  const char* key = use_alias ? kAlias : kName;
  if (auto st = f.integer(key, {.min = 1, .max = size.max_task_slots(), .fallback = 1}); !st) {
    return st;
  }
  if (use_alias) {
    f.out()[kName] = f.out()[kAlias];
    f.out().erase(kAlias);
  }
  return {};
}

Status take_pool_lists(Fields& f) {
  if (auto st = f.objects("applicationPackageReferences", detail::kMaxAppPackageRefs,
                          detail::check_app_package_reference);
      !st) {
    return st;
  }
  if (auto st = f.objects("metadata", detail::kMaxListItems, detail::check_metadata_item); !st) {
    return st;
  }
  if (auto st = f.keep("certificateReferences", Kind::Array); !st) return st;
  return f.enumeration("targetNodeCommunicationMode", {"default", "classic", "simplified"});
}

Status take_node_settings(Fields& f, const catalog::VmSize& size) {
  if (auto st = f.duration("resizeTimeout", kResizeTimeout); !st) return st;
  if (auto st = take_scaling(f); !st) return st;
  if (auto st = f.boolean("enableInterNodeCommunication", false); !st) return st;
  if (auto st = take_task_slots(f, size); !st) return st;
  auto policy = [](json& s, json& o, const Path& p) -> Status {
    return Fields(s, o, p).enumeration("nodeFillType", {"spread", "pack"}, std::nullopt, true);
  };
  if (auto st = f.object("taskSchedulingPolicy", policy); !st) return st;
  if (!f.out().contains("taskSchedulingPolicy")) {
    f.out()["taskSchedulingPolicy"] = {{"nodeFillType", "spread"}};
  }
  if (auto st = f.object("startTask", detail::check_start_task); !st) return st;
  if (auto st = take_pool_lists(f); !st) return st;
  if (auto st = detail::take_user_accounts(f); !st) return st;
  if (auto st =
          f.objects("mountConfiguration", detail::kMaxListItems, detail::check_mount_configuration);
      !st) {
    return st;
  }
  if (auto st = f.keep("networkConfiguration", Kind::Object); !st) return st;
  return f.keep("applicationLicenses", Kind::Array);
}

std::vector<std::string> rdma_advisories(const json& pool, const catalog::VmSize& size) {
  std::vector<std::string> out;
  if (!size.rdma()) return out;
  const std::string name = pool["vmSize"].get<std::string>();
  if (!pool["enableInterNodeCommunication"].get<bool>()) {
    out.push_back("vmSize " + name +
                  " has an RDMA (InfiniBand) network: set enableInterNodeCommunication to true "
                  "so that multi-instance (MPI) tasks can run and use it.");
  }
  if (pool["taskSlotsPerNode"].get<int64_t>() != 1) {
    out.push_back("vmSize " + name +
                  " is an RDMA size: taskSlotsPerNode 1 is advised so that each MPI task gets "
                  "a whole node.");
  }
  return out;
}

Result<PoolAddResult> validate_pool(json& body, const catalog::Catalog& catalog, bool with_id) {
  if (auto st = require_body(body); !st) return st.error();
  const Path root;
  PoolAddResult result{json::object(), {}};
  Fields f(body, result.value, root);
  if (with_id) {
    if (auto st = f.id("id"); !st) return st.error();
  }
  if (auto st = f.string("displayName", {.max_chars = 1024}); !st) return st.error();
  if (f.has("cloudServiceConfiguration")) {
    return errors::unsupported_property(
        "cloudServiceConfiguration",
        "OpenBatch runs Linux nodes only; use virtualMachineConfiguration.");
  }
  if (auto st = f.string("vmSize", {.required = true, .max_chars = 256}); !st) return st.error();
  auto size = catalog.require_vm_size(result.value["vmSize"].get_ref<const std::string&>());
  if (!size) return size.error();
  result.value["vmSize"] = text::to_lower((*size)->name);
  auto vm = [&](json& s, json& o, const Path& p) {
    return check_vm_configuration(s, o, p, **size, catalog);
  };
  if (auto st = f.object("virtualMachineConfiguration", vm, true); !st) return st.error();
  if (auto st = take_node_settings(f, **size); !st) return st.error();
  result.advisories = rdma_advisories(result.value, **size);
  return result;
}

// The properties patch and updateproperties share; `replace_all` makes the lists required.
Result<json> validate_pool_properties(json& body, bool replace_all) {
  if (auto st = require_body(body); !st) return st.error();
  const Path root;
  json out = json::object();
  Fields f(body, out, root);
  if (auto st = f.object("startTask", detail::check_start_task); !st) return st.error();
  if (auto st = take_pool_lists(f); !st) return st.error();
  if (replace_all) {
    for (auto key : {"applicationPackageReferences", "metadata", "certificateReferences"}) {
      if (!out.contains(key)) return detail::missing(root / key);
    }
  }
  return out;
}

}  // namespace

Result<PoolAddResult> validate_pool_add(json body, const catalog::Catalog& catalog) {
  return validate_pool(body, catalog, true);
}

Result<PoolAddResult> validate_pool_specification(json spec, const catalog::Catalog& catalog) {
  return validate_pool(spec, catalog, false);
}

Result<json> validate_pool_patch(json body) { return validate_pool_properties(body, false); }

Result<json> validate_pool_update_properties(json body) {
  return validate_pool_properties(body, true);
}

namespace {

// resizeTimeout and nodeDeallocationOption: shared by resize and removenodes.
Status take_resize_options(Fields& f) {
  if (auto st = f.duration("resizeTimeout", kResizeTimeout); !st) return st;
  return f.enumeration("nodeDeallocationOption",
                       {"requeue", "terminate", "taskcompletion", "retaineddata"}, "requeue");
}

}  // namespace

Result<json> validate_pool_resize(json body) {
  if (auto st = require_body(body); !st) return st.error();
  const Path root;
  json out = json::object();
  Fields f(body, out, root);
  if (!f.has("targetDedicatedNodes") && !f.has("targetLowPriorityNodes")) {
    return detail::missing(root / "targetDedicatedNodes");
  }
  for (auto key : {"targetDedicatedNodes", "targetLowPriorityNodes"}) {
    if (auto st = f.integer(key, {.min = 0}); !st) return st.error();
  }
  if (auto st = take_resize_options(f); !st) return st.error();
  return out;
}

Result<json> validate_pool_remove_nodes(json body) {
  if (auto st = require_body(body); !st) return st.error();
  const Path root;
  json out = json::object();
  Fields f(body, out, root);
  const Path list = root / "nodeList";
  const json* nodes = f.find("nodeList");
  if (nodes == nullptr) return detail::missing(list);
  if (auto st = detail::require_array(*nodes, list, kMaxRemoveNodes); !st) return st.error();
  if (nodes->empty()) return detail::invalid(list, *nodes, "must name at least one node");
  for (std::size_t i = 0; i < nodes->size(); ++i) {
    const json& n = (*nodes)[i];
    if (!n.is_string() || n.get_ref<const std::string&>().empty() ||
        n.get_ref<const std::string&>().size() > 256) {
      return detail::invalid(list[i], n, "must be a node id");
    }
  }
  if (auto st = f.keep("nodeList", Kind::Array); !st) return st.error();
  if (auto st = take_resize_options(f); !st) return st.error();
  return out;
}

}  // namespace openbatch::domain
