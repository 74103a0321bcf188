// Fuzz target: the REST request validators (scheduler/domain/*_validation.hpp) fed from raw
// request bytes through the API's own body parser (scheduler/api/json_body.hpp).
// The first byte picks the operation: 'a' + the index in kOperations below (other bytes wrap
// around); the rest is the request body.
// Invariants: nothing crashes or throws; a refusal is a 4xx in Azure's shape (a code, never a
// 500); and the canonical JSON an add returns validates again (what is stored is valid).
#include "scheduler/api/json_body.hpp"
#include "scheduler/catalog/catalog.hpp"
#include "scheduler/domain/job_validation.hpp"
#include "scheduler/domain/pool_validation.hpp"
#include "scheduler/domain/task_validation.hpp"

#include "fuzz/fuzz_check.hpp"
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace openbatch;
using nlohmann::json;

enum class Operation {
  PoolAdd,               // 'a'
  PoolSpecification,     // 'b'
  PoolPatch,             // 'c'
  PoolUpdateProperties,  // 'd'
  PoolResize,            // 'e'
  PoolRemoveNodes,       // 'f'
  JobAdd,                // 'g'
  JobPatch,              // 'h'
  JobUpdate,             // 'i'
  JobTerminate,          // 'j'
  JobDisable,            // 'k'
  TaskAdd,               // 'l'
  TaskUpdate,            // 'm'
  TaskAddToDisabledJob,  // 'n': the job is disabled (job patch/update may change poolInfo)
  Count,
};

const catalog::Catalog& the_catalog() {
  static const catalog::Catalog c = [] {
    auto loaded = catalog::Catalog::load(OPENBATCH_SOURCE_DIR "/images");
    if (!loaded) std::abort();
    return *loaded;
  }();
  return c;
}

// A stored job that lets every task feature through: dependencies, exit-condition job
// actions, preparation and release tasks (whose ids a task may not take).
json stored_job(const char* state) {
  auto job = domain::validate_job_add(json::parse(R"({"id":"fuzzjob","poolInfo":{"poolId":"p"},
      "usesTaskDependencies":true,"onTaskFailure":"performexitoptionsjobaction",
      "constraints":{"maxTaskRetryCount":2},
      "jobPreparationTask":{"commandLine":"/bin/true"},"jobReleaseTask":{"commandLine":"/bin/true"}})"));
  if (!job) std::abort();
  (*job)["state"] = state;
  return *job;
}

void check_refusal(const Error& e) {
  FUZZ_CHECK(e.status >= 400 && e.status < 500, "a refusal is a 4xx");
  FUZZ_CHECK(!e.code.empty(), "a refusal has an Azure error code");
}

template <class T>
bool accepted(const Result<T>& r) {
  if (!r) check_refusal(r.error());
  return r.has_value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const json active_job = stored_job("active");
  static const json disabled_job = stored_job("disabled");
  const auto op = static_cast<Operation>(static_cast<std::uint8_t>(data[0] - 'a') %
                                         static_cast<int>(Operation::Count));
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  auto body = api::parse_json_body(bytes);
  if (!accepted(body)) return 0;
  json& b = *body;
  switch (op) {
    case Operation::PoolAdd:
      if (auto pool = domain::validate_pool_add(b, the_catalog()); accepted(pool)) {
        FUZZ_CHECK(accepted(domain::validate_pool_add(pool->value, the_catalog())),
                   "a stored pool validates again");
      }
      break;
    case Operation::PoolSpecification:
      (void)accepted(domain::validate_pool_specification(b, the_catalog()));
      break;
    case Operation::PoolPatch:
      (void)accepted(domain::validate_pool_patch(b));
      break;
    case Operation::PoolUpdateProperties:
      (void)accepted(domain::validate_pool_update_properties(b));
      break;
    case Operation::PoolResize:
      (void)accepted(domain::validate_pool_resize(b));
      break;
    case Operation::PoolRemoveNodes:
      (void)accepted(domain::validate_pool_remove_nodes(b));
      break;
    case Operation::JobAdd:
      if (auto job = domain::validate_job_add(b); accepted(job)) {
        FUZZ_CHECK(accepted(domain::validate_job_add(*job)), "a stored job validates again");
      }
      break;
    case Operation::JobPatch:
      (void)accepted(domain::validate_job_patch(b, active_job));
      (void)accepted(domain::validate_job_patch(b, disabled_job));
      break;
    case Operation::JobUpdate:
      (void)accepted(domain::validate_job_update(b, active_job));
      (void)accepted(domain::validate_job_update(b, disabled_job));
      break;
    case Operation::JobTerminate:
      (void)accepted(domain::validate_job_terminate(b));
      break;
    case Operation::JobDisable:
      (void)accepted(domain::validate_job_disable(b));
      break;
    case Operation::TaskAdd:
    case Operation::TaskAddToDisabledJob: {
      const json& job = op == Operation::TaskAdd ? active_job : disabled_job;
      if (auto task = domain::validate_task_add(b, job); accepted(task)) {
        FUZZ_CHECK(accepted(domain::validate_task_add(*task, job)),
                   "a stored task validates again");
      }
      break;
    }
    case Operation::TaskUpdate:
      (void)accepted(domain::validate_task_update(b, active_job));
      break;
    case Operation::Count:
      break;
  }
  return 0;
}
