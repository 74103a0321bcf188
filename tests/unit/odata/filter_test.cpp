// Tests for the $filter subset: parsing, errors, bounds and evaluation against wire JSON.
#include "scheduler/odata/filter.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>
#include <string>
#include <vector>

namespace openbatch::odata {
namespace {

using nlohmann::json;

// A task as the wire shows it, with the shapes the filters of batch-api.md 1.3 look at.
const json& task() {
  static const json kTask = json::parse(R"({
    "id": "Task-7",
    "displayName": "It's a task",
    "state": "completed",
    "creationTime": "2017-02-17T10:30:00.0000000Z",
    "priority": 5,
    "ratio": 0.25,
    "requiredSlots": 2,
    "rerun": false,
    "exitConditions": null,
    "executionInfo": {"exitCode": 3, "result": "failure", "retryCount": 0,
                      "endTime": "2017-02-17T11:00:00.5000000Z"},
    "nodeInfo": {"poolId": "gpu-pool", "affinityId": "TVM:1"},
    "tags": ["a", "b"]
  })");
  return kTask;
}

struct MatchCase {
  std::string filter;
  bool expected;
};

void expect_matches(const std::vector<MatchCase>& cases, const json& entity = task()) {
  for (const auto& c : cases) {
    auto filter = parse_filter(c.filter);
    ASSERT_TRUE(filter) << c.filter << ": " << filter.error().detail("Reason");
    EXPECT_EQ(filter->matches(entity), c.expected) << c.filter;
  }
}

TEST(FilterMatches, ComparesStringsCaseInsensitively) {
  expect_matches({
      {"state eq 'completed'", true},
      {"state eq 'Completed'", true},
      {"STATE eq 'COMPLETED'", true},
      {"State Eq 'completed'", true},
      {"state eq 'active'", false},
      {"state ne 'active'", true},
      {"state ne 'completed'", false},
      {"id eq 'task-7'", true},
      {"displayName eq 'It''s a task'", true},
      {"state gt 'active'", true},
      {"state ge 'completed'", true},
      {"state lt 'running'", true},
      {"state le 'Completed'", true},
      {"state lt 'completed'", false},
  });
}

TEST(FilterMatches, ComparesNumbersAsNumbers) {
  expect_matches({
      {"priority eq 5", true},
      {"priority eq 5.0", true},
      {"priority ne 5", false},
      {"priority gt 4", true},
      {"priority gt 5", false},
      {"priority ge 5", true},
      {"priority lt 10", true},  // numerically, though '10' < '5' as text
      {"priority le 4.5", false},
      {"priority gt -1", true},
      {"priority eq 5L", true},
      {"ratio eq 0.25", true},
      {"ratio lt 1", true},
      {"ratio gt 2.5e-1", false},
      {"priority eq '5'", false},  // a string is not a number
      {"priority ne '5'", true},
  });
}

TEST(FilterMatches, ComparesBooleansAndNull) {
  expect_matches({
      {"rerun eq false", true},
      {"rerun eq true", false},
      {"rerun ne true", true},
      {"rerun eq FALSE", true},
      {"exitConditions eq null", true},
      {"exitConditions ne null", false},
      {"state eq null", false},
      {"state ne null", true},
      {"rerun eq 'false'", false},
  });
}

TEST(FilterMatches, TreatsAMissingPropertyAsNull) {
  expect_matches({
      {"nothing eq 'x'", false},
      {"nothing ne 'x'", true},
      {"nothing gt 0", false},
      {"nothing ge 0", false},
      {"nothing lt 0", false},
      {"nothing le 0", false},
      {"nothing eq null", true},
      {"nothing ne null", false},
      {"executionInfo/nothing ne 0", true},
      {"state/deeper eq 'x'", false},  // a string has no properties
      {"startswith(nothing,'x')", false},
  });
}

TEST(FilterMatches, FollowsNestedPropertyPaths) {
  expect_matches({
      {"executionInfo/exitCode ne 0", true},
      {"executionInfo/exitCode eq 3", true},
      {"executionInfo/result eq 'failure'", true},
      {"ExecutionInfo/Result eq 'Failure'", true},
      {"nodeInfo/poolId eq 'GPU-POOL'", true},
      {"executionInfo/retryCount ne 0", false},
      {"executionInfo eq 'x'", false},  // an object equals no literal
      {"executionInfo ne 'x'", true},
      {"tags eq 'a'", false},
  });
}

TEST(FilterMatches, ComparesDatesAsTimes) {
  expect_matches({
      {"creationTime gt datetime'2017-01-01T00:00:00Z'", true},
      {"creationTime lt datetime'2017-01-01T00:00:00Z'", false},
      {"creationTime eq datetime'2017-02-17T10:30:00Z'", true},
      {"creationTime eq datetime'2017-02-17T12:30:00+02:00'", true},
      {"creationTime ge DateTime'2017-02-17T10:30:00.0000001Z'", false},
      {"creationTime le datetimeoffset'2017-02-17T10:30:00Z'", true},
      {"executionInfo/endTime gt datetime'2017-02-17T11:00:00.4999999Z'", true},
      // An ISO string literal compares as a time when the property is a time too: a textual
      // comparison would say "2017-02-17T10:30:00.0000000Z" > "2017-02-17T10:30:00Z".
      {"creationTime eq '2017-02-17T10:30:00Z'", true},
      {"creationTime le '2017-02-17T10:30:00Z'", true},
      // A datetime literal never equals something that is not a time.
      {"state eq datetime'2017-02-17T10:30:00Z'", false},
      {"state ne datetime'2017-02-17T10:30:00Z'", true},
      {"priority gt datetime'2017-02-17T10:30:00Z'", false},
  });
}

TEST(FilterMatches, AppliesStartsWith) {
  expect_matches({
      {"startswith(id,'task')", true},
      {"startswith(id, 'TASK-')", true},
      {"startswith( id , 'Task-7' )", true},
      {"startswith(id,'Task-77')", false},
      {"startswith(id,'')", true},
      {"startswith(nodeInfo/affinityId,'tvm:')", true},
      {"startswith(priority,'5')", false},  // not a string
      {"startswith(id,'task') eq true", true},
      {"startswith(id,'task') eq false", false},
      {"startswith(id,'task') ne true", false},
      {"startswith(id,'job') ne true", true},
      {"StartsWith(id,'task')", true},
      {"not startswith(id,'job')", true},
  });
}

TEST(FilterMatches, CombinesWithAndOrNotAndParentheses) {
  expect_matches({
      {"state eq 'completed' and priority eq 5", true},
      {"state eq 'completed' and priority eq 6", false},
      {"state eq 'active' or priority eq 5", true},
      {"state eq 'active' or priority eq 6", false},
      // and binds tighter than or: true or (false and false) = true ...
      {"priority eq 5 or state eq 'active' and priority eq 6", true},
      // ... while (true or false) and false = false.
      {"(priority eq 5 or state eq 'active') and priority eq 6", false},
      {"state eq 'active' and priority eq 6 or priority eq 5", true},
      {"not state eq 'active'", true},
      {"not (state eq 'completed')", false},
      {"not not (state eq 'completed')", true},
      {"not(state eq 'completed')", false},
      {"not (state eq 'active' or priority eq 6)", true},
      {"state eq 'completed' and not (executionInfo/exitCode eq 0)", true},
      {"((state eq 'completed'))", true},
      {"a eq 1 or b eq 2 or c eq 3 or priority eq 5", true},
      {"state eq 'completed' AND priority eq 5 OR id eq 'x'", true},
  });
}

TEST(FilterMatches, AcceptsTheLiteralOnEitherSide) {
  expect_matches({
      {"'completed' eq state", true},
      {"5 eq priority", true},
      {"4 lt priority", true},
      {"6 le priority", false},
      {"6 gt priority", true},
      {"5 ge priority", true},
      {"null eq exitConditions", true},
  });
}

TEST(FilterMatches, ToleratesWhitespace) {
  expect_matches({
      {"  state   eq\t'completed'  ", true},
      {"(state eq 'completed')and(priority eq 5)", true},
      {"state eq 'completed'\nand priority eq 5", true},
      {"( state eq 'x' ) or ( priority gt 1 )", true},
  });
}

TEST(FilterMatches, ComparesNumbersBeyondTheInt64Range) {
  const json big =
      json::parse(R"({"n": 18446744073709551615, "f": 1e300, "i": -9223372036854775808})");
  expect_matches(
      {
          {"n gt 9223372036854775807", true},
          {"n ne 9223372036854775807", true},
          {"n eq 18446744073709551615", true},  // literal beyond int64 is a double
          {"f gt 9223372036854775807", true},
          {"i lt -9223372036854775807", true},
          {"i eq -9223372036854775808", true},
      },
      big);
}

TEST(Filter, EmptyTextMatchesEverything) {
  for (std::string text : {"", "   ", "\t"}) {
    auto filter = parse_filter(text);
    ASSERT_TRUE(filter);
    EXPECT_TRUE(filter->empty());
    EXPECT_TRUE(filter->matches(task()));
    EXPECT_TRUE(filter->matches(json::object()));
    EXPECT_FALSE(filter->state_equals());
  }
  EXPECT_TRUE(Filter().matches(task()));
}

TEST(Filter, MatchesNonObjectEntitiesOnlyThroughNullChecks) {
  auto filter = parse_filter("state ne 'active'");
  ASSERT_TRUE(filter);
  EXPECT_TRUE(filter->matches(json::array()));
  EXPECT_FALSE(parse_filter("state eq 'active'")->matches(json(5)));
}

TEST(Filter, CopiesShareTheCompiledExpression) {
  Filter copy;
  {
    auto parsed = parse_filter("state eq 'completed'");
    ASSERT_TRUE(parsed);
    copy = *parsed;
  }
  EXPECT_TRUE(copy.matches(task()));
  EXPECT_FALSE(copy.empty());
}

TEST(FilterStateEquals, FindsAStateTermAtTheTopLevelOfAnAndChain) {
  struct Case {
    std::string filter;
    std::optional<std::string> state;
  };
  const std::vector<Case> cases = {
      {"state eq 'active'", "active"},
      {"State eq 'Active'", "active"},
      {"'Running' eq state", "running"},
      {"state eq 'active' and priority gt 1", "active"},
      {"priority gt 1 and (id eq 'x' and state eq 'idle')", "idle"},  // flattened
      {"(state eq 'active')", "active"},
      {"state eq 'active' or priority gt 1", std::nullopt},
      {"not (state eq 'active')", std::nullopt},
      {"state ne 'active'", std::nullopt},
      {"state gt 'active'", std::nullopt},
      {"(state eq 'active' or id eq 'x') and priority gt 1", std::nullopt},
      {"executionInfo/state eq 'active'", std::nullopt},
      {"startswith(state,'act')", std::nullopt},
      {"priority eq 1", std::nullopt},
  };
  for (const auto& c : cases) {
    auto filter = parse_filter(c.filter);
    ASSERT_TRUE(filter) << c.filter;
    EXPECT_EQ(filter->state_equals(), c.state) << c.filter;
  }
}

TEST(FilterStringEquals, FindsAnyPropertyPathAndKeepsTheLiteralsCase) {
  auto filter = parse_filter("poolId eq 'GPU-pool' and executionInfo/result eq 'failure'");
  ASSERT_TRUE(filter);
  EXPECT_EQ(filter->string_equals("poolId"), "GPU-pool");
  EXPECT_EQ(filter->string_equals("POOLID"), "GPU-pool");
  EXPECT_EQ(filter->string_equals("executionInfo/result"), "failure");
  EXPECT_EQ(filter->string_equals("ExecutionInfo/Result"), "failure");
  EXPECT_FALSE(filter->string_equals("executionInfo"));
  EXPECT_FALSE(filter->string_equals("result"));
  EXPECT_FALSE(filter->string_equals("executionInfo/result/x"));
  EXPECT_FALSE(filter->string_equals("state"));
  EXPECT_FALSE(filter->string_equals(""));
  EXPECT_FALSE(parse_filter("poolId eq 5")->string_equals("poolId"));
}

void expect_rejected(const std::string& text, const std::string& reason_part) {
  auto filter = parse_filter(text);
  ASSERT_FALSE(filter) << text;
  const Error& e = filter.error();
  EXPECT_EQ(e.status, 400) << text;
  EXPECT_EQ(e.code, "InvalidQueryParameterValue") << text;
  EXPECT_EQ(e.detail("QueryParameterName"), "$filter") << text;
  EXPECT_EQ(e.detail("QueryParameterValue"), text) << text;
  EXPECT_NE(e.detail("Reason").find(reason_part), std::string::npos)
      << text << " -> " << e.detail("Reason");
}

TEST(FilterParse, RejectsBadSyntaxWithAReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"state", "expected a comparison operator"},
      {"state eq", "expected a property or a value but found end of filter"},
      {"state equals 'x'", "expected a comparison operator"},
      {"state == 'x'", "unexpected character '='"},
      {"state eq 'active", "unterminated string literal"},
      {"state eq \"active\"", "unexpected character '\"'"},
      {"state eq active", "comparing two properties"},
      {"'a' eq 'b'", "needs a property on one side"},
      {"1 eq 1", "needs a property on one side"},
      {"state eq 'a' and", "expected a property or a value but found end of filter"},
      {"and state eq 'a'", "expected a property or a value but found 'and'"},
      {"state eq 'a' or or id eq 'b'", "found 'or'"},
      {"(state eq 'a'", "expected ')'"},
      {"state eq 'a')", "unexpected ')'"},
      {"()", "expected a property or a value but found ')'"},
      {"state eq 'a' id eq 'b'", "unexpected 'id'"},
      {"not", "found end of filter"},
      {"state eq 'a' eq 'b'", "unexpected 'eq'"},
      {"executionInfo/ eq 0", "expected a property name after '/'"},
      {"executionInfo//exitCode eq 0", "expected a property name after '/'"},
      {"/state eq 'a'", "unexpected character '/'"},
      {"priority eq 1.", "expected digits after the decimal point"},
      {"priority eq 1e", "expected digits in the exponent"},
      {"priority eq 12abc", "invalid number"},
      {"priority eq - 1", "unexpected character '-'"},
      {"creationTime gt datetime'yesterday'", "invalid datetime literal"},
      {"creationTime gt datetime'2017-01-01'", "invalid datetime literal"},
      {"id eq guid'0000'", "unsupported literal type 'guid'"},
      {"endswith(id,'x')", "unsupported function 'endswith'"},
      {"substringof('x',id)", "unsupported function 'substringof'"},
      {"startswith(id)", "expected ','"},
      {"startswith('x',id)", "needs a property as its first argument"},
      {"startswith(id,5)", "needs a string as its second argument"},
      {"startswith(id,'x'", "expected ')'"},
      {"startswith(id,'x') eq 1", "compared with eq or ne and true or false"},
      {"startswith(id,'x') gt true", "compared with eq or ne and true or false"},
      {"state eq 'a' & id eq 'b'", "unexpected character '&'"},
  };
  for (const auto& [text, reason] : cases) expect_rejected(text, reason);
}

TEST(FilterParse, ReportsTheCharacterWhereParsingFailed) {
  auto filter = parse_filter("state eq 'a' and id zz 'b'");
  ASSERT_FALSE(filter);
  EXPECT_NE(filter.error().detail("Reason").find("at character 21"), std::string::npos)
      << filter.error().detail("Reason");
}

TEST(FilterParse, BoundsNestingDepthInsteadOfOverflowingTheStack) {
  std::string deep(100000, '(');
  expect_rejected(deep.substr(0, kMaxFilterLength), "nested too deeply");
  std::string nots;
  for (int i = 0; i < 1000; ++i) nots += "not ";
  expect_rejected(nots + "state eq 'a'", "nested too deeply");

  // Exactly at the limit is fine.
  const std::string ok = std::string(kMaxFilterDepth, '(') + "state eq 'completed'" +
                         std::string(kMaxFilterDepth, ')');
  expect_matches({{ok, true}});
  const std::string too_deep = "(" + ok + ")";
  expect_rejected(too_deep, "nested too deeply");
}

TEST(FilterParse, BoundsLengthAndTermCount) {
  expect_rejected(std::string(kMaxFilterLength + 1, ' '), "longer than");
  std::string many = "id eq 'x'";
  for (int i = 1; i <= kMaxFilterTerms; ++i) many += " or id eq 'x'";
  ASSERT_LE(many.size(), kMaxFilterLength);
  expect_rejected(many, "too many terms");

  std::string at_limit = "priority eq 5";
  for (int i = 1; i < kMaxFilterTerms; ++i) at_limit += " or id eq 'x'";
  expect_matches({{at_limit, true}});
}

TEST(FilterParse, SurvivesRandomInputAndReportsEveryFailureAsAQueryError) {
  // Seeded, so a failure reproduces; the alphabet is weighted towards filter syntax.
  const std::string alphabet = "()(),''' eq and or not startswith datetime /state 5 -.e";
  std::mt19937 rng(20240229);
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> length(0, 60);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    for (int n = length(rng); n > 0; --n) text += alphabet[pick(rng)];
    auto filter = parse_filter(text);
    if (filter) {
      ++parsed;
      (void)filter->matches(task());
      (void)filter->state_equals();
    } else {
      ASSERT_EQ(filter.error().code, "InvalidQueryParameterValue") << text;
      ASSERT_EQ(filter.error().detail("QueryParameterValue"), text);
    }
  }
  EXPECT_GT(parsed, 0);  // the generator does reach valid filters
}

}  // namespace
}  // namespace openbatch::odata
