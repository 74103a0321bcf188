// The agent's journal: records survive a reopen, a torn tail is dropped, corruption stops
// the start, one fdatasync per event-loop turn, compaction keeps the live state, seqs never
// repeat across restarts.
#include "node_agent/state/journal.hpp"

#include "node_agent/state/group_commit.hpp"
#include "node_agent/state/node_identity.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sys/stat.h>

namespace openbatch::agent::state {
namespace {

using openbatch::testing::TempDir;

protocol::Report completed(const std::string& id, int exit_code) {
  protocol::Report r;
  r.attempt_id = id;
  r.state = protocol::AttemptState::Completed;
  r.exit_code = exit_code;
  r.start_time = "2025-03-01T10:00:00.0000000Z";
  r.end_time = "2025-03-01T10:00:01.0000000Z";
  r.result = exit_code == 0 ? protocol::TaskResult::Success : protocol::TaskResult::Failure;
  return r;
}

std::unique_ptr<Journal> open_journal(const TempDir& dir, JournalOptions options = {}) {
  auto j = Journal::open(dir.path() / "journal", options);
  EXPECT_TRUE(j) << (j ? "" : j.error().message);
  return j ? std::move(*j) : nullptr;
}

TEST(Journal, RecordsSurviveAReopen) {
  TempDir dir;
  {
    auto j = open_journal(dir);
    j->append(AcceptedRecord{"j:a:0:0", "j", "a", 2});
    j->append(StartedRecord{"j:a:0:0", 100, 100, "2025-03-01T10:00:00Z", "boot1"});
    j->append(AcceptedRecord{"j:b:0:0", "j", "b", 1});
    j->append(ReportRecord{7, completed("j:b:0:0", 3)});
    ASSERT_TRUE(j->flush());
    EXPECT_FALSE(j->dirty());
  }
  auto j = open_journal(dir);
  const JournalState& s = j->state();
  ASSERT_EQ(s.attempts.size(), 2u);
  const AttemptRecord& a = s.attempts.at("j:a:0:0");
  EXPECT_EQ(a.required_slots, 2);
  EXPECT_EQ(a.pgid, 100);
  EXPECT_EQ(a.boot_id, "boot1");
  EXPECT_FALSE(a.completed);
  EXPECT_TRUE(s.attempts.at("j:b:0:0").completed);
  ASSERT_EQ(s.outbox.size(), 1u);
  EXPECT_EQ(s.outbox.at(7), completed("j:b:0:0", 3));
  EXPECT_GT(s.next_seq, 7u);
}

TEST(Journal, AnAckedCompletedReportRetiresItsAttemptButTheIdStaysKnown) {
  TempDir dir;
  {
    auto j = open_journal(dir);
    j->append(AcceptedRecord{"j:a:0:0", "j", "a", 1});
    j->append(ReportRecord{3, completed("j:a:0:0", 0)});
    j->append(AckedRecord{{3}});
    j->append(AcceptedRecord{"j:a:0:0", "j", "a", 1});  // a duplicate changes nothing
    ASSERT_TRUE(j->flush());
    EXPECT_TRUE(j->state().attempts.empty());
    EXPECT_TRUE(j->state().outbox.empty());
    EXPECT_TRUE(j->state().knows("j:a:0:0"));
  }
  auto j = open_journal(dir);  // compacted on open: the retired id is still there
  EXPECT_TRUE(j->state().knows("j:a:0:0"));
  EXPECT_TRUE(j->state().attempts.empty());
}

TEST(Journal, ATornLastLineIsDroppedAndTheRestKept) {
  TempDir dir;
  {
    auto j = open_journal(dir);
    j->append(AcceptedRecord{"j:a:0:0", "j", "a", 1});
    ASSERT_TRUE(j->flush());
  }
  {
    std::ofstream out(dir.path() / "journal", std::ios::app);
    out << R"({"r":"accepted","a":"j:b:0:0","jo)";  // the crash cut this write short
  }
  auto j = open_journal(dir);
  EXPECT_TRUE(j->state().knows("j:a:0:0"));
  EXPECT_FALSE(j->state().knows("j:b:0:0"));
  j->append(AcceptedRecord{"j:c:0:0", "j", "c", 1});
  ASSERT_TRUE(j->flush());
  j.reset();
  auto again = open_journal(dir);  // the torn bytes did not glue onto the next record
  EXPECT_TRUE(again->state().knows("j:c:0:0"));
}

TEST(Journal, ACorruptLineInTheMiddleRefusesToStart) {
  TempDir dir;
  {
    std::ofstream out(dir.path() / "journal");
    out << R"({"r":"accepted","a":"j:a:0:0","job":"j","task":"a","slots":1})" << '\n'
        << "garbage\n"
        << R"({"r":"abandoned","a":"j:a:0:0"})" << '\n';
  }
  auto j = Journal::open(dir.path() / "journal");
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().code, "CorruptJournal");
  EXPECT_NE(j.error().message.find("line 2"), std::string::npos) << j.error().message;
}

TEST(Journal, ManyRecordsInOneTurnShareOneFdatasync) {
  TempDir dir;
  auto j = open_journal(dir);
  boost::asio::io_context io;
  int batches = 0;
  GroupCommit commit(
      io.get_executor(), *j, [](const Error& e) { FAIL() << e.message; }, [&] { ++batches; });
  const std::uint64_t syncs_before = j->sync_count();
  std::vector<int> ran;
  for (int i = 0; i < 1000; ++i) {
    j->append(AcceptedRecord{"j:t" + std::to_string(i) + ":0:0", "j", "t", 1});
    commit.after_durable([&ran, &j, i] {
      EXPECT_FALSE(j->dirty()) << "an action ran before its record was durable";
      ran.push_back(i);
    });
  }
  EXPECT_TRUE(ran.empty());
  io.run();
  EXPECT_EQ(j->sync_count() - syncs_before, 1u);
  EXPECT_EQ(batches, 1);
  ASSERT_EQ(ran.size(), 1000u);
  EXPECT_TRUE(std::is_sorted(ran.begin(), ran.end()));
}

// The rule for records that gate nothing ("started", "acked"): eventually() forces no flush
// of its own, the next forced flush (an accepted record or a report) carries them, in order,
// with one fdatasync; the records before a forced flush are durable when its actions run.
TEST(GroupCommit, LazyRecordsRideTheNextForcedFlush) {
  TempDir dir;
  auto j = open_journal(dir);
  boost::asio::io_context io;
  GroupCommit commit(
      io.get_executor(), *j, [](const Error& e) { FAIL() << e.message; }, {},
      std::chrono::hours(1));  // the timer never fires in this test
  const std::uint64_t syncs_before = j->sync_count();
  j->append(AcceptedRecord{"j:t:0:0", "j", "t", 1});
  bool started = false;
  commit.after_durable([&] { started = true; });
  io.run_one();  // the forced flush of the accepted record
  ASSERT_TRUE(started);
  EXPECT_EQ(j->sync_count() - syncs_before, 1u);

  j->append(StartedRecord{"j:t:0:0", 4242, 4242, "2025-03-01T10:00:00.0000000Z", "boot"});
  commit.eventually();
  io.restart();  // run_one() ran out of work, which stops the io_context
  io.poll();
  EXPECT_TRUE(j->dirty()) << "a lazy record forced a flush";
  EXPECT_EQ(j->sync_count() - syncs_before, 1u);

  // The report forces a flush, which carries the started record before it.
  j->append(ReportRecord{1, completed("j:t:0:0", 0)});
  bool sent = false;
  commit.after_durable([&] {
    EXPECT_FALSE(j->dirty());
    sent = true;
  });
  io.poll();
  ASSERT_TRUE(sent);
  EXPECT_EQ(j->sync_count() - syncs_before, 2u);

  j.reset();
  auto again = open_journal(dir);
  const auto& attempts = again->state().attempts;
  ASSERT_TRUE(attempts.contains("j:t:0:0"));
  EXPECT_EQ(attempts.at("j:t:0:0").pgid, 4242);
  EXPECT_EQ(again->state().outbox.size(), 1u);
}

// With no forced flush to ride (an idle node, a long task), the lazy timer flushes them.
TEST(GroupCommit, LazyRecordsAreFlushedWithinTheLazyDelay) {
  TempDir dir;
  auto j = open_journal(dir);
  boost::asio::io_context io;
  GroupCommit commit(
      io.get_executor(), *j, [](const Error& e) { FAIL() << e.message; }, {},
      std::chrono::milliseconds(20));
  const std::uint64_t syncs_before = j->sync_count();
  for (int i = 0; i < 10; ++i) {
    j->append(AckedRecord{{static_cast<std::uint64_t>(i)}});
    commit.eventually();
  }
  EXPECT_TRUE(j->dirty());
  const auto t0 = std::chrono::steady_clock::now();
  io.run();  // only the timer is pending
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(15));
  EXPECT_FALSE(j->dirty());
  EXPECT_EQ(j->sync_count() - syncs_before, 1u);
}

TEST(Journal, CompactionKeepsOnlyTheLiveState) {
  TempDir dir;
  JournalOptions options;
  options.compact_threshold_bytes = 16 * 1024;
  auto j = open_journal(dir, options);
  const std::uint64_t compactions_before = j->compactions();
  std::uint64_t seq = 1;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = "job:task" + std::to_string(i) + ":0:0";
    j->append(AcceptedRecord{id, "job", "task" + std::to_string(i), 1});
    j->append(StartedRecord{id, 1000 + i, 1000 + i, "2025-03-01T10:00:00Z", "b"});
    const std::uint64_t s = seq++;
    j->append(ReportRecord{s, completed(id, 0)});
    if (i % 10 != 0) j->append(AckedRecord{{s}});  // every tenth report stays unacked
    if (i % 10 == 9) {
      ASSERT_TRUE(j->flush());
    }
  }
  EXPECT_GT(j->compactions(), compactions_before);
  EXPECT_LT(j->compactions() - compactions_before, 20u) << "compaction must not run every flush";
  const JournalState before = j->state();
  j.reset();
  auto reopened = open_journal(dir, options);
  const JournalState& after = reopened->state();
  EXPECT_EQ(after.outbox, before.outbox);
  EXPECT_EQ(after.outbox.size(), 100u);
  EXPECT_EQ(after.attempts.size(), 100u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(after.knows("job:task" + std::to_string(i) + ":0:0")) << i;
  }
}

TEST(Journal, SeqsNeverRepeatAcrossRestarts) {
  TempDir dir;
  JournalOptions options;
  options.seq_block = 8;
  std::uint64_t last = 0;
  for (int run = 0; run < 3; ++run) {
    auto j = open_journal(dir, options);
    for (int i = 0; i < 20; ++i) {  // crosses reservation blocks; never flushed otherwise
      auto seq = j->take_seq();
      ASSERT_TRUE(seq);
      EXPECT_GT(*seq, last);
      last = *seq;
    }
  }  // each "crash" loses nothing that a later seq could collide with
}

TEST(NodeIdentity, IsWrittenOwnerOnlyAndReadBack) {
  TempDir dir;
  const auto path = dir.path() / "node.json";
  auto none = load_node_identity(path);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  NodeIdentity id{"tvmps_0001", "secret-token", "pool1"};
  ASSERT_TRUE(save_node_identity(path, id));
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto loaded = load_node_identity(path);
  ASSERT_TRUE(loaded && *loaded);
  EXPECT_EQ(**loaded, id);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "node.json.tmp"));
}

TEST(NodeIdentity, AFileWithoutATokenIsAnError) {
  TempDir dir;
  std::ofstream(dir.path() / "node.json") << R"({"nodeId": "n1"})";
  auto loaded = load_node_identity(dir.path() / "node.json");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, "InvalidNodeIdentity");
}

// A full disk: appends land in blocks allocated past the end of the file ahead of time.
TEST(JournalDiskFull, KeepsBlocksPreallocatedPastItsEnd) {
  TempDir dir;
  JournalOptions options;
  options.preallocate_bytes = 256 << 10;
  auto j = Journal::open(dir.path() / "journal", options);
  ASSERT_TRUE(j) << j.error().message;
  (*j)->append(AcceptedRecord{"j:a:0:0", "j", "a", 1});
  ASSERT_TRUE((*j)->flush());
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() / "journal").c_str(), &st), 0);
  EXPECT_GE(static_cast<std::uint64_t>(st.st_blocks) * 512,
            static_cast<std::uint64_t>(st.st_size) + options.preallocate_bytes);
  // The size is the records' only: replay reads no zeros.
  auto again = Journal::open(dir.path() / "journal", options);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ((*again)->state().attempts.size(), 1u);
}

}  // namespace
}  // namespace openbatch::agent::state
