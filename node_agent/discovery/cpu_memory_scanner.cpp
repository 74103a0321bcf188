// CpuMemoryScanner and its /proc/cpuinfo and /proc/meminfo parsers (see the header).
#include "node_agent/discovery/cpu_memory_scanner.hpp"

#include "node_agent/discovery/text.hpp"

#include <set>
#include <string>
#include <utility>

namespace openbatch::agent::discovery {

CpuInfo parse_cpuinfo(std::string_view text) {
  CpuInfo info;
  std::set<std::string> sockets;
  std::set<std::pair<std::string, std::string>> cores;
  std::string physical_id;  // of the current stanza
  for (auto line : split_lines(text)) {
    auto kv = split_key_value(line);
    if (!kv) continue;
    auto [key, value] = *kv;
    if (key == "processor") {
      ++info.logical_count;
      physical_id.clear();
    } else if (key == "model name" && info.model_name.empty()) {
      info.model_name = std::string(value);
    } else if (key == "physical id") {
      physical_id = std::string(value);
      sockets.insert(physical_id);
    } else if (key == "core id") {
      cores.emplace(physical_id, std::string(value));
    }
  }
  info.sockets = static_cast<int>(sockets.size());
  info.physical_cores = static_cast<int>(cores.size());
  return info;
}

std::optional<std::uint64_t> parse_meminfo_total(std::string_view text) {
  for (auto line : split_lines(text)) {
    auto kv = split_key_value(line);
    if (!kv || kv->first != "MemTotal") continue;
    std::string_view value = kv->second;
    std::uint64_t unit = 1;
    if (value.ends_with("kB")) {
      value.remove_suffix(2);
      unit = 1024;
    }
    auto n = parse_uint(value);
    if (!n) return std::nullopt;
    return *n * unit;
  }
  return std::nullopt;
}

Status CpuMemoryScanner::scan(Inventory& inventory) {
  auto cpuinfo = read_text_file(proc_root_ / "cpuinfo");
  if (!cpuinfo) return cpuinfo.error();
  CpuInfo cpus = parse_cpuinfo(*cpuinfo);
  if (cpus.logical_count == 0) {
    return discovery_error("DiscoveryFailed",
                           (proc_root_ / "cpuinfo").string() + " lists no processor");
  }
  auto meminfo = read_text_file(proc_root_ / "meminfo");
  if (!meminfo) return meminfo.error();
  auto total = parse_meminfo_total(*meminfo);
  if (!total) {
    return discovery_error("DiscoveryFailed",
                           (proc_root_ / "meminfo").string() + " has no valid MemTotal line");
  }
  inventory.cpus = std::move(cpus);
  inventory.memory_bytes = *total;
  return {};
}

}  // namespace openbatch::agent::discovery
