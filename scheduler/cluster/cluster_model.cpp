#include "scheduler/cluster/cluster_model.hpp"

#include "scheduler/cluster/entity_facts.hpp"
#include "scheduler/domain/gang_execution.hpp"

namespace openbatch::cluster {

std::string task_key(std::string_view job_id, std::string_view task_id) {
  std::string key = lower(job_id);
  key += '\n';
  key += lower(task_id);
  return key;
}

NodeInfo* ClusterModel::find_node(const std::string& id) {
  auto it = nodes.find(id);
  return it == nodes.end() ? nullptr : &it->second;
}

const NodeInfo* ClusterModel::find_node(const std::string& id) const {
  auto it = nodes.find(id);
  return it == nodes.end() ? nullptr : &it->second;
}

JobInfo* ClusterModel::find_job(const std::string& id) {
  auto it = jobs.find(lower(id));
  return it == jobs.end() ? nullptr : &it->second;
}

const PoolInfo* ClusterModel::find_pool(const std::string& id) const {
  auto it = pools.find(lower(id));
  return it == pools.end() ? nullptr : &it->second;
}

// ---- pending tasks ----

void ClusterModel::add_pending(JobInfo& job, PendingItem item) {
  const std::string key = task_key(job.id, item.task_id);
  if (pending_seq.count(key)) return;
  pending_seq[key] = item.seq;
  if (job.queued) queues[job.pool_key].insert(QueueKey{-job.priority, item.seq, lower(job.id)});
  job.pending.emplace(item.seq, std::move(item));
}

void ClusterModel::readd_pending(JobInfo& job, PendingItem item) {
  // The feed may have announced the task active already and a round dispatched it again.
  if (attempt_of_task.count(task_key(job.id, item.task_id))) return;
  add_pending(job, std::move(item));
}

void ClusterModel::remove_pending(const std::string& job_id, const std::string& task_id) {
  const std::string key = task_key(job_id, task_id);
  auto it = pending_seq.find(key);
  if (it == pending_seq.end()) return;
  const int64_t seq = it->second;
  pending_seq.erase(it);
  JobInfo* job = find_job(job_id);
  if (!job) return;
  if (job->queued) {
    auto q = queues.find(job->pool_key);
    if (q != queues.end()) q->second.erase(QueueKey{-job->priority, seq, lower(job->id)});
  }
  job->pending.erase(seq);
}

void ClusterModel::queue_job(JobInfo& job) {
  auto& queue = queues[job.pool_key];
  const std::string key = lower(job.id);
  for (const auto& [seq, item] : job.pending) queue.insert(QueueKey{-job.priority, seq, key});
  job.queued = true;
}

void ClusterModel::unqueue_job(JobInfo& job) {
  if (!job.queued) return;
  auto q = queues.find(job.pool_key);
  if (q != queues.end()) {
    for (const auto& [seq, item] : job.pending) q->second.erase(QueueKey{-job.priority, seq, ""});
  }
  job.queued = false;
}

// ---- attempts and gangs ----

void ClusterModel::adopt_instance(AttemptInfo& info, const std::string& attempt_id,
                                  int subtask_id) {
  info.subtask_id = subtask_id;
  if (subtask_id == 0) {
    info.gang = attempt_id;
  } else if (auto ref = domain::parse_instance_attempt_id(attempt_id)) {
    info.gang = ref->primary;
  } else {
    info.subtask_id = -1;  // not an id we issue: treat it as a plain attempt
    return;
  }
  GangInfo& gang = gangs[info.gang];
  gang.job_id = info.job_id;
  gang.task_id = info.task_id;
  const auto k = static_cast<std::size_t>(subtask_id);
  if (gang.attempt_ids.size() <= k) {
    gang.attempt_ids.resize(k + 1);
    gang.node_ids.resize(k + 1);
    gang.coordinated.resize(k + 1, false);
  }
  gang.attempt_ids[k] = attempt_id;
  gang.node_ids[k] = info.node_id;
  gang.live++;
}

void ClusterModel::forget_instance(const AttemptInfo& info) {
  auto it = gangs.find(info.gang);
  if (it == gangs.end()) return;
  if (it->second.live > 0) it->second.live--;
  if (it->second.live == 0) gangs.erase(it);
}

bool ClusterModel::gang_deciding(const std::string& primary) const {
  auto it = gangs.find(primary);
  if (it == gangs.end()) return false;
  for (const auto& id : it->second.attempt_ids) {
    auto a = attempts.find(id);
    if (a != attempts.end() && a->second.finishing) return true;
  }
  return false;
}

JobInfo* ClusterModel::drop_attempt(const std::string& attempt_id, const AttemptInfo& info) {
  attempts.erase(attempt_id);
  const std::string key = task_key(info.job_id, info.task_id);
  if (auto it = attempt_of_task.find(key); it != attempt_of_task.end() && it->second == attempt_id)
    attempt_of_task.erase(it);
  if (NodeInfo* node = find_node(info.node_id); node && node->attempts.erase(attempt_id)) {
    node->used_slots -= info.slots;
  }
  if (!info.gang.empty()) forget_instance(info);
  JobInfo* job = find_job(info.job_id);
  if (job && info.subtask_id <= 0) job->running--;
  return job;
}

}  // namespace openbatch::cluster
