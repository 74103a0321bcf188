// ExecServer with real processes (PosixLauncher), a ChildReaper forwarding exits to it as the
// agent does, and the real client: run_rsh in-process on a thread, raw sockets for protocol
// corner cases, and the built `openbatch-agent rsh` for the subcommand and a killed client.
#include "node_agent/remote/exec_server.hpp"

#include "node_agent/exec/posix_launcher.hpp"
#include "node_agent/remote/rsh_client.hpp"
#include "node_agent/remote/rsh_wire.hpp"
#include "node_agent/runner/child_reaper.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <pthread.h>
#include <random>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace openbatch::agent::remote {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using openbatch::testing::TempDir;

constexpr const char* kToken = "good-token";

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

// A pid written by the remote shell into `path`, once it is there.
pid_t wait_for_pid(const std::filesystem::path& path) {
  pid_t pid = 0;
  eventually([&] {
    const std::string s = read_file(path);
    if (s.empty() || s.back() != '\n') return false;
    pid = std::stoi(s);
    return true;
  });
  return pid;
}

// The server on its own io thread, the only thread that takes SIGCHLD.
class ExecServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Orphaned grandchildren come to us, so that the tests can see them die.
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    std::filesystem::create_directories(dir_.path() / "wd");
    reaper_ = std::make_unique<runner::ChildReaper>(io_, [this](pid_t pid, int status) {
      if (server_ && server_->on_child_exit(pid, status)) return;
      std::lock_guard lock(mutex_);
      others_[pid] = status;
    });
    ExecServerOptions options;
    options.bind_address = "127.0.0.1";
    options.kill_grace = 300ms;
    options.request_timeout = 500ms;
    server_ = std::make_unique<ExecServer>(
        io_, launcher_, [this](const ExecRequest& r) { return authorize(r); }, options);
    auto st = server_->start();
    ASSERT_TRUE(st) << st.error().message;
    ASSERT_NE(server_->port(), 0);

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, &saved_mask_);
    thread_ = std::thread([this, chld] {
      pthread_sigmask(SIG_UNBLOCK, &chld, nullptr);
      reaper_->reap_now();
      io_.run();
    });
  }

  void TearDown() override {
    if (thread_.joinable()) {
      on_io([this] {
        server_->stop();
        return 0;
      });
      EXPECT_TRUE(eventually([this] { return running() == 0; })) << "children left unreaped";
      io_.stop();
      thread_.join();
    }
    server_.reset();
    reaper_.reset();
    pthread_sigmask(SIG_SETMASK, &saved_mask_, nullptr);
  }

  Result<ExecTarget> authorize(const ExecRequest& r) {
    std::lock_guard lock(mutex_);
    requests_.push_back(r);
    if (r.token != kToken) return Error(403, "RshRefused", "bad token for task " + r.task_id);
    ExecTarget t;
    t.attempt_id = "attempt-" + r.task_id;
    t.env = {"PATH=/usr/bin:/bin", "FOO=bar from the target"};
    t.cwd = dir_.path() / "wd";
    return t;
  }

  template <class F>
  auto on_io(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }

  std::size_t running() {
    return on_io([this] { return server_->running(); });
  }

  std::map<std::string, std::string> env(const std::string& token = kToken) const {
    const std::string endpoint = "127.0.0.1:" + std::to_string(server_->port());
    return {{"OPENBATCH_RSH_PEERS",
             "10.9.0.4=10.9.0.4:1,node-1=" + endpoint + ",127.0.0.2=" + endpoint},
            {"OPENBATCH_RSH_TOKEN", token},
            {"AZ_BATCH_JOB_ID", "job-1"},
            {"AZ_BATCH_TASK_ID", "task-1"}};
  }

  struct Outcome {
    int code = -1;
    std::string out;
    std::string err;
  };

  // run_rsh on a thread of its own (SIGCHLD blocked there too), output to files.
  std::future<Outcome> rsh_async(std::vector<std::string> args,
                                 std::map<std::string, std::string> environment) {
    const int n = ++clients_;
    return std::async(std::launch::async, [this, n, args = std::move(args),
                                           environment = std::move(environment)] {
      const auto out_path = dir_.path() / ("client-" + std::to_string(n) + ".out");
      const auto err_path = dir_.path() / ("client-" + std::to_string(n) + ".err");
      Outcome o;
      {
        posix::UniqueFd out(
            ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        posix::UniqueFd err(
            ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        RshIo io;
        io.stdout_fd = out.get();
        io.stderr_fd = err.get();
        io.connect_timeout = 2s;
        o.code = run_rsh(args, environment, io);
      }
      o.out = read_file(out_path);
      o.err = read_file(err_path);
      return o;
    });
  }

  Outcome rsh(std::vector<std::string> args, std::map<std::string, std::string> environment) {
    return rsh_async(std::move(args), std::move(environment)).get();
  }

  // A child of this process the reaper took (not one of the server's): its wait status.
  std::optional<int> other_exit(pid_t pid) {
    std::lock_guard lock(mutex_);
    auto it = others_.find(pid);
    if (it == others_.end()) return std::nullopt;
    return it->second;
  }

  std::size_t request_count() {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }

  // A raw client socket connected to the server.
  posix::UniqueFd connect_raw() {
    posix::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(server_->port());
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return fd;
  }

  // Reads frames from a raw socket until `until` says stop or the connection ends.
  static std::vector<Frame> read_frames(int fd, const std::function<bool(const Frame&)>& until) {
    FrameDecoder decoder;
    std::vector<Frame> frames;
    std::array<char, 4096> buf{};
    while (true) {
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return frames;
      decoder.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
      while (true) {
        auto f = decoder.next();
        if (!f || !*f) break;
        frames.push_back(**f);
        if (until(frames.back())) return frames;
      }
    }
  }

  TempDir dir_;
  asio::io_context io_;
  exec::PosixLauncher launcher_;
  std::unique_ptr<runner::ChildReaper> reaper_;
  std::unique_ptr<ExecServer> server_;
  std::thread thread_;
  sigset_t saved_mask_{};
  std::mutex mutex_;
  std::map<pid_t, int> others_;
  std::vector<ExecRequest> requests_;
  std::atomic<int> clients_{0};
};

TEST_F(ExecServerTest, RunsTheCommandAsTheTargetAndStreamsBothOutputsAndTheExitCode) {
  auto o = rsh({"-x", "-o", "StrictHostKeyChecking=no", "node-1", "echo", "out;", "echo", "err",
                ">&2;", "echo", "$FOO;", "echo", "${HOME:-nohome};", "pwd;", "exit", "3"},
               env());
  EXPECT_EQ(o.code, 3) << o.err;
  const std::string cwd = std::filesystem::canonical(dir_.path() / "wd").string();
  EXPECT_EQ(o.out, "out\nbar from the target\nnohome\n" + cwd + "\n");
  EXPECT_EQ(o.err, "err\n");
  ASSERT_EQ(request_count(), 1u);
  std::lock_guard lock(mutex_);
  EXPECT_EQ(requests_[0].job_id, "job-1");
  EXPECT_EQ(requests_[0].task_id, "task-1");
  EXPECT_EQ(requests_[0].command.front(), "echo");
  EXPECT_TRUE(requests_[0].peer.starts_with("127.0.0.1:")) << requests_[0].peer;
}

TEST_F(ExecServerTest, FindsThePeerByAnyOfItsNamesAndReportsSignals) {
  EXPECT_EQ(rsh({"127.0.0.2", "true"}, env()).code, 0);
  EXPECT_EQ(rsh({"user@NODE-1", "exit 0"}, env()).code, 0) << "user@ ignored, names any case";
  EXPECT_EQ(rsh({"node-1", "kill -USR1 $$"}, env()).code, 128 + SIGUSR1);
  EXPECT_EQ(rsh({"node-1", "exec", "/nonexistent/program"}, env()).code, 127);
}

TEST_F(ExecServerTest, IgnoresSshOptionsBeforeAndAfterTheHost) {
  auto o = rsh(
      {"-xT", "-p", "22", "-oBatchMode=yes", "node-1", "-n", "-l", "someone", "echo", "-n", "one"},
      env());
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "one") << "options end at the first command word";
  auto terminated = rsh({"-q", "--", "node-1", "echo", "two"}, env());
  EXPECT_EQ(terminated.out, "two\n");
  auto after_host = rsh({"node-1", "--", "-x"}, env());
  EXPECT_NE(after_host.code, 0) << "`--` after the host: -x is the command";
  EXPECT_EQ(rsh({"node-1", "-o"}, env()).code, kRshFailed);
}

TEST_F(ExecServerTest, ARefusedTokenLaunchesNothing) {
  auto o = rsh({"node-1", "touch", "launched"}, env("wrong-token"));
  EXPECT_EQ(o.code, kRshFailed);
  // The client is told nothing about the tasks of the node; the reason is in the log only.
  EXPECT_NE(o.err.find("openbatch-agent rsh: node-1 refused: not authorized"), std::string::npos)
      << o.err;
  EXPECT_EQ(o.err.find("task-1"), std::string::npos) << o.err;
  EXPECT_TRUE(o.out.empty());
  EXPECT_EQ(request_count(), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "wd" / "launched"));
  EXPECT_EQ(running(), 0u);
}

TEST_F(ExecServerTest, UnknownHostsAndMissingEnvironmentFailWith255WithoutConnecting) {
  auto unknown = rsh({"node-9", "true"}, env());
  EXPECT_EQ(unknown.code, kRshFailed);
  EXPECT_NE(unknown.err.find("openbatch-agent rsh: unknown host node-9"), std::string::npos)
      << unknown.err;
  for (const char* name :
       {"OPENBATCH_RSH_PEERS", "OPENBATCH_RSH_TOKEN", "AZ_BATCH_JOB_ID", "AZ_BATCH_TASK_ID"}) {
    auto e = env();
    e.erase(name);
    auto o = rsh({"node-1", "true"}, e);
    EXPECT_EQ(o.code, kRshFailed) << name;
    EXPECT_NE(o.err.find(name), std::string::npos) << o.err;
  }
  EXPECT_EQ(rsh({"node-1"}, env()).code, kRshFailed) << "no command";
  EXPECT_EQ(rsh({"-o"}, env()).code, kRshFailed) << "option without its value";
  EXPECT_EQ(request_count(), 0u);
  // A peer whose agent does not listen: the connection is refused.
  auto down = rsh({"10.9.0.4", "true"}, {{"OPENBATCH_RSH_PEERS", "10.9.0.4=127.0.0.1:1"},
                                         {"OPENBATCH_RSH_TOKEN", kToken},
                                         {"AZ_BATCH_JOB_ID", "job-1"},
                                         {"AZ_BATCH_TASK_ID", "task-1"}});
  EXPECT_EQ(down.code, kRshFailed);
  EXPECT_NE(down.err.find("cannot connect"), std::string::npos) << down.err;
}

// The remote shells below start their grandchild from a subshell, so it is orphaned at once
// and this process (the subreaper) reaps it and sees it die; a direct child of the shell might
// be reaped by the shell itself when the group's SIGTERM reaches it first.
TEST_F(ExecServerTest, EndAttemptKillsTheWholeGroupAndTheClientGetsTheSignal) {
  auto client = rsh_async({"node-1", "(sleep 30 & echo $! > grandchild); sleep 30"}, env());
  const pid_t grandchild = wait_for_pid(dir_.path() / "wd" / "grandchild");
  ASSERT_GT(grandchild, 0);
  ASSERT_TRUE(eventually([&] { return running() == 1; }));
  const auto t0 = std::chrono::steady_clock::now();
  on_io([this] {
    server_->end_attempt("attempt-other");  // not this one: nothing happens
    server_->end_attempt("attempt-task-1");
    return 0;
  });
  ASSERT_EQ(client.wait_for(5s), std::future_status::ready);
  auto o = client.get();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << "SIGTERM is enough here";
  EXPECT_EQ(o.code, 128 + SIGTERM) << o.err;
  ASSERT_TRUE(eventually([&] { return other_exit(grandchild).has_value(); }));
  EXPECT_TRUE(WIFSIGNALED(*other_exit(grandchild)));
  EXPECT_EQ(running(), 0u);
}

TEST_F(ExecServerTest, EndAttemptEscalatesToSigkillAfterTheGrace) {
  auto client = rsh_async({"node-1", "trap '' TERM; echo ready; sleep 30"}, env());
  ASSERT_TRUE(eventually([&] { return running() == 1; }));
  std::this_thread::sleep_for(100ms);  // let the trap be set
  on_io([this] {
    server_->end_attempt("attempt-task-1");
    return 0;
  });
  ASSERT_EQ(client.wait_for(5s), std::future_status::ready);
  auto o = client.get();
  EXPECT_EQ(o.code, 128 + SIGKILL);
  EXPECT_EQ(o.out, "ready\n");
}

TEST_F(ExecServerTest, AClientThatDisconnectsGetsItsRemoteGroupKilled) {
  posix::UniqueFd fd = connect_raw();
  const std::string request = encode_request(
      {"job-1", "task-1", kToken, {"echo started; (sleep 30 & echo $! > gc2); sleep 30"}});
  ASSERT_EQ(::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  auto frames = read_frames(fd.get(), [](const Frame& f) { return f.type == FrameType::Stdout; });
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames.back().payload, "started\n");
  const pid_t grandchild = wait_for_pid(dir_.path() / "wd" / "gc2");
  ASSERT_GT(grandchild, 0);
  EXPECT_EQ(running(), 1u);
  fd.reset();
  EXPECT_TRUE(eventually([&] { return running() == 0; }, 5s));
  EXPECT_TRUE(eventually([&] { return other_exit(grandchild).has_value(); }, 5s));
}

TEST_F(ExecServerTest, LargeOutputArrivesIntactOnBothStreams) {
  std::string data(3 * 1024 * 1024 + 12345, '\0');
  std::mt19937 rng(42);
  for (auto& c : data) c = static_cast<char>(rng());
  {
    std::ofstream f(dir_.path() / "wd" / "data", std::ios::binary);
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
  }
  auto o = rsh({"node-1", "cat data & cat data >&2; wait"}, env());
  EXPECT_EQ(o.code, 0);
  EXPECT_EQ(o.out.size(), data.size());
  EXPECT_TRUE(o.out == data) << "stdout differs";
  EXPECT_TRUE(o.err == data) << "stderr differs";
}

TEST_F(ExecServerTest, RefusesMalformedRequestsAndClosesSilentClients) {
  {
    posix::UniqueFd fd = connect_raw();
    const std::string bad = "{\"v\":1}\n";
    ASSERT_GT(::send(fd.get(), bad.data(), bad.size(), MSG_NOSIGNAL), 0);
    auto frames = read_frames(fd.get(), [](const Frame&) { return false; });
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].type, FrameType::Refused);
    EXPECT_NE(frames[0].payload.find("jobId"), std::string::npos) << frames[0].payload;
  }
  {
    posix::UniqueFd fd = connect_raw();  // says nothing: closed after request_timeout
    const auto t0 = std::chrono::steady_clock::now();
    auto frames = read_frames(fd.get(), [](const Frame&) { return false; });
    EXPECT_TRUE(frames.empty());
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  }
  EXPECT_EQ(request_count(), 0u);
}

TEST_F(ExecServerTest, StopKillsEveryChildAndClosesEveryConnection) {
  auto client = rsh_async({"node-1", "sleep 30"}, env());
  ASSERT_TRUE(eventually([&] { return running() == 1; }));
  on_io([this] {
    server_->stop();
    return 0;
  });
  ASSERT_EQ(client.wait_for(5s), std::future_status::ready);
  auto o = client.get();
  EXPECT_EQ(o.code, kRshFailed);
  EXPECT_NE(o.err.find("lost"), std::string::npos) << o.err;
  EXPECT_TRUE(eventually([&] { return running() == 0; }, 5s));
}

// The subcommand itself: `openbatch-agent rsh ...` as mpirun runs it.
class RshBinaryTest : public ExecServerTest {
 protected:
  // Starts the binary with `environment` only, its output to files; returns its pid.
  pid_t spawn(const std::vector<std::string>& args,
              const std::map<std::string, std::string>& environment, const std::string& name) {
    std::vector<std::string> argv_s = {OPENBATCH_AGENT_BINARY, "rsh"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<std::string> env_s;
    for (const auto& [k, v] : environment) env_s.push_back(k + "=" + v);
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    const std::string out = (dir_.path() / (name + ".out")).string();
    const std::string err = (dir_.path() / (name + ".err")).string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    pid_t pid = -1;
    EXPECT_EQ(posix_spawn(&pid, argv_s[0].c_str(), &actions, &attr, argv.data(), envp.data()), 0);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return pid;
  }

  // The binary's exit code (the reaper takes it, as every child).
  int exit_code(pid_t pid) {
    EXPECT_TRUE(eventually([&] { return other_exit(pid).has_value(); }, 20s));
    auto status = other_exit(pid);
    if (!status) return -1;
    return WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
  }
};

TEST_F(RshBinaryTest, TheSubcommandRunsTheRemoteCommand) {
  const pid_t pid =
      spawn({"-x", "node-1", "echo", "hello;", "echo", "oops", ">&2;", "exit", "5"}, env(), "ok");
  EXPECT_EQ(exit_code(pid), 5);
  EXPECT_EQ(read_file(dir_.path() / "ok.out"), "hello\n");
  EXPECT_EQ(read_file(dir_.path() / "ok.err"), "oops\n");

  const pid_t unknown = spawn({"elsewhere", "true"}, env(), "unknown");
  EXPECT_EQ(exit_code(unknown), 255);
  EXPECT_NE(read_file(dir_.path() / "unknown.err").find("openbatch-agent rsh: unknown host"),
            std::string::npos);
}

TEST_F(RshBinaryTest, KillingTheClientKillsTheRemoteGroup) {
  const pid_t pid = spawn({"node-1", "(sleep 30 & echo $! > gc3); sleep 30"}, env(), "killed");
  const pid_t grandchild = wait_for_pid(dir_.path() / "wd" / "gc3");
  ASSERT_GT(grandchild, 0);
  ASSERT_TRUE(eventually([&] { return running() == 1; }));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  EXPECT_EQ(exit_code(pid), 128 + SIGKILL);
  EXPECT_TRUE(eventually([&] { return running() == 0; }, 5s));
  EXPECT_TRUE(eventually([&] { return other_exit(grandchild).has_value(); }, 5s));
}

}  // namespace
}  // namespace openbatch::agent::remote
