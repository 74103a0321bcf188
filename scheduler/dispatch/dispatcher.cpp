#include "scheduler/dispatch/dispatcher.hpp"

#include "common/auth/bearer_token.hpp"
#include "scheduler/cluster/entity_facts.hpp"
#include "scheduler/dispatch/round_commit.hpp"
#include "scheduler/domain/states.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <memory>

namespace openbatch::dispatch {
namespace asio = boost::asio;
using cluster::NodeInfo;
using nlohmann::json;
using store::Table;

void Dispatcher::schedule_round() {
  if (round_scheduled_ || ctx_.stopped) return;
  round_scheduled_ = true;
  asio::post(ctx_.strand, [this] { run_round(); });
}

void Dispatcher::run_round() {
  round_scheduled_ = false;
  if (ctx_.stopped) return;
  RoundPlan plan = plan_round(
      ctx_.model, RoundLimits{ctx_.config.max_dispatch_per_round, ctx_.config.account_url});
  note_reasons(plan.reasons);
  reserve(plan.dispatches);
  if (!plan.dispatches.empty()) commit(std::move(plan.dispatches));
  if (!plan.reasons.empty()) write_pending_reasons(std::move(plan.reasons));
}

void Dispatcher::note_reasons(const std::vector<PendingReasonWrite>& reasons) {
  for (const auto& r : reasons) {
    auto seq = ctx_.model.pending_seq.find(cluster::task_key(r.job_id, r.task_id));
    cluster::JobInfo* job = ctx_.model.find_job(r.job_id);
    if (seq == ctx_.model.pending_seq.end() || !job) continue;
    if (auto item = job->pending.find(seq->second); item != job->pending.end())
      item->second.pending_reason = r.message;
  }
}

void Dispatcher::reserve(std::vector<Dispatch>& dispatches) {
  for (auto& d : dispatches) {
    if (!d.members.empty()) d.exec_token = auth::new_bearer_token("exec");
    ctx_.model.remove_pending(d.job_id, d.item.task_id);
    if (d.members.empty()) {
      ctx_.model.find_node(d.node_id)->used_slots += d.item.required_slots;
    } else {
      for (const auto& m : d.members)
        ctx_.model.find_node(m.node_id)->used_slots += d.item.required_slots;
    }
    ctx_.model.find_job(d.job_id)->running++;
  }
}

void Dispatcher::write_pending_reasons(std::vector<PendingReasonWrite> writes) {
  ctx_.store.submit(
      [writes = std::move(writes)](store::Writer& w) {
        for (const auto& write : writes) {
          auto record = w.get(Table::Tasks, write.job_id, write.task_id);
          if (!record || record->state != domain::to_string(domain::TaskState::Active)) continue;
          auto task = json::parse(record->body, nullptr, false);
          if (!task.is_object()) continue;
          task["openbatch"]["pendingReason"] = {{"code", write.code}, {"message", write.message}};
          record->body = cluster::dump_entity(task);
          if (!w.update(Table::Tasks, *record)) return false;
        }
        return true;
      },
      nullptr);
}

void Dispatcher::commit(std::vector<Dispatch> dispatches) {
  auto batch = std::make_shared<std::vector<Dispatch>>(std::move(dispatches));
  ctx_.store.submit([batch, now = ctx_.clock.now(), account_url = ctx_.config.account_url](
                        store::Writer& w) { return commit_round(w, *batch, now, account_url); },
                    [this, batch](const Status& status) {
                      asio::post(ctx_.strand, [this, batch, ok = status.has_value()] {
                        on_committed(*batch, ok);
                      });
                    });
}

void Dispatcher::on_committed(std::vector<Dispatch>& batch, bool ok) {
  Sends to_send;
  for (auto& d : batch) {
    if (ok && d.committed && !d.members.empty()) {
      record_gang(d, to_send);
    } else if (ok && d.committed) {
      record_single(d, to_send);
    } else {
      release(d, ok);
    }
  }
  for (auto& [node_id, assignments] : to_send) {
    NodeInfo* node = ctx_.model.find_node(node_id);
    if (!node || !node->linked) continue;  // the next hello reconciles (lost -> requeue)
    for (auto& a : assignments) ctx_.wiring->send(*node, std::move(a));
  }
  schedule_round();
}

void Dispatcher::record_gang(Dispatch& d, Sends& to_send) {
  cluster::GangInfo& gang = ctx_.model.gangs[d.attempt_id];
  gang = cluster::GangInfo{d.job_id, d.item.task_id, {}, {}, {}, false, false, 0};
  for (std::size_t k = 0; k < d.instances.size(); ++k) {
    const std::string& id = d.instances[k].attempt_id;
    const std::string& member_id = d.members[k].node_id;
    cluster::AttemptInfo info{d.job_id, d.item.task_id, member_id, d.item.required_slots,
                              false,    false,          -1,        {}};
    info.subtask_id = static_cast<int>(k);
    info.gang = d.attempt_id;
    ctx_.model.attempts[id] = info;
    gang.attempt_ids.push_back(id);
    gang.node_ids.push_back(member_id);
    gang.coordinated.push_back(false);
    gang.live++;
    if (NodeInfo* member = ctx_.model.find_node(member_id)) {
      member->attempts.insert(id);
      if (member->state == domain::NodeState::Idle) member->state = domain::NodeState::Running;
      to_send[member_id].push_back(std::move(d.instances[k]));
    }
  }
  ctx_.model.attempt_of_task[cluster::task_key(d.job_id, d.item.task_id)] = d.attempt_id;
  spdlog::info("task {}/{}: {} instances placed, primary on {}", d.job_id, d.item.task_id,
               d.members.size(), d.node_id);
}

void Dispatcher::record_single(Dispatch& d, Sends& to_send) {
  ctx_.model.attempts[d.attempt_id] = cluster::AttemptInfo{
      d.job_id, d.item.task_id, d.node_id, d.item.required_slots, false, false, -1, {}};
  ctx_.model.attempt_of_task[cluster::task_key(d.job_id, d.item.task_id)] = d.attempt_id;
  if (NodeInfo* node = ctx_.model.find_node(d.node_id)) {
    node->attempts.insert(d.attempt_id);
    if (node->state == domain::NodeState::Idle) node->state = domain::NodeState::Running;
    to_send[d.node_id].push_back(std::move(d.assignment));
  }
}

// Not dispatched: give the reservation back. A task that is still active comes back through
// the feed (or was never gone from the store); re-add it here when the whole commit failed,
// since no change will announce it.
void Dispatcher::release(const Dispatch& d, bool ok) {
  if (d.members.empty()) {
    if (NodeInfo* node = ctx_.model.find_node(d.node_id)) node->used_slots -= d.item.required_slots;
  } else {
    for (const auto& m : d.members) {
      if (NodeInfo* member = ctx_.model.find_node(m.node_id))
        member->used_slots -= d.item.required_slots;
    }
  }
  if (cluster::JobInfo* job = ctx_.model.find_job(d.job_id)) {
    job->running--;
    if (!ok || d.still_pending) ctx_.model.add_pending(*job, d.item);
  }
}

}  // namespace openbatch::dispatch
