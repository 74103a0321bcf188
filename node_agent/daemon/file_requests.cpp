#include "node_agent/daemon/file_requests.hpp"

#include <algorithm>

namespace openbatch::agent::daemon {
namespace {

// What the listing may take of a frame; the rest is the envelope and a margin.
constexpr std::size_t kListingBudgetBytes = protocol::kMaxFrameBytes - 64 * 1024;
// Encoded FileInfo beside its name (keys, two times, numbers), generously.
constexpr std::size_t kEntryOverheadBytes = 192;

protocol::FileResponse failed(const std::string& request_id, const Error& error) {
  protocol::FileResponse response;
  response.request_id = request_id;
  response.status = error.status;
  response.code = error.code;
  response.message = error.message;
  return response;
}

// Cuts a listing to what one frame carries. Names are escaped when encoded (at most 6 bytes
// for one), so the bound is on the worst case.
void fit_listing(std::vector<files::FileInfo>& list) {
  std::size_t used = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    used += list[i].name.size() * 6 + kEntryOverheadBytes;
    if (used > kListingBudgetBytes) {
      list.resize(i);
      return;
    }
  }
}

}  // namespace

protocol::FileResponse answer_file_request(const files::NodeTree& tree,
                                           const protocol::FileRequest& request) {
  protocol::FileResponse response;
  response.request_id = request.request_id;
  switch (request.op) {
    case protocol::FileOp::Stat: {
      auto info = tree.stat(request.path);
      if (!info) return failed(request.request_id, info.error());
      response.file = std::move(*info);
      break;
    }
    case protocol::FileOp::List: {
      const std::size_t limit = static_cast<std::size_t>(std::min<std::uint64_t>(
          request.limit.value_or(protocol::kMaxArrayItems), protocol::kMaxArrayItems));
      auto list = tree.list(request.path, request.recursive, limit);
      if (!list) return failed(request.request_id, list.error());
      fit_listing(*list);
      response.files = std::move(*list);
      break;
    }
    case protocol::FileOp::Read: {
      auto chunk = tree.read_chunk(request.path, request.range, protocol::kMaxFileChunkBytes);
      if (!chunk) return failed(request.request_id, chunk.error());
      response.file = std::move(chunk->info);
      response.data = std::move(chunk->data);
      break;
    }
    case protocol::FileOp::Remove: {
      if (auto st = tree.remove(request.path, request.recursive); !st)
        return failed(request.request_id, st.error());
      break;
    }
  }
  return response;
}

}  // namespace openbatch::agent::daemon
