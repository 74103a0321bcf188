// HostScanner: the host name (gethostname) and the non-loopback addresses of the interfaces
// that are up (getifaddrs). Always reads the real machine: there is nothing to fake.
// Thread-safety: see Scanner.
#pragma once

#include "node_agent/discovery/scanner.hpp"

#include <optional>
#include <string_view>
#include <sys/socket.h>

namespace openbatch::agent::discovery {

// The Address one getifaddrs entry contributes, or nullopt when it contributes none: no
// address, a family other than IPv4/IPv6 (AF_PACKET), an interface that is down or loopback
// (IFF_LOOPBACK, or 127.0.0.0/8, ::1), or an IPv6 link-local address (fe80::/10), which means
// nothing to another node without its scope. `flags` are the entry's ifa_flags; `netmask`
// (the entry's ifa_netmask, may be null) gives the prefix length, 0 when absent or of
// another family.
std::optional<Address> interface_address(std::string_view interface_name, unsigned int flags,
                                         const sockaddr* addr, const sockaddr* netmask = nullptr);

class HostScanner final : public Scanner {
 public:
  std::string_view name() const override { return "host"; }

  // Fills inventory.hostname and inventory.addresses (sorted by interface, then address). An
  // Error when the host name cannot be read; a failing getifaddrs is a warning.
  [[nodiscard]] Status scan(Inventory& inventory) override;
};

}  // namespace openbatch::agent::discovery
