// Bridges the store's group-commit writer to C++20 coroutines: `co_await
// async_write(store, op)` suspends the route until the group holding `op` is durable, then
// resumes it on its own executor (never on the writer thread).
#pragma once

#include "scheduler/store/store.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>

namespace openbatch::store {

template <class CompletionToken>
auto async_write(Store& store, WriteOp op, CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, void(Status)>(
      [&store](auto handler, WriteOp write_op) {
        auto ex = boost::asio::get_associated_executor(handler);
        // std::function needs copyable callables; the coroutine handler is move-only.
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        store.submit(std::move(write_op), [shared, ex](const Status& status) {
          boost::asio::post(ex, [shared, status]() mutable { (*shared)(status); });
        });
      },
      token, std::move(op));
}

inline boost::asio::awaitable<Status> write(Store& store, WriteOp op) {
  co_return co_await async_write(store, std::move(op), boost::asio::use_awaitable);
}

}  // namespace openbatch::store
