// CpuMemoryScanner: logical CPUs, model name, sockets and physical cores from <proc>/cpuinfo,
// and total memory from <proc>/meminfo. The proc root is a parameter so that tests read
// tests/fixtures/proc/<node>/ instead of /proc. The parsers are pure functions.
// Thread-safety: see Scanner.
#pragma once

#include "node_agent/discovery/scanner.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <utility>

namespace openbatch::agent::discovery {

// The CPUs described by the text of /proc/cpuinfo: one "processor" stanza per logical CPU;
// "model name" of the first stanza (x86; Arm has none and leaves it ""); sockets as distinct
// "physical id"s and physical cores as distinct ("physical id", "core id") pairs, both 0 when
// the stanzas do not carry them.
CpuInfo parse_cpuinfo(std::string_view text);

// MemTotal of the text of /proc/meminfo, in bytes; nullopt when absent or malformed.
std::optional<std::uint64_t> parse_meminfo_total(std::string_view text);

class CpuMemoryScanner final : public Scanner {
 public:
  explicit CpuMemoryScanner(std::filesystem::path proc_root = "/proc")
      : proc_root_(std::move(proc_root)) {}

  std::string_view name() const override { return "cpu-memory"; }

  // Fills inventory.cpus and inventory.memory_bytes. An Error when either file cannot be read,
  // lists no processor, or has no MemTotal: an agent must not report a node without CPUs.
  [[nodiscard]] Status scan(Inventory& inventory) override;

 private:
  std::filesystem::path proc_root_;
};

}  // namespace openbatch::agent::discovery
