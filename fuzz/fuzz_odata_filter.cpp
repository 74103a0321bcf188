// Fuzz target: the OData $filter parser (scheduler/odata/filter.hpp) on any text.
// Invariants: it never crashes; a refusal is a 400 InvalidQueryParameterValue; an accepted
// filter evaluates on real entities, and the store's narrowing hints are sound: when
// state_equals() or string_equals("poolId") names a value, every entity the filter matches
// has that value (else narrowing the scan by it would drop matching entities).
#include "scheduler/odata/filter.hpp"

#include "fuzz/fuzz_check.hpp"
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using nlohmann::json;

// Entities in the wire shape the list routes filter: a task, a job, a pool, a node.
const std::vector<json>& entities() {
  static const std::vector<json> all = {
      json::parse(R"({"id":"task-1","state":"completed","creationTime":"2025-03-01T10:00:00Z",
        "poolId":"pool1","executionInfo":{"exitCode":0,"result":"success","retryCount":1,
        "requeueCount":0,"startTime":"2025-03-01T10:00:02Z","endTime":"2025-03-01T10:01:00Z"},
        "constraints":{"maxTaskRetryCount":3},"requiredSlots":1,"multiInstanceSettings":null})"),
      json::parse(R"({"id":"Job-A","state":"active","priority":-5,"poolInfo":{"poolId":"Pool1"},
        "usesTaskDependencies":true,"metadata":[{"name":"k","value":"v"}]})"),
      json::parse(R"({"id":"pool1","state":"active","allocationState":"steady","vmSize":
        "standard_d2s_v3","targetDedicatedNodes":2,"currentDedicatedNodes":2,
        "lastModified":"2025-03-01T09:00:00.1234567Z","enableInterNodeCommunication":false})"),
      json::parse(R"({"id":"tvmps_0001","state":"idle","poolId":"POOL1","runningTasksCount":0,
        "totalTasksRun":12.5,"ipAddress":"10.0.0.4","isDedicated":true})")};
  return all;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  });
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto filter = openbatch::odata::parse_filter(text);
  if (!filter) {
    FUZZ_CHECK(filter.error().status == 400, "a refusal is a 400");
    FUZZ_CHECK(filter.error().code == "InvalidQueryParameterValue", "the refusal's code");
    return 0;
  }
  const auto state = filter->state_equals();
  const auto pool = filter->string_equals("poolId");
  for (const auto& entity : entities()) {
    if (!filter->matches(entity)) continue;
    if (state) {
      FUZZ_CHECK(lower(entity.value("state", "")) == *state,
                 "state_equals() names the state of every matching entity");
    }
    if (pool) {
      FUZZ_CHECK(entity.contains("poolId") && entity["poolId"].is_string() &&
                     lower(entity["poolId"].get<std::string>()) == lower(*pool),
                 "string_equals(poolId) names the poolId of every matching entity");
    }
  }
  return 0;
}
