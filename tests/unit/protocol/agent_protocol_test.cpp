// Agent protocol codec: every message survives encode/decode, malformed frames are refused
// with InvalidMessage naming the field, and the frames in docs/dev/agent-protocol.md decode.
#include "common/protocol/agent_protocol.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace openbatch::protocol {
namespace {

Report completed_report() {
  Report r;
  r.attempt_id = "job1:task3:1:0";
  r.state = AttemptState::Completed;
  r.exit_code = 3;
  r.start_time = "2025-03-01T09:58:00Z";
  r.end_time = "2025-03-01T09:59:30Z";
  r.failure_info = FailureInfo{ErrorCategory::UserError, "FailureExitCode", "exit 3"};
  r.result = TaskResult::Failure;
  return r;
}

Assignment full_assignment() {
  Assignment a;
  a.attempt_id = "job1:mpi1:0:2:1";
  a.job_id = "job1";
  a.task_id = "mpi1";
  a.retry_count = 0;
  a.requeue_count = 2;
  a.command_line = "mpirun -np 2 ./hello";
  a.environment = {{"MODE", "fast"}, {"EMPTY", ""}};
  a.user_identity = {{"userName", "batchuser"}};
  a.resource_files = json::array({{{"httpUrl", "https://example.org/a"}, {"filePath", "a"}}});
  a.constraints.max_wall_clock_time = "PT1H";
  a.constraints.retention_time = "P7D";
  a.constraints.max_task_retry_count = -1;
  a.required_slots = 2;
  a.gpu_uuids = {"GPU-1", "GPU-2"};
  MultiInstance mi;
  mi.number_of_instances = 2;
  mi.subtask_id = 1;
  mi.coordination_command_line = "true";
  mi.host_list = {"10.0.0.1", "10.0.0.2"};
  mi.node_list = {"n1", "n2"};
  mi.exec_token = "tok";
  mi.exec_ports = {40001, 40002};
  mi.host_names = {"node-a", "node-b"};
  mi.transport = "ucx";
  mi.transport_environment = {{"OMPI_MCA_pml", "ucx"}, {"UCX_NET_DEVICES", "mlx5_0:1"}};
  a.multi_instance = mi;
  a.job_environment = {{"JOBWIDE", "1"}, {"MODE", "slow"}};
  a.application_packages = {{"blender", "2.7", std::string(64, 'a'), 1024, false},
                            {"ffmpeg", "6.0", std::string(64, 'b'), 7, true}};
  return a;
}

NodeSetup full_setup() {
  NodeSetup s;
  s.generation = 3;
  s.start_task = {{"commandLine", "/bin/sh -c 'install.sh'"}, {"waitForSuccess", true}};
  s.packages = {{"GPUDriver", "411.82", std::string(64, 'c'), 4096, false}};
  s.gpu_driver_version = "411.82";
  return s;
}

files::FileInfo file_info(std::string name, bool dir, std::uint64_t size) {
  files::FileInfo f;
  f.name = std::move(name);
  f.is_directory = dir;
  f.size = size;
  // 100 ns precision: what the wire's 7 fractional digits carry.
  f.creation_time = TimePoint(std::chrono::seconds(1740823202)) + std::chrono::microseconds(123400);
  f.last_modified = TimePoint(std::chrono::seconds(1740823500));
  f.mode = dir ? 0755 : 0644;
  return f;
}

std::vector<Message> file_messages() {
  FileRequest read{"f1",  FileOp::Read, "workitems/j/job-1/t/stdout.txt",
                   false, std::nullopt, files::ByteRange{0, 1023}};
  FileRequest list{"f2", FileOp::List, "", true, 4096, std::nullopt};
  FileRequest stat{"f3", FileOp::Stat, "startup", false, std::nullopt, std::nullopt};
  FileRequest remove{"f4", FileOp::Remove, "shared/x", true, std::nullopt, std::nullopt};
  FileRequest open_range{"f5",  FileOp::Read, "a",
                         false, std::nullopt, files::ByteRange{7, std::nullopt}};
  FileResponse data;
  data.request_id = "f1";
  data.file = file_info("workitems/j/job-1/t/stdout.txt", false, 3);
  data.data = std::string("a\0\xff", 3);  // any bytes
  FileResponse listed;
  listed.request_id = "f2";
  listed.files = std::vector<files::FileInfo>{file_info("a", false, 1), file_info("b", true, 0)};
  FileResponse empty_list;
  empty_list.request_id = "f2";
  empty_list.files = std::vector<files::FileInfo>{};
  FileResponse failed{
      "f3",         404,          "FileNotFound", "The specified file does not exist.",
      std::nullopt, std::nullopt, std::nullopt};
  return {{10, read}, {11, list},   {12, stat},       {13, remove}, {14, open_range},
          {15, data}, {16, listed}, {17, empty_list}, {18, failed}};
}

std::vector<Message> every_message() {
  Hello hello;
  hello.agent_version = "0.3.0";
  hello.node_id = "tvmps_0001";
  hello.inventory_hash = "abc";
  hello.running_attempts = {{"job1:task7:0:0", AttemptState::Running, "2025-03-01T10:00:02Z"},
                            {"job1:task8:0:0", AttemptState::Preparing, std::nullopt}};
  hello.unacked_reports = {{40, completed_report()}};
  hello.exec_port = 40001;
  Report running;
  running.attempt_id = "job1:task7:0:0";
  running.state = AttemptState::Running;
  running.start_time = "2025-03-01T10:00:02Z";
  Report coordinated = running;
  coordinated.coordinated = true;
  return {
      {1, hello},
      {2, Welcome{1, "tvmps_0001", 15, true, std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                  false, std::nullopt}},
      {2, Welcome{1, "tvmps_0001", 15, false, "pool1", "acct", "http://127.0.0.1:8080",
                  std::nullopt, true, "10.1.0.4"}},
      {2, Welcome{1, "tvmps_0001", 15, false, "pool1", "acct", "http://x", full_setup(), false,
                  std::nullopt}},
      {2, Welcome{1, "tvmps_0001", 15, false, "pool1", "acct", "http://x", NodeSetup{}, false,
                  std::nullopt}},
      {3, InventoryUpdate{"abc", {{"hostname", "n1"}, {"gpus", json::array()}}}},
      {3, NodeStatus{3,
                     SetupState::Unusable,
                     {{"state", "completed"}, {"exitCode", 0}, {"retryCount", 0}},
                     json::array({{{"code", "GpuDriverVersionMismatch"}, {"message", "m"}}}),
                     std::nullopt}},
      {3, NodeStatus{1, SetupState::Ready, nullptr, json::array(), 41234}},
      {4, Heartbeat{3, 5}},
      {5, full_assignment()},
      {6, Assignment{"j:t:0:0",
                     "j",
                     "t",
                     0,
                     0,
                     "true",
                     {},
                     json::object(),
                     json::array(),
                     {},
                     1,
                     {},
                     std::nullopt,
                     {},
                     {}}},
      {7, Cancel{"job1:task9:0:1", CancelReason::Requeued}},
      {7, Cancel{"job1:task9:0:1:s2", CancelReason::TaskCompleted}},
      {8, running},
      {8, coordinated},
      {8, StartApplication{"job1:task9:0:1"}},
      {9, completed_report()},
      {kMaxSeq, Ack{{1, 2, kMaxSeq}}},
      file_messages()[0],
      file_messages()[5],
  };
}

TEST(AgentProtocol, EveryMessageRoundTrips) {
  std::set<std::string_view> types;
  for (const Message& m : every_message()) {
    std::string frame = encode(m);
    Result<Message> back = decode(frame);
    ASSERT_TRUE(back) << frame << ": " << back.error().detail("PropertyName") << " "
                      << back.error().detail("Reason");
    EXPECT_EQ(*back, m) << frame;
    EXPECT_EQ(encode(*back), frame);
    types.insert(type_name(m.payload));
  }
  EXPECT_EQ(types.size(), std::variant_size_v<Payload>);
}

TEST(AgentProtocol, NlohmannConversionsRoundTrip) {
  for (const Message& m : every_message()) {
    json j = m;
    EXPECT_EQ(j.get<Message>(), m);
  }
  json a = full_assignment();
  EXPECT_EQ(a.get<Assignment>(), full_assignment());
  json bad = {{"attemptId", "x"}};
  EXPECT_THROW((void)bad.get<Cancel>(), std::invalid_argument);
}

TEST(AgentProtocol, FileMessagesRoundTrip) {
  for (const Message& m : file_messages()) {
    std::string frame = encode(m);
    Result<Message> back = decode(frame);
    ASSERT_TRUE(back) << frame << ": " << back.error().detail("PropertyName") << " "
                      << back.error().detail("Reason");
    EXPECT_EQ(*back, m) << frame;
    EXPECT_EQ(encode(*back), frame);
  }
  // Optional parts are omitted, not null; data travels as base64; times as RFC 3339.
  json request = json::parse(encode(file_messages()[2]));
  EXPECT_FALSE(request.contains("recursive"));
  EXPECT_FALSE(request.contains("range"));
  EXPECT_FALSE(request.contains("limit"));
  json response = json::parse(encode(file_messages()[5]));
  EXPECT_EQ(response["data"], "YQD/");
  EXPECT_EQ(response["file"]["creationTime"], "2025-03-01T10:00:02.1234000Z");
  EXPECT_EQ(response["file"]["mode"], 0644);
  EXPECT_FALSE(response.contains("files"));
  EXPECT_FALSE(response.contains("code"));
  EXPECT_EQ(json::parse(encode(file_messages()[7]))["files"], json::array());
}

// Decodes `frame`, expecting InvalidMessage naming `field`.
void expect_refused(const std::string& frame, const std::string& field) {
  Result<Message> r = decode(frame);
  ASSERT_FALSE(r) << frame;
  EXPECT_EQ(r.error().code, "InvalidMessage");
  EXPECT_EQ(r.error().status, 400);
  EXPECT_EQ(r.error().detail("PropertyName"), field) << frame << ": " << r.error().detail("Reason");
}

TEST(AgentProtocol, RefusesBadEnvelopes) {
  expect_refused("not json", "frame");
  expect_refused("[1,2]", "frame");
  expect_refused(R"({"seq": 1})", "frame.type");
  expect_refused(R"({"type": "heartbeat", "runningAttempts": 0, "usedSlots": 0})", "frame.seq");
  expect_refused(R"({"type": "heartbeat", "seq": 0, "runningAttempts": 0, "usedSlots": 0})",
                 "frame.seq");
  expect_refused(R"({"type": "heartbeat", "seq": 9007199254740992, "runningAttempts": 0,
                     "usedSlots": 0})",
                 "frame.seq");
  expect_refused(R"({"type": "heartbeat", "seq": "1", "runningAttempts": 0, "usedSlots": 0})",
                 "frame.seq");
  expect_refused(R"({"type": "teleport", "seq": 1})", "type");
  expect_refused(R"({"type": 7, "seq": 1})", "frame.type");
  expect_refused(std::string(kMaxFrameBytes + 1, ' '), "frame");
  std::string deep = R"({"type": "inventory", "seq": 1, "inventoryHash": "h", "inventory": )";
  for (int i = 0; i < kMaxJsonDepth + 1; ++i) deep += R"({"a": )";
  deep += "1";
  for (int i = 0; i < kMaxJsonDepth + 1; ++i) deep += "}";
  deep += "}";
  expect_refused(deep, "frame");
}

TEST(AgentProtocol, RefusesMissingAndMistypedFields) {
  expect_refused(R"({"type": "heartbeat", "seq": 1, "usedSlots": 0})", "heartbeat.runningAttempts");
  expect_refused(R"({"type": "heartbeat", "seq": 1, "runningAttempts": -1, "usedSlots": 0})",
                 "heartbeat.runningAttempts");
  expect_refused(R"({"type": "heartbeat", "seq": 1, "runningAttempts": 1.5, "usedSlots": 0})",
                 "heartbeat.runningAttempts");
  expect_refused(R"({"type": "cancel", "seq": 1, "attemptId": "a", "reason": "bored"})",
                 "cancel.reason");
  expect_refused(R"({"type": "cancel", "seq": 1, "attemptId": "", "reason": "requeued"})",
                 "cancel.attemptId");
  expect_refused(R"({"type": "welcome", "seq": 1, "protocolVersion": 1, "nodeId": "n",
                     "heartbeatIntervalSeconds": 10, "inventoryWanted": "yes"})",
                 "welcome.inventoryWanted");
  expect_refused(R"({"type": "inventory", "seq": 1, "inventoryHash": "h", "inventory": []})",
                 "inventory.inventory");
  expect_refused(R"({"type": "report", "seq": 1, "attemptId": "a", "state": "completed",
                     "endTime": "2025-03-01T10:00:00Z"})",
                 "report.result");
  expect_refused(R"({"type": "report", "seq": 1, "attemptId": "a", "state": "completed",
                     "result": "success"})",
                 "report.endTime");
  expect_refused(R"({"type": "report", "seq": 1, "attemptId": "a", "state": "running",
                     "failureInfo": {"category": "oops", "code": "c", "message": "m"}})",
                 "report.failureInfo.category");
  expect_refused(R"({"type": "report", "seq": 1, "attemptId": "a", "state": "running",
                     "exitCode": 4294967296})",
                 "report.exitCode");
  expect_refused(R"({"type": "ack", "seq": 1, "seqs": [1, "2"]})", "ack.seqs[1]");
  expect_refused(R"({"type": "ack", "seq": 1, "seqs": {}})", "ack.seqs");
  expect_refused(R"({"type": "hello", "seq": 1, "protocolVersion": 1, "agentVersion": "v",
                     "nodeId": "n", "inventoryHash": "h", "runningAttempts": [{"attemptId": "a",
                     "state": "completed"}], "unackedReports": []})",
                 "hello.runningAttempts[0].state");
  expect_refused(R"({"type": "hello", "seq": 1, "protocolVersion": 1, "agentVersion": "v",
                     "nodeId": "n", "inventoryHash": "h", "runningAttempts": [],
                     "unackedReports": [{"attemptId": "a", "state": "running"}]})",
                 "hello.unackedReports[0].seq");
}

TEST(AgentProtocol, RefusesBadAssignments) {
  json good = json::parse(encode({5, full_assignment()}));
  auto refused_without = [&](const std::string& key, const std::string& field) {
    json j = good;
    j.erase(key);
    expect_refused(j.dump(), field);
  };
  refused_without("attemptId", "assignment.attemptId");
  refused_without("commandLine", "assignment.commandLine");
  refused_without("requiredSlots", "assignment.requiredSlots");

  auto refused_with = [&](const json::json_pointer& at, const json& value,
                          const std::string& field) {
    json j = good;
    j[at] = value;
    expect_refused(j.dump(), field);
  };
  refused_with("/requiredSlots"_json_pointer, 0, "assignment.requiredSlots");
  refused_with("/environmentSettings/1/name"_json_pointer, 5,
               "assignment.environmentSettings[1].name");
  refused_with("/userIdentity"_json_pointer, "root", "assignment.userIdentity");
  refused_with("/resourceFiles"_json_pointer, json::array({1}), "assignment.resourceFiles[0]");
  refused_with("/constraints/maxTaskRetryCount"_json_pointer, -2,
               "assignment.constraints.maxTaskRetryCount");
  refused_with("/gpuUuids/0"_json_pointer, "", "assignment.gpuUuids[0]");
  refused_with("/multiInstance/subtaskId"_json_pointer, 2, "assignment.multiInstance.subtaskId");
  refused_with("/multiInstance/hostList"_json_pointer, json::array({"10.0.0.1"}),
               "assignment.multiInstance.hostList");
  refused_with("/multiInstance/execPorts"_json_pointer, json::array({1}),
               "assignment.multiInstance.execPorts");
  refused_with("/multiInstance/execPorts/0"_json_pointer, -1,
               "assignment.multiInstance.execPorts[0]");
  refused_with("/multiInstance/hostNames"_json_pointer, json::array({"a", "b", "c"}),
               "assignment.multiInstance.hostNames");
  refused_with("/multiInstance/transportEnvironment/0/name"_json_pointer, 1,
               "assignment.multiInstance.transportEnvironment[0].name");
  refused_with("/environmentSettings"_json_pointer,
               json::array_t(kMaxArrayItems + 1, {{"name", "A"}, {"value", ""}}),
               "assignment.environmentSettings");
  refused_with("/applicationPackages/0/sha256"_json_pointer, "../../etc/passwd",
               "assignment.applicationPackages[0].sha256");
  refused_with("/applicationPackages/1/sha256"_json_pointer, std::string(64, 'A'),
               "assignment.applicationPackages[1].sha256");
}

TEST(AgentProtocol, RefusesBadMultiInstanceMessages) {
  json report = json::parse(encode({9, completed_report()}));
  report["coordinated"] = true;  // only a running instance reports its coordination
  expect_refused(report.dump(), "report.coordinated");
  expect_refused(R"({"type":"startApplication","seq":1})", "startApplication.attemptId");
  Hello hello;
  hello.node_id = "n";
  hello.agent_version = "1";
  json h = json::parse(encode({1, hello}));
  h["execPort"] = 0;
  expect_refused(h.dump(), "hello.execPort");
}

TEST(AgentProtocol, RefusesBadSetupMessages) {
  json welcome = json::parse(
      encode({2, Welcome{1, "n", 15, false, "p", "a", "u", full_setup(), false, std::nullopt}}));
  welcome["nodeSetup"]["startTask"] = "install.sh";
  expect_refused(welcome.dump(), "welcome.nodeSetup.startTask");
  json status = json::parse(
      encode({3, NodeStatus{1, SetupState::Ready, nullptr, json::array(), std::nullopt}}));
  status["state"] = "idle";
  expect_refused(status.dump(), "nodeStatus.state");
  status["state"] = "ready";
  status["errors"] = json::array({"oops"});
  expect_refused(status.dump(), "nodeStatus.errors[0]");
  status["errors"] = json::array();
  status["execPort"] = 0;
  expect_refused(status.dump(), "nodeStatus.execPort");
  welcome.erase("nodeSetup");
  welcome["interNodeCommunication"] = "yes";
  expect_refused(welcome.dump(), "welcome.interNodeCommunication");
}

TEST(AgentProtocol, RefusesBadFileMessages) {
  expect_refused(
      R"({"type": "fileRequest", "seq": 1, "requestId": "f", "op": "chmod", "path": ""})",
      "fileRequest.op");
  expect_refused(R"({"type": "fileRequest", "seq": 1, "requestId": "f", "op": "read"})",
                 "fileRequest.path");
  expect_refused(R"({"type": "fileRequest", "seq": 1, "requestId": "", "op": "read", "path": "a"})",
                 "fileRequest.requestId");
  expect_refused(R"({"type": "fileRequest", "seq": 1, "requestId": "f", "op": "read", "path": "a",
                     "range": {"first": 5, "last": 4}})",
                 "fileRequest.range.last");
  expect_refused(R"({"type": "fileRequest", "seq": 1, "requestId": "f", "op": "read", "path": "a",
                     "range": {"last": 4}})",
                 "fileRequest.range.first");
  expect_refused(R"({"type": "fileRequest", "seq": 1, "requestId": "f", "op": "list", "path": "a",
                     "recursive": "yes"})",
                 "fileRequest.recursive");
  expect_refused(R"({"type": "fileResponse", "seq": 1, "requestId": "f", "status": 1000})",
                 "fileResponse.status");
  expect_refused(R"({"type": "fileResponse", "seq": 1, "requestId": "f", "status": 200,
                     "data": "not base64!"})",
                 "fileResponse.data");
  expect_refused(R"({"type": "fileResponse", "seq": 1, "requestId": "f", "status": 200,
                     "file": {"name": "a", "isDirectory": false, "size": 1, "creationTime": "yesterday",
                              "lastModified": "2025-03-01T10:00:00Z", "mode": 420}})",
                 "fileResponse.file.creationTime");
  expect_refused(R"({"type": "fileResponse", "seq": 1, "requestId": "f", "status": 200,
                     "files": [{"name": "a", "isDirectory": false, "size": -1,
                                "creationTime": "2025-03-01T10:00:00Z",
                                "lastModified": "2025-03-01T10:00:00Z", "mode": 420}]})",
                 "fileResponse.files[0].size");
}

TEST(AgentProtocol, IgnoresUnknownFieldsAndNulls) {
  Result<Message> r = decode(R"({"type": "report", "seq": 3, "attemptId": "a",
      "state": "preparing", "exitCode": null, "futureField": {"x": 1}})");
  ASSERT_TRUE(r);
  const auto& report = std::get<Report>(r->payload);
  EXPECT_EQ(report.state, AttemptState::Preparing);
  EXPECT_FALSE(report.exit_code);
}

TEST(AgentProtocol, OptionalWelcomeFactsAndJobSettingsAreOmittedWhenEmpty) {
  json welcome = json::parse(encode({1, Welcome{1, "n", 10, false, std::nullopt, std::nullopt,
                                                std::nullopt, std::nullopt, false, std::nullopt}}));
  EXPECT_FALSE(welcome.contains("poolId"));
  EXPECT_FALSE(welcome.contains("interNodeCommunication")) << "absent means false";
  EXPECT_FALSE(welcome.contains("nodeAddress"));
  EXPECT_FALSE(welcome.contains("accountName"));
  EXPECT_FALSE(welcome.contains("accountUrl"));
  EXPECT_FALSE(welcome.contains("nodeSetup"));
  Assignment a;
  a.attempt_id = "j:t:0:0";
  a.job_id = "j";
  a.task_id = "t";
  a.command_line = "true";
  EXPECT_FALSE(json::parse(encode({2, a})).contains("jobEnvironmentSettings"));

  Result<Message> r = decode(R"({"type": "welcome", "seq": 1, "protocolVersion": 1,
      "nodeId": "n", "heartbeatIntervalSeconds": 5, "inventoryWanted": false,
      "poolId": null, "accountName": "acct"})");
  ASSERT_TRUE(r);
  const auto& w = std::get<Welcome>(r->payload);
  EXPECT_FALSE(w.pool_id);
  EXPECT_EQ(w.account_name, "acct");
  r = decode(R"({"type": "assignment", "seq": 2, "attemptId": "j:t:0:0", "jobId": "j",
      "taskId": "t", "retryCount": 0, "requeueCount": 0, "commandLine": "true",
      "requiredSlots": 1, "jobEnvironmentSettings": null})");
  ASSERT_TRUE(r);
  EXPECT_TRUE(std::get<Assignment>(r->payload).job_environment.empty());
  r = decode(R"({"type": "assignment", "seq": 2, "attemptId": "j:t:0:0", "jobId": "j",
      "taskId": "t", "retryCount": 0, "requeueCount": 0, "commandLine": "true",
      "requiredSlots": 1, "jobEnvironmentSettings": [{"value": "x"}]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().detail("PropertyName"), "assignment.jobEnvironmentSettings[0].name");
}

// The ```json blocks of the specification.
std::vector<std::string> spec_frames() {
  std::ifstream in(std::string(OPENBATCH_SOURCE_DIR) + "/docs/dev/agent-protocol.md");
  std::vector<std::string> frames;
  std::string line;
  std::string current;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line == "```json") {
      inside = true;
      current.clear();
    } else if (inside && line == "```") {
      inside = false;
      frames.push_back(current);
    } else if (inside) {
      current += line + "\n";
    }
  }
  return frames;
}

TEST(AgentProtocol, SpecFramesDecode) {
  std::vector<std::string> frames = spec_frames();
  ASSERT_FALSE(frames.empty());
  std::set<std::string_view> types;
  for (const std::string& frame : frames) {
    Result<Message> r = decode(frame);
    ASSERT_TRUE(r) << frame << ": " << r.error().detail("PropertyName") << " "
                   << r.error().detail("Reason");
    types.insert(type_name(r->payload));
    // Nothing in a spec frame is dropped: re-encoding gives the same JSON document.
    EXPECT_EQ(json::parse(encode(*r)), json::parse(frame)) << frame;
  }
  EXPECT_EQ(types.size(), std::variant_size_v<Payload>) << "every type has a spec frame";
}

}  // namespace
}  // namespace openbatch::protocol
