// InfinibandScanner: the ports of every RDMA device under <sysfs>/class/infiniband --
// <dev>/ports/<n>/{state, phys_state, rate, link_layer} and the device's node_guid, fw_ver and
// hca_type where present. The sysfs root is a parameter so that tests read
// tests/fixtures/sysfs/<node>/ instead of /sys. The attribute parsers are pure functions.
// Thread-safety: see Scanner.
#pragma once

#include "node_agent/discovery/scanner.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace openbatch::agent::discovery {

// A "<code>: <NAME>" attribute as the kernel writes state and phys_state: "4: ACTIVE",
// "5: LinkUp". nullopt when it is not of that form.
struct CodedValue {
  int code = 0;
  std::string name;
};
std::optional<CodedValue> parse_coded_value(std::string_view text);

// The Gb/sec figure of a rate attribute: "100 Gb/sec (4X EDR)" -> 100, "2.5 Gb/sec (1X SDR)"
// -> 2.5. nullopt when it does not start with a number followed by "Gb/sec".
std::optional<double> parse_rate_gbps(std::string_view text);

class InfinibandScanner final : public Scanner {
 public:
  explicit InfinibandScanner(std::filesystem::path sysfs_root = "/sys")
      : sysfs_root_(std::move(sysfs_root)) {}

  std::string_view name() const override { return "infiniband"; }

  // Fills inventory.infiniband_ports, sorted by device then port number. No
  // class/infiniband directory means a node without RDMA devices: no ports, no warning. A
  // port whose state cannot be read is left out with a warning; an attribute in an unexpected
  // form is kept as read, with a warning. Never an Error.
  [[nodiscard]] Status scan(Inventory& inventory) override;

 private:
  std::filesystem::path sysfs_root_;
};

}  // namespace openbatch::agent::discovery
