// The Inventory's JSON form: nlohmann conversions for each value and the non-throwing
// decoders. Field names are listed in inventory.hpp; keep the two in step.
#include "node_agent/discovery/inventory.hpp"

#include <utility>

namespace openbatch::agent::discovery {
namespace {

using nlohmann::json;

// Reads an optional field into `out`, leaving it untouched when the field is absent or null.
template <class T>
void optional_field(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it != j.end() && !it->is_null()) it->get_to(out);
}

Error invalid_inventory(std::string_view what) {
  return Error(400, "InvalidInventory", "The hardware inventory is not valid: " + std::string(what),
               {{"Reason", std::string(what)}});
}

template <class T>
Result<T> decode(const json& j) {
  try {
    return j.get<T>();
  } catch (const json::exception& e) {
    return invalid_inventory(e.what());
  }
}

}  // namespace

void to_json(json& j, const Address& v) {
  j = json{{"interface", v.interface_name}, {"address", v.address}, {"family", v.family}};
  if (v.prefix_length > 0) j["prefixLength"] = v.prefix_length;
}

void from_json(const json& j, Address& v) {
  j.at("address").get_to(v.address);
  optional_field(j, "interface", v.interface_name);
  optional_field(j, "family", v.family);
  optional_field(j, "prefixLength", v.prefix_length);
  if (v.prefix_length < 0 || v.prefix_length > 128) v.prefix_length = 0;  // not a prefix
}

void to_json(json& j, const CpuInfo& v) {
  j = json{{"logicalCount", v.logical_count},
           {"modelName", v.model_name},
           {"sockets", v.sockets},
           {"physicalCores", v.physical_cores}};
}

void from_json(const json& j, CpuInfo& v) {
  j.at("logicalCount").get_to(v.logical_count);
  optional_field(j, "modelName", v.model_name);
  optional_field(j, "sockets", v.sockets);
  optional_field(j, "physicalCores", v.physical_cores);
}

void to_json(json& j, const Gpu& v) {
  j = json{{"index", v.index},
           {"name", v.name},
           {"uuid", v.uuid},
           {"memoryMiB", v.memory_mib},
           {"pciBusId", v.pci_bus_id}};
  if (v.mig_enabled) j["migEnabled"] = *v.mig_enabled;
}

void from_json(const json& j, Gpu& v) {
  j.at("index").get_to(v.index);
  j.at("uuid").get_to(v.uuid);
  optional_field(j, "name", v.name);
  optional_field(j, "memoryMiB", v.memory_mib);
  optional_field(j, "pciBusId", v.pci_bus_id);
  v.mig_enabled.reset();
  if (auto it = j.find("migEnabled"); it != j.end() && !it->is_null()) {
    v.mig_enabled = it->get<bool>();
  }
}

void to_json(json& j, const InfinibandPort& v) {
  j = json{{"device", v.device},        {"port", v.port},          {"state", v.state},
           {"physState", v.phys_state}, {"rate", v.rate},          {"rateGbps", v.rate_gbps},
           {"linkLayer", v.link_layer}, {"nodeGuid", v.node_guid}, {"fwVersion", v.fw_version},
           {"hcaType", v.hca_type}};
}

void from_json(const json& j, InfinibandPort& v) {
  j.at("device").get_to(v.device);
  j.at("port").get_to(v.port);
  optional_field(j, "state", v.state);
  optional_field(j, "physState", v.phys_state);
  optional_field(j, "rate", v.rate);
  optional_field(j, "rateGbps", v.rate_gbps);
  optional_field(j, "linkLayer", v.link_layer);
  optional_field(j, "nodeGuid", v.node_guid);
  optional_field(j, "fwVersion", v.fw_version);
  optional_field(j, "hcaType", v.hca_type);
}

void to_json(json& j, const UcxTransport& v) {
  j = json{{"name", v.name}, {"device", v.device}, {"type", v.type}};
}

void from_json(const json& j, UcxTransport& v) {
  j.at("name").get_to(v.name);
  optional_field(j, "device", v.device);
  optional_field(j, "type", v.type);
}

void to_json(json& j, const GpuReport& v) {
  j = json{{"gpuDriverVersion", v.driver_version},
           {"cudaDriverVersion", v.cuda_driver_version},
           {"gpus", v.gpus}};
}

void from_json(const json& j, GpuReport& v) {
  optional_field(j, "gpuDriverVersion", v.driver_version);
  optional_field(j, "cudaDriverVersion", v.cuda_driver_version);
  optional_field(j, "gpus", v.gpus);
}

void to_json(json& j, const Inventory& v) {
  j = json{{"hostname", v.hostname},
           {"addresses", v.addresses},
           {"cpus", v.cpus},
           {"memoryBytes", v.memory_bytes},
           {"gpuSource", v.gpu_source},
           {"gpuDriverVersion", v.gpu_driver_version},
           {"cudaDriverVersion", v.cuda_driver_version},
           {"gpus", v.gpus},
           {"infinibandPorts", v.infiniband_ports},
           {"ucxTransports", v.ucx_transports},
           {"warnings", v.warnings}};
}

void from_json(const json& j, Inventory& v) {
  j.at("hostname").get_to(v.hostname);
  j.at("cpus").get_to(v.cpus);
  j.at("memoryBytes").get_to(v.memory_bytes);
  optional_field(j, "addresses", v.addresses);
  optional_field(j, "gpuSource", v.gpu_source);
  optional_field(j, "gpuDriverVersion", v.gpu_driver_version);
  optional_field(j, "cudaDriverVersion", v.cuda_driver_version);
  optional_field(j, "gpus", v.gpus);
  optional_field(j, "infinibandPorts", v.infiniband_ports);
  optional_field(j, "ucxTransports", v.ucx_transports);
  optional_field(j, "warnings", v.warnings);
}

Result<Inventory> inventory_from_json(const json& j) {
  if (!j.is_object()) return invalid_inventory("the inventory must be a JSON object");
  return decode<Inventory>(j);
}

Result<GpuReport> gpu_report_from_json(const json& j) {
  if (!j.is_object()) return invalid_inventory("a GPU inventory must be a JSON object");
  auto it = j.find("gpus");
  if (it == j.end() || !it->is_array()) {
    return invalid_inventory("a GPU inventory needs a \"gpus\" array");
  }
  return decode<GpuReport>(j);
}

}  // namespace openbatch::agent::discovery
