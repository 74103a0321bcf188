// Entry point of openbatch-shim, the per-task supervisor (shim_main.hpp). A program of its own,
// not a subcommand of openbatch-agent: the agent starts one per task, and this binary links
// only the launcher and the status file (no Asio, TLS or logging), so that it starts in about
// a millisecond where the agent's binary takes tens (its relocations).
#include "node_agent/shim/shim_main.hpp"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  try {
    return openbatch::agent::shim::shim_main(argc - 1, argv + 1);
  } catch (const std::exception& e) {  // out of memory: say so, never a core dump
    std::fprintf(stderr, "openbatch-shim: %s\n", e.what());
    return 1;
  }
}
