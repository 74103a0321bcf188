// Task request validation (batch-api.md sections 5 and 11). Same contract as
// pool_validation.hpp. validate_task_add is on the hot path (tens of thousands of calls a
// second through addtaskcollection): no regex, no path strings unless an error is reported,
// and request members are moved, not copied, into the result. Pure; thread-safe.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json.hpp>

namespace openbatch::domain {

// Total characters of dependsOn.taskIds beyond which Azure answers TaskDependencyListTooLong.
constexpr std::size_t kMaxDependencyIdChars = 64000;

// POST /jobs/{job}/tasks (and each entry of addtaskcollection). `job` is the stored canonical
// job (validate_job_add's result plus state); it decides:
//  * the task id may not equal the job's preparation or release task id: 409
//    TaskIdSameAsJobPreparationTask / TaskIdSameAsJobReleaseTask;
//  * exitConditions.*.exitOptions.jobAction needs onTaskFailure performexitoptionsjobaction;
//  * dependsOn needs usesTaskDependencies (400 TaskDependenciesNotSpecifiedOnJob);
//  * constraints.maxTaskRetryCount defaults to the job's constraints.maxTaskRetryCount.
// Defaults written: constraints {maxWallClockTime unlimited, retentionTime P7D, retries},
// requiredSlots 1, multiInstanceSettings.numberOfInstances 1. commandLine is limited to
// 32768 characters. A multi-instance task must have requiredSlots 1 and a
// coordinationCommandLine. dependsOn.taskIds longer than 64000 characters in total is 400
// TaskDependencyListTooLong; a task may not depend on itself.
Result<nlohmann::json> validate_task_add(nlohmann::json body, const nlohmann::json& job);

// PUT /jobs/{job}/tasks/{task}: {constraints}, replaced whole; absent, the defaults above.
Result<nlohmann::json> validate_task_update(nlohmann::json body, const nlohmann::json& job);

}  // namespace openbatch::domain
