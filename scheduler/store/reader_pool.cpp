// ReaderPool and the pooled Reader it hands out.
#include "scheduler/store/reader_pool.hpp"

#include "scheduler/store/record_queries.hpp"

#include <spdlog/spdlog.h>

namespace openbatch::store {
namespace {

// A Reader on one pooled connection. Each call is its own implicit read transaction, so it sees
// the last committed state at the time of the call.
class PooledReader final : public Reader {
 public:
  PooledReader(std::shared_ptr<ReaderPool> pool, std::unique_ptr<Connection> connection,
               std::optional<Error> open_error)
      : pool_(std::move(pool)),
        connection_(std::move(connection)),
        open_error_(std::move(open_error)) {}
  ~PooledReader() override {
    if (connection_) pool_->release(std::move(connection_));
  }
  PooledReader(const PooledReader&) = delete;
  PooledReader& operator=(const PooledReader&) = delete;

  std::optional<Record> get(Table table, std::string_view parent, std::string_view id) override {
    if (!usable()) return std::nullopt;
    auto result = query_get(*connection_, table, parent, id);
    if (!result) return log_failure(result.error(), std::optional<Record>());
    return std::move(*result);
  }

  std::vector<Record> list(const ListQuery& query) override {
    if (!usable()) return {};
    auto result = query_list(*connection_, query);
    if (!result) return log_failure(result.error(), std::vector<Record>());
    return std::move(*result);
  }

  int64_t count(Table table, std::optional<std::string_view> parent,
                std::optional<std::string_view> state) override {
    if (!usable()) return 0;
    auto result = query_count(*connection_, table, parent, state);
    if (!result) return log_failure(result.error(), int64_t{0});
    return *result;
  }

 private:
  bool usable() {
    if (connection_) return true;
    spdlog::error("store read refused: {}", open_error_ ? open_error_->message : "no connection");
    return false;
  }

  template <class T>
  T log_failure(const Error& error, T empty) {
    spdlog::error("store read failed: {}", error.message);
    return empty;
  }

  std::shared_ptr<ReaderPool> pool_;
  std::unique_ptr<Connection> connection_;
  std::optional<Error> open_error_;
};

}  // namespace

ReaderPool::ReaderPool(std::string path, std::size_t max_idle, int cache_kib)
    : path_(std::move(path)), max_idle_(max_idle), cache_kib_(cache_kib) {}

std::unique_ptr<Reader> ReaderPool::acquire() {
  std::unique_ptr<Connection> connection;
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      connection = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  std::optional<Error> open_error;
  if (!connection) {
    // Opened outside the lock: opening touches the file and must not serialise other readers.
    auto opened = Connection::open(path_, {.read_only = true, .cache_kib = cache_kib_});
    if (opened) {
      connection = std::move(*opened);
    } else {
      spdlog::error("store: cannot open a read connection: {}", opened.error().message);
      open_error = opened.error();
    }
  }
  return std::make_unique<PooledReader>(shared_from_this(), std::move(connection),
                                        std::move(open_error));
}

void ReaderPool::release(std::unique_ptr<Connection> connection) {
  std::unique_lock lock(mutex_);
  if (closed_ || idle_.size() >= max_idle_) {
    lock.unlock();
    connection.reset();  // closes outside the lock
    return;
  }
  idle_.push_back(std::move(connection));
}

void ReaderPool::close() {
  std::vector<std::unique_ptr<Connection>> closing;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    closing.swap(idle_);
  }
}

std::size_t ReaderPool::idle_count() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

}  // namespace openbatch::store
