// The engine's gang rows on a real SQLite store: dispatch writes one row per instance, a
// coordination or completion report changes only its own row (and only for its dispatch), and
// a restart reads each instance's coordination back.
#include "scheduler/cluster/gang_rows.hpp"

#include "common/time.hpp"
#include "scheduler/domain/gang_execution.hpp"
#include "scheduler/store/subtask_rows.hpp"
#include "tests/unit/store/store_test_support.hpp"

#include <nlohmann/json.hpp>

namespace openbatch::cluster {
namespace {

using nlohmann::json;
using store::testing::open_store;
using store::testing::submit_and_wait;
using store::testing::TempDir;

const TimePoint kT0 = *try_parse_iso8601("2026-11-21T10:00:00Z");
const TimePoint kT1 = *try_parse_iso8601("2026-11-21T10:00:05Z");

struct Gang {
  std::vector<domain::DispatchTarget> targets;
  std::vector<std::string> ids;
};

Gang gang_of(const std::string& primary, int n) {
  Gang g;
  for (int k = 0; k < n; ++k) {
    const std::string node = "n" + std::to_string(k);
    g.targets.push_back({"p", node, "http://a/pools/p/nodes/" + node});
    g.ids.push_back(domain::instance_attempt_id(primary, k));
  }
  return g;
}

json row_body(store::Store& s, int k) {
  auto row = store::get_subtask_row(*s.reader(), "j", "mpi", k);
  return row ? json::parse(row->body) : json();
}

TEST(GangRows, ReportsChangeOnlyTheirOwnRowOfTheirOwnDispatch) {
  TempDir dir;
  auto s = open_store((dir.path() / "db").string());
  const Gang old_gang = gang_of("j:mpi:1:1", 3);
  const Gang gang = gang_of("j:mpi:1:2", 3);
  ASSERT_TRUE(submit_and_wait(*s, [&](store::Writer& w) {
    return write_gang_rows(w, "j", "mpi", old_gang.targets, old_gang.ids, kT0) &&
           write_gang_rows(w, "j", "mpi", gang.targets, gang.ids, kT0);  // a new dispatch
  }));
  RowChange first = RowChange::Failed, again = RowChange::Failed, stale = RowChange::Failed;
  ASSERT_TRUE(submit_and_wait(*s, [&](store::Writer& w) {
    first = record_coordinated(w, "j", "mpi", 2, "j:mpi:1:2:s2", kT1);
    again = record_coordinated(w, "j", "mpi", 2, "j:mpi:1:2:s2", kT1);
    stale = record_coordinated(w, "j", "mpi", 1, "j:mpi:1:1:s1", kT1);  // the old dispatch's
    return true;
  }));
  EXPECT_EQ(first, RowChange::Written);
  EXPECT_EQ(again, RowChange::Unchanged);
  EXPECT_EQ(stale, RowChange::Unchanged);
  EXPECT_EQ(row_body(*s, 2)["subtask"]["state"], "running");
  EXPECT_EQ(row_body(*s, 1)["subtask"]["state"], "preparing");
  EXPECT_EQ(store::get_subtask_row(*s->reader(), "j", "mpi", 2)->state, "running");

  protocol::Report report;
  report.attempt_id = "j:mpi:1:2:s1";
  report.state = protocol::AttemptState::Completed;
  report.exit_code = 3;
  report.result = protocol::TaskResult::Failure;
  RowChange done = RowChange::Failed;
  ASSERT_TRUE(submit_and_wait(*s, [&](store::Writer& w) {
    done = record_subtask_completion(w, "j", "mpi", 1, report.attempt_id, report, kT1);
    return true;
  }));
  EXPECT_EQ(done, RowChange::Written);
  EXPECT_EQ(row_body(*s, 1)["subtask"]["exitCode"], 3);
  EXPECT_EQ(row_body(*s, 1)["subtask"]["state"], "completed");
  EXPECT_EQ(row_body(*s, 1)["subtask"]["endTime"], format_iso8601(kT1));  // the report had none
}

TEST(GangRows, ARestartReadsEachInstancesCoordinationOfItsGangOnly) {
  TempDir dir;
  auto s = open_store((dir.path() / "db").string());
  const Gang gang = gang_of("j:mpi:1:1", 4);
  ASSERT_TRUE(submit_and_wait(*s, [&](store::Writer& w) {
    return write_gang_rows(w, "j", "mpi", gang.targets, gang.ids, kT0) &&
           record_coordinated(w, "j", "mpi", 0, gang.ids[0], kT1) == RowChange::Written &&
           record_coordinated(w, "j", "mpi", 3, gang.ids[3], kT1) == RowChange::Written;
  }));
  auto reader = s->reader();
  EXPECT_EQ(read_gang_coordination(*reader, "j", "mpi", "j:mpi:1:1"),
            (std::vector<bool>{true, false, false, true}));
  EXPECT_TRUE(read_gang_coordination(*reader, "j", "mpi", "j:mpi:1:9").empty());
  EXPECT_TRUE(read_gang_coordination(*reader, "j", "other", "j:other:1:1").empty());
}

TEST(GangRows, AThousandInstanceGangWritesSmallRowsNotOneBigTask) {
  TempDir dir;
  auto s = open_store((dir.path() / "db").string());
  const Gang gang = gang_of("j:mpi:1:1", 1000);
  ASSERT_TRUE(submit_and_wait(*s, [&](store::Writer& w) {
    return write_gang_rows(w, "j", "mpi", gang.targets, gang.ids, kT0);
  }));
  auto reader = s->reader();
  EXPECT_EQ(reader->count(store::Table::Subtasks, "j", std::nullopt), 1000);
  EXPECT_LT(store::get_subtask_row(*reader, "j", "mpi", 999)->body.size(), 600u);
  ASSERT_TRUE(submit_and_wait(*s, [&](store::Writer& w) {
    for (int k = 0; k < 1000; ++k) {
      if (record_coordinated(w, "j", "mpi", k, gang.ids[k], kT1) != RowChange::Written)
        return false;
    }
    return true;
  }));
  const auto coordinated = read_gang_coordination(*reader, "j", "mpi", "j:mpi:1:1");
  EXPECT_EQ(coordinated.size(), 1000u);
  EXPECT_TRUE(std::all_of(coordinated.begin(), coordinated.end(), [](bool c) { return c; }));
}

}  // namespace
}  // namespace openbatch::cluster
