// Child processes for the CLI integration test: run a program to completion with its stdout
// and stderr captured, and keep a long-running scheduler alive for the test's duration
// (SIGTERM, then SIGKILL after a deadline, on destruction). posix_spawn only; the
// environment is given explicitly so no setting leaks in from the caller's.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

namespace openbatch::testing {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by one
  std::string out;
  std::string err;
};

// Runs `argv` with exactly `env` ("NAME=value"), stdin from /dev/null, outputs captured
// through files in `scratch`. Fails the calling test (and returns exit_code -1) when the
// program cannot be started or runs past `timeout`.
ProcessResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                          const std::filesystem::path& scratch,
                          std::chrono::seconds timeout = std::chrono::seconds(120));

class SchedulerProcess {
 public:
  // Starts openbatch-scheduler on 127.0.0.1:0 with `data_dir`, `account` and `key` and waits
  // for its ready file. url() is empty when it did not come up (the test then fails).
  SchedulerProcess(const std::filesystem::path& data_dir, const std::string& account,
                   const std::string& key);
  ~SchedulerProcess();
  SchedulerProcess(const SchedulerProcess&) = delete;
  SchedulerProcess& operator=(const SchedulerProcess&) = delete;

  const std::string& url() const { return url_; }
  std::string log() const;  // what it printed so far

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_path_;
  std::string url_;
};

}  // namespace openbatch::testing
