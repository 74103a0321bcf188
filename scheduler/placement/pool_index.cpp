// PoolIndex: the ordered candidate set of one pool for one placement round.
#include "scheduler/placement/pool_index.hpp"

#include <algorithm>
#include <cassert>

namespace openbatch::placement::detail {

NodeKey spread_key(const WorkingNode& n, uint32_t node) {
  return NodeKey{-n.free_slots, n.running_tasks, node};
}

NodeKey pack_key(const WorkingNode& n, uint32_t node) { return NodeKey{n.free_slots, 0, node}; }

PoolIndex::PoolIndex(const PoolSnapshot& pool, std::vector<WorkingNode>& nodes)
    : pool_(&pool), nodes_(&nodes) {}

NodeKey PoolIndex::key_of(uint32_t node) const {
  const WorkingNode& n = (*nodes_)[node];
  return pool_->fill_type == NodeFillType::Spread ? spread_key(n, node) : pack_key(n, node);
}

void PoolIndex::add(uint32_t node) {
  const WorkingNode& n = (*nodes_)[node];
  ++node_count_;
  if (!n.snapshot->affinity_id.empty()) by_affinity_.emplace(n.snapshot->affinity_id, node);
  if (n.takes_tasks) {
    available_.insert(key_of(node));
  } else {
    unschedulable_.push_back(node);
  }
}

int PoolIndex::max_free_slots() const {
  if (available_.empty()) return 0;
  if (pool_->fill_type == NodeFillType::Spread) return -available_.begin()->first;
  return available_.rbegin()->first;
}

bool PoolIndex::is_available(uint32_t node) const {
  const WorkingNode& n = (*nodes_)[node];
  return n.takes_tasks && n.reserved_by == nullptr;
}

std::optional<uint32_t> PoolIndex::find_affinity(std::string_view affinity_id) const {
  auto it = by_affinity_.find(affinity_id);
  if (it == by_affinity_.end()) return std::nullopt;
  return it->second;
}

void PoolIndex::take(uint32_t node, int slots) {
  assert(is_available(node));
  available_.erase(key_of(node));
  WorkingNode& n = (*nodes_)[node];
  n.free_slots -= slots;
  n.running_tasks += 1;
  available_.insert(key_of(node));
}

void PoolIndex::reserve(uint32_t node, const PendingTask& gang) {
  assert(is_available(node));
  available_.erase(key_of(node));
  WorkingNode& n = (*nodes_)[node];
  n.reserved_by = &gang;
  reserved_.push_back(node);
  max_reserved_free_ = std::max(max_reserved_free_, n.free_slots);
  if (first_reserver_ == nullptr) first_reserver_ = &gang;
}

}  // namespace openbatch::placement::detail
