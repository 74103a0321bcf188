#include "scheduler/cluster/pool_membership.hpp"

namespace openbatch::cluster {

void PoolMembership::add(const std::string& pool_key, const std::string& node_id) {
  members_[pool_key].insert(node_id);
}

void PoolMembership::remove(const std::string& pool_key, const std::string& node_id) {
  auto it = members_.find(pool_key);
  if (it == members_.end()) return;
  it->second.erase(node_id);
  if (it->second.empty()) members_.erase(it);
}

std::size_t PoolMembership::count(const std::string& pool_key) const {
  auto it = members_.find(pool_key);
  return it == members_.end() ? 0 : it->second.size();
}

const std::set<std::string>& PoolMembership::members(const std::string& pool_key) const {
  static const std::set<std::string> kNone;
  auto it = members_.find(pool_key);
  return it == members_.end() ? kNone : it->second;
}

bool PoolMembership::mark_dirty(const std::string& pool_key) {
  return dirty_.insert(pool_key).second;
}

std::vector<std::string> PoolMembership::take_dirty() {
  std::vector<std::string> out(dirty_.begin(), dirty_.end());
  dirty_.clear();
  return out;
}

}  // namespace openbatch::cluster
