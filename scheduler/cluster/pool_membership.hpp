// The nodes of each pool that are not leaving it, kept as nodes come, leave and go, so that
// "how many nodes does this pool have" and "which are they" cost nothing per event: a join,
// a reconcile and a placement round read them here instead of scanning every node of every
// pool. It also remembers which pools changed since they were last reconciled (a dirty set),
// so a burst of joins costs one reconcile per pool, not one per node.
// Keys are lowercased pool ids, values node ids (exact). Used on the engine's strand only.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace openbatch::cluster {

class PoolMembership {
 public:
  // The node counts towards its pool (idempotent).
  void add(const std::string& pool_key, const std::string& node_id);
  // The node no longer counts: it is leaving or gone (idempotent).
  void remove(const std::string& pool_key, const std::string& node_id);
  std::size_t count(const std::string& pool_key) const;
  // The pool's members in id order; empty for a pool without any.
  const std::set<std::string>& members(const std::string& pool_key) const;

  // The pool's members or target changed: it needs a reconcile. True when it was not dirty yet.
  bool mark_dirty(const std::string& pool_key);
  // The pools marked since the last call, in key order; clears the set.
  std::vector<std::string> take_dirty();

 private:
  std::unordered_map<std::string, std::set<std::string>> members_;
  std::set<std::string> dirty_;
};

}  // namespace openbatch::cluster
