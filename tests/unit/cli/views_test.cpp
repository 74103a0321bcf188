// Entity columns and show fields over wire JSON, including JSON of unexpected shapes.
#include "cli/views.hpp"

#include "cli/json_fields.hpp"

#include <gtest/gtest.h>

#include <map>

namespace openbatch::cli {
namespace {

using nlohmann::json;

const json kPool = json::parse(R"({
  "id":"gpu-pool","state":"active","allocationState":"resizing","vmSize":"standard_nc6",
  "currentDedicatedNodes":0,"targetDedicatedNodes":2,"taskSlotsPerNode":4,
  "virtualMachineConfiguration":{"imageReference":{"publisher":"canonical","offer":"ubuntu","sku":"20_04-lts","version":"latest"},
                                 "nodeAgentSKUId":"batch.node.ubuntu 20.04"},
  "resizeErrors":[{"code":"AllocationTimedout","message":"no nodes"}]})");

TEST(PoolView, ListColumnsShowNodesAsCurrentOverTarget) {
  EXPECT_EQ(list_table(pool_view(), json::array({kPool})).render(),
            "ID        STATE   ALLOCATION  VM SIZE       NODES  SLOTS\n"
            "gpu-pool  active  resizing    standard_nc6  0/2    4\n");
}

TEST(PoolView, ShowFieldsSkipEmptyValues) {
  const auto fields = entity_fields(pool_view(), kPool);
  auto find = [&](const std::string& label) -> std::string {
    for (const auto& [l, v] : fields) {
      if (l == label) return v;
    }
    return "(absent)";
  };
  EXPECT_EQ(find("Image"), "canonical ubuntu 20_04-lts latest");
  EXPECT_EQ(find("Dedicated nodes"), "0/2");
  EXPECT_EQ(find("Resize errors"), "AllocationTimedout: no nodes");
  EXPECT_EQ(find("Display name"), "(absent)");
  EXPECT_EQ(find("Start task"), "(absent)");
}

TEST(TaskView, ShowsResultExitCodeNodeAndShortCommand) {
  const json task = {{"id", "t1"},
                     {"state", "completed"},
                     {"commandLine", std::string(80, 'x')},
                     {"executionInfo",
                      {{"result", "failure"},
                       {"exitCode", 3},
                       {"retryCount", 1},
                       {"failureInfo", {{"code", "FailureExitCode"}, {"message", "exit 3"}}}}},
                     {"nodeInfo", {{"nodeId", "n1"}}}};
  const std::string out = list_table(task_view(), json::array({task})).render();
  EXPECT_NE(
      out.find("t1  completed  failure  3     1        n1    " + std::string(57, 'x') + "..."),
      std::string::npos)
      << out;
  bool failure_shown = false;
  for (const auto& [label, value] : entity_fields(task_view(), task)) {
    failure_shown = failure_shown || (label == "Failure" && value == "FailureExitCode: exit 3");
  }
  EXPECT_TRUE(failure_shown);
}

TEST(TaskView, ShowsWhyATaskWaitsAndItsMpiTransport) {
  const json task = {
      {"id", "mpi"},
      {"state", "active"},
      {"multiInstanceSettings", {{"numberOfInstances", 3}}},
      {"openbatch",
       {{"pendingReason", {{"code", "NotEnoughNodesForGang"}, {"message", "needs 3 nodes"}}},
        {"mpiTransport", {{"kind", "tcp"}, {"reason", "no InfiniBand"}}}}}};
  std::map<std::string, std::string> shown;
  for (const auto& [label, value] : entity_fields(task_view(), task)) shown[label] = value;
  EXPECT_EQ(shown["Instances"], "3");
  EXPECT_EQ(shown["Pending reason"], "needs 3 nodes");
  EXPECT_EQ(shown["MPI transport"], "tcp (no InfiniBand)");
}

TEST(SubtaskView, ListsStateExitCodeNodeAndFailure) {
  const json subtasks = json::array(
      {{{"id", 1},
        {"state", "completed"},
        {"result", "failure"},
        {"exitCode", 7},
        {"nodeInfo", {{"nodeId", "n2"}, {"taskRootDirectory", "workitems/j/job-1/t/1"}}},
        {"failureInfo", {{"code", "FailureExitCode"}, {"message", "exit 7"}}}}});
  EXPECT_EQ(list_table(subtask_view(), subtasks).render(),
            "ID  STATE      RESULT   EXIT  NODE  DIRECTORY              FAILURE\n"
            "1   completed  failure  7     n2    workitems/j/job-1/t/1  FailureExitCode: exit 7\n");
}

TEST(FileView, DirectoriesHaveNoSize) {
  const json files = json::array(
      {{{"name", "wd"}, {"isDirectory", true}},
       {{"name", "stdout.txt"},
        {"isDirectory", false},
        {"properties", {{"contentLength", 12}, {"lastModified", "2024-01-01T00:00:00Z"}}}}});
  EXPECT_EQ(list_table(file_view(), files).render(),
            "NAME        TYPE  SIZE  MODIFIED\n"
            "wd          dir\n"
            "stdout.txt  file  12    2024-01-01T00:00:00Z\n");
}

TEST(ApplicationView, JoinsVersions) {
  const json apps =
      json::array({{{"id", "drv"}, {"displayName", "Driver"}, {"versions", {"535", "550"}}}});
  EXPECT_EQ(list_table(application_view(), apps).render(),
            "ID   DISPLAY NAME  VERSIONS\n"
            "drv  Driver        535, 550\n");
}

TEST(Views, UnexpectedShapesPrintWithoutThrowing) {
  const json odd = json::array({{{"id", 7},
                                 {"state", nullptr},
                                 {"currentDedicatedNodes", "x"},
                                 {"virtualMachineConfiguration", "not an object"}},
                                "not an entity"});
  EXPECT_EQ(list_table(pool_view(), odd).render(),
            "ID  STATE  ALLOCATION  VM SIZE  NODES  SLOTS\n"
            "7                               0/0\n");
  EXPECT_EQ(text_at(json{{"a", {{"b", true}}}}, "a/b"), "true");
  EXPECT_EQ(int_at(json{{"a", "1"}}, "a", -1), -1);
}

}  // namespace
}  // namespace openbatch::cli
