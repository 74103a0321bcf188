// Fuzz target: application package extraction (node_agent/packages/safe_extract.hpp) of any
// bytes as a zip or a (compressed) tar.
// Each input is written to <scratch>/input.bin and extracted to <scratch>/sandbox/pkg; the
// scratch folder is on /dev/shm when there is one (the extractor fsyncs), else in TMPDIR.
// Invariants: nothing crashes; a refusal is a 400 PackageExtractionFailed and leaves the
// sandbox empty (the temporary folder is removed); nothing ever lands outside the sandbox;
// after a success every link in the package resolves inside it, files carry no setuid, setgid
// or group/other write bit, folders are 0755, and the counts match what is on disk.
// Everything the input made is removed before the next input.
#include "node_agent/packages/safe_extract.hpp"

#include "fuzz/fuzz_check.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

const fs::path& scratch() {
  static const fs::path dir = [] {
    const char* env = std::getenv("FUZZ_SCRATCH_DIR");
    fs::path base = env != nullptr                    ? fs::path(env)
                    : ::access("/dev/shm", W_OK) == 0 ? fs::path("/dev/shm")
                                                      : fs::temp_directory_path();
    fs::path d = base / ("openbatch-fuzz-extract-" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

// Small limits so that a bomb is refused after little work.
openbatch::agent::packages::ExtractLimits limits() {
  openbatch::agent::packages::ExtractLimits l;
  l.max_entries = 256;
  l.max_total_bytes = 4 << 20;
  l.max_entry_bytes = 1 << 20;
  l.ratio_floor_bytes = 256 << 10;
  return l;
}

bool inside(const fs::path& path, const fs::path& folder) {
  const auto [end, _] = std::mismatch(folder.begin(), folder.end(), path.begin(), path.end());
  return end == folder.end();
}

std::size_t entries_in(const fs::path& folder) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(folder)) ++n;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fs::path& root = scratch();
  const fs::path input = root / "input.bin";
  const fs::path sandbox = root / "sandbox";
  const fs::path package = sandbox / "pkg";
  {
    std::ofstream out(input, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  fs::create_directory(sandbox);

  const auto stats = openbatch::agent::packages::extract_archive(input, package, limits());
  FUZZ_CHECK(entries_in(root) == 2, "nothing lands beside the sandbox");
  if (!stats) {
    FUZZ_CHECK(stats.error().status == 400, "a refusal is a 400");
    FUZZ_CHECK(stats.error().code == openbatch::agent::packages::kPackageExtractionFailed,
               "the refusal's code");
    FUZZ_CHECK(entries_in(sandbox) == 0, "a refused package leaves nothing behind");
  } else {
    FUZZ_CHECK(entries_in(sandbox) == 1, "only the package folder is in the sandbox");
    const fs::path real_package = fs::canonical(package);
    std::uint64_t files = 0;
    std::uint64_t links = 0;
    for (const auto& entry : fs::recursive_directory_iterator(package)) {  // follows no link
      struct stat st {};
      FUZZ_CHECK(::lstat(entry.path().c_str(), &st) == 0, "an extracted entry can be read");
      if (S_ISLNK(st.st_mode)) {
        ++links;
        std::error_code ec;
        const fs::path resolved = fs::weakly_canonical(entry.path(), ec);
        // A loop of links cannot be resolved; it goes nowhere, so it cannot go outside either.
        if (!ec) FUZZ_CHECK(inside(resolved, real_package), "a link resolves inside the package");
      } else if (S_ISREG(st.st_mode)) {
        ++files;
        FUZZ_CHECK((st.st_mode & (S_ISUID | S_ISGID | S_ISVTX | S_IWGRP | S_IWOTH)) == 0,
                   "no setuid, setgid, sticky or group/other write bit on a file");
      } else {
        FUZZ_CHECK(S_ISDIR(st.st_mode), "only files, folders and links are extracted");
        FUZZ_CHECK((st.st_mode & 07777) == 0755, "folders are 0755");
      }
    }
    FUZZ_CHECK(files == stats->files, "every extracted file is counted");
    FUZZ_CHECK(links == stats->symlinks, "every extracted link is counted");
  }
  fs::remove_all(sandbox);
  return 0;
}
