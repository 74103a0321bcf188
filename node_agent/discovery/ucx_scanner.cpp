// UcxScanner and the `ucx_info -d` parser (see the header).
#include "node_agent/discovery/ucx_scanner.hpp"

#include "node_agent/discovery/text.hpp"

#include <algorithm>
#include <optional>
#include <utility>

namespace openbatch::agent::discovery {

std::vector<UcxTransport> parse_ucx_info(std::string_view text) {
  std::vector<UcxTransport> out;
  std::optional<UcxTransport> current;
  auto flush = [&] {
    if (current && std::ranges::find(out, *current) == out.end()) out.push_back(*current);
    current.reset();
  };
  for (auto line : split_lines(text)) {
    line = trim(line);
    if (!line.starts_with('#')) continue;
    auto kv = split_key_value(line.substr(1));
    if (!kv) continue;
    auto [key, value] = *kv;
    if (key == "Transport") {
      flush();
      current = UcxTransport{std::string(value), {}, {}};
    } else if (key == "Memory domain" || key == "Connection manager" || key == "Component") {
      flush();
    } else if (current && key == "Device" && current->device.empty()) {
      current->device = std::string(value);
    } else if (current && key == "Type" && current->type.empty()) {
      current->type = std::string(value);
    }
  }
  flush();
  return out;
}

Status UcxScanner::scan(Inventory& inventory) {
  auto run = run_command({program_, "-d"}, timeout_, search_path_);
  if (!run) {
    if (is_command_not_found(run.error())) {
      inventory.warnings.push_back(program_ +
                                   " not found; UCX transports unknown (install ucx-utils)");
    } else {
      inventory.warnings.push_back("ucx: " + run.error().message);
    }
    return {};
  }
  if (!run->ok()) {
    std::string said = first_line(run->err);
    inventory.warnings.push_back("ucx: " + program_ + " -d exited with status " +
                                 std::to_string(run->exit_code) +
                                 (said.empty() ? std::string() : ": " + said));
    return {};
  }
  inventory.ucx_transports = parse_ucx_info(run->out);
  return {};
}

}  // namespace openbatch::agent::discovery
