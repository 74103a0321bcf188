// The exact command a benchmark ran, for its printed figures, with the account key hidden.
#pragma once

#include <string>

namespace openbatch::bench {

inline std::string printable_command_line(int argc, char** argv) {
  std::string out;
  bool hide_next = false;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (hide_next) arg = "\"$KEY\"";  // the account key is never printed
    hide_next = arg == "--key";
    if (arg.starts_with("--key=")) arg = "--key=\"$KEY\"";
    if (i) out += ' ';
    out += arg;
  }
  return out;
}

}  // namespace openbatch::bench
