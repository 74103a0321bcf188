// split_command_line: turns an Azure Batch commandLine into argv the way a POSIX shell splits
// words, without running a shell: no expansion of $VAR, globs, ~ or `...`, and operators such
// as | ; > && are ordinary characters. A task that wants a shell says so:
// `/bin/sh -c "echo $X"` gives {"/bin/sh", "-c", "echo $X"}.
//
// Rules (POSIX 2.2 quoting): blanks (space, tab, newline) separate words; '...' is literal;
// inside "..." a backslash escapes only $ ` " \ and newline; outside quotes a backslash quotes
// the next character and backslash-newline is removed; "" and '' make an empty word. Pure.
#pragma once

#include "common/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace openbatch::agent::exec {

// An Error (400 InvalidCommandLine) for an unbalanced quote or a line with no words.
[[nodiscard]] Result<std::vector<std::string>> split_command_line(std::string_view line);

}  // namespace openbatch::agent::exec
