// `openbatch-agent rsh` (see rsh_client.hpp): blocking sockets, one request, frames back.
#include "node_agent/remote/rsh_client.hpp"

#include "common/posix/unique_fd.hpp"
#include "common/text/ascii.hpp"
#include "node_agent/remote/rsh_wire.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <signal.h>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>

extern char** environ;  // NOLINT: POSIX

namespace openbatch::agent::remote {
namespace {

using SteadyClock = std::chrono::steady_clock;
using posix::errno_text;
using posix::UniqueFd;

// OpenSSH's options that take a value (its getopt string); every other letter is a flag.
constexpr std::string_view kSshOptionsWithValue = "bceilmopBDEFIJLOPQRSWw";

struct Invocation {
  std::string host;
  std::vector<std::string> command;
};

struct Endpoint {
  std::string host;  // numeric address (or a name getaddrinfo resolves)
  std::string port;
};

void say(int fd, const std::string& message) {
  const std::string line = "openbatch-agent rsh: " + message + "\n";
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Writes all of `data`, retrying on EINTR; false when the descriptor refuses (closed pipe).
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {  // a non-blocking stdout someone handed us: wait for room
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, -1);
      continue;
    }
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Skips ssh options from args[i]: up to the first word that is not one, or past `--`. False
// with `error` set when an option lacks its value.
bool skip_options(const std::vector<std::string>& args, std::size_t& i, std::string& error) {
  while (i < args.size()) {
    const std::string& word = args[i];
    if (word == "--") {
      ++i;
      return true;
    }
    if (word.size() < 2 || word[0] != '-') return true;
    ++i;
    for (std::size_t j = 1; j < word.size(); ++j) {
      if (kSshOptionsWithValue.find(word[j]) == std::string_view::npos) continue;  // a flag
      if (j + 1 == word.size()) {  // the value is the next word
        if (i == args.size()) {
          error = std::string("option -") + word[j] + " needs a value";
          return false;
        }
        ++i;
      }
      break;  // the rest of the word was the value
    }
  }
  return true;
}

// [ssh options] HOST [ssh options] WORD... ; nullopt with `error` set on bad usage. As
// OpenSSH does, options may also follow the host name, up to the first command word.
std::optional<Invocation> parse_args(const std::vector<std::string>& args, std::string& error) {
  std::size_t i = 0;
  if (!skip_options(args, i, error)) return std::nullopt;
  if (i == args.size()) {
    error = "usage: openbatch-agent rsh [ssh options] HOST COMMAND...";
    return std::nullopt;
  }
  Invocation inv;
  inv.host = args[i++];
  if (auto at = inv.host.rfind('@'); at != std::string::npos) inv.host.erase(0, at + 1);
  if (inv.host.empty()) {
    error = "empty host name";
    return std::nullopt;
  }
  if (!skip_options(args, i, error)) return std::nullopt;
  if (i == args.size()) {
    error = "no command for " + inv.host + " (an interactive shell is not supported)";
    return std::nullopt;
  }
  inv.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  return inv;
}

std::string trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// "IP:PORT" or "[IPv6]:PORT".
std::optional<Endpoint> parse_endpoint(std::string_view text) {
  Endpoint e;
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    e.host = std::string(text.substr(1, close - 1));
    e.port = std::string(text.substr(close + 2));
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    e.host = std::string(text.substr(0, colon));
    e.port = std::string(text.substr(colon + 1));
  }
  if (e.host.empty() || e.port.empty() ||
      !std::ranges::all_of(e.port, [](unsigned char c) { return std::isdigit(c); })) {
    return std::nullopt;
  }
  return e;
}

// The endpoint of `host` in OPENBATCH_RSH_PEERS: by name (case-insensitive), else by an
// endpoint's own address.
std::optional<Endpoint> find_peer(std::string_view peers, const std::string& host) {
  std::optional<Endpoint> by_address;
  const std::string wanted = text::to_lower(host);
  std::size_t start = 0;
  while (start <= peers.size()) {
    auto end = peers.find(',', start);
    if (end == std::string_view::npos) end = peers.size();
    const std::string entry = trimmed(peers.substr(start, end - start));
    start = end + 1;
    const auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    auto endpoint = parse_endpoint(trimmed(std::string_view(entry).substr(eq + 1)));
    if (!endpoint) continue;
    if (text::to_lower(trimmed(std::string_view(entry).substr(0, eq))) == wanted) return endpoint;
    if (!by_address && text::to_lower(endpoint->host) == wanted) by_address = endpoint;
  }
  return by_address;
}

// Waits for a non-blocking connect until `deadline`; 0 or an errno.
int finish_connect(int fd, SteadyClock::time_point deadline) {
  while (true) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
    if (left <= 0) return ETIMEDOUT;
    pollfd p{fd, POLLOUT, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 60000)));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return errno;
    if (r == 0) continue;  // recheck the deadline
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
    return err;
  }
}

// A connected, blocking socket, or nullopt with `error` set.
std::optional<UniqueFd> connect_to(const Endpoint& e, std::chrono::milliseconds timeout,
                                   std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  if (const int rc = ::getaddrinfo(e.host.c_str(), e.port.c_str(), &hints, &list); rc != 0) {
    error = "cannot resolve " + e.host + ": " + ::gai_strerror(rc);
    return std::nullopt;
  }
  const auto deadline = SteadyClock::now() + timeout;
  error = "no address for " + e.host;
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol));
    if (fd.get() < 0) {
      error = "socket: " + errno_text(errno);
      continue;
    }
    int err = 0;
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS || err == EINTR) err = finish_connect(fd.get(), deadline);
    }
    if (err != 0) {
      error = "cannot connect to " + e.host + ":" + e.port + ": " + errno_text(err);
      continue;
    }
    const int flags = ::fcntl(fd.get(), F_GETFL);
    ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
    const int on = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    ::freeaddrinfo(list);
    return fd;
  }
  ::freeaddrinfo(list);
  return std::nullopt;
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

const std::string* find_env(const std::map<std::string, std::string>& env, const char* name) {
  auto it = env.find(name);
  if (it == env.end() || it->second.empty()) return nullptr;
  return &it->second;
}

}  // namespace

int run_rsh(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
            const RshIo& io) {
  std::string error;
  auto inv = parse_args(args, error);
  if (!inv) {
    say(io.stderr_fd, error);
    return kRshFailed;
  }
  const std::string* peers = find_env(env, "OPENBATCH_RSH_PEERS");
  const std::string* token = find_env(env, "OPENBATCH_RSH_TOKEN");
  const std::string* job = find_env(env, "AZ_BATCH_JOB_ID");
  const std::string* task = find_env(env, "AZ_BATCH_TASK_ID");
  for (auto [value, name] :
       {std::pair{peers, "OPENBATCH_RSH_PEERS"}, std::pair{token, "OPENBATCH_RSH_TOKEN"},
        std::pair{job, "AZ_BATCH_JOB_ID"}, std::pair{task, "AZ_BATCH_TASK_ID"}}) {
    if (value == nullptr) {
      say(io.stderr_fd, std::string(name) + " is not set: run me from a multi-instance task");
      return kRshFailed;
    }
  }
  auto endpoint = find_peer(*peers, inv->host);
  if (!endpoint) {
    say(io.stderr_fd, "unknown host " + inv->host + ": not a node of this task");
    return kRshFailed;
  }
  auto socket = connect_to(*endpoint, io.connect_timeout, error);
  if (!socket) {
    say(io.stderr_fd, inv->host + ": " + error);
    return kRshFailed;
  }
  const std::string request =
      encode_request(RshRequest{*job, *task, *token, std::move(inv->command)});
  if (!send_all(socket->get(), request)) {
    say(io.stderr_fd, inv->host + ": cannot send the request: " + errno_text(errno));
    return kRshFailed;
  }

  FrameDecoder decoder;
  std::array<char, 64 * 1024> buffer{};
  bool stdout_ok = true;  // a closed stdout or stderr drops that stream, as ssh does
  bool stderr_ok = true;
  while (true) {
    const ssize_t n = ::recv(socket->get(), buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      say(io.stderr_fd, "connection to " + inv->host + " lost before the command's exit status" +
                            (n < 0 ? ": " + errno_text(errno) : std::string()));
      return kRshFailed;
    }
    decoder.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    while (true) {
      auto frame = decoder.next();
      if (!frame) {
        say(io.stderr_fd, inv->host + ": " + frame.error().message);
        return kRshFailed;
      }
      if (!*frame) break;
      const Frame& f = **frame;
      switch (f.type) {
        case FrameType::Stdout:
          if (stdout_ok) stdout_ok = write_all(io.stdout_fd, f.payload);
          break;
        case FrameType::Stderr:
          if (stderr_ok) stderr_ok = write_all(io.stderr_fd, f.payload);
          break;
        case FrameType::Refused:
          say(io.stderr_fd, inv->host + " refused: " + f.payload);
          return kRshFailed;
        case FrameType::Exit: {
          auto code = decode_exit_payload(f.payload);
          if (!code) {
            say(io.stderr_fd, inv->host + ": " + code.error().message);
            return kRshFailed;
          }
          return *code >= 0 && *code <= 255 ? static_cast<int>(*code) : kRshFailed;
        }
      }
    }
  }
}

int rsh_main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return run_rsh(std::vector<std::string>(argv, argv + argc), env);
}

}  // namespace openbatch::agent::remote
