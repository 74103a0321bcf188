// Seeded randomized invariants of place(), in the spirit of Nomad's property tests: random
// clusters and queues go through place(), and a brute-force replay checks every decision --
// each task is placed exactly where a scan of all nodes says the best fitting node is, or left
// pending only when no node (no N nodes for a gang) fits at its turn. From that follow: slots
// are never oversubscribed, gangs are all-or-nothing on distinct nodes, no later task takes
// capacity an earlier fitting task was denied (priority order, reservations excepted), and
// maxParallelTasks holds. Same input (in any node order) gives the same output.
#include "scheduler/placement/filters.hpp"
#include "scheduler/placement/place.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace openbatch::placement {
namespace {

constexpr uint32_t kSeeds = 400;

struct Case {
  ClusterSnapshot cluster;
  std::vector<PendingTask> tasks;
  PlacementPolicy policy;
};

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  Case make() {
    Case c;
    const int pools = pick(1, 3);
    for (int p = 0; p < pools; ++p) add_pool(c.cluster, "p" + std::to_string(p));
    std::shuffle(c.cluster.nodes.begin(), c.cluster.nodes.end(), rng_);
    for (int j = 0; j < 3; ++j) {  // job "j3" has no budget entry: unlimited
      c.cluster.jobs.push_back(
          JobSnapshot{"j" + std::to_string(j), chance(50) ? -1 : pick(0, 4), pick(0, 2)});
    }
    const int tasks = pick(0, 40);
    for (int i = 0; i < tasks; ++i) c.tasks.push_back(make_task(c.cluster, i));
    std::stable_sort(c.tasks.begin(), c.tasks.end(), placement_order);
    c.policy.max_node_reasons = static_cast<std::size_t>(pick(0, 5));
    c.policy.max_detailed_pending = static_cast<std::size_t>(pick(0, 20));
    c.policy.reserve_for_gangs = chance(70);
    return c;
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int percent) { return pick(1, 100) <= percent; }
  std::string sku() { return chance(50) ? "A100" : "H100"; }

  void add_pool(ClusterSnapshot& cluster, const std::string& id) {
    PoolSnapshot pool{id, chance(40) ? 1 : pick(2, 4),
                      chance(50) ? NodeFillType::Spread : NodeFillType::Pack, chance(70)};
    cluster.pools.push_back(pool);
    const int nodes = pick(0, 10);
    for (int k = 0; k < nodes; ++k) {
      NodeSnapshot node;
      node.id = id + "-n" + std::to_string(pick(0, 9)) + std::to_string(k);  // ids not in order
      node.pool_id = id;
      node.used_slots = pick(0, pool.task_slots_per_node);
      node.running_tasks = node.used_slots == 0 ? 0 : pick(1, node.used_slots);
      node.state = chance(80) ? (node.used_slots > 0 ? NodeState::Running : NodeState::Idle)
                              : static_cast<NodeState>(pick(0, 12));
      node.scheduling_enabled = chance(90);
      node.affinity_id = "TVM:" + node.id;
      for (int g = pick(0, 2); g > 0; --g) node.gpus.push_back({"GPU-" + node.id, sku()});
      node.cuda_driver_version = std::vector<int>{0, 11080, 12020}[pick(0, 2)];
      cluster.nodes.push_back(node);
    }
  }

  PendingTask make_task(const ClusterSnapshot& cluster, int i) {
    PendingTask t;
    t.job_id = "j" + std::to_string(pick(0, 3));
    t.task_id = "t" + std::to_string(i);
    t.pool_id = chance(5) ? "nowhere" : cluster.pools[pick(0, int(cluster.pools.size()) - 1)].id;
    t.priority = std::vector<int>{-5, 0, 0, 3}[pick(0, 3)];
    t.seq = i;
    t.required_slots = pick(1, 3);
    t.number_of_instances = chance(25) ? pick(2, 4) : 1;
    if (t.number_of_instances > 1) t.required_slots = 1;
    if (chance(15) && !cluster.nodes.empty()) {
      t.affinity_id = cluster.nodes[pick(0, int(cluster.nodes.size()) - 1)].affinity_id;
    }
    if (chance(15)) t.gpu = GpuRequest{pick(0, 2), chance(50) ? "" : sku(), 0};
    if (chance(10)) t.gpu.min_cuda_version = chance(50) ? 11000 : 12000;
    return t;
  }

  std::mt19937 rng_;
};

// Brute-force model of one round: every decision is recomputed by scanning all nodes.
class Replay {
 public:
  explicit Replay(const Case& c) : c_(c) {
    for (const NodeSnapshot& n : c.cluster.nodes) {
      const PoolSnapshot& pool = *find_pool(n.pool_id);
      nodes_.push_back(
          RefNode{&n, std::max(0, pool.task_slots_per_node - n.used_slots), n.running_tasks, -1});
    }
    std::sort(nodes_.begin(), nodes_.end(),
              [](const RefNode& a, const RefNode& b) { return a.snap->id < b.snap->id; });
    for (const JobSnapshot& j : c.cluster.jobs) jobs_[j.id] = j;
  }

  void check(const PlacementResult& r) {
    std::map<std::size_t, const Assignment*> placed;
    std::map<std::size_t, const PendingReport*> pending;
    std::map<std::size_t, const Reservation*> held;
    for (const Assignment& a : r.assignments) ASSERT_TRUE(placed.emplace(a.task_index, &a).second);
    for (const PendingReport& p : r.pending) ASSERT_TRUE(pending.emplace(p.task_index, &p).second);
    for (const Reservation& h : r.reservations) ASSERT_TRUE(held.emplace(h.task_index, &h).second);
    ASSERT_EQ(placed.size() + pending.size(), r.tasks_examined);
    for (std::size_t i = 0; i < r.tasks_examined; ++i) {
      SCOPED_TRACE("task " + std::to_string(i));
      ASSERT_NE(placed.contains(i), pending.contains(i));
      step(i, placed.contains(i) ? placed[i] : nullptr, pending.contains(i) ? pending[i] : nullptr,
           held.contains(i) ? held[i] : nullptr);
      if (::testing::Test::HasFatalFailure()) return;
    }
    if (r.tasks_examined < c_.tasks.size()) {
      for (const RefNode& n : nodes_) {
        EXPECT_FALSE(takes_tasks(*n.snap) && n.reserved_by < 0 && n.free > 0)
            << "stopped early while " << n.snap->id << " had a free slot";
      }
    }
    for (const RefNode& n : nodes_) EXPECT_GE(n.free, 0) << n.snap->id << " oversubscribed";
  }

 private:
  struct RefNode {
    const NodeSnapshot* snap;
    int free;
    int running;
    long reserved_by;  // task index of the gang holding it, -1 for none
  };

  const PoolSnapshot* find_pool(const std::string& id) const {
    for (const PoolSnapshot& p : c_.cluster.pools) {
      if (p.id == id) return &p;
    }
    return nullptr;
  }

  bool fits(const RefNode& n, const PendingTask& t, std::size_t index) const {
    if (!takes_tasks(*n.snap)) return false;
    if (n.reserved_by >= 0 && n.reserved_by != long(index)) return false;
    if (n.free < std::max(1, t.required_slots)) return false;
    const auto gpus = std::count_if(n.snap->gpus.begin(), n.snap->gpus.end(), [&](const auto& g) {
      return t.gpu.sku.empty() || g.sku == t.gpu.sku;
    });
    return gpus >= t.gpu.count && n.snap->cuda_driver_version >= t.gpu.min_cuda_version;
  }

  // The nodes a task should get, best first, or fewer than it needs when it must wait.
  std::vector<std::size_t> choose(const PendingTask& t, const PoolSnapshot& pool,
                                  std::size_t index) const {
    std::vector<std::size_t> fitting;
    std::optional<std::size_t> preferred;
    for (std::size_t k = 0; k < nodes_.size(); ++k) {
      if (nodes_[k].snap->pool_id != pool.id || !fits(nodes_[k], t, index)) continue;
      if (!t.affinity_id.empty() && nodes_[k].snap->affinity_id == t.affinity_id && !preferred) {
        preferred = k;
      } else {
        fitting.push_back(k);
      }
    }
    std::stable_sort(fitting.begin(), fitting.end(), [&](std::size_t a, std::size_t b) {
      const RefNode& x = nodes_[a];
      const RefNode& y = nodes_[b];
      if (pool.fill_type == NodeFillType::Pack) return x.free < y.free;
      return x.free != y.free ? x.free > y.free : x.running < y.running;
    });
    if (preferred) fitting.insert(fitting.begin(), *preferred);
    fitting.resize(std::min<std::size_t>(fitting.size(), std::max(1, t.number_of_instances)));
    return fitting;
  }

  std::optional<ReasonCode> task_rule(const PendingTask& t, const PoolSnapshot* pool) const {
    if (pool == nullptr) return ReasonCode::PoolNotFound;
    auto job = jobs_.find(t.job_id);
    if (job != jobs_.end() && job->second.max_parallel_tasks >= 0 &&
        job->second.running_tasks >= job->second.max_parallel_tasks) {
      return ReasonCode::JobMaxParallelTasksReached;
    }
    if (std::max(1, t.required_slots) > pool->task_slots_per_node) {
      return ReasonCode::RequiredSlotsExceedNodeSlots;
    }
    if (t.number_of_instances > 1 && !pool->enable_inter_node_communication) {
      return ReasonCode::InterNodeCommunicationDisabled;
    }
    if (t.number_of_instances > 1 && pool->task_slots_per_node != 1) {
      return ReasonCode::MultiInstanceNeedsSingleSlotNodes;
    }
    return std::nullopt;
  }

  void step(std::size_t i, const Assignment* placed, const PendingReport* pending,
            const Reservation* held) {
    const PendingTask& t = c_.tasks[i];
    const PoolSnapshot* pool = find_pool(t.pool_id);
    if (auto rule = task_rule(t, pool)) {
      ASSERT_NE(pending, nullptr) << "placed despite " << to_string(*rule);
      EXPECT_EQ(pending->reason.code, *rule);
      EXPECT_EQ(held, nullptr);
      return;
    }
    const auto width = static_cast<std::size_t>(std::max(1, t.number_of_instances));
    const std::vector<std::size_t> chosen = choose(t, *pool, i);
    std::vector<std::string> ids;
    ids.reserve(chosen.size());
    for (std::size_t k : chosen) ids.push_back(nodes_[k].snap->id);
    if (chosen.size() < width) {
      ASSERT_NE(pending, nullptr) << "placed although only " << chosen.size() << " nodes fit";
      check_report(*pending);
      const bool should_hold = c_.policy.reserve_for_gangs && width > 1 && !chosen.empty() &&
                               schedulable(*pool) >= width;
      ASSERT_EQ(held != nullptr, should_hold);
      if (held == nullptr) return;
      EXPECT_EQ(held->node_ids, ids);
      for (std::size_t k : chosen) nodes_[k].reserved_by = long(i);
      return;
    }
    ASSERT_NE(placed, nullptr) << "left pending although it fits: " << describe(pending->reason);
    EXPECT_EQ(placed->node_ids, ids);
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), width) << "distinct nodes";
    for (std::size_t k : chosen) {
      nodes_[k].free -= std::max(1, t.required_slots);
      nodes_[k].running += 1;
    }
    if (auto job = jobs_.find(t.job_id); job != jobs_.end()) ++job->second.running_tasks;
  }

  std::size_t schedulable(const PoolSnapshot& pool) const {
    return std::count_if(nodes_.begin(), nodes_.end(), [&](const RefNode& n) {
      return n.snap->pool_id == pool.id && takes_tasks(*n.snap);
    });
  }

  void check_report(const PendingReport& p) {
    EXPECT_LE(p.nodes.size(), c_.policy.max_node_reasons);
    if (!p.nodes.empty()) ++detailed_;
    EXPECT_LE(detailed_, c_.policy.max_detailed_pending);
    std::set<std::string> listed;
    for (const NodeReason& n : p.nodes) EXPECT_TRUE(listed.insert(n.node_id).second);
  }

  const Case& c_;
  std::vector<RefNode> nodes_;
  std::map<std::string, JobSnapshot> jobs_;
  std::size_t detailed_ = 0;
};

TEST(PlacementInvariants, EveryDecisionMatchesABruteForceReplay) {
  for (uint32_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Case c = Generator(seed).make();
    const PlacementResult r = place(c.cluster, c.tasks, c.policy);
    Replay(c).check(r);
    if (HasFatalFailure()) return;
  }
}

TEST(PlacementInvariants, SameInputInAnyNodeOrderGivesTheSameOutput) {
  for (uint32_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Case c = Generator(seed).make();
    const PlacementResult first = place(c.cluster, c.tasks, c.policy);
    EXPECT_EQ(place(c.cluster, c.tasks, c.policy), first);
    std::shuffle(c.cluster.nodes.begin(), c.cluster.nodes.end(), std::mt19937(seed));
    EXPECT_EQ(place(c.cluster, c.tasks, c.policy), first);
  }
}

TEST(PlacementInvariants, RandomCasesExerciseEveryOutcome) {
  // Guards the generator: a replay that never sees gangs wait or tasks placed proves little.
  std::size_t placed = 0, gangs_placed = 0, held = 0, pending = 0, stopped = 0;
  for (uint32_t seed = 1; seed <= kSeeds; ++seed) {
    const Case c = Generator(seed).make();
    const PlacementResult r = place(c.cluster, c.tasks, c.policy);
    placed += r.assignments.size();
    for (const Assignment& a : r.assignments) gangs_placed += a.node_ids.size() > 1 ? 1 : 0;
    held += r.reservations.size();
    pending += r.pending.size();
    stopped += r.tasks_examined < c.tasks.size() ? 1 : 0;
  }
  EXPECT_GT(placed, 500u);
  EXPECT_GT(gangs_placed, 20u);
  EXPECT_GT(held, 20u);
  EXPECT_GT(pending, 500u);
  EXPECT_GT(stopped, 50u);
}

}  // namespace
}  // namespace openbatch::placement
