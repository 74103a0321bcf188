// PoolIndex: one pool's nodes during one place() call, kept ordered best-first for the pool's
// fill type, so that choosing a node costs O(log nodes) instead of a scan of the pool.
//
// Spread and pack are two orderings of the same set (the NVIDIA device plugin's "comparators on
// one greedy loop"), written as sort keys:
//   spread: most free slots, then fewest running tasks, then node id;
//   pack:   fewest free slots, then node id -- the search starts at the first node that fits.
// Internal to placement. Not thread-safe: it lives inside one place() call.
#pragma once

#include "common/text/ascii.hpp"
#include "scheduler/placement/snapshot.hpp"

#include <climits>

#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <vector>

namespace openbatch::placement::detail {

// A node's state during the round: the snapshot plus this round's decisions.
struct WorkingNode {
  const NodeSnapshot* snapshot = nullptr;
  int free_slots = 0;
  int running_tasks = 0;
  bool takes_tasks = false;                  // passes the task-independent filters
  const PendingTask* reserved_by = nullptr;  // gang holding the node this round
};

// Position of a node in its pool's order; `node` (the index in the id-sorted node vector) makes
// every key unique and breaks the last tie by node id.
struct NodeKey {
  int first = 0;
  int second = 0;
  uint32_t node = 0;
  bool operator<(const NodeKey& other) const {
    return std::tie(first, second, node) < std::tie(other.first, other.second, other.node);
  }
};

NodeKey spread_key(const WorkingNode& n, uint32_t node);
NodeKey pack_key(const WorkingNode& n, uint32_t node);

class PoolIndex {
 public:
  // `nodes` is the round's id-sorted node vector, which must outlive the index.
  PoolIndex(const PoolSnapshot& pool, std::vector<WorkingNode>& nodes);

  // Adds a node of this pool while building; call in node-id order.
  void add(uint32_t node);

  const PoolSnapshot& pool() const { return *pool_; }
  std::size_t node_count() const { return node_count_; }
  // Nodes that take tasks (idle/running, scheduling enabled), reserved ones included.
  std::size_t schedulable_count() const { return available_.size() + reserved_.size(); }
  // The most free slots on an available (schedulable, unreserved) node; 0 when none.
  int max_free_slots() const;
  int max_reserved_free_slots() const { return max_reserved_free_; }
  std::size_t reserved_count() const { return reserved_.size(); }
  const PendingTask* first_reserver() const { return first_reserver_; }
  bool is_available(uint32_t node) const;
  // The first node (in id order) whose affinity id matches, case-insensitively.
  std::optional<uint32_t> find_affinity(std::string_view affinity_id) const;

  // Calls visit(node) for available nodes with at least `need` free slots, best first for the
  // fill type, until visit returns false. O(log n) to start, O(1) per node visited.
  template <class Visit>
  void for_each_fitting(int need, Visit visit) const {
    if (pool_->fill_type == NodeFillType::Spread) {
      for (auto it = available_.begin(); it != available_.end() && -it->first >= need; ++it) {
        if (!visit(it->node)) return;
      }
      return;
    }
    for (auto it = available_.lower_bound(NodeKey{need, INT_MIN, 0}); it != available_.end();
         ++it) {
      if (!visit(it->node)) return;
    }
  }

  // Calls visit(node) for available nodes, most free slots first (then in the fill type's
  // order), until visit returns false. O(log n) per distinct free-slot count, O(1) per node.
  template <class Visit>
  void for_each_most_free_first(Visit visit) const {
    if (pool_->fill_type == NodeFillType::Spread) {
      for (const NodeKey& key : available_) {
        if (!visit(key.node)) return;
      }
      return;
    }
    // Pack keeps the fewest free first: walk its groups of equal free slots from the back,
    // each group front to back so that ties stay in id order.
    auto group_end = available_.end();
    while (group_end != available_.begin()) {
      const int free = std::prev(group_end)->first;
      const auto group_begin = available_.lower_bound(NodeKey{free, INT_MIN, 0});
      for (auto it = group_begin; it != group_end; ++it) {
        if (!visit(it->node)) return;
      }
      group_end = group_begin;
    }
  }

  const std::vector<uint32_t>& reserved() const { return reserved_; }
  const std::vector<uint32_t>& unschedulable() const { return unschedulable_; }

  // Places one task instance of `slots` slots on an available node.
  void take(uint32_t node, int slots);
  // Holds an available node for `gang` for the rest of the round.
  void reserve(uint32_t node, const PendingTask& gang);

 private:
  NodeKey key_of(uint32_t node) const;

  const PoolSnapshot* pool_;
  std::vector<WorkingNode>* nodes_;
  std::size_t node_count_ = 0;
  std::set<NodeKey> available_;          // schedulable, unreserved nodes, best first
  std::vector<uint32_t> reserved_;       // held by gangs this round, in reservation order
  std::vector<uint32_t> unschedulable_;  // nodes that take no tasks, in id order
  std::map<std::string_view, uint32_t, text::ILess> by_affinity_;
  int max_reserved_free_ = 0;
  const PendingTask* first_reserver_ = nullptr;
};

}  // namespace openbatch::placement::detail
