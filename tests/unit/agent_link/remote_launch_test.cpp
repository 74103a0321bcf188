// RemoteLaunch: the remote-launch server runs only while welcome says the pool has inter-node
// communication, on the node's address, and the setting is remembered in the state directory
// so that a restarted agent has its server up before hello.
#include "node_agent/daemon/remote_launch.hpp"

#include "node_agent/exec/posix_launcher.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace openbatch::agent::daemon {
namespace {

using namespace std::chrono_literals;

class RemoteLaunchTest : public ::testing::Test {
 protected:
  std::unique_ptr<RemoteLaunch> make(const std::string& listen = "auto") {
    return std::make_unique<RemoteLaunch>(
        io_, launcher_,
        [](const remote::ExecRequest&) -> Result<remote::ExecTarget> {
          return Error(403, "RshRefused", "no instance here");
        },
        *remote::parse_exec_listen(listen), 100ms, state_file());
  }
  std::filesystem::path state_file() const { return dir_.path() / kRemoteLaunchStateFile; }
  nlohmann::json remembered() const {
    std::ifstream in(state_file());
    std::stringstream text;
    text << in.rdbuf();
    return nlohmann::json::parse(text.str(), nullptr, false);
  }

  boost::asio::io_context io_;
  exec::PosixLauncher launcher_;
  openbatch::testing::TempDir dir_;
};

TEST_F(RemoteLaunchTest, NoServerWithoutInterNodeCommunication) {
  auto launch = make();
  launch->start_remembered();
  EXPECT_FALSE(launch->port()) << "nothing remembered: nothing runs before welcome";
  launch->on_welcome(false, std::string("127.0.0.1"));
  EXPECT_FALSE(launch->port());
  EXPECT_EQ(remembered()["interNodeCommunication"], false);
}

TEST_F(RemoteLaunchTest, StartsOnWelcomeAndAgainBeforeHelloAfterARestart) {
  auto launch = make();
  launch->on_welcome(true, std::string("127.0.0.1"));
  ASSERT_TRUE(launch->port());
  EXPECT_GT(*launch->port(), 0);
  EXPECT_EQ(remembered(),
            (nlohmann::json{{"interNodeCommunication", true}, {"nodeAddress", "127.0.0.1"}}));
  struct stat st {};
  ASSERT_EQ(::stat(state_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const int first = *launch->port();
  launch->on_welcome(true, std::string("127.0.0.1"));
  EXPECT_EQ(launch->port(), first) << "the same welcome again keeps the server";
  launch.reset();

  auto restarted = make();
  restarted->start_remembered();
  EXPECT_TRUE(restarted->port()) << "up before hello";
  restarted->on_welcome(false, std::string("127.0.0.1"));
  EXPECT_FALSE(restarted->port()) << "a pool without inter-node communication: stopped";
}

TEST_F(RemoteLaunchTest, OffRunsNothingAndAnUnusableAddressRunsNothing) {
  auto off = make("off");
  off->on_welcome(true, std::string("127.0.0.1"));
  EXPECT_FALSE(off->port());
  auto elsewhere = make();
  elsewhere->on_welcome(true, std::string("192.0.2.1"));  // TEST-NET: not this host's
  EXPECT_FALSE(elsewhere->port()) << "never falls back to every interface";
  auto none = make();
  none->on_welcome(true, std::nullopt);
  EXPECT_FALSE(none->port());
}

}  // namespace
}  // namespace openbatch::agent::daemon
