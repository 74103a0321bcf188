// scan(): runs the scanners in order over one Inventory; and the discovery Error factory.
#include "node_agent/discovery/scanner.hpp"

#include <utility>

namespace openbatch::agent::discovery {

Error discovery_error(std::string_view code, std::string message) {
  return Error(500, std::string(code), std::move(message));
}

Result<Inventory> scan(std::span<const std::unique_ptr<Scanner>> scanners) {
  Inventory inventory;
  for (const auto& scanner : scanners) {
    auto status = scanner->scan(inventory);
    if (!status) {
      Error e = status.error();
      e.message = std::string(scanner->name()) + ": " + e.message;
      return e;
    }
  }
  return inventory;
}

}  // namespace openbatch::agent::discovery
