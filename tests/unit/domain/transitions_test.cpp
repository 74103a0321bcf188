// Runs every case of tests/fixtures/transitions/*.json (format: README.md there): an entity's
// stored JSON, one event applied through the domain transition functions, and what the entity
// looks like afterwards (or the 409 the event is refused with).
#include "common/protocol/agent_protocol.hpp"
#include "common/time.hpp"
#include "scheduler/domain/entity_state.hpp"
#include "scheduler/domain/gang_execution.hpp"
#include "scheduler/domain/job_transitions.hpp"
#include "scheduler/domain/node_record.hpp"
#include "scheduler/domain/pool_transitions.hpp"
#include "scheduler/domain/task_execution.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace openbatch::domain {
namespace {

const std::filesystem::path kFixtures =
    std::filesystem::path(OPENBATCH_SOURCE_DIR) / "tests/fixtures/transitions";

// 2023-11-14T22:13:20Z unless a case names its own "now".
const TimePoint kNow = TimePoint(std::chrono::seconds(1'700'000'000));

struct Case {
  std::string file;  // stem: "<kind>_<topic>"
  std::string kind;  // task, node, job or pool
  std::size_t index = 0;
  json spec;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.file << "#" << c.index; }

std::vector<Case> load_cases() {
  std::vector<Case> cases;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(kFixtures)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path);
    json list = json::parse(in, nullptr, false);
    const std::string stem = path.stem().string();
    if (!list.is_array()) {
      cases.push_back({stem, "unreadable", 0, json()});
      continue;
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      cases.push_back({stem, stem.substr(0, stem.find('_')), i, list[i]});
    }
  }
  return cases;
}

// What applying an event gave: the entity after it, the error it was refused with, and the
// value the function returned where it returns one.
struct Outcome {
  json entity;
  std::optional<Error> error;
  json returned;           // null when the function returns nothing
  bool removed = false;    // pool sweep: the pool is gone
  bool unchanged = false;  // sweeps: nothing to do
};

protocol::Report report_of(const json& args) { return args.get<protocol::Report>(); }

DispatchTarget target_of(const std::string& pool, const std::string& node) {
  return {pool, node, "https://acct.example/pools/" + pool + "/nodes/" + node};
}

void keep_status(Outcome& out, const Status& status) {
  if (!status) out.error = status.error();
}

Outcome apply_task_event(json task, const std::string& event, const json& args, TimePoint now) {
  Outcome out;
  if (event == "dispatch") {
    const std::string job = args.at("job");
    const std::string attempt = next_attempt_id(task, job, args.at("seq").get<int64_t>());
    out.entity = dispatch_task(std::move(task), job, target_of(args.at("pool"), args.at("node")),
                               attempt, now);
  } else if (event == "dispatchGang") {
    const std::string job = args.at("job");
    const std::string primary = next_attempt_id(task, job, args.at("seq").get<int64_t>());
    std::vector<DispatchTarget> targets;
    std::vector<std::string> attempts;
    for (const auto& node : args.at("nodes")) {
      attempts.push_back(instance_attempt_id(primary, static_cast<int>(targets.size())));
      targets.push_back(target_of(args.at("pool"), node));
    }
    task = dispatch_task(std::move(task), job, targets[0], primary, now);
    out.entity = dispatch_gang(std::move(task), job, targets, attempts, now);
  } else if (event == "report") {
    CompletionOutcome outcome = CompletionOutcome::Completed;
    out.entity = complete_task(std::move(task), report_of(args), now, outcome);
    out.returned = outcome == CompletionOutcome::Retried ? "retried" : "completed";
  } else if (event == "subtaskEnds") {
    // A subtask ended while its task runs: the task ends as its failure report says.
    const protocol::Report failure =
        gang_failure_report(report_of(args.at("report")), args.at("subtask").get<int>(),
                            args.at("node").get<std::string>());
    CompletionOutcome outcome = CompletionOutcome::Completed;
    out.entity = complete_task(std::move(task), failure, now, outcome);
    out.returned = outcome == CompletionOutcome::Retried ? "retried" : "completed";
  } else if (event == "coordinate") {
    out.returned = mark_coordinated(task, args.at("attempt").get<std::string>(), now);
    out.entity = std::move(task);
  } else if (event == "subtaskReport") {
    const protocol::Report report = report_of(args);
    out.returned = complete_subtask(task, report.attempt_id, report, now);
    out.entity = std::move(task);
  } else if (event == "requeue") {
    out.entity = requeue_task(std::move(task), now);
  } else if (event == "terminate") {
    keep_status(out, terminate_task(task, now));
    out.entity = std::move(task);
  } else if (event == "reactivate") {
    const auto job_state = parse_job_state(args.value("jobState", "active"));
    keep_status(out, reactivate_task(task, job_state.value_or(JobState::Active), now));
    out.entity = std::move(task);
  } else {
    ADD_FAILURE() << "unknown task event " << event;
  }
  return out;
}

Outcome apply_node_event(json node, const std::string& event, const json& args, TimePoint now) {
  Outcome out;
  if (event == "create") {
    NewNode spec;
    spec.id = args.at("id");
    spec.pool_id = args.at("pool");
    spec.url = "https://acct.example/pools/" + spec.pool_id + "/nodes/" + spec.id;
    spec.vm_size = args.value("vmSize", "standard_d2s_v3");
    spec.ip_address = args.value("ipAddress", "10.0.0.4");
    spec.hostname = args.value("hostname", "host");
    spec.provisioner = args.value("provisioner", "local");
    if (args.contains("state")) spec.state = args.at("state");
    node = make_node(spec, now);
  } else if (event == "status") {
    apply_node_status(node, args.value("setupState", ""), args.value("startTaskInfo", json()),
                      args.value("errors", json()), args.value("startTask", json()),
                      args.value("generation", std::uint64_t{1}), now);
  } else if (event == "addAttempt") {
    const AttemptOnNode attempt{args.at("attempt"),     args.at("job"),
                                args.at("task"),        args.value("taskUrl", "u"),
                                args.value("slots", 1), args.value("subtask", -1)};
    out.returned = add_attempt(node, attempt, args.value("slotsPerNode", 1), now);
  } else if (event == "removeAttempt") {
    std::optional<bool> succeeded;
    if (args.contains("succeeded") && !args["succeeded"].is_null())
      succeeded = args["succeeded"].get<bool>();
    out.returned = remove_attempt(node, args.at("attempt").get<std::string>(), succeeded,
                                  args.value("taskState", "completed"),
                                  args.value("executionInfo", json()), now);
  } else if (event == "setState") {
    const auto state = parse_node_state(args.at("state").get<std::string>());
    EXPECT_TRUE(state) << args.dump();
    if (state) set_node_state(node, *state, now);
  } else if (event == "settle") {
    const auto state = parse_node_state(args.at("state").get<std::string>());
    EXPECT_TRUE(state) << args.dump();
    if (state) out.returned = settle_node_state(node, *state, now);
  } else if (event == "resting") {
    const std::string state =
        resting_state(args.value("setupState", ""), !attempts_of(node).empty());
    const auto parsed = parse_node_state(state);
    EXPECT_TRUE(parsed) << state;
    if (parsed) out.returned = settle_node_state(node, *parsed, now);
  } else if (event == "leavePool") {
    leave_pool(node, args.value("nodeDeallocationOption", "requeue"), now);
  } else {
    ADD_FAILURE() << "unknown node event " << event;
  }
  if (out.entity.is_null()) out.entity = std::move(node);
  return out;
}

Outcome apply_job_event(json job, const std::string& event, const json& args, TimePoint now) {
  Outcome out;
  if (event == "delete") {
    keep_status(out, delete_job(job, now));
  } else if (event == "terminate") {
    keep_status(out, terminate_job(job, args.value("terminateReason", "UserTerminate"), now));
  } else if (event == "disable") {
    keep_status(out, disable_job(job, args.value("disableTasks", "requeue"), now));
  } else if (event == "enable") {
    keep_status(out, enable_job(job, now));
  } else if (event == "update") {
    keep_status(out, job_accepts_updates(job));
  } else if (event == "addTask") {
    if (auto refused = job_refuses_tasks(job)) out.error = *refused;
  } else if (event == "allTasksComplete") {
    out.returned = end_job_when_all_tasks_complete(job, now);
  } else if (event == "sweep") {
    auto next = settle_job(job, args.value("runningTasks", int64_t{0}), now);
    out.unchanged = !next;
    if (next) job = std::move(*next);
  } else {
    ADD_FAILURE() << "unknown job event " << event;
  }
  out.entity = std::move(job);
  return out;
}

Outcome apply_pool_event(json pool, const std::string& event, const json& args, TimePoint now) {
  Outcome out;
  if (event == "delete") {
    delete_pool(pool, now);
  } else if (event == "resize") {
    keep_status(out, resize_pool(pool, args, now));
  } else if (event == "stopResize") {
    keep_status(out, stop_resize(pool, now));
  } else if (event == "removeNodes") {
    keep_status(out, pool_accepts_node_removal(pool));
    if (!out.error) shrink_for_removed_nodes(pool, args.at("count").get<int>(), now);
  } else if (event == "sweep") {
    const PoolFacts facts{args.value("nodesInPool", 0), args.value("nodesJoined", 0)};
    out.removed = pool_can_be_removed(pool, facts);
    if (!out.removed) {
      auto next = settle_pool(pool, facts, now);
      out.unchanged = !next;
      if (next) pool = std::move(*next);
    }
  } else {
    ADD_FAILURE() << "unknown pool event " << event;
  }
  out.entity = std::move(pool);
  return out;
}

Outcome apply(const Case& c, TimePoint now) {
  const json& event = c.spec.at("event");
  EXPECT_TRUE(event.is_object() && event.size() == 1) << "event: one {name: args} pair";
  const std::string name = event.begin().key();
  const json& args = event.begin().value();
  json entity = c.spec.value("entity", json());
  if (c.kind == "task") return apply_task_event(std::move(entity), name, args, now);
  if (c.kind == "node") return apply_node_event(std::move(entity), name, args, now);
  if (c.kind == "job") return apply_job_event(std::move(entity), name, args, now);
  if (c.kind == "pool") return apply_pool_event(std::move(entity), name, args, now);
  ADD_FAILURE() << "file " << c.file << ": name it <task|node|job|pool>_<topic>.json";
  return {};
}

class Transition : public ::testing::TestWithParam<Case> {};

TEST_P(Transition, GivesTheExpectedEntity) {
  const Case& c = GetParam();
  ASSERT_TRUE(c.spec.is_object()) << c.file << " is not a JSON list of cases";
  SCOPED_TRACE(c.file + ": " + c.spec.value("name", "?"));
  TimePoint now = kNow;
  if (c.spec.contains("now")) {
    auto parsed = parse_iso8601(c.spec.at("now").get<std::string>());
    ASSERT_TRUE(parsed);
    now = *parsed;
  }
  const json& expect = c.spec.at("expect");
  const Outcome out = apply(c, now);

  if (auto code = expect.find("error"); code != expect.end()) {
    ASSERT_TRUE(out.error) << "expected " << *code << ", got " << out.entity.dump();
    EXPECT_EQ(out.error->code, code->get<std::string>());
    EXPECT_EQ(out.entity, c.spec.at("entity")) << "a refused event leaves the entity unchanged";
  } else {
    EXPECT_FALSE(out.error) << out.error->code << ": " << out.error->message;
  }
  EXPECT_EQ(out.removed, expect.value("removed", false));
  EXPECT_EQ(out.unchanged, expect.value("unchanged", false));
  if (out.unchanged) {
    EXPECT_EQ(out.entity, c.spec.at("entity"));
  }
  if (auto returned = expect.find("returns"); returned != expect.end()) {
    EXPECT_EQ(out.returned, *returned);
  }
  for (const auto& [key, want] : expect.items()) {
    if (key.empty() || key.front() != '/') continue;
    const json::json_pointer pointer(key);
    ASSERT_TRUE(out.entity.contains(pointer)) << key << " missing in " << out.entity.dump();
    EXPECT_EQ(out.entity.at(pointer), want) << key;
  }
  for (const auto& key : expect.value("absent", json::array())) {
    const json::json_pointer pointer(key.get<std::string>());
    EXPECT_FALSE(out.entity.contains(pointer)) << key << " present in " << out.entity.dump();
  }
}

std::string test_name(const ::testing::TestParamInfo<Case>& param) {
  std::string name = param.param.file + "_" + std::to_string(param.param.index) + "_" +
                     param.param.spec.value("name", "");
  std::replace_if(
      name.begin(), name.end(),
      [](char ch) { return !std::isalnum(static_cast<unsigned char>(ch)); }, '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Transition, ::testing::ValuesIn(load_cases()), test_name);

TEST(TransitionFixtures, CoverEveryEntity) {
  std::vector<std::string> kinds;
  for (const Case& c : load_cases()) kinds.push_back(c.kind);
  for (const char* kind : {"task", "node", "job", "pool"}) {
    EXPECT_GE(std::count(kinds.begin(), kinds.end(), kind), 5) << kind;
  }
}

// The spellings round-trip, and nothing else parses.
TEST(States, ParseWhatToStringWrites) {
  for (auto s : {TaskState::Active, TaskState::Preparing, TaskState::Running, TaskState::Completed})
    EXPECT_EQ(parse_task_state(to_string(s)), s);
  for (int i = 0; i <= static_cast<int>(NodeState::Deallocating); ++i) {
    const auto s = static_cast<NodeState>(i);
    EXPECT_FALSE(to_string(s).empty());
    EXPECT_EQ(parse_node_state(to_string(s)), s);
  }
  for (int i = 0; i <= static_cast<int>(JobState::Deleting); ++i) {
    const auto s = static_cast<JobState>(i);
    EXPECT_EQ(parse_job_state(to_string(s)), s);
  }
  EXPECT_EQ(parse_pool_state("deleting"), PoolState::Deleting);
  EXPECT_EQ(parse_allocation_state("stopping"), AllocationState::Stopping);
  EXPECT_EQ(to_string(NodeState::WaitingForStartTask), "waitingforstarttask");
  EXPECT_FALSE(parse_task_state("Active"));  // the store writes lowercase only
  EXPECT_FALSE(parse_node_state(""));
  EXPECT_FALSE(parse_job_state("running"));
  EXPECT_EQ(allocation_state(json::object()), AllocationState::Steady);
}

}  // namespace
}  // namespace openbatch::domain
