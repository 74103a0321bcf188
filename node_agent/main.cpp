// Entry point of openbatch-agent: wiring only (see daemon/options.hpp).
#include "node_agent/daemon/options.hpp"

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  try {
    return openbatch::agent::daemon::agent_main(argc, argv);
  } catch (const std::exception& e) {  // a bug or out of memory: say so, never a core dump
    std::cerr << "openbatch-agent: " << e.what() << '\n';
    return 1;
  }
}
