// Where the remote-launch server listens (exec_listen.hpp): the option's forms, and the
// decision -- only on inter-node pools, on the node's pool-network address.
#include "node_agent/remote/exec_listen.hpp"

#include <gtest/gtest.h>

namespace openbatch::agent::remote {
namespace {

using Mode = ExecListen::Mode;

TEST(ExecListen, ParsesItsForms) {
  EXPECT_EQ(*parse_exec_listen("auto"), (ExecListen{Mode::Auto, "", 0}));
  EXPECT_EQ(*parse_exec_listen("auto:4100"), (ExecListen{Mode::Auto, "", 4100}));
  EXPECT_EQ(*parse_exec_listen("off"), (ExecListen{Mode::Off, "", 0}));
  EXPECT_EQ(*parse_exec_listen("10.1.0.4"), (ExecListen{Mode::Fixed, "10.1.0.4", 0}));
  EXPECT_EQ(*parse_exec_listen("10.1.0.4:0"), (ExecListen{Mode::Fixed, "10.1.0.4", 0}));
  EXPECT_EQ(*parse_exec_listen("[fd00::4]:4100"), (ExecListen{Mode::Fixed, "fd00::4", 4100}));
  EXPECT_EQ(*parse_exec_listen("[fd00::4]"), (ExecListen{Mode::Fixed, "fd00::4", 0}));
  for (const char* bad : {"", ":4100", "10.1.0.4:", "10.1.0.4:65536", "10.1.0.4:x", "fd00::4",
                          "[fd00::4", "[fd00::4]4100"}) {
    auto parsed = parse_exec_listen(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, "InvalidOption") << bad;
  }
}

TEST(ExecListen, RunsOnlyOnInterNodePools) {
  const std::optional<std::string> address = "10.1.0.4";
  EXPECT_EQ(exec_bind_for(*parse_exec_listen("auto"), false, address), std::nullopt);
  EXPECT_EQ(exec_bind_for(*parse_exec_listen("0.0.0.0:4100"), false, address), std::nullopt)
      << "an explicit address does not override the pool";
  EXPECT_EQ(exec_bind_for(*parse_exec_listen("off"), true, address), std::nullopt);
}

TEST(ExecListen, ListensOnTheNodesAddressNotEveryInterface) {
  EXPECT_EQ(exec_bind_for(*parse_exec_listen("auto"), true, std::string("10.1.0.4")),
            (ExecBind{"10.1.0.4", 0}));
  EXPECT_EQ(exec_bind_for(*parse_exec_listen("auto:4100"), true, std::string("127.0.0.1")),
            (ExecBind{"127.0.0.1", 4100}));
  EXPECT_EQ(exec_bind_for(*parse_exec_listen("auto"), true, std::nullopt), std::nullopt)
      << "no address known: no server rather than every interface";
  EXPECT_EQ(exec_bind_for(*parse_exec_listen("auto"), true, std::string()), std::nullopt);
  EXPECT_EQ(exec_bind_for(*parse_exec_listen("192.168.5.1:7"), true, std::string("10.1.0.4")),
            (ExecBind{"192.168.5.1", 7}));
}

}  // namespace
}  // namespace openbatch::agent::remote
