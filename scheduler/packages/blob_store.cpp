#include "scheduler/packages/blob_store.hpp"

#include "common/encoding.hpp"
#include "scheduler/packages/applications.hpp"
#include "scheduler/store/disk_space.hpp"

#include <openssl/evp.h>

#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <unistd.h>
#include <vector>

namespace openbatch::packages {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kChunk = 256 * 1024;

Error too_large() {
  return Error(413, "RequestBodyTooLarge",
               "The request body is too large and exceeds the maximum permissible limit.");
}

Error not_zip() {
  return Error(400, "InvalidRequestBody", "The application package must be a .zip archive.",
               {{"Reason", "The body does not start with PK\\x03\\x04 or PK\\x05\\x06."}});
}

bool fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// A full disk is the clear 507 InsufficientDiskSpace (the partial file goes), not a 500.
Error write_failed(int err) {
  if (err == ENOSPC || err == EDQUOT) return store::insufficient_disk_space({});
  return errors::internal("cannot write the package file");
}

bool write_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

struct Digest {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
  bool init() { return ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1; }
  void update(const char* p, std::size_t n) { EVP_DigestUpdate(ctx.get(), p, n); }
  std::string hex() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), out, &len);
    return encoding::hex_encode(std::string_view(reinterpret_cast<const char*>(out), len));
  }
};

}  // namespace

bool looks_like_zip(std::string_view head) {
  return head.size() >= 4 && head[0] == 'P' && head[1] == 'K' &&
         ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6));
}

boost::asio::awaitable<Result<StagedBlob>> receive_package(ByteStream& body,
                                                           const fs::path& data_dir,
                                                           std::uint64_t max_bytes) {
  if (auto length = body.length(); length && *length > max_bytes) co_return too_large();
  const fs::path dir = packages_dir(data_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  StagedBlob staged;
  staged.temp = dir / (".upload-" + encoding::uuid_v4());
  const int fd = ::open(staged.temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) co_return errors::internal("cannot create the package file");
  // Every exit below closes fd; failures also remove the partial file.
  struct Guard {
    int fd;
    StagedBlob* staged;
    ~Guard() {
      if (fd >= 0) ::close(fd);
      if (staged) discard_staged(*staged);
    }
  } guard{fd, &staged};

  Digest digest;
  if (!digest.init()) co_return errors::internal("SHA-256 is unavailable");
  std::vector<char> buf(kChunk);
  std::string head;  // the first bytes, for the zip check
  for (;;) {
    auto n = co_await body.read_some(std::span<char>(buf.data(), buf.size()));
    if (!n) co_return n.error();
    if (*n == 0) break;
    if (head.size() < 4) {
      head.append(buf.data(), std::min<std::size_t>(*n, 4 - head.size()));
      // Refuse early: a wrong upload (a tarball, a typo'd path) is not read to its end.
      if (head.size() == 4 && !looks_like_zip(head)) co_return not_zip();
    }
    staged.size += *n;
    if (staged.size > max_bytes) co_return too_large();
    digest.update(buf.data(), *n);
    if (!write_all(fd, buf.data(), *n)) co_return write_failed(errno);
  }
  if (auto length = body.length(); length && staged.size != *length) {
    co_return errors::invalid_body("The request body is shorter than its Content-Length.");
  }
  if (!looks_like_zip(head)) co_return not_zip();
  if (::fsync(fd) != 0) co_return write_failed(errno);
  ::close(guard.fd);
  guard.fd = -1;
  staged.sha256 = digest.hex();
  guard.staged = nullptr;  // success: the caller owns the staged file now
  co_return staged;
}

Status publish_blob(const fs::path& data_dir, StagedBlob& staged) {
  std::error_code ec;
  fs::rename(staged.temp, blob_path(data_dir, staged.sha256), ec);
  if (ec) return errors::internal("cannot store the package blob: " + ec.message());
  staged.temp.clear();
  if (!fsync_dir(packages_dir(data_dir))) return errors::internal("cannot store the package blob");
  return {};
}

void discard_staged(StagedBlob& staged) {
  if (staged.temp.empty()) return;
  std::error_code ec;
  fs::remove(staged.temp, ec);
  staged.temp.clear();
}

std::optional<fs::path> retire_blob(const fs::path& data_dir, const std::string& digest) {
  if (!valid_digest(digest)) return std::nullopt;
  const fs::path retired = packages_dir(data_dir) / (".retired-" + encoding::uuid_v4());
  std::error_code ec;
  fs::rename(blob_path(data_dir, digest), retired, ec);
  if (ec) return std::nullopt;
  return retired;
}

void settle_retired(const fs::path& data_dir, const std::string& digest,
                    const std::optional<fs::path>& retired, bool committed) {
  if (!retired) return;
  std::error_code ec;
  if (committed) {
    fs::remove(*retired, ec);
  } else {
    fs::rename(*retired, blob_path(data_dir, digest), ec);
  }
}

}  // namespace openbatch::packages
