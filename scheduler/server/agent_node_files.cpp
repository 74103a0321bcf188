#include "scheduler/server/agent_node_files.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <memory>

namespace openbatch::server {
namespace asio = boost::asio;

namespace {

Error error_of(const protocol::FileResponse& r) {
  return Error(r.status, r.code.value_or("InternalError"),
               r.message.value_or("The node's agent could not complete the file operation."));
}

Error incomplete_answer() {
  return errors::internal("The node's agent sent an incomplete answer.");
}

protocol::FileRequest request_of(protocol::FileOp op, std::string path) {
  protocol::FileRequest request;
  request.op = op;
  request.path = std::move(path);
  return request;
}

}  // namespace

asio::awaitable<protocol::FileResponse> AgentNodeFiles::ask(std::string node,
                                                            protocol::FileRequest request) {
  engine::Engine& engine = engine_;
  // The engine answers on its strand; the coroutine resumes on its own executor.
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable),
                                          void(protocol::FileResponse)>(
      [&engine](auto handler, std::string node_id, protocol::FileRequest req) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        engine.file_request(
            std::move(node_id), std::move(req), [shared](protocol::FileResponse response) {
              auto executor = asio::get_associated_executor(*shared);
              asio::post(executor, [shared, response = std::move(response)]() mutable {
                (*shared)(std::move(response));
              });
            });
      },
      asio::use_awaitable, std::move(node), std::move(request));
}

api::NodeFiles::Async<files::FileInfo> AgentNodeFiles::stat(std::string pool, std::string node,
                                                            std::string path) {
  auto response =
      co_await ask(std::move(node), request_of(protocol::FileOp::Stat, std::move(path)));
  if (response.status != 200) co_return error_of(response);
  if (!response.file) co_return incomplete_answer();
  co_return std::move(*response.file);
}

api::NodeFiles::Async<std::vector<files::FileInfo>> AgentNodeFiles::list(
    std::string pool, std::string node, std::string dir, bool recursive, std::size_t limit) {
  auto request = request_of(protocol::FileOp::List, std::move(dir));
  request.recursive = recursive;
  request.limit = std::min<std::size_t>(limit, protocol::kMaxArrayItems);
  auto response = co_await ask(std::move(node), std::move(request));
  if (response.status != 200) co_return error_of(response);
  if (!response.files) co_return incomplete_answer();
  co_return std::move(*response.files);
}

api::NodeFiles::Async<std::string> AgentNodeFiles::read(std::string pool, std::string node,
                                                        std::string path,
                                                        std::optional<files::ByteRange> range) {
  // The first answer tells the file's size, hence where the range ends; later chunks ask for
  // exactly the rest, so a file that grows meanwhile (a running task's stdout) is read up to
  // the size first seen, as a local read would.
  files::ByteRange next{range ? range->first : 0, range ? range->last : std::nullopt};
  std::string out;
  std::optional<uint64_t> end;
  for (;;) {
    auto request = request_of(protocol::FileOp::Read, path);
    request.range = next;
    auto response = co_await ask(node, std::move(request));
    if (response.status != 200) co_return error_of(response);
    if (!response.file || !response.data) co_return incomplete_answer();
    if (!end) {
      auto span = files::select_bytes(response.file->size, range);  // the 256 MiB cap
      if (!span) co_return span.error();
      end = span->second;
      out.reserve(span->second - span->first);
    }
    const std::string& data = *response.data;
    out.append(data, 0, std::min<uint64_t>(data.size(), *end - next.first));
    next.first += data.size();
    if (data.empty() || next.first >= *end) break;  // done, or the file shrank
    next.last = *end - 1;
  }
  co_return out;
}

api::NodeFiles::Async<void> AgentNodeFiles::remove(std::string pool, std::string node,
                                                   std::string path, bool recursive) {
  auto request = request_of(protocol::FileOp::Remove, std::move(path));
  request.recursive = recursive;
  auto response = co_await ask(std::move(node), std::move(request));
  if (response.status != 200) co_return error_of(response);
  co_return Status{};
}

}  // namespace openbatch::server
