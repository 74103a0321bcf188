// Runs every scenario in tests/fixtures/placement/*.json through place() and compares the
// assignments, reservations and pending reasons with what the file expects.
#include "tests/unit/placement/scenario.hpp"

#include "scheduler/placement/place.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <vector>

namespace openbatch::placement::testing {
namespace {

const std::filesystem::path kFixtures =
    std::filesystem::path(OPENBATCH_SOURCE_DIR) / "tests/fixtures/placement";

std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kFixtures)) {
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string name_of(const PendingTask& task) { return task.job_id + "/" + task.task_id; }

class PlacementScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(PlacementScenario, MatchesItsExpectedOutcome) {
  auto loaded = load_scenario(kFixtures / (GetParam() + ".json"));
  ASSERT_TRUE(loaded) << loaded.error().message << ": " << loaded.error().detail("Reason");
  const Scenario& s = *loaded;
  SCOPED_TRACE(s.description);
  const PlacementResult r = place(s.cluster, s.tasks, s.policy);

  NamedNodes assignments;
  for (const Assignment& a : r.assignments) {
    assignments.emplace_back(name_of(s.tasks[a.task_index]), a.node_ids);
  }
  EXPECT_EQ(assignments, s.assignments);
  NamedNodes reservations;
  for (const Reservation& h : r.reservations) {
    reservations.emplace_back(name_of(s.tasks[h.task_index]), h.node_ids);
  }
  EXPECT_EQ(reservations, s.reservations);
  EXPECT_EQ(r.tasks_examined, s.tasks_examined.value_or(s.tasks.size()));

  ASSERT_EQ(r.pending.size(), s.pending.size());
  for (std::size_t i = 0; i < r.pending.size(); ++i) {
    const PendingReport& got = r.pending[i];
    const ExpectedPending& want = s.pending[i];
    SCOPED_TRACE(want.task);
    EXPECT_EQ(name_of(s.tasks[got.task_index]), want.task);
    EXPECT_EQ(to_string(got.reason.code), to_string(want.reason)) << describe(got.reason);
    if (want.text) {
      EXPECT_EQ(describe(got.reason), *want.text);
    }
    if (want.nodes) {
      std::vector<std::pair<std::string, ReasonCode>> nodes;
      for (const NodeReason& n : got.nodes) nodes.emplace_back(n.node_id, n.reason.code);
      EXPECT_EQ(nodes, *want.nodes);
    }
    if (want.unlisted_nodes) {
      EXPECT_EQ(got.unlisted_nodes, *want.unlisted_nodes);
    }
  }
}

// gtest names may hold only letters, digits and '_'.
std::string test_name(const ::testing::TestParamInfo<std::string>& param) {
  std::string name = param.param;
  std::replace_if(
      name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); },
      '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, PlacementScenario, ::testing::ValuesIn(fixture_names()),
                         test_name);

TEST(PlacementScenarios, FixtureDirectoryHoldsScenarios) { EXPECT_GE(fixture_names().size(), 8u); }

}  // namespace
}  // namespace openbatch::placement::testing
