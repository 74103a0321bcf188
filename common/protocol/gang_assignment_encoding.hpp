// Encoding of a gang's assignment frames. Every instance of a multi-instance task gets the same
// hostList, nodeList, execPorts and hostNames, numberOfInstances entries each: built into a JSON
// tree and dumped per frame, those lists were most of the scheduler's CPU for a 1,000-instance
// task (1,000 frames of 4,000 entries). encode() sends assignments with long lists here, which
// dumps the lists once per gang and splices their text into each frame. The frame is byte for
// byte what dumping the whole tree gives (the agent protocol's key order is nlohmann's sorted
// one either way).
#pragma once

#include "common/protocol/agent_protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace openbatch::protocol {

// Lists at least this long take the spliced path; shorter ones are cheap to dump.
inline constexpr std::size_t kSharedGangListsFrom = 64;

std::string encode_gang_assignment(std::uint64_t seq, const Assignment& assignment);

// The codec's JSON forms less the parts spliced above (agent_protocol.cpp).
json assignment_without_multi_instance(const Assignment& v);
json multi_instance_without_lists(const MultiInstance& v);

}  // namespace openbatch::protocol
