// Entry point of `openbatch`, the command-line client: wiring only (see app.hpp).
#include "cli/app.hpp"
#include "cli/errors.hpp"

#include <exception>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  const std::vector<std::string> args(argv, argv + argc);
  try {
    return openbatch::cli::run(args, std::cout, std::cerr, openbatch::cli::process_env);
  } catch (const std::exception& e) {  // a bug or out of memory: report, never a core dump
    std::cerr << "error: " << e.what() << '\n';
    return openbatch::cli::kExitFailure;
  }
}
