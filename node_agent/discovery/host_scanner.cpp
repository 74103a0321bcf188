// HostScanner: gethostname and getifaddrs (see the header).
#include "node_agent/discovery/host_scanner.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <cstring>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <system_error>
#include <tuple>
#include <unistd.h>

namespace openbatch::agent::discovery {
namespace {

// The number of leading one bits of a netmask's bytes.
int leading_ones(const unsigned char* bytes, std::size_t size) {
  int n = 0;
  for (std::size_t i = 0; i < size; ++i) {
    for (int bit = 7; bit >= 0; --bit) {
      if ((bytes[i] & (1u << bit)) == 0) return n;
      ++n;
    }
  }
  return n;
}

int prefix_length_of(const sockaddr* netmask, int family) {
  if (netmask == nullptr || netmask->sa_family != family) return 0;
  if (family == AF_INET) {
    sockaddr_in m{};
    std::memcpy(&m, netmask, sizeof m);
    return leading_ones(reinterpret_cast<const unsigned char*>(&m.sin_addr), sizeof m.sin_addr);
  }
  sockaddr_in6 m{};
  std::memcpy(&m, netmask, sizeof m);
  return leading_ones(m.sin6_addr.s6_addr, sizeof m.sin6_addr.s6_addr);
}

}  // namespace

std::optional<Address> interface_address(std::string_view interface_name, unsigned int flags,
                                         const sockaddr* addr, const sockaddr* netmask) {
  if (addr == nullptr) return std::nullopt;
  if ((flags & IFF_UP) == 0 || (flags & IFF_LOOPBACK) != 0) return std::nullopt;
  std::array<char, INET6_ADDRSTRLEN> text{};
  Address out;
  out.interface_name = std::string(interface_name);
  if (addr->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, addr, sizeof in);
    if ((ntohl(in.sin_addr.s_addr) >> 24) == 127) return std::nullopt;
    if (::inet_ntop(AF_INET, &in.sin_addr, text.data(), text.size()) == nullptr) {
      return std::nullopt;
    }
    out.family = "ipv4";
  } else if (addr->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, addr, sizeof in6);
    if (IN6_IS_ADDR_LOOPBACK(&in6.sin6_addr) || IN6_IS_ADDR_LINKLOCAL(&in6.sin6_addr)) {
      return std::nullopt;
    }
    if (::inet_ntop(AF_INET6, &in6.sin6_addr, text.data(), text.size()) == nullptr) {
      return std::nullopt;
    }
    out.family = "ipv6";
  } else {
    return std::nullopt;
  }
  out.address = text.data();
  out.prefix_length = prefix_length_of(netmask, addr->sa_family);
  return out;
}

Status HostScanner::scan(Inventory& inventory) {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) {
    return discovery_error(
        "DiscoveryFailed",
        "gethostname: " + std::error_code(errno, std::generic_category()).message());
  }
  inventory.hostname = host.data();

  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    inventory.warnings.push_back("cannot list network addresses: getifaddrs: " +
                                 std::error_code(errno, std::generic_category()).message());
    return {};
  }
  std::vector<Address> addresses;
  for (const ifaddrs* ifa = list; ifa != nullptr; ifa = ifa->ifa_next) {
    if (auto a = interface_address(ifa->ifa_name == nullptr ? "" : ifa->ifa_name, ifa->ifa_flags,
                                   ifa->ifa_addr, ifa->ifa_netmask)) {
      addresses.push_back(std::move(*a));
    }
  }
  ::freeifaddrs(list);
  std::ranges::sort(addresses, {}, [](const Address& a) {
    return std::tie(a.interface_name, a.family, a.address);
  });
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  inventory.addresses = std::move(addresses);
  return {};
}

}  // namespace openbatch::agent::discovery
