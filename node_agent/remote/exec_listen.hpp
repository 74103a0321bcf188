// Where the remote-launch server (exec_server.hpp) listens, as pure decisions: the
// `--exec-listen` option as a value, and the address and port for a node given what the
// scheduler says of its pool. The server runs only on pools with inter-node communication
// (nothing else ever connects to it) and listens on the node's pool-network address -- the
// address its peers use, its entry in a multi-instance task's hostList -- not on every
// interface.
#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace openbatch::agent::remote {

// --exec-listen: `auto[:PORT]` (the default: the node's address, as the scheduler's welcome
// gives it), `ADDRESS[:PORT]` (this address instead; IPv6 as `[addr]:port`) or `off`.
// PORT 0 or none: any free port.
struct ExecListen {
  enum class Mode { Auto, Fixed, Off };
  Mode mode = Mode::Auto;
  std::string address;     // Fixed only
  std::uint16_t port = 0;  // 0: ephemeral
  bool operator==(const ExecListen&) const = default;
};

// An Error (400 "InvalidOption") names what is wrong with the text.
Result<ExecListen> parse_exec_listen(std::string_view text);

struct ExecBind {
  std::string address;
  std::uint16_t port = 0;
  bool operator==(const ExecBind&) const = default;
};

// Where the server of a node listens; nullopt: it runs none (off, a pool without inter-node
// communication, or auto without a known node address).
std::optional<ExecBind> exec_bind_for(const ExecListen& listen, bool inter_node_communication,
                                      const std::optional<std::string>& node_address);

}  // namespace openbatch::agent::remote
