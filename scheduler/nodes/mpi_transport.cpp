#include "scheduler/nodes/mpi_transport.hpp"

#include "common/text/ascii.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cstdint>
#include <optional>

namespace openbatch::nodes {
namespace {

using nlohmann::json;

std::string text_of(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int int_of(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int>() : 0;
}

std::optional<uint32_t> ipv4(const std::string& text) {
  in_addr a{};
  if (::inet_pton(AF_INET, text.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

std::string ipv4_text(uint32_t address) {
  in_addr a{};
  a.s_addr = htonl(address);
  char buffer[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &a, buffer, sizeof buffer);
  return buffer;
}

uint32_t mask_of(int prefix) {
  return prefix <= 0 ? 0 : prefix >= 32 ? ~uint32_t{0} : ~uint32_t{0} << (32 - prefix);
}

struct Network {
  uint32_t base = 0;
  int prefix = 0;
  bool operator==(const Network&) const = default;
  std::string text() const { return ipv4_text(base) + "/" + std::to_string(prefix); }
};

// The network of the interface that holds the node's address; nullopt when unknown.
std::optional<Network> network_of(const MpiNodeNet& node) {
  auto address = ipv4(node.address);
  if (!address) return std::nullopt;
  for (const auto& i : node.interfaces) {
    if (i.address != node.address || i.prefix_length <= 0 || i.prefix_length > 32) continue;
    return Network{*address & mask_of(i.prefix_length), i.prefix_length};
  }
  return std::nullopt;
}

bool is_loopback(const std::string& address) {
  auto a = ipv4(address);
  return a && (*a >> 24) == 127;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

}  // namespace

MpiNodeNet mpi_node_net_of(std::string node_id, std::string address, const json& inventory) {
  MpiNodeNet out{std::move(node_id), std::move(address), {}, {}};
  if (!inventory.is_object()) return out;
  if (auto list = inventory.find("addresses"); list != inventory.end() && list->is_array()) {
    for (const auto& a : *list) {
      if (!a.is_object()) continue;
      const std::string text = text_of(a, "address");
      const std::string family = text::to_lower(text_of(a, "family"));
      // "ipv4" from the agent; "inet" as ip(8) words it.
      if (text.empty() || (!family.empty() && family != "ipv4" && family != "inet") || !ipv4(text))
        continue;
      out.interfaces.push_back({text_of(a, "interface"), text, int_of(a, "prefixLength")});
    }
  }
  if (auto ports = inventory.find("infinibandPorts");
      ports != inventory.end() && ports->is_array()) {
    for (const auto& p : *ports) {
      if (!p.is_object()) continue;
      const std::string device = text_of(p, "device");
      const int port = int_of(p, "port");
      // sysfs words it "4: ACTIVE"; the inventory keeps the word.
      const std::string state = text::to_lower(text_of(p, "state"));
      const bool active = state == "active" || state.ends_with(": active");
      if (device.empty() || port <= 0 || !active ||
          text::to_lower(text_of(p, "linkLayer")) != "infiniband")
        continue;
      out.infiniband_ports.push_back(device + ":" + std::to_string(port));
    }
  }
  return out;
}

MpiTransport choose_mpi_transport(std::span<const MpiNodeNet> nodes,
                                  std::span<const protocol::EnvironmentSetting> user_environment) {
  MpiTransport t;
  for (const auto& n : nodes) t.node_ids.push_back(n.node_id);

  // The network every instance's address is in.
  const bool all_loopback =
      !nodes.empty() && std::all_of(nodes.begin(), nodes.end(),
                                    [](const MpiNodeNet& n) { return is_loopback(n.address); });
  std::string network_note;
  if (all_loopback) {
    network_note = "every instance is on this machine (loopback), so no interface is named";
  } else if (!nodes.empty()) {
    std::optional<Network> common = network_of(nodes[0]);
    if (!common) {
      network_note = "any interface: the network of node " + nodes[0].node_id + "'s address " +
                     nodes[0].address + " is not known";
    }
    for (std::size_t i = 1; common && i < nodes.size(); ++i) {
      const auto other = network_of(nodes[i]);
      if (other == common) continue;
      network_note =
          "any interface: node " + nodes[i].node_id + "'s address " + nodes[i].address +
          (other ? " is not in " + common->text() : " is on no interface whose network is known");
      common.reset();
    }
    if (common) t.network = common->text();
  }

  const MpiNodeNet* without_ib = nullptr;
  std::size_t with_ib = 0;
  for (const auto& n : nodes) {
    if (n.infiniband_ports.empty()) {
      if (!without_ib) without_ib = &n;
    } else {
      ++with_ib;
    }
  }
  const bool ucx = !nodes.empty() && without_ib == nullptr;
  t.kind = ucx ? "ucx" : "tcp";
  const std::string where = !t.network.empty()     ? "on " + t.network
                            : network_note.empty() ? "(no nodes)"
                                                   : network_note;
  if (ucx) {
    t.reason = "Every node has an active InfiniBand port: UCX over InfiniBand";
    if (!t.network.empty()) t.reason += " (out-of-band setup on " + t.network + ")";
  } else if (with_ib > 0) {
    t.reason = "Node " + without_ib->node_id + " has no active InfiniBand port: TCP " + where;
  } else {
    t.reason = "No node has an active InfiniBand port: TCP " + where;
  }
  t.reason += ".";

  for (const auto& n : nodes) {
    std::vector<protocol::EnvironmentSetting> env;
    if (ucx) {
      env.push_back({"OMPI_MCA_pml", "ucx"});
      env.push_back({"OMPI_MCA_osc", "ucx"});
      env.push_back({"OMPI_MCA_btl", "^vader,tcp,openib,uct"});
      env.push_back({"UCX_NET_DEVICES", joined(n.infiniband_ports)});
    } else {
      env.push_back({"OMPI_MCA_pml", "ob1"});
      env.push_back({"OMPI_MCA_btl", "self,vader,tcp"});
      if (!t.network.empty()) env.push_back({"OMPI_MCA_btl_tcp_if_include", t.network});
    }
    if (!t.network.empty()) env.push_back({"OMPI_MCA_oob_tcp_if_include", t.network});
    t.environment.push_back(std::move(env));
  }

  // The user's settings win (the agent sets them after ours); say which.
  std::vector<std::string> ours;
  for (const auto& env : t.environment) {
    for (const auto& s : env) ours.push_back(s.name);
  }
  std::optional<std::string> user_pml;
  for (const auto& s : user_environment) {
    const bool transport_name = s.name == "OMPI_MCA_pml" || s.name == "UCX_NET_DEVICES" ||
                                s.name == "UCX_TLS" || s.name.starts_with("OMPI_MCA_btl");
    const bool replaces =
        transport_name || std::find(ours.begin(), ours.end(), s.name) != ours.end();
    if (replaces && std::find(t.overridden_by.begin(), t.overridden_by.end(), s.name) ==
                        t.overridden_by.end()) {
      t.overridden_by.push_back(s.name);
    }
    if (s.name == "OMPI_MCA_pml") user_pml = text::to_lower(s.value);
  }
  if (user_pml) t.kind = user_pml->find("ucx") != std::string::npos ? "ucx" : "tcp";
  if (!t.overridden_by.empty()) {
    t.reason += " The task's own " + joined(t.overridden_by) + " override" +
                (t.overridden_by.size() == 1 ? "s" : "") + " it" +
                (user_pml ? " (OMPI_MCA_pml=" + *user_pml + ": " + t.kind + ")" : "") + ".";
  }
  return t;
}

json MpiTransport::to_json() const {
  json j = {{"kind", kind}, {"reason", reason}};
  if (!network.empty()) j["network"] = network;
  json devices = json::object();
  for (std::size_t i = 0; i < environment.size() && i < node_ids.size(); ++i) {
    for (const auto& s : environment[i]) {
      if (s.name == "UCX_NET_DEVICES") devices[node_ids[i]] = s.value;
    }
  }
  if (!devices.empty()) j["devices"] = std::move(devices);
  if (!overridden_by.empty()) j["overriddenBy"] = overridden_by;
  return j;
}

}  // namespace openbatch::nodes
