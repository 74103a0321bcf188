// ExecServer: accepts rsh requests and runs them as the task on this node (see
// exec_server.hpp; the wire format is rsh_wire.hpp).
#include "node_agent/remote/exec_server.hpp"

#include "common/posix/unique_fd.hpp"
#include "node_agent/remote/rsh_wire.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <cerrno>
#include <exception>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <utility>

namespace openbatch::agent::remote {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// Output read from a pipe per frame.
constexpr std::size_t kPipeChunk = 64 * 1024;
// Pipes are not read while more than this waits for the client (it is slow or stalled).
constexpr std::size_t kHighWater = 1024 * 1024;
// How much of a command the log shows.
constexpr std::size_t kLoggedCommandChars = 200;

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out.push_back(' ');
    out += w;
  }
  return out;
}

std::string shortened(std::string s) {
  if (s.size() > kLoggedCommandChars) {
    s.resize(kLoggedCommandChars);
    s += "...";
  }
  return s;
}

// The exit code ssh would report: the status, or 128 + the signal that ended the process.
std::int32_t exit_code_of(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

void set_cloexec(int fd) {
  const int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

}  // namespace

// One connection: request, launch, streaming, exit. Owned by shared_ptr: by the server's maps
// and by every pending handler, so a handler never outlives its session.
class ExecServer::Session : public std::enable_shared_from_this<ExecServer::Session> {
 public:
  Session(ExecServer& server, std::uint64_t id, tcp::socket socket)
      : server_(&server),
        id_(id),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        out_(socket_.get_executor(), FrameType::Stdout),
        err_(socket_.get_executor(), FrameType::Stderr) {}

  void start() {
    error_code ec;
    auto remote = socket_.remote_endpoint(ec);
    peer_ = ec ? std::string("unknown")
               : remote.address().to_string() + ":" + std::to_string(remote.port());
    set_cloexec(socket_.native_handle());
    socket_.set_option(asio::socket_base::keep_alive(true), ec);
    socket_.set_option(tcp::no_delay(true), ec);
    timer_.expires_after(server_->options_.request_timeout);
    timer_.async_wait([self = shared_from_this()](const error_code& e) {
      if (e || self->closed_ || self->have_request_) return;
      spdlog::warn("rsh: no request from {} within {} ms; closing", self->peer_,
                   self->server_ ? self->server_->options_.request_timeout.count() : 0);
      self->close_socket();
      self->check_done();
    });
    read_request();
  }

  const std::string& attempt_id() const { return attempt_id_; }

  // The process was reaped.
  void reaped(int wait_status) {
    reaped_ = true;
    exit_code_ = exit_code_of(wait_status);
    spdlog::debug("rsh: job {} task {}: pid {} exited with {}", job_id_, task_id_, child_.pid,
                  exit_code_);
    maybe_finish();
  }

  // end_attempt: SIGTERM the group, SIGKILL after the grace.
  void terminate(const char* why) {
    if (!launched_ || terminating_ || server_ == nullptr) return;
    terminating_ = true;
    spdlog::info("rsh: job {} task {}: stopping pid {} ({})", job_id_, task_id_, child_.pid, why);
    signal_group(SIGTERM);
    timer_.expires_after(server_->options_.kill_grace);
    timer_.async_wait([self = shared_from_this()](const error_code& e) {
      if (e || self->server_ == nullptr) return;
      if (self->reaped_ && self->out_.eof && self->err_.eof) return;
      self->signal_group(SIGKILL);
      self->killed_hard_ = true;
      self->maybe_finish();
    });
  }

  // stop(): SIGKILL the group, close everything; the server forgets this session.
  void shutdown() {
    if (launched_ && !(reaped_ && out_.eof && err_.eof)) signal_group(SIGKILL);
    server_ = nullptr;
    close_socket();
    close_pipe(out_);
    close_pipe(err_);
    timer_.cancel();
  }

 private:
  struct Pipe {
    Pipe(const asio::any_io_executor& ex, FrameType t) : fd(ex), type(t) {}
    asio::posix::stream_descriptor fd;
    FrameType type;
    std::array<char, kPipeChunk> buffer{};
    bool reading = false;
    bool eof = true;  // until a process writes to it
  };

  void read_request() {
    socket_.async_read_some(asio::buffer(small_),
                            [self = shared_from_this()](const error_code& ec, std::size_t n) {
                              self->on_request_bytes(ec, n);
                            });
  }

  void on_request_bytes(const error_code& ec, std::size_t n) {
    if (closed_) return;
    if (ec) {  // gone before asking anything
      close_socket();
      check_done();
      return;
    }
    const std::size_t scan_from = request_.size();
    request_.append(small_.data(), n);
    const auto newline = request_.find('\n', scan_from);
    if (newline == std::string::npos) {
      if (request_.size() >= kMaxRequestBytes) {
        have_request_ = true;
        refuse("-", "-",
               "the request is larger than " + std::to_string(kMaxRequestBytes) + " bytes");
        return;
      }
      read_request();
      return;
    }
    have_request_ = true;
    timer_.cancel();
    request_.resize(newline + 1);
    handle_request();
  }

  void handle_request() {
    if (server_ == nullptr) return;
    auto decoded = decode_request(request_);
    std::string().swap(request_);
    if (!decoded) {
      refuse("-", "-", decoded.error().message);
      return;
    }
    ExecRequest request{std::move(decoded->job_id), std::move(decoded->task_id),
                        std::move(decoded->token), std::move(decoded->command), peer_};
    job_id_ = request.job_id;
    task_id_ = request.task_id;
    Result<ExecTarget> target = Error(500, "RshRefused", "internal error");
    try {  // the agent's callback: an exception must not unwind the event loop
      target = server_->authorize_(request);
    } catch (const std::exception& e) {
      target = Error(500, "RshRefused", std::string("internal error: ") + e.what());
    }
    if (!target) {
      // The client learns nothing of what runs here (which tasks, whether the token or the
      // task was wrong); the reason goes to the agent's log only.
      refuse(job_id_, task_id_, target.error().message, std::string(kNotAuthorized));
      return;
    }
    launch(request, *target);
  }

  // Logs `message`; the client gets `to_client` (the same when empty).
  void refuse(const std::string& job, const std::string& task, const std::string& message,
              const std::string& to_client = {}) {
    spdlog::warn("rsh refused: job {} task {} from {}: {}", job, task, peer_, message);
    append_frame(pending_, FrameType::Refused, to_client.empty() ? message : to_client);
    finishing_ = true;
    kick_write();
  }

  void launch(const ExecRequest& request, const ExecTarget& target) {
    posix::UniqueFd out_write;
    posix::UniqueFd err_write;
    if (!open_pipe(out_, out_write) || !open_pipe(err_, err_write)) {
      refuse(job_id_, task_id_, "cannot start the command: pipe: " + posix::errno_text(errno));
      return;
    }
    const std::string command = joined(request.command);
    exec::LaunchSpec spec;
    spec.argv = {server_->options_.shell, "-c", command};
    spec.env = target.env;
    spec.cwd = target.cwd;
    spec.uid = target.uid;
    spec.gid = target.gid;
    spec.groups = target.groups;
    spec.stdout_fd = out_write.get();
    spec.stderr_fd = err_write.get();
    spec.new_process_group = true;
    auto child = server_->launcher_.launch(spec);
    // Only the child holds the write ends now, so EOF comes when it (and its descendants) end.
    out_write.reset();
    err_write.reset();
    if (!child) {
      close_pipe(out_);
      close_pipe(err_);
      refuse(job_id_, task_id_, "cannot start the command: " + child.error().message);
      return;
    }
    child_ = *child;
    launched_ = true;
    attempt_id_ = target.attempt_id;
    spdlog::info("rsh: job {} task {} from {}: attempt {} pid {}: {}", job_id_, task_id_, peer_,
                 attempt_id_, child_.pid, shortened(command));
    server_->launched(child_.pid, shared_from_this());
    read_pipe(out_);
    read_pipe(err_);
    watch_client();
  }

  // A close-on-exec pipe: the non-blocking read end goes to `p`, the write end to `write_end`.
  static bool open_pipe(Pipe& p, posix::UniqueFd& write_end) {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC | O_NONBLOCK) != 0) return false;
    write_end = posix::UniqueFd(fds[1]);
    // The child's end must block, as a normal stdout does.
    ::fcntl(fds[1], F_SETFL, ::fcntl(fds[1], F_GETFL) & ~O_NONBLOCK);
    error_code ec;
    p.fd.assign(fds[0], ec);  // the stream_descriptor owns it from now on
    if (ec) {
      ::close(fds[0]);
      return false;
    }
    p.eof = false;
    return true;
  }

  void read_pipe(Pipe& p) {
    if (p.eof || p.reading) return;
    if (!client_gone_ && pending_.size() >= kHighWater) return;  // resumed by the writer
    p.reading = true;
    p.fd.async_read_some(asio::buffer(p.buffer),
                         [self = shared_from_this(), &p](const error_code& ec, std::size_t n) {
                           self->on_pipe_bytes(p, ec, n);
                         });
  }

  void on_pipe_bytes(Pipe& p, const error_code& ec, std::size_t n) {
    p.reading = false;
    if (n > 0 && !client_gone_ && !closed_) {
      append_frame(pending_, p.type, std::string_view(p.buffer.data(), n));
      kick_write();
    }
    if (ec) {  // EOF, or closed by us
      p.eof = true;
      close_pipe(p);
      maybe_finish();
      return;
    }
    read_pipe(p);
  }

  // After the request the client sends nothing: any completion but data means it went away.
  void watch_client() {
    if (closed_) return;
    socket_.async_read_some(asio::buffer(small_),
                            [self = shared_from_this()](const error_code& ec, std::size_t) {
                              if (self->closed_) return;
                              if (ec) {
                                self->on_client_gone("the client disconnected");
                                return;
                              }
                              self->watch_client();  // ignore stray bytes
                            });
  }

  void on_client_gone(const char* why) {
    if (client_gone_) return;
    client_gone_ = true;
    pending_.clear();
    close_socket();
    if (launched_ && !reaped_) {
      terminate(why);
    } else if (launched_ && !(out_.eof && err_.eof)) {
      terminate(why);  // descendants still hold the pipes
    }
    // Drain the pipes (paused reads resume) so the process is not blocked writing.
    read_pipe(out_);
    read_pipe(err_);
    check_done();
  }

  void kick_write() {
    if (write_in_flight_ || pending_.empty() || closed_) return;
    writing_.swap(pending_);
    pending_.clear();
    write_in_flight_ = true;
    asio::async_write(
        socket_, asio::buffer(writing_),
        [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_written(ec); });
  }

  void on_written(const error_code& ec) {
    write_in_flight_ = false;
    writing_.clear();
    if (closed_) return;
    if (ec) {
      on_client_gone("the client connection failed");
      return;
    }
    if (finishing_ && pending_.empty()) {
      error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_both, ignored);
      close_socket();
      check_done();
      return;
    }
    read_pipe(out_);  // resume what the high-water mark paused
    read_pipe(err_);
    kick_write();
  }

  // The exit frame once the process was reaped and its output has all been read (or, after a
  // SIGKILL, whatever a stray descendant still holds is abandoned).
  void maybe_finish() {
    if (!launched_ || !reaped_ || finishing_) {
      check_done();
      return;
    }
    if (!(out_.eof && err_.eof)) {
      if (!killed_hard_) return;
      close_pipe(out_);
      close_pipe(err_);
    }
    finishing_ = true;
    if (!closed_ && !client_gone_) {
      pending_ += encode_exit_frame(exit_code_);
      kick_write();
    }
    check_done();
  }

  // Forgets the session once its connection is closed and its process reaped.
  void check_done() {
    if (done_ || !closed_ || (launched_ && !(reaped_ && out_.eof && err_.eof))) return;
    done_ = true;
    timer_.cancel();
    if (server_ != nullptr) server_->finished(id_);
  }

  void signal_group(int sig) {
    if (server_ == nullptr || !launched_) return;
    if (auto st = server_->launcher_.kill_group(child_, sig); !st) {
      spdlog::warn("rsh: job {} task {}: {}", job_id_, task_id_, st.error().message);
    }
  }

  void close_socket() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    socket_.close(ignored);
  }

  void close_pipe(Pipe& p) {
    p.eof = true;
    error_code ignored;
    p.fd.close(ignored);
  }

  ExecServer* server_;  // null once the server stopped
  std::uint64_t id_;
  tcp::socket socket_;
  asio::steady_timer timer_;  // the request deadline, then the SIGKILL grace
  std::string peer_;
  std::string job_id_ = "-";
  std::string task_id_ = "-";
  std::string attempt_id_;

  std::array<char, 4096> small_{};  // the request, then stray bytes / EOF from the client
  std::string request_;
  bool have_request_ = false;

  exec::Child child_;
  bool launched_ = false;
  bool reaped_ = false;
  std::int32_t exit_code_ = 0;
  bool terminating_ = false;
  bool killed_hard_ = false;
  Pipe out_;
  Pipe err_;

  std::string pending_;  // frames not yet handed to the socket
  std::string writing_;  // the frames of the write in flight
  bool write_in_flight_ = false;
  bool finishing_ = false;  // the last frame ('X' or 'R') is queued
  bool client_gone_ = false;
  bool closed_ = false;  // the socket is closed
  bool done_ = false;
};

ExecServer::ExecServer(asio::io_context& io, exec::Launcher& launcher, Authorize authorize,
                       ExecServerOptions options)
    : io_(io),
      launcher_(launcher),
      authorize_(std::move(authorize)),
      options_(std::move(options)),
      acceptor_(io) {}

ExecServer::~ExecServer() { stop(); }

Status ExecServer::start() {
  auto fail = [this](const std::string& what, const error_code& ec) {
    return Error(500, "RshListenFailed",
                 "rsh server: " + what + " " + options_.bind_address + ":" +
                     std::to_string(options_.port) + ": " + ec.message());
  };
  if (stopped_) return Error(500, "RshListenFailed", "rsh server: stopped");
  error_code ec;
  const auto address = asio::ip::make_address(options_.bind_address, ec);
  if (ec) return fail("bad address", ec);
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("open", ec);
  set_cloexec(acceptor_.native_handle());
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  acceptor_.bind(endpoint, ec);
  if (ec) return fail("bind", ec);
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen", ec);
  port_ = acceptor_.local_endpoint(ec).port();
  spdlog::info("rsh server listening on {}:{}", options_.bind_address, port_);
  accept_next();
  return {};
}

std::uint16_t ExecServer::port() const { return port_; }

void ExecServer::accept_next() {
  acceptor_.async_accept(
      [this, alive = std::weak_ptr<bool>(alive_)](const error_code& ec, tcp::socket socket) {
        if (alive.expired() || stopped_) return;
        if (ec) {
          if (ec == asio::error::operation_aborted) return;
          // Out of descriptors, say: wait a little rather than spin.
          spdlog::warn("rsh server: accept: {}", ec.message());
          auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(100));
          timer->async_wait([this, timer, alive](const error_code& e) {
            if (!e && !alive.expired() && !stopped_) accept_next();
          });
          return;
        }
        const std::uint64_t id = next_id_++;
        auto session = std::make_shared<Session>(*this, id, std::move(socket));
        sessions_.emplace(id, session);
        session->start();
        accept_next();
      });
}

void ExecServer::launched(pid_t pid, std::shared_ptr<Session> session) {
  children_[pid] = std::move(session);
}

void ExecServer::finished(std::uint64_t id) { sessions_.erase(id); }

bool ExecServer::on_child_exit(pid_t pid, int wait_status) {
  auto it = children_.find(pid);
  if (it == children_.end()) return false;
  auto session = std::move(it->second);
  children_.erase(it);
  session->reaped(wait_status);
  return true;
}

void ExecServer::end_attempt(const std::string& attempt_id) {
  if (attempt_id.empty()) return;
  std::vector<std::shared_ptr<Session>> matching;
  for (const auto& [id, session] : sessions_) {
    if (session->attempt_id() == attempt_id) matching.push_back(session);
  }
  for (const auto& session : matching) session->terminate("its attempt ended");
}

void ExecServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  auto sessions = std::move(sessions_);
  sessions_.clear();
  for (auto& [id, session] : sessions) session->shutdown();
  for (auto& [pid, session] : children_) session->shutdown();
}

std::size_t ExecServer::running() const { return children_.size(); }

}  // namespace openbatch::agent::remote
