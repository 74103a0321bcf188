// The `openbatch` command line: global options, every subcommand group, parsing and exit
// codes (0 ok; 1 API, transport or task failures; 2 usage). main.cpp only calls run().
// run() may be called from tests with captured streams and a fake environment.
#pragma once

#include "cli/config.hpp"

#include <iosfwd>
#include <string>
#include <vector>

namespace openbatch::cli {

// args[0] is the program name. Results go to `out`, errors and progress to `err`.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
        const EnvLookup& env);

}  // namespace openbatch::cli
