// Starting tasks under shims (see shim_launch.hpp).
#include "node_agent/shim/shim_launch.hpp"

#include "common/posix/unique_fd.hpp"
#include "node_agent/shim/shim_request.hpp"

#include <array>
#include <cerrno>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace openbatch::agent::shim {
namespace {

using posix::UniqueFd;

Error shim_failed(std::string message) { return Error(500, "ShimFailed", std::move(message)); }

bool plain(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

}  // namespace

std::optional<std::string> escape_attempt_id(std::string_view id) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : id) {
    if (plain(c)) {
      out += c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  if (out.empty() || out.size() > 240) return std::nullopt;
  return out;
}

std::optional<std::string> unescape_attempt_id(std::string_view name) {
  auto hex = [](char h) -> int {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (plain(name[i])) {
      out += name[i];
      continue;
    }
    if (name[i] != '%' || i + 2 >= name.size()) return std::nullopt;
    const int high = hex(name[i + 1]);
    const int low = hex(name[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

Status make_attempt_dir(const std::filesystem::path& dir, const nlohmann::json& attempt) {
  remove_attempt_dir(dir);  // a leftover of an attempt with this id: never ours to keep
  if (::mkdir(dir.c_str(), 0700) != 0) {
    return shim_failed("mkdir " + dir.string() + ": " + posix::errno_text(errno));
  }
  const auto path = dir / kAttemptFile;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return shim_failed("open " + path.string() + ": " + posix::errno_text(errno));
  const std::string text = attempt.dump();
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return shim_failed("write " + path.string() + ": " + posix::errno_text(errno));
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<nlohmann::json> read_attempt_file(const std::filesystem::path& dir) {
  std::ifstream in(dir / kAttemptFile);
  std::stringstream text;
  text << in.rdbuf();
  auto j = nlohmann::json::parse(text.str(), nullptr, false);
  if (!j.is_object()) return shim_failed((dir / kAttemptFile).string() + " is missing or not JSON");
  return j;
}

void remove_attempt_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

Result<StartingShim> spawn_shim(exec::Launcher& launcher, const exec::LaunchSpec& spec,
                                const ShimConfig& config, const std::filesystem::path& dir) {
  std::array<int, 2> pair{};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair.data()) != 0) {
    return shim_failed("socketpair: " + posix::errno_text(errno));
  }
  UniqueFd ours(pair[0]);
  UniqueFd theirs(pair[1]);

  ShimRequest request;
  request.spec = spec;
  request.max_output_bytes = config.max_output_bytes;
  if (spec.stdout_file) request.stdout_name = spec.stdout_file->path.filename().string();
  if (spec.stderr_file) request.stderr_name = spec.stderr_file->path.filename().string();
  request.boot_id = config.boot_id;

  // The shim: root, a session of its own, nothing of the task's environment (its loader must
  // not see the task's LD_PRELOAD), the task's outputs as its own.
  exec::LaunchSpec shim;
  shim.argv = {config.executable.string()};
  if (config.subcommand) shim.argv.push_back("shim");
  shim.argv.push_back(dir.string());
  shim.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  shim.cwd = "/";
  shim.stdout_file = spec.stdout_file;
  shim.stderr_file = spec.stderr_file;
  shim.stdout_fd = spec.stdout_fd;
  shim.stderr_fd = spec.stderr_fd;
  shim.stdin_fd = theirs.get();
  shim.new_process_group = true;
  auto child = launcher.launch(shim);
  if (!child) return child.error();
  theirs.reset();

  // The request is small and the shim reads it first thing: this does not wait long.
  const std::string text = encode_request(request);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::send(ours.get(), text.data() + done, text.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // the shim died: its answer (none) says so
    done += static_cast<std::size_t>(n);
  }
  ::shutdown(ours.get(), SHUT_WR);
  return StartingShim{*child, std::move(ours)};
}

Result<pid_t> read_shim_answer(std::string_view reply) {
  auto answer = decode_answer(reply);
  if (!answer) return answer.error();
  if (answer->error) return *answer->error;
  return answer->task_pid;
}

}  // namespace openbatch::agent::shim
