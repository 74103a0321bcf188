// ReaderPool: read-only connections for Readers. acquire() hands out a Reader on an idle
// connection (opening a new one when none is free); the Reader gives its connection back when
// destroyed, and the pool keeps at most `max_idle` of them.
//
// Threading: acquire() and the Readers' release are thread-safe. Readers hold the pool by
// shared_ptr, so a Reader may outlive the Store; after close() released connections are closed.
#pragma once

#include "scheduler/store/sqlite_connection.hpp"
#include "scheduler/store/store.hpp"

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace openbatch::store {

class ReaderPool : public std::enable_shared_from_this<ReaderPool> {
 public:
  ReaderPool(std::string path, std::size_t max_idle, int cache_kib);

  // Never fails: when no connection can be opened, the Reader logs the error and answers every
  // call with "nothing found" (the Reader interface has no error channel).
  std::unique_ptr<Reader> acquire();
  // Closes the idle connections; connections of live Readers close when those are destroyed.
  void close();
  std::size_t idle_count() const;

  // Called by a Reader's destructor.
  void release(std::unique_ptr<Connection> connection);

 private:
  const std::string path_;
  const std::size_t max_idle_;
  const int cache_kib_;

  mutable std::mutex mutex_;
  // Guarded by mutex_:
  std::vector<std::unique_ptr<Connection>> idle_;
  bool closed_ = false;
};

}  // namespace openbatch::store
