// Job and task routes through the real router and store: collections, paging and filters,
// terminate/reactivate, job terminate and delete finished by the sweeper, and task files.
#include "scheduler/store/async_write.hpp"
#include "tests/unit/api/api_harness.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <set>

namespace openbatch::testing {
namespace {

using nlohmann::json;

json collection(int first, int count, const std::string& prefix = "t") {
  json tasks = json::array();
  for (int i = first; i < first + count; ++i) {
    tasks.push_back({{"id", prefix + std::to_string(i)},
                     {"commandLine", "/bin/sh -c \"echo " + std::to_string(i) + "\""}});
  }
  return {{"value", tasks}};
}

TEST(TaskApi, CollectionsAddPageAndFilter) {
  ApiHarness h;
  ASSERT_EQ(
      h.call("POST", with_version("/jobs"), json{{"id", "job1"}, {"poolInfo", {{"poolId", "p"}}}})
          .status,
      201);
  auto added = h.call("POST", with_version("/jobs/job1/addtaskcollection"), collection(0, 100));
  ASSERT_EQ(added.status, 200) << added.body;
  const json added_results = added.json()["value"];
  ASSERT_EQ(added_results.size(), 100u);
  for (const auto& r : added_results) EXPECT_EQ(r["status"], "success");

  // A retry of the same ids reports each as TaskExists and adds the new one.
  auto retry = h.call("POST", with_version("/jobs/job1/addtaskcollection"), collection(99, 2));
  ASSERT_EQ(retry.status, 200);
  int exists = 0;
  const json retry_results = retry.json()["value"];
  for (const auto& r : retry_results)
    exists += r["status"] == "clienterror" && r["error"]["code"] == "TaskExists";
  EXPECT_EQ(exists, 1) << retry.body;

  auto too_many =
      h.call("POST", with_version("/jobs/job1/addtaskcollection"), collection(200, 101));
  EXPECT_EQ(too_many.status, 400);
  auto bad_task = collection(300, 3);
  bad_task["value"][1].erase("commandLine");
  auto refused = h.call("POST", with_version("/jobs/job1/addtaskcollection"), bad_task);
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.code(), "MissingRequiredProperty");
  EXPECT_NE(refused.body.find("value[1]"), std::string::npos) << refused.body;

  // 101 tasks, pages of 30, following the absolute nextLink verbatim.
  std::string target = with_version("/jobs/job1/tasks?maxresults=30");
  std::set<std::string> seen;
  int pages = 0;
  while (!target.empty()) {
    auto page = h.call("GET", target).json();
    ASSERT_LE(page["value"].size(), 30u);
    for (const auto& t : page["value"]) EXPECT_TRUE(seen.insert(t["id"]).second);
    ++pages;
    target.clear();
    if (page.contains("odata.nextLink"))
      target = page["odata.nextLink"].get<std::string>().substr(strlen("http://batch.test"));
  }
  EXPECT_EQ(seen.size(), 101u);
  EXPECT_EQ(pages, 4);

  auto selected =
      h.call("GET", with_version("/jobs/job1/tasks?$select=id,state&$filter=startswith(id,'t10')"))
          .json();
  ASSERT_EQ(selected["value"].size(), 2u);  // t10, t100
  EXPECT_EQ(selected["value"][0].size(), 2u);
  auto task = h.call("GET", with_version("/jobs/job1/tasks/T5")).json();
  EXPECT_EQ(task["id"], "t5");
  EXPECT_EQ(task["executionInfo"]["retryCount"], 0);
  EXPECT_EQ(task["constraints"]["maxWallClockTime"], "P10675199DT2H48M5.4775807S");
  EXPECT_EQ(task["constraints"]["retentionTime"], "P7D");
}

TEST(TaskApi, TerminateReactivateAndCounts) {
  ApiHarness h;
  ASSERT_EQ(
      h.call("POST", with_version("/jobs"), json{{"id", "job1"}, {"poolInfo", {{"poolId", "p"}}}})
          .status,
      201);
  ASSERT_EQ(
      h.call("POST", with_version("/jobs/job1/tasks"), json{{"id", "a"}, {"commandLine", "true"}})
          .status,
      201);
  ASSERT_EQ(
      h.call("POST", with_version("/jobs/job1/tasks"), json{{"id", "b"}, {"commandLine", "true"}})
          .status,
      201);
  EXPECT_EQ(
      h.call("POST", with_version("/jobs/job1/tasks"), json{{"id", "A"}, {"commandLine", "true"}})
          .code(),
      "TaskExists");
  EXPECT_EQ(h.call("POST", with_version("/jobs/job1/tasks/a/reactivate")).code(),
            "TaskNotCompleted");
  ASSERT_EQ(h.call("POST", with_version("/jobs/job1/tasks/a/terminate")).status, 204);
  auto a = h.call("GET", with_version("/jobs/job1/tasks/a")).json();
  EXPECT_EQ(a["state"], "completed");
  EXPECT_EQ(a["executionInfo"]["result"], "failure");
  EXPECT_EQ(a["executionInfo"]["failureInfo"]["code"], "TaskEnded");
  EXPECT_EQ(h.call("POST", with_version("/jobs/job1/tasks/a/terminate")).code(), "TaskCompleted");
  auto counts = h.call("GET", with_version("/jobs/job1/taskcounts")).json();
  EXPECT_EQ(counts["taskCounts"]["active"], 1);
  EXPECT_EQ(counts["taskCounts"]["completed"], 1);
  EXPECT_EQ(counts["taskCounts"]["failed"], 1);
  ASSERT_EQ(h.call("POST", with_version("/jobs/job1/tasks/a/reactivate")).status, 204);
  EXPECT_EQ(h.call("GET", with_version("/jobs/job1/tasks/a")).json()["state"], "active");
  EXPECT_EQ(h.call("GET", with_version("/jobs/job1/taskcounts")).json()["taskCounts"]["failed"], 0)
      << "a reactivated task no longer counts as failed";
  ASSERT_EQ(h.call("POST", with_version("/jobs/job1/tasks/b/terminate")).status, 204);
  EXPECT_EQ(h.call("GET", with_version("/jobs/job1/taskcounts")).json()["taskCounts"]["failed"], 1);
  EXPECT_EQ(h.call("GET", with_version("/jobs/job1/tasks/a/subtasksinfo")).json()["value"],
            json::array());
  ASSERT_EQ(h.call("DELETE", with_version("/jobs/job1/tasks/b")).status, 200);
  EXPECT_EQ(h.call("GET", with_version("/jobs/job1/tasks/b")).code(), "TaskNotFound");
  EXPECT_EQ(h.call("GET", with_version("/jobs/job1/taskcounts")).json()["taskCounts"]["failed"], 0)
      << "a deleted task no longer counts";
  auto filtered =
      h.call("GET", with_version("/jobs/job1/tasks?$filter=state%20eq%20'Active'")).json();
  EXPECT_EQ(filtered["value"].size(), 1u);
}

TEST(JobApi, TerminateCompletesTheJobAndRefusesNewTasks) {
  ApiHarness h;
  ASSERT_EQ(h.call("POST", with_version("/jobs"),
                   json{{"id", "job1"}, {"poolInfo", {{"poolId", "p"}}}, {"priority", 100}})
                .status,
            201);
  EXPECT_EQ(
      h.call("POST", with_version("/jobs"), json{{"id", "JOB1"}, {"poolInfo", {{"poolId", "p"}}}})
          .code(),
      "JobExists");
  ASSERT_EQ(
      h.call("POST", with_version("/jobs/job1/terminate"), json{{"terminateReason", "done early"}})
          .status,
      202);
  EXPECT_EQ(h.call("GET", with_version("/jobs/job1")).json()["state"], "terminating");
  EXPECT_EQ(h.call("POST", with_version("/jobs/job1/terminate")).code(), "JobBeingTerminated");
  h.sweep();
  auto job = h.call("GET", with_version("/jobs/job1")).json();
  EXPECT_EQ(job["state"], "completed");
  EXPECT_EQ(job["executionInfo"]["terminateReason"], "done early");
  EXPECT_TRUE(job["executionInfo"].contains("endTime"));
  EXPECT_EQ(h.call("POST", with_version("/jobs/job1/tasks"),
                   json{{"id", "late"}, {"commandLine", "true"}})
                .code(),
            "JobCompleted");
  EXPECT_EQ(
      h.call("POST", with_version("/jobs/nope/tasks"), json{{"id", "x"}, {"commandLine", "true"}})
          .code(),
      "JobNotFound");
}

TEST(JobApi, PatchDisableEnableAndDeleteWithTasks) {
  ApiHarness h;
  ASSERT_EQ(
      h.call("POST", with_version("/jobs"), json{{"id", "job1"}, {"poolInfo", {{"poolId", "p"}}}})
          .status,
      201);
  ASSERT_EQ(h.call("POST", with_version("/jobs/job1/addtaskcollection"), collection(0, 50)).status,
            200);
  auto patched = h.call("PATCH", with_version("/jobs/job1"), json{{"priority", 500}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(h.call("GET", with_version("/jobs/job1")).json()["priority"], 500);
  EXPECT_EQ(h.call("PATCH", with_version("/jobs/job1"), json{{"priority", 5000}}).status, 400);
  ASSERT_EQ(
      h.call("POST", with_version("/jobs/job1/disable"), json{{"disableTasks", "Requeue"}}).status,
      202);
  h.sweep();
  EXPECT_EQ(h.call("GET", with_version("/jobs/job1")).json()["state"], "disabled");
  ASSERT_EQ(h.call("POST", with_version("/jobs/job1/enable")).status, 202);
  h.sweep();
  EXPECT_EQ(h.call("GET", with_version("/jobs/job1")).json()["state"], "active");
  ASSERT_EQ(h.call("DELETE", with_version("/jobs/job1")).status, 202);
  EXPECT_EQ(
      h.call("POST", with_version("/jobs/job1/tasks"), json{{"id", "x"}, {"commandLine", "true"}})
          .code(),
      "JobBeingDeleted");
  h.sweep();
  EXPECT_EQ(h.call("GET", with_version("/jobs/job1")).code(), "JobNotFound");
  auto reader = h.store().reader();
  EXPECT_EQ(reader->count(store::Table::Tasks, "job1", std::nullopt), 0);
}

// Puts a node with a local root directory and a task that ran there, as the agent issue will.
void place_task_on_node(ApiHarness& h, const std::string& job, const std::string& task) {
  const auto root = h.dir() / "nodes" / "p1" / "node1";
  const auto task_dir = root / "workitems" / job / "job-1" / task;
  std::filesystem::create_directories(task_dir / "wd" / "sub");
  std::ofstream(task_dir / "stdout.txt") << "hello from the task\n";
  std::ofstream(task_dir / "wd" / "out put.txt") << "0123456789";
  std::ofstream(root / "secret.txt") << "outside the task dir";
  auto status = [&] {
    boost::asio::io_context ioc;
    auto fut = boost::asio::co_spawn(
        ioc,
        store::write(h.store(),
                     [&](store::Writer& w) {
                       store::Record node{"node1", "p1", "idle",
                                          json{{"id", "node1"},
                                               {"state", "idle"},
                                               {"url", "http://batch.test/pools/p1/nodes/node1"}}
                                              .dump(),
                                          0};
                       w.insert(store::Table::Nodes, node);
                       auto rec = w.get(store::Table::Tasks, job, task);
                       auto body = json::parse(rec->body);
                       body["nodeInfo"] = {
                           {"poolId", "p1"},
                           {"nodeId", "node1"},
                           {"taskRootDirectory", "workitems\\" + job + "\\job-1\\" + task}};
                       rec->body = body.dump();
                       return w.update(store::Table::Tasks, *rec);
                     }),
        boost::asio::use_future);
    while (fut.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
      ioc.run_for(std::chrono::milliseconds(5));
      ioc.restart();
    }
    return fut.get();
  }();
  ASSERT_TRUE(status);
}

TEST(TaskFilesApi, ReadsListsRangesAndRefusesEscapes) {
  ApiHarness h;
  ASSERT_EQ(h.call("POST", with_version("/pools"), gpu_pool("p1")).status, 201);
  ASSERT_EQ(
      h.call("POST", with_version("/jobs"), json{{"id", "job1"}, {"poolInfo", {{"poolId", "p1"}}}})
          .status,
      201);
  ASSERT_EQ(
      h.call("POST", with_version("/jobs/job1/tasks"), json{{"id", "t1"}, {"commandLine", "true"}})
          .status,
      201);
  EXPECT_EQ(h.call("GET", with_version("/jobs/job1/tasks/t1/files")).code(),
            "TaskFilesUnavailable");
  place_task_on_node(h, "job1", "t1");

  auto out = h.call("GET", with_version("/jobs/job1/tasks/t1/files/stdout.txt"));
  ASSERT_EQ(out.status, 200) << out.body;
  EXPECT_EQ(out.body, "hello from the task\n");
  EXPECT_EQ(out.header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(out.header("ocp-batch-file-isdirectory"), "false");

  auto ranged = h.call("GET", with_version("/jobs/job1/tasks/t1/files/wd%2Fout%20put.txt"), "",
                       {{"ocp-range", "bytes=2-5"}});
  ASSERT_EQ(ranged.status, 200);  // 200, not 206: the JS SDK rejects 206
  EXPECT_EQ(ranged.body, "2345");
  EXPECT_EQ(h.call("GET", with_version("/jobs/job1/tasks/t1/files/stdout.txt"), "",
                   {{"ocp-range", "bytes=500-600"}})
                .status,
            416);

  auto head = h.call("HEAD", with_version("/jobs/job1/tasks/t1/files/wd/out%20put.txt"));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), "10");

  auto top = h.call("GET", with_version("/jobs/job1/tasks/t1/files?recursive=false")).json();
  std::set<std::string> names;
  for (const auto& f : top["value"]) names.insert(f["name"]);
  EXPECT_EQ(names, (std::set<std::string>{"stdout.txt", "wd"}));
  auto all =
      h.call("GET",
             with_version("/jobs/job1/tasks/t1/files?recursive=true&$filter=startswith(name,'wd')"))
          .json();
  EXPECT_EQ(all["value"].size(), 3u);  // wd, wd/out put.txt, wd/sub

  EXPECT_EQ(h.call("GET", with_version("/jobs/job1/tasks/t1/files/..%2F..%2F..%2F..%2Fsecret.txt"))
                .status,
            400);
  EXPECT_EQ(h.call("GET", with_version("/jobs/job1/tasks/t1/files/nope.txt")).code(),
            "FileNotFound");
  auto node_file = h.call("GET", with_version("/pools/p1/nodes/node1/files/secret.txt"));
  EXPECT_EQ(node_file.body, "outside the task dir");
  EXPECT_EQ(h.call("GET", with_version("/pools/p1/nodes/node1")).json()["state"], "idle");
  EXPECT_EQ(h.call("GET", with_version("/pools/p1/nodes")).json()["value"].size(), 1u);
  EXPECT_EQ(h.call("DELETE", with_version("/jobs/job1/tasks/t1/files/wd")).status, 409);
  EXPECT_EQ(h.call("DELETE", with_version("/jobs/job1/tasks/t1/files/wd?recursive=true")).status,
            200);
}

}  // namespace
}  // namespace openbatch::testing
