// Node files through the agent's link (agent-protocol.md 3.9): one fileRequest per call, its
// answer handed back once; 409 NodeNotReachable when there is no link or it closes first.
#include "tests/unit/engine/engine_test_support.hpp"

namespace openbatch::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class FilesTest : public EngineTest {
 protected:
  // Asks the engine for a stat of `path` on the node; the answer lands in `answer`.
  void request(const std::string& node_id, const std::string& path) {
    protocol::FileRequest req;
    req.op = protocol::FileOp::Stat;
    req.path = path;
    h.engine().file_request(node_id, std::move(req), [this](protocol::FileResponse response) {
      answers.push_back(std::move(response));
    });
  }
  std::optional<protocol::FileRequest> wait_request(SimulatedAgent& agent) {
    std::optional<protocol::FileRequest> found;
    h.run_until([&] {
      auto sent = agent.link().sent<protocol::FileRequest>();
      if (!sent.empty()) found = sent.back();
      return found.has_value();
    });
    return found;
  }
  bool wait_answer() {
    return h.run_until([&] { return !answers.empty(); });
  }
  std::vector<protocol::FileResponse> answers;
};

TEST_F(FilesTest, AgentsAnswerReachesTheCaller) {
  pool_with_nodes(1);
  SimulatedAgent& agent = *agents[0];
  request(agent.node_id(), "workitems/job/job-1/t1/stdout.txt");
  auto sent = wait_request(agent);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->op, protocol::FileOp::Stat);
  EXPECT_EQ(sent->path, "workitems/job/job-1/t1/stdout.txt");
  EXPECT_FALSE(sent->request_id.empty());
  protocol::FileResponse response;
  response.request_id = sent->request_id;
  response.status = 200;
  response.file = files::FileInfo{"stdout.txt", false, 42, {}, {}, 0644};
  agent.send(response);
  ASSERT_TRUE(wait_answer());
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].status, 200);
  ASSERT_TRUE(answers[0].file);
  EXPECT_EQ(answers[0].file->size, 42u);
  // A second answer to the same request is ignored.
  agent.send(response);
  h.run_for(50ms);
  EXPECT_EQ(answers.size(), 1u);
}

TEST_F(FilesTest, LinkClosingBeforeTheAnswerIs409) {
  pool_with_nodes(1);
  SimulatedAgent& agent = *agents[0];
  request(agent.node_id(), "stdout.txt");
  ASSERT_TRUE(wait_request(agent));
  agent.close_link();
  ASSERT_TRUE(wait_answer());
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].status, 409);
  EXPECT_EQ(answers[0].code, "NodeNotReachable");
}

TEST_F(FilesTest, NodeWithoutALinkIs409AtOnce) {
  pool_with_nodes(1);
  SimulatedAgent& agent = *agents[0];
  agent.close_link();
  h.run_for(20ms);
  request(agent.node_id(), "stdout.txt");
  ASSERT_TRUE(wait_answer());
  EXPECT_EQ(answers[0].status, 409);
  EXPECT_EQ(answers[0].code, "NodeNotReachable");
  EXPECT_TRUE(agent.link().sent<protocol::FileRequest>().empty());
}

TEST_F(FilesTest, AnswerFromAnotherNodeIsNotTaken) {
  pool_with_nodes(2);
  SimulatedAgent& asked = *agents[0];
  SimulatedAgent& other = *agents[1];
  request(asked.node_id(), "stdout.txt");
  auto sent = wait_request(asked);
  ASSERT_TRUE(sent);
  protocol::FileResponse forged;
  forged.request_id = sent->request_id;
  forged.status = 200;
  other.send(forged);
  h.run_for(50ms);
  EXPECT_TRUE(answers.empty()) << "another node answered for this one";
}

// A short deadline (the scheduler's is 30 s) on a harness of its own.
TEST(EngineFiles, UnansweredRequestIs504AfterTheDeadline) {
  auto config = EngineHarness::default_config();
  config.file_request_timeout = 100ms;
  EngineHarness h(config);
  const std::string token = h.add_pool("pool", 1, 1);
  SimulatedAgent agent(h, "pool");
  ASSERT_TRUE(agent.join_and_ready(token));
  std::vector<protocol::FileResponse> answers;
  protocol::FileRequest req;
  req.op = protocol::FileOp::Read;
  req.path = "stdout.txt";
  h.engine().file_request(agent.node_id(), req,
                          [&](protocol::FileResponse r) { answers.push_back(std::move(r)); });
  ASSERT_TRUE(h.run_until([&] { return !agent.link().sent<protocol::FileRequest>().empty(); }));
  const std::string id = agent.link().sent<protocol::FileRequest>()[0].request_id;
  ASSERT_TRUE(h.run_until([&] { return !answers.empty(); }, 3s));
  EXPECT_EQ(answers[0].status, 504);
  EXPECT_EQ(answers[0].code, "OperationTimedOut");
  // The agent's answer after the deadline finds nothing waiting.
  protocol::FileResponse late;
  late.request_id = id;
  agent.send(late);
  h.run_for(50ms);
  EXPECT_EQ(answers.size(), 1u);
}

}  // namespace
}  // namespace openbatch::testing
