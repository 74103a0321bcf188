// split_command_line: POSIX word splitting and quoting, with no expansion.
#include "node_agent/exec/command_line.hpp"

#include "node_agent/exec/launcher.hpp"

#include <gtest/gtest.h>

namespace openbatch::agent::exec {
namespace {

struct SplitCase {
  std::string line;
  std::vector<std::string> argv;
};

TEST(SplitCommandLine, SplitsLikeAShellWithoutExpanding) {
  const std::vector<SplitCase> cases = {
      {"echo hello", {"echo", "hello"}},
      {"  spaced \t out\n words  ", {"spaced", "out", "words"}},
      {R"(/bin/sh -c "echo $X")", {"/bin/sh", "-c", "echo $X"}},
      {R"(/bin/sh -c 'echo $X; exit 3')", {"/bin/sh", "-c", "echo $X; exit 3"}},
      {R"(a"b c"d)", {"ab cd"}},
      {R"(a'b c'd e)", {"ab cd", "e"}},
      {R"(x "" '' y)", {"x", "", "", "y"}},
      {R"(echo "a \"q\" \$ \` \\ \n")", {"echo", R"(a "q" $ ` \ \n)"}},
      {R"(echo 'no \escape \' )", {"echo", R"(no \escape \)"}},
      {R"(echo a\ b \"c\" \\d)", {"echo", "a b", "\"c\"", "\\d"}},
      {"echo a\\\nb", {"echo", "ab"}},
      {"echo \"line\\\ncont\"", {"echo", "linecont"}},
      {"ls | wc > out && $HOME *", {"ls", "|", "wc", ">", "out", "&&", "$HOME", "*"}},
      {"~/bin/run `date`", {"~/bin/run", "`date`"}},
      {"trailing\\", {"trailing\\"}},
      {"python3 -c \"print('hi')\"", {"python3", "-c", "print('hi')"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    auto argv = split_command_line(c.line);
    ASSERT_TRUE(argv) << argv.error().message;
    EXPECT_EQ(*argv, c.argv);
  }
}

TEST(SplitCommandLine, RejectsUnbalancedQuotesAndEmptyLines) {
  for (const char* bad : {"echo 'open", "echo \"open", "echo \"esc\\\"", "", "   \t\n", "\\\n"}) {
    SCOPED_TRACE(bad);
    auto argv = split_command_line(bad);
    ASSERT_FALSE(argv);
    EXPECT_EQ(argv.error().code, kInvalidCommandLine);
    EXPECT_EQ(argv.error().status, 400);
    EXPECT_EQ(argv.error().detail("PropertyName"), "commandLine");
  }
}

}  // namespace
}  // namespace openbatch::agent::exec
