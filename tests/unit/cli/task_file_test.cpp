// Task files in their three forms, and addtaskcollection batching.
#include "cli/task_file.hpp"

#include "cli/errors.hpp"

#include <gtest/gtest.h>

namespace openbatch::cli {
namespace {

using nlohmann::json;

std::string many_tasks(int n) {
  json arr = json::array();
  for (int i = 0; i < n; ++i)
    arr.push_back({{"id", "t" + std::to_string(i)}, {"commandLine", "true"}});
  return arr.dump();
}

TEST(TaskFile, ReadsASingleTaskAnArrayAndAValueObject) {
  auto single = parse_task_file(R"({"id":"a","commandLine":"x"})", "t.json");
  ASSERT_TRUE(single);
  EXPECT_TRUE(single->single);
  ASSERT_EQ(single->tasks.size(), 1u);
  auto array = parse_task_file(R"([{"id":"a"},{"id":"b"}])", "t.json");
  ASSERT_TRUE(array);
  EXPECT_FALSE(array->single);
  EXPECT_EQ(array->tasks.size(), 2u);
  auto value = parse_task_file(R"({"value":[{"id":"a"},{"id":"b"},{"id":"c"}]})", "t.json");
  ASSERT_TRUE(value);
  EXPECT_FALSE(value->single);
  EXPECT_EQ(value->tasks.size(), 3u);
  EXPECT_EQ(value->tasks[2]["id"], "c");
}

TEST(TaskFile, RejectsWhatTheServiceCouldNotTakeNamingTheEntry) {
  struct Case {
    const char* text;
    const char* says;
  };
  for (const Case& c :
       {Case{"{not json", "not valid JSON"}, Case{"[]", "no tasks"},
        Case{"42", "expected a task object"}, Case{R"({"value":{}})", "\"value\" must be an array"},
        Case{R"([{"id":"a"},7])", "task 2 is not a JSON object"},
        Case{R"([{"id":"a"},{"commandLine":"x"}])", "task 2 has no \"id\""},
        Case{R"([{"id":"Task1"},{"id":"task1"}])", "task 2 repeats the id 'task1'"}}) {
    auto r = parse_task_file(c.text, "tasks.json");
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().code, kUsageError);
    EXPECT_NE(r.error().message.find(c.says), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.rfind("tasks.json", 0), 0u) << r.error().message;
  }
}

TEST(Batches, SplitIntoHundredsInOrder) {
  auto file = parse_task_file(many_tasks(250), "f");
  ASSERT_TRUE(file);
  auto batches = make_batches(file->tasks);
  ASSERT_TRUE(batches);
  ASSERT_EQ(batches->size(), 3u);
  EXPECT_EQ((*batches)[0].first, 0u);
  EXPECT_EQ((*batches)[0].count, 100u);
  EXPECT_EQ((*batches)[1].first, 100u);
  EXPECT_EQ((*batches)[2].first, 200u);
  EXPECT_EQ((*batches)[2].count, 50u);
  const json body = json::parse((*batches)[2].body);
  ASSERT_EQ(body["value"].size(), 50u);
  EXPECT_EQ(body["value"][0]["id"], "t200");
  EXPECT_EQ(body["value"][49]["id"], "t249");
}

TEST(Batches, ExactMultipleAndSingleBatch) {
  auto hundred = make_batches(parse_task_file(many_tasks(200), "f")->tasks);
  ASSERT_TRUE(hundred);
  EXPECT_EQ(hundred->size(), 2u);
  auto one = make_batches(parse_task_file(many_tasks(1), "f")->tasks);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->front().body, R"({"value":[{"commandLine":"true","id":"t0"}]})");
}

TEST(Batches, StayUnderTheByteLimit) {
  std::vector<json> tasks;
  tasks.reserve(10);
  for (int i = 0; i < 10; ++i)
    tasks.push_back({{"id", "t" + std::to_string(i)}, {"commandLine", std::string(300, 'x')}});
  auto batches = make_batches(tasks, 100, 1000);
  ASSERT_TRUE(batches);
  std::size_t total = 0;
  for (const auto& b : *batches) {
    EXPECT_LE(b.body.size(), 1000u);
    EXPECT_EQ(json::parse(b.body)["value"].size(), b.count);
    total += b.count;
  }
  EXPECT_EQ(total, 10u);
  EXPECT_EQ(batches->size(), 4u);  // three ~330-byte tasks per 1000-byte body (10 = 3+3+3+1)
}

TEST(Batches, ATaskTooBigForAnyRequestIsAUsageError) {
  std::vector<json> tasks{{{"id", "huge"}, {"commandLine", std::string(2000, 'x')}}};
  auto batches = make_batches(tasks, 100, 1000);
  ASSERT_FALSE(batches);
  EXPECT_EQ(batches.error().code, kUsageError);
  EXPECT_NE(batches.error().message.find("huge"), std::string::npos);
}

}  // namespace
}  // namespace openbatch::cli
