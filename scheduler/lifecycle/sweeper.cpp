#include "scheduler/lifecycle/sweeper.hpp"

#include "common/time.hpp"
#include "scheduler/domain/job_transitions.hpp"
#include "scheduler/domain/pool_transitions.hpp"
#include "scheduler/domain/states.hpp"
#include "scheduler/store/async_write.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace openbatch::lifecycle {
namespace {

using domain::JobState;
using domain::NodeState;
using domain::PoolFacts;
using domain::PoolState;
using domain::TaskState;
using nlohmann::json;
using store::Table;

std::vector<store::Record> all_in_state(store::Reader& reader, Table table,
                                        std::string_view state) {
  std::vector<store::Record> out;
  store::ListQuery q{table, std::string(), std::string(state), 0, 1000};
  for (;;) {
    auto rows = reader.list(q);
    for (auto& r : rows) {
      q.after_seq = r.seq;
      out.push_back(std::move(r));
    }
    if (rows.size() < q.limit) break;
  }
  return out;
}

PoolFacts pool_facts(store::Reader& reader, const std::string& pool_id) {
  PoolFacts f;
  f.nodes_in_pool = static_cast<int>(reader.count(Table::Nodes, pool_id, std::nullopt));
  f.nodes_joined = f.nodes_in_pool - static_cast<int>(reader.count(
                                         Table::Nodes, pool_id, to_string(NodeState::LeavingPool)));
  return f;
}

store::Record to_record(const json& e, const std::string& parent) {
  return store::Record{e.value("id", ""), parent, e.value("state", ""),
                       e.dump(-1, ' ', false, json::error_handler_t::replace), 0};
}

}  // namespace

boost::asio::awaitable<void> Sweeper::sweep_pools() {
  std::vector<store::Record> pools;
  {
    auto reader = store_.reader();
    pools = all_in_state(*reader, Table::Pools, to_string(PoolState::Active));
    auto deleting = all_in_state(*reader, Table::Pools, to_string(PoolState::Deleting));
    pools.insert(pools.end(), std::make_move_iterator(deleting.begin()),
                 std::make_move_iterator(deleting.end()));
  }
  for (const auto& record : pools) {
    const bool settled = record.body.find("\"allocationState\":\"steady\"") != std::string::npos &&
                         record.state == to_string(PoolState::Active);
    if (settled) continue;  // steady active pools change only when nodes join (registry's job)
    const TimePoint now = clock_.now();
    std::string etag = etags_();
    co_await store::write(store_, [&](store::Writer& w) {
      auto current = w.get(Table::Pools, "", record.id);
      if (!current) return true;
      auto pool = json::parse(current->body, nullptr, false);
      if (pool.is_discarded()) return true;
      const PoolFacts facts = pool_facts(w, current->id);
      if (domain::pool_can_be_removed(pool, facts)) return w.erase(Table::Pools, "", current->id);
      auto next = domain::settle_pool(pool, facts, now);
      if (!next) return true;
      (*next)["eTag"] = etag;
      (*next)["lastModified"] = format_iso8601(now);
      return w.update(Table::Pools, to_record(*next, ""));
    });
  }
}

boost::asio::awaitable<void> Sweeper::sweep_jobs() {
  std::vector<store::Record> jobs;
  {
    auto reader = store_.reader();
    for (JobState state :
         {JobState::Terminating, JobState::Disabling, JobState::Enabling, JobState::Deleting}) {
      auto rows = all_in_state(*reader, Table::Jobs, to_string(state));
      jobs.insert(jobs.end(), std::make_move_iterator(rows.begin()),
                  std::make_move_iterator(rows.end()));
    }
  }
  for (const auto& record : jobs) {
    const TimePoint now = clock_.now();
    std::string etag = etags_();
    if (record.state == to_string(JobState::Deleting)) {
      // Remove the tasks a chunk per op, then the job itself.
      bool finished = false;
      while (!finished) {
        auto status = co_await store::write(store_, [&](store::Writer& w) {
          std::size_t removed = w.erase_children(Table::Tasks, record.id, kDeleteChunk);
          w.erase_children(Table::TaskFailures, record.id, kDeleteChunk);
          w.erase_children(Table::Subtasks, record.id, kDeleteChunk);
          if (removed < kDeleteChunk) {
            while (w.erase_children(Table::TaskFailures, record.id, kDeleteChunk) == kDeleteChunk) {
            }
            while (w.erase_children(Table::Subtasks, record.id, kDeleteChunk) == kDeleteChunk) {
            }
            w.erase(Table::Jobs, "", record.id);
            finished = true;
          }
          return true;
        });
        if (!status) break;
      }
      continue;
    }
    co_await store::write(store_, [&](store::Writer& w) {
      auto current = w.get(Table::Jobs, "", record.id);
      if (!current) return true;
      auto job = json::parse(current->body, nullptr, false);
      if (job.is_discarded()) return true;
      const int64_t running_tasks =
          w.count(Table::Tasks, current->id, to_string(TaskState::Running)) +
          w.count(Table::Tasks, current->id, to_string(TaskState::Preparing));
      auto next = domain::settle_job(job, running_tasks, now);
      if (!next) return true;
      (*next)["eTag"] = etag;
      (*next)["lastModified"] = format_iso8601(now);
      return w.update(Table::Jobs, to_record(*next, ""));
    });
  }
}

boost::asio::awaitable<void> Sweeper::sweep_once() {
  co_await sweep_pools();
  co_await sweep_jobs();
}

boost::asio::awaitable<void> Sweeper::run(std::chrono::milliseconds period,
                                          std::function<bool()> stop) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  while (!stop()) {
    try {
      co_await sweep_once();
    } catch (const std::exception& e) {
      spdlog::error("lifecycle sweep failed: {}", e.what());
    }
    timer.expires_after(period);
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

}  // namespace openbatch::lifecycle
