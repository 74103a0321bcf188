// A gang's assignment frames are spliced from cached list text (gang_assignment_encoding.hpp):
// they must be byte for byte the dump of the whole JSON tree, and decode back to the same
// message, whether the lists are cached, new, or changed in one entry.
#include "common/protocol/gang_assignment_encoding.hpp"

#include <gtest/gtest.h>

#include <string>

namespace openbatch::protocol {
namespace {

Assignment gang_assignment(int instances, int subtask, const std::string& salt) {
  Assignment a;
  a.attempt_id = "att-" + std::to_string(subtask);
  a.job_id = "job \"quoted\"\\";
  a.task_id = "task-1";
  a.command_line = "mpirun -n " + std::to_string(instances) + " hostname # é";
  a.environment = {{"A", "1"}, {"hostList", "\"multiInstance\":null"}};
  a.resource_files = json::array({{{"httpUrl", "http://x/y"}, {"filePath", "f"}}});
  a.required_slots = 1;
  MultiInstance m;
  m.number_of_instances = instances;
  m.subtask_id = subtask;
  m.coordination_command_line = "echo coord";
  m.common_resource_files = json::array({{{"httpUrl", "http://x/z"}, {"filePath", "g"}}});
  for (int i = 0; i < instances; ++i) {
    m.host_list.push_back("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + salt);
    m.node_list.push_back("tvmps_node" + std::to_string(i));
    m.exec_ports.push_back(40000 + i);
    m.host_names.push_back("host-" + std::to_string(i));
  }
  m.exec_token = "secret-token";
  m.transport = "tcp";
  m.transport_environment = {{"OMPI_MCA_btl", "tcp,self"}};
  a.multi_instance = m;
  return a;
}

std::string tree_dump(const Message& message) {
  json j;
  to_json(j, message);
  return j.dump();
}

TEST(GangAssignmentEncoding, FramesAreTheWholeTreeDumpedCachedOrNot) {
  for (const std::string salt : {"", "", "-b"}) {  // first fill, cache hit, lists changed
    for (int subtask : {0, 1, 99}) {
      const Message message{7 + std::uint64_t(subtask), gang_assignment(100, subtask, salt)};
      const std::string frame = encode(message);
      EXPECT_EQ(frame, tree_dump(message));
      auto back = decode(frame);
      ASSERT_TRUE(back) << back.error().message;
      EXPECT_EQ(*back, message);
    }
  }
}

TEST(GangAssignmentEncoding, OneChangedEntryIsNotServedFromTheCache) {
  Message message{1, gang_assignment(kSharedGangListsFrom, 0, "")};
  ASSERT_EQ(encode(message), tree_dump(message));
  std::get<Assignment>(message.payload).multi_instance->exec_ports.back() = 1;
  EXPECT_EQ(encode(message), tree_dump(message));
  std::get<Assignment>(message.payload).multi_instance->host_names.clear();
  std::get<Assignment>(message.payload).multi_instance->exec_ports.clear();
  EXPECT_EQ(encode(message), tree_dump(message));
}

TEST(GangAssignmentEncoding, ShortListsAndPlainTasksKeepTheTreeDump) {
  const Message small{3, gang_assignment(2, 1, "")};
  EXPECT_EQ(encode(small), tree_dump(small));
  Assignment plain = gang_assignment(1, 0, "");
  plain.multi_instance.reset();
  const Message message{4, plain};
  EXPECT_EQ(encode(message), tree_dump(message));
}

}  // namespace
}  // namespace openbatch::protocol
