// Scanner: one part of hardware discovery (CPUs and memory, host names, InfiniBand, GPUs,
// UCX), and scan(), which runs a list of them in order over one Inventory -- the shape of
// Nomad's numalib.Scan. Later scanners see what earlier ones filled in.
//
// Thread-safety: a Scanner is used by one thread at a time; scan() runs them on the caller's.
#pragma once

#include "common/error.hpp"
#include "node_agent/discovery/inventory.hpp"

#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace openbatch::agent::discovery {

class Scanner {
 public:
  virtual ~Scanner() = default;

  // A short name for messages: "cpu-memory", "host", "infiniband", "gpu", "ucx".
  virtual std::string_view name() const = 0;

  // Fills this scanner's fields of `inventory`. Anything it could not find or read but the node
  // can run without (no InfiniBand class, ucx_info missing, a GPU driver that fails) is not an
  // error: it leaves the fields empty and, when a person should hear of it, appends a sentence
  // to inventory.warnings. An Error means the inventory cannot be trusted at all (the proc root
  // is unreadable, an explicitly configured GPU inventory file is bad); scan() stops there.
  [[nodiscard]] virtual Status scan(Inventory& inventory) = 0;
};

// Runs `scanners` in order over an empty Inventory. The first Error is returned with the
// scanner's name in its message; otherwise the filled inventory.
[[nodiscard]] Result<Inventory> scan(std::span<const std::unique_ptr<Scanner>> scanners);

// The Error a discovery step returns: 500 with `code` ("DiscoveryFailed", "CommandNotFound",
// ...) and `message`.
Error discovery_error(std::string_view code, std::string message);

}  // namespace openbatch::agent::discovery
