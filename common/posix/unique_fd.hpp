// UniqueFd: an owned POSIX file descriptor, closed on destruction (move-only), plus the
// errno-to-text helper the process-launching code reports with. Used by the agent's launcher
// and by discovery's helper-program runner.
#pragma once

#include <string>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace openbatch::posix {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  // Gives the descriptor up to a new owner (an asio descriptor, say).
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// strerror without its thread-safety problem.
inline std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

}  // namespace openbatch::posix
