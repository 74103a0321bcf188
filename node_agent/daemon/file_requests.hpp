// The agent's answer to a fileRequest (agent-protocol.md 3.9): one operation on the node's
// files, resolved inside the node root by files::NodeTree (never outside it). A read answers
// at most protocol::kMaxFileChunkBytes; a listing at most protocol::kMaxArrayItems entries and
// no more than fits a frame. Pure apart from the file I/O; the caller sends the answer.
#pragma once

#include "common/files/node_tree.hpp"
#include "common/protocol/agent_protocol.hpp"

namespace openbatch::agent::daemon {

protocol::FileResponse answer_file_request(const files::NodeTree& tree,
                                           const protocol::FileRequest& request);

}  // namespace openbatch::agent::daemon
