// InfinibandScanner: walks <sysfs>/class/infiniband/<dev>/ports/<n>/ (see the header).
#include "node_agent/discovery/infiniband_scanner.hpp"

#include "node_agent/discovery/text.hpp"

#include <algorithm>
#include <charconv>
#include <system_error>
#include <vector>

namespace openbatch::agent::discovery {
namespace {

namespace fs = std::filesystem;

// The trimmed first line of a sysfs attribute, or nullopt when the file is absent/unreadable.
std::optional<std::string> attribute(const fs::path& path) {
  auto text = read_text_file(path);
  if (!text) return std::nullopt;
  auto lines = split_lines(*text);
  return std::string(lines.empty() ? std::string_view{} : trim(lines.front()));
}

// Directory entries of `dir` that are directories (following sysfs's symlinks), by name.
std::vector<fs::path> subdirectories(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_directory(type_ec)) out.push_back(it->path());
  }
  std::ranges::sort(out);
  return out;
}

// The NAME of a coded attribute (state, phys_state) read from `path`; the raw text, with a
// warning, when it is not of the "<code>: <NAME>" form.
std::string coded_name(const std::string& raw, const fs::path& path,
                       std::vector<std::string>& warnings) {
  if (auto coded = parse_coded_value(raw)) return coded->name;
  warnings.push_back("unexpected value \"" + raw + "\" in " + path.string());
  return raw;
}

}  // namespace

std::optional<CodedValue> parse_coded_value(std::string_view text) {
  auto kv = split_key_value(trim(text));
  if (!kv || kv->second.empty()) return std::nullopt;
  auto code = parse_uint(kv->first);
  if (!code || *code > 255) return std::nullopt;
  return CodedValue{static_cast<int>(*code), std::string(kv->second)};
}

std::optional<double> parse_rate_gbps(std::string_view text) {
  text = trim(text);
  auto space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string_view number = text.substr(0, space);
  std::string_view rest = trim(text.substr(space));
  if (!rest.starts_with("Gb/sec")) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size() || value < 0) return std::nullopt;
  return value;
}

Status InfinibandScanner::scan(Inventory& inventory) {
  const fs::path class_dir = sysfs_root_ / "class" / "infiniband";
  std::error_code ec;
  if (!fs::is_directory(class_dir, ec)) return {};

  for (const auto& device_dir : subdirectories(class_dir)) {
    InfinibandPort device;
    device.device = device_dir.filename().string();
    device.node_guid = attribute(device_dir / "node_guid").value_or("");
    device.fw_version = attribute(device_dir / "fw_ver").value_or("");
    device.hca_type = attribute(device_dir / "hca_type").value_or("");

    std::vector<InfinibandPort> ports;
    for (const auto& port_dir : subdirectories(device_dir / "ports")) {
      auto number = parse_uint(port_dir.filename().string());
      if (!number || *number == 0 || *number > 255) continue;
      InfinibandPort port = device;
      port.port = static_cast<int>(*number);
      auto state = attribute(port_dir / "state");
      if (!state) {
        inventory.warnings.push_back("cannot read " + (port_dir / "state").string() +
                                     "; port left out");
        continue;
      }
      port.state = coded_name(*state, port_dir / "state", inventory.warnings);
      if (auto phys = attribute(port_dir / "phys_state")) {
        port.phys_state = coded_name(*phys, port_dir / "phys_state", inventory.warnings);
      }
      port.link_layer = attribute(port_dir / "link_layer").value_or("");
      port.rate = attribute(port_dir / "rate").value_or("");
      if (!port.rate.empty()) {
        if (auto gbps = parse_rate_gbps(port.rate)) {
          port.rate_gbps = *gbps;
        } else {
          inventory.warnings.push_back("unexpected value \"" + port.rate + "\" in " +
                                       (port_dir / "rate").string());
        }
      }
      ports.push_back(std::move(port));
    }
    std::ranges::sort(ports, {}, &InfinibandPort::port);
    for (auto& p : ports) inventory.infiniband_ports.push_back(std::move(p));
  }
  return {};
}

}  // namespace openbatch::agent::discovery
