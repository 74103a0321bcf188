#include "common/protocol/gang_assignment_encoding.hpp"

#include <map>
#include <mutex>
#include <vector>

namespace openbatch::protocol {

namespace {

// The last gang's lists and their JSON text. One entry: the scheduler sends a gang's
// assignments one after the other.
struct ListsText {
  std::vector<std::string> host_list, node_list, host_names;
  std::vector<int> exec_ports;
  std::string host_list_text, node_list_text, host_names_text, exec_ports_text;
};

bool same_lists(const ListsText& cached, const MultiInstance& m) {
  return cached.host_list == m.host_list && cached.node_list == m.node_list &&
         cached.host_names == m.host_names && cached.exec_ports == m.exec_ports;
}

ListsText text_of(const MultiInstance& m) {
  ListsText t{m.host_list, m.node_list, m.host_names, m.exec_ports, {}, {}, {}, {}};
  t.host_list_text = json(m.host_list).dump();
  t.node_list_text = json(m.node_list).dump();
  t.host_names_text = json(m.host_names).dump();
  t.exec_ports_text = json(m.exec_ports).dump();
  return t;
}

// `object`'s members and the `raw` ones (key -> JSON text) as one object, keys in the sorted
// order nlohmann's std::map objects dump in: the same text as dumping one tree with them all.
std::string dump_with(const json& object, const std::map<std::string, std::string>& raw) {
  std::map<std::string, std::string> members = raw;
  for (const auto& [key, value] : object.items()) members.emplace(key, value.dump());
  std::size_t size = 2;
  for (const auto& [key, text] : members) size += key.size() + text.size() + 4;
  std::string out;
  out.reserve(size);
  out.push_back('{');
  bool first = true;
  for (const auto& [key, text] : members) {
    if (!first) out.push_back(',');
    first = false;
    out += json(key).dump();
    out.push_back(':');
    out += text;
  }
  out.push_back('}');
  return out;
}

}  // namespace

std::string encode_gang_assignment(std::uint64_t seq, const Assignment& assignment) {
  const MultiInstance& m = *assignment.multi_instance;
  std::map<std::string, std::string> lists;
  {
    // Per thread would keep a copy of each gang's lists in every I/O thread; one shared entry
    // under a lock costs a compare of the lists per frame.
    static std::mutex mutex;
    static ListsText cached;
    std::lock_guard lock(mutex);
    if (!same_lists(cached, m)) cached = text_of(m);
    lists.emplace("hostList", cached.host_list_text);
    lists.emplace("nodeList", cached.node_list_text);
    if (!m.exec_ports.empty()) lists.emplace("execPorts", cached.exec_ports_text);
    if (!m.host_names.empty()) lists.emplace("hostNames", cached.host_names_text);
  }
  json outer = assignment_without_multi_instance(assignment);
  outer["type"] = "assignment";
  outer["seq"] = seq;
  return dump_with(outer, {{"multiInstance", dump_with(multi_instance_without_lists(m), lists)}});
}

}  // namespace openbatch::protocol
