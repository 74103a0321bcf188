// Fuzz target: split_command_line (node_agent/exec/command_line.hpp) on any bytes.
// Invariants: it never crashes; a refusal is a 400 InvalidCommandLine; and the words it
// returns, each single-quoted and joined by spaces, split back into the same words.
#include "node_agent/exec/command_line.hpp"

#include "fuzz/fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

// POSIX single quoting: '...' is literal; a quote inside is written '\''.
std::string quote(const std::string& word) {
  std::string out = "'";
  for (const char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using openbatch::agent::exec::split_command_line;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const auto words = split_command_line(line);
  if (!words) {
    FUZZ_CHECK(words.error().status == 400, "a refusal is a 400");
    return 0;
  }
  FUZZ_CHECK(!words->empty(), "an accepted command line has a program");
  std::string requoted;
  for (const auto& word : *words) {
    if (!requoted.empty()) requoted += ' ';
    requoted += quote(word);
  }
  const auto again = split_command_line(requoted);
  FUZZ_CHECK(again && *again == *words, "quoted words split back into the same words");
  return 0;
}
