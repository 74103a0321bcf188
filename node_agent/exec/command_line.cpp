// split_command_line: a small state machine over the POSIX quoting rules (see command_line.hpp).
#include "node_agent/exec/command_line.hpp"

#include "node_agent/exec/launcher.hpp"

namespace openbatch::agent::exec {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

Error invalid(std::string message) {
  return Error(400, std::string(kInvalidCommandLine), std::move(message),
               {{"PropertyName", "commandLine"}});
}

}  // namespace

Result<std::vector<std::string>> split_command_line(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;  // a word has started (possibly empty, from "")
  std::size_t i = 0;
  while (i < line.size()) {
    const char c = line[i];
    if (is_blank(c)) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      ++i;
    } else if (c == '\'') {
      const std::size_t close = line.find('\'', i + 1);
      if (close == std::string_view::npos) {
        return invalid("unbalanced single quote at offset " + std::to_string(i));
      }
      word.append(line.substr(i + 1, close - i - 1));
      in_word = true;
      i = close + 1;
    } else if (c == '"') {
      const std::size_t open = i++;
      bool closed = false;
      while (i < line.size()) {
        const char d = line[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < line.size()) {
          const char e = line[i + 1];
          if (e == '\n') {
            i += 2;
            continue;
          }
          if (e == '$' || e == '`' || e == '"' || e == '\\') {
            word += e;
            i += 2;
            continue;
          }
        }
        word += d;
        ++i;
      }
      if (!closed) return invalid("unbalanced double quote at offset " + std::to_string(open));
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 >= line.size()) {  // a trailing backslash stays literal, as in sh -c
        word += c;
        in_word = true;
        ++i;
      } else if (line[i + 1] == '\n') {
        i += 2;  // line continuation
      } else {
        word += line[i + 1];
        in_word = true;
        i += 2;
      }
    } else {
      word += c;
      in_word = true;
      ++i;
    }
  }
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) return invalid("the command line has no program");
  return words;
}

}  // namespace openbatch::agent::exec
