// Shim status files (see shim_status.hpp).
#include "node_agent/shim/shim_status.hpp"

#include "common/posix/unique_fd.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace openbatch::agent::shim {
namespace {

using nlohmann::json;

Error corrupt(std::string why) {
  return Error(500, "CorruptShimStatus", "shim status: " + std::move(why));
}

Error io_error(std::string_view what, const std::filesystem::path& path, int err) {
  return Error(500, "ShimStatusFailed",
               std::string(what) + " " + path.string() + ": " + posix::errno_text(err));
}

}  // namespace

std::string encode_status(const ShimStatus& s) {
  json j = {{"state", s.state == ShimStatus::State::Running ? "running" : "exited"},
            {"shimPid", s.shim_pid},
            {"shimStartTicks", s.shim_start_ticks},
            {"bootId", s.boot_id},
            {"taskPid", s.task_pid}};
  if (s.state == ShimStatus::State::Exited) {
    j["exitCode"] = s.exit_code;
    j["signal"] = s.signal;
    j["coreDumped"] = s.core_dumped;
  }
  if (s.output_limit)
    j["outputLimit"] = {{"file", s.output_limit->file}, {"capBytes", s.output_limit->cap_bytes}};
  return j.dump();
}

Result<ShimStatus> decode_status(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return corrupt("not a JSON object");
  try {
    ShimStatus s;
    const std::string state = j.at("state").get<std::string>();
    if (state == "running") {
      s.state = ShimStatus::State::Running;
    } else if (state == "exited") {
      s.state = ShimStatus::State::Exited;
      s.exit_code = j.at("exitCode").get<int>();
      s.signal = j.at("signal").get<int>();
      s.core_dumped = j.at("coreDumped").get<bool>();
    } else {
      return corrupt("unknown state '" + state + "'");
    }
    s.shim_pid = j.at("shimPid").get<pid_t>();
    s.shim_start_ticks = j.at("shimStartTicks").get<std::uint64_t>();
    s.boot_id = j.at("bootId").get<std::string>();
    s.task_pid = j.at("taskPid").get<pid_t>();
    if (s.shim_pid <= 1 || s.task_pid <= 1) return corrupt("pids must be above 1");
    if (auto limit = j.find("outputLimit"); limit != j.end()) {
      s.output_limit = OutputLimitHit{limit->at("file").get<std::string>(),
                                      limit->at("capBytes").get<std::uint64_t>()};
    }
    return s;
  } catch (const json::exception& e) {
    return corrupt(e.what());
  }
}

Result<std::optional<ShimStatus>> read_status_file(const std::filesystem::path& dir) {
  const auto path = dir / kStatusFile;
  posix::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::optional<ShimStatus>();
    return io_error("open", path, errno);
  }
  std::string text;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("read", path, errno);
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > 65536) return corrupt(path.string() + " is too large");
  }
  auto status = decode_status(text);
  if (!status) return status.error();
  return std::optional<ShimStatus>(std::move(*status));
}

Status write_status_file(const std::filesystem::path& dir, const ShimStatus& status) {
  const auto path = dir / kStatusFile;
  const auto tmp = dir / (std::string(kStatusFile) + ".tmp");
  const std::string text = encode_status(status);
  posix::UniqueFd fd(
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return io_error("open", tmp, errno);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("write", tmp, errno);
    done += static_cast<std::size_t>(n);
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("rename", tmp, errno);
  return {};
}

}  // namespace openbatch::agent::shim
