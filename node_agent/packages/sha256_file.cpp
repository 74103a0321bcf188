// sha256_file on OpenSSL's EVP digest API, 1 MiB at a time (see sha256_file.hpp).
#include "node_agent/packages/sha256_file.hpp"

#include "common/encoding.hpp"
#include "common/posix/unique_fd.hpp"

#include <openssl/evp.h>

#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <unistd.h>
#include <vector>

namespace openbatch::agent::packages {
namespace {

Error read_error(const std::filesystem::path& file, std::string_view reason) {
  return Error(500, std::string(kFileReadFailed),
               "hashing " + file.string() + ": " + std::string(reason));
}

struct DigestFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

Result<std::string> sha256_file(const std::filesystem::path& file) {
  posix::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return read_error(file, posix::errno_text(errno));
  std::unique_ptr<EVP_MD_CTX, DigestFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return read_error(file, "OpenSSL cannot start a SHA-256 digest");
  }
  std::vector<char> buffer(1 << 20);
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return read_error(file, posix::errno_text(errno));
    if (n == 0) break;
    if (EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<std::size_t>(n)) != 1) {
      return read_error(file, "OpenSSL SHA-256 update failed");
    }
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1) {
    return read_error(file, "OpenSSL SHA-256 final failed");
  }
  return encoding::hex_encode(std::string_view(reinterpret_cast<const char*>(digest), size));
}

}  // namespace openbatch::agent::packages
