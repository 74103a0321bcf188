// NodeLayout: the Azure node tree under a root, and ids that try to escape it.
#include "node_agent/tasks/layout.hpp"

#include <gtest/gtest.h>

namespace openbatch::agent::tasks {
namespace {

TEST(NodeLayout, NamesTheFixedDirectoriesUnderTheRoot) {
  NodeLayout layout("/mnt/batch/tasks/");
  EXPECT_EQ(layout.root(), "/mnt/batch/tasks");
  EXPECT_EQ(layout.shared_dir(), "/mnt/batch/tasks/shared");
  EXPECT_EQ(layout.startup_dir(), "/mnt/batch/tasks/startup");
  EXPECT_EQ(layout.applications_dir(), "/mnt/batch/tasks/applications");
  EXPECT_EQ(layout.mounts_dir(), "/mnt/batch/tasks/fsmounts");
  EXPECT_EQ(layout.volatile_dir(), "/mnt/batch/tasks/volatile");
  EXPECT_EQ(layout.workitems_dir(), "/mnt/batch/tasks/workitems");
}

TEST(NodeLayout, StartTaskLivesInStartup) {
  auto p = NodeLayout("/r").start_task();
  EXPECT_EQ(p.dir, "/r/startup");
  EXPECT_EQ(p.working_dir, "/r/startup/wd");
  EXPECT_EQ(p.stdout_file, "/r/startup/stdout.txt");
  EXPECT_EQ(p.stderr_file, "/r/startup/stderr.txt");
  EXPECT_EQ(p.certs_dir, "/r/startup/certs");
}

TEST(NodeLayout, TaskLivesUnderWorkitemsJobOne) {
  NodeLayout layout("/r");
  auto job = layout.job_dir("job_A-1");
  ASSERT_TRUE(job);
  EXPECT_EQ(*job, "/r/workitems/job_A-1/job-1");
  auto p = layout.task("job_A-1", "task-7");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->dir, "/r/workitems/job_A-1/job-1/task-7");
  EXPECT_EQ(p->working_dir, "/r/workitems/job_A-1/job-1/task-7/wd");
  EXPECT_EQ(p->stdout_file, "/r/workitems/job_A-1/job-1/task-7/stdout.txt");
  EXPECT_EQ(p->stderr_file, "/r/workitems/job_A-1/job-1/task-7/stderr.txt");
  EXPECT_EQ(p->certs_dir, "/r/workitems/job_A-1/job-1/task-7/certs");
}

TEST(NodeLayout, SubtasksNestUnderTheTaskAndZeroIsThePrimary) {
  NodeLayout layout("/r");
  auto primary = layout.subtask("j", "t", 0);
  ASSERT_TRUE(primary);
  EXPECT_EQ(primary->dir, "/r/workitems/j/job-1/t");
  auto sub = layout.subtask("j", "t", 3);
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->dir, "/r/workitems/j/job-1/t/3");
  EXPECT_EQ(sub->working_dir, "/r/workitems/j/job-1/t/3/wd");
  EXPECT_EQ(sub->stdout_file, "/r/workitems/j/job-1/t/3/stdout.txt");
  EXPECT_FALSE(layout.subtask("j", "t", -1));
  EXPECT_FALSE(layout.subtask("..", "t", 1));
}

TEST(NodeLayout, RejectsIdsThatCouldEscapeTheRoot) {
  NodeLayout layout("/r");
  for (const char* bad : {"", ".", "..", "../etc", "a/b", "/abs", "a\\b", "a b", "a.b", "~", "a\nb",
                          "$HOME", "*", "t\xc3\xa9"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(is_valid_id(bad));
    auto job = layout.task(bad, "t");
    ASSERT_FALSE(job);
    EXPECT_EQ(job.error().status, 400);
    EXPECT_EQ(job.error().detail("PropertyName"), "jobId");
    auto task = layout.task("j", bad);
    ASSERT_FALSE(task);
    EXPECT_EQ(task.error().detail("PropertyName"), "taskId");
  }
  EXPECT_FALSE(layout.task("j", std::string("a\0b", 3)));
}

TEST(NodeLayout, AcceptsIdsUpToSixtyFourCharacters) {
  EXPECT_TRUE(is_valid_id(std::string(64, 'a')));
  EXPECT_FALSE(is_valid_id(std::string(65, 'a')));
  EXPECT_TRUE(is_valid_id("ABC_xyz-019"));
}

}  // namespace
}  // namespace openbatch::agent::tasks
