// HostScanner: which getifaddrs entries become addresses, and the real scan of this machine.
#include "node_agent/discovery/host_scanner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <net/if.h>
#include <netinet/in.h>
#include <tuple>
#include <unistd.h>

namespace openbatch::agent::discovery {
namespace {

constexpr unsigned kUp = IFF_UP | IFF_RUNNING;

sockaddr_in v4(const char* text) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, text, &a.sin_addr);
  return a;
}

sockaddr_in6 v6(const char* text) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  ::inet_pton(AF_INET6, text, &a.sin6_addr);
  return a;
}

const sockaddr* as_sockaddr(const void* p) { return static_cast<const sockaddr*>(p); }

TEST(InterfaceAddress, KeepsRoutableAddressesOfInterfacesThatAreUp) {
  auto a = v4("10.1.0.4");
  auto kept = interface_address("eth0", kUp, as_sockaddr(&a));
  ASSERT_TRUE(kept);
  EXPECT_EQ(*kept, (Address{"eth0", "10.1.0.4", "ipv4"}));

  auto b = v6("2001:db8::4");
  auto kept6 = interface_address("ib0", kUp, as_sockaddr(&b));
  ASSERT_TRUE(kept6);
  EXPECT_EQ(*kept6, (Address{"ib0", "2001:db8::4", "ipv6"}));
}

TEST(InterfaceAddress, TakesThePrefixLengthFromTheNetmask) {
  auto a = v4("10.1.0.4");
  auto mask = v4("255.255.255.0");
  auto kept = interface_address("eth0", kUp, as_sockaddr(&a), as_sockaddr(&mask));
  ASSERT_TRUE(kept);
  EXPECT_EQ(*kept, (Address{"eth0", "10.1.0.4", "ipv4", 24}));
  auto wide = v4("255.240.0.0");
  EXPECT_EQ(interface_address("eth0", kUp, as_sockaddr(&a), as_sockaddr(&wide))->prefix_length, 12);
  auto host = v4("255.255.255.255");
  EXPECT_EQ(interface_address("eth0", kUp, as_sockaddr(&a), as_sockaddr(&host))->prefix_length, 32);

  auto b = v6("2001:db8::4");
  auto mask6 = v6("ffff:ffff:ffff:ffff::");
  EXPECT_EQ(interface_address("ib0", kUp, as_sockaddr(&b), as_sockaddr(&mask6))->prefix_length, 64);
  // A mask of the other family, or none: unknown.
  EXPECT_EQ(interface_address("ib0", kUp, as_sockaddr(&b), as_sockaddr(&mask))->prefix_length, 0);
  EXPECT_EQ(interface_address("eth0", kUp, as_sockaddr(&a), nullptr)->prefix_length, 0);
}

TEST(InterfaceAddress, DropsLoopbackLinkLocalDownAndOtherFamilies) {
  auto lo = v4("127.0.0.1");
  EXPECT_FALSE(interface_address("lo", kUp | IFF_LOOPBACK, as_sockaddr(&lo)));
  EXPECT_FALSE(interface_address("dummy0", kUp, as_sockaddr(&lo))) << "127/8 without the flag";
  auto lo6 = v6("::1");
  EXPECT_FALSE(interface_address("lo", kUp, as_sockaddr(&lo6)));
  auto link_local = v6("fe80::20d:3aff:fe5f:217c");
  EXPECT_FALSE(interface_address("eth0", kUp, as_sockaddr(&link_local)));
  auto down = v4("10.1.0.5");
  EXPECT_FALSE(interface_address("eth1", 0, as_sockaddr(&down)));
  sockaddr other{};
  other.sa_family = AF_UNIX;
  EXPECT_FALSE(interface_address("eth0", kUp, &other));
  EXPECT_FALSE(interface_address("eth0", kUp, nullptr));
}

TEST(HostScanner, ReadsThisMachine) {
  Inventory inv;
  auto status = HostScanner().scan(inv);
  ASSERT_TRUE(status) << status.error().message;
  std::array<char, 256> host{};
  ASSERT_EQ(::gethostname(host.data(), host.size() - 1), 0);
  EXPECT_EQ(inv.hostname, host.data());
  for (const auto& a : inv.addresses) {
    EXPECT_FALSE(a.interface_name.empty());
    EXPECT_TRUE(a.family == "ipv4" || a.family == "ipv6") << a.family;
    EXPECT_GE(a.prefix_length, 1) << a.address;
    EXPECT_LE(a.prefix_length, a.family == "ipv4" ? 32 : 128) << a.address;
    EXPECT_NE(a.address, "127.0.0.1");
    EXPECT_NE(a.address, "::1");
  }
  EXPECT_TRUE(std::ranges::is_sorted(inv.addresses, {}, [](const Address& a) {
    return std::tie(a.interface_name, a.family, a.address);
  }));
}

}  // namespace
}  // namespace openbatch::agent::discovery
