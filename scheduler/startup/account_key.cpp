#include "scheduler/startup/account_key.hpp"

#include "common/encoding.hpp"
#include "common/posix/unique_fd.hpp"
#include "scheduler/startup/file_mode.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace openbatch::startup {
namespace fs = std::filesystem;
namespace {

Error invalid(std::string message) { return Error(400, "InvalidArgument", std::move(message)); }

// The first line of an open file, without trailing whitespace.
Result<std::string> read_first_line(int fd, const fs::path& path) {
  std::string text;
  std::array<char, 4096> buf{};
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return invalid("cannot read the key file " + path.string() + ": " + posix::errno_text(errno));
    if (n == 0) break;
    text.append(buf.data(), static_cast<std::size_t>(n));
    if (text.size() > 64 * 1024)
      return invalid("the key file " + path.string() + " is too large for a key");
  }
  if (auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

Result<AccountKey> decoded(std::string base64, std::string origin) {
  auto bytes = encoding::base64_decode(base64);
  if (!bytes || bytes->empty()) return invalid("the account key from " + origin + " is not base64");
  return AccountKey{std::move(base64), std::move(*bytes), std::move(origin), false};
}

// <data-dir>/account.key, ours: read it, and take group/other access away should an older
// version (or a hand) have left any.
Result<std::optional<std::string>> read_generated_key(const fs::path& path) {
  posix::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0 && errno == ENOENT) return std::optional<std::string>();
  if (fd.get() < 0)
    return invalid("cannot open " + path.string() + ": " + posix::errno_text(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return invalid(path.string() + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    if (st.st_uid != ::geteuid() || ::fchmod(fd.get(), 0600) != 0) {
      return invalid(
          path.string() + " is readable by group or others (mode " + octal_mode(st.st_mode) +
          ") and cannot be made private: chmod 600 it, and replace the key, which may have leaked");
    }
    spdlog::warn(
        "{} was readable by group or others (mode {}): now 0600; consider replacing the key",
        path.string(), octal_mode(st.st_mode));
  }
  auto text = read_first_line(fd.get(), path);
  if (!text) return text.error();
  if (text->empty()) return invalid(path.string() + " is empty: remove it to generate a new key");
  return std::optional<std::string>(std::move(*text));
}

Result<AccountKey> generate(const fs::path& path) {
  std::array<unsigned char, 64> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    return Error(500, "InternalError", "no randomness for an account key");
  }
  std::string base64 = encoding::base64_encode(
      std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
  if (auto st = create_private_file(path, base64); !st) return st.error();
  auto key = decoded(std::move(base64), path.string() + " (generated)");
  if (key) key->generated = true;
  return key;
}

}  // namespace

std::string key_option_refusal(bool in_argv) {
  const std::string where =
      in_argv ? "--key puts the account key on the command line, where every local user and "
                "every task can read it (/proc/<pid>/cmdline)"
              : "the config file's 'key' setting is refused: config files are often readable "
                "by others";
  return where +
         "; give it with --key-file PATH (a file of mode 0600 holding the base64 key), or in the " +
         kAccountKeyEnv + " environment variable, or let the scheduler generate <data-dir>/" +
         kAccountKeyFile;
}

Result<std::string> read_private_key_file(const fs::path& path) {
  posix::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0)
    return invalid("cannot open the key file " + path.string() + ": " + posix::errno_text(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return invalid("cannot stat the key file " + path.string());
  if (S_ISDIR(st.st_mode)) return invalid("the key file " + path.string() + " is a directory");
  if ((st.st_mode & 077) != 0) {
    return invalid("the key file " + path.string() + " may be read by group or others (mode " +
                   octal_mode(st.st_mode) + "): chmod 600 " + path.string() +
                   " (and replace the key if others could read it)");
  }
  auto text = read_first_line(fd.get(), path);
  if (!text) return text.error();
  if (text->empty()) return invalid("the key file " + path.string() + " is empty");
  return std::move(*text);
}

Status create_private_file(const fs::path& path, const std::string& text) {
  // Written under a temporary name, then linked: the final name never holds a partial key,
  // and link() never replaces a file another starter created meanwhile.
  const fs::path tmp = path.string() + ".tmp";
  ::unlink(tmp.c_str());  // left by a crash between create and link
  posix::UniqueFd fd(
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0)
    return Error(500, "InternalError",
                 "cannot create " + tmp.string() + ": " + posix::errno_text(errno));
  const std::string line = text + '\n';
  bool ok = ::fchmod(fd.get(), 0600) == 0;  // exactly 0600 whatever the umask
  ok = ok && ::write(fd.get(), line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ok = ok && ::fsync(fd.get()) == 0;
  const int err = errno;
  fd.reset();
  if (!ok) {
    ::unlink(tmp.c_str());
    return Error(500, "InternalError",
                 "cannot write " + tmp.string() + ": " + posix::errno_text(err));
  }
  const int linked = ::link(tmp.c_str(), path.c_str());
  const int link_err = errno;
  ::unlink(tmp.c_str());
  if (linked != 0)
    return Error(500, "InternalError",
                 "cannot create " + path.string() + ": " + posix::errno_text(link_err));
  return {};
}

Result<AccountKey> load_account_key(const KeySources& sources) {
  if (sources.key_in_argv || sources.key_in_config)
    return invalid(key_option_refusal(sources.key_in_argv));
  if (!sources.key_file.empty()) {
    auto text = read_private_key_file(sources.key_file);
    if (!text) return text.error();
    return decoded(std::move(*text), "--key-file " + sources.key_file.string());
  }
  if (sources.env && !sources.env->empty()) return decoded(*sources.env, kAccountKeyEnv);
  const fs::path path = sources.data_dir / kAccountKeyFile;
  auto existing = read_generated_key(path);
  if (!existing) return existing.error();
  if (*existing) return decoded(std::move(**existing), path.string());
  auto made = generate(path);
  if (!made && made.error().message.find("File exists") != std::string::npos) {
    // Another starter won the race: use its key.
    auto theirs = read_generated_key(path);
    if (theirs && *theirs) return decoded(std::move(**theirs), path.string());
  }
  return made;
}

}  // namespace openbatch::startup
