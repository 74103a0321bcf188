// Job request validation (batch-api.md section 4). Same contract as pool_validation.hpp:
// the parsed body in (by value; std::move it when done with it), the canonical JSON to store
// out -- enums canonical, defaults filled, unknown properties dropped -- or an Azure-shaped
// Error naming the property. Pure functions; thread-safe.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json.hpp>

namespace openbatch::domain {

// POST /jobs. Defaults written: priority 0, maxParallelTasks -1, allowTaskPreemption false,
// constraints {maxWallClockTime unlimited, maxTaskRetryCount 0}, onAllTasksComplete noaction,
// onTaskFailure noaction, usesTaskDependencies false; jobPreparationTask.id "jobpreparation"
// and jobReleaseTask.id "jobrelease" when those tasks are given. poolInfo is {poolId} or
// {autoPoolSpecification}; the auto pool's `pool` is only checked to be an object here -- run
// validate_pool_specification on it before creating the pool. A missing pool is not an error.
Result<nlohmann::json> validate_job_add(nlohmann::json body);

// PATCH /jobs/{id} against the stored job (`current_job`: what validate_job_add returned plus
// "state"). Only the properties present are returned: priority, maxParallelTasks,
// allowTaskPreemption, onAllTasksComplete, constraints (replaced whole, defaults filled),
// poolInfo, metadata ([] clears). Errors: onAllTasksComplete terminatejob -> noaction is 400;
// poolInfo on a job whose state is not "disabled" is 409 OperationInvalidForCurrentState.
Result<nlohmann::json> validate_job_patch(nlohmann::json body, const nlohmann::json& current_job);

// PUT /jobs/{id}: the same properties, all returned; an absent one takes its default
// (metadata []), so omitting onAllTasksComplete on a terminatejob job is the same 400 as
// setting noaction. poolInfo is required; a poolInfo different from the stored one needs the
// job to be disabled (409 OperationInvalidForCurrentState otherwise).
Result<nlohmann::json> validate_job_update(nlohmann::json body, const nlohmann::json& current_job);

// POST /jobs/{id}/terminate: an absent body (null) or {} gives
// {"terminateReason":"UserTerminate"}; a reason is a string of at most 1024 characters.
Result<nlohmann::json> validate_job_terminate(nlohmann::json body);

// POST /jobs/{id}/disable: {disableTasks*: requeue|terminate|wait}.
Result<nlohmann::json> validate_job_disable(nlohmann::json body);

}  // namespace openbatch::domain
