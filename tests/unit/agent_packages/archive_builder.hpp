// Builds zip and tar archives inside a test with libarchive's write API, so that malicious
// packages (absolute paths, "..", links, bombs) need no binary fixtures.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace openbatch::agent::packages::testing {

struct ArchiveEntry {
  enum class Kind { File, Folder, Symlink, Hardlink, Fifo };
  std::string path;  // stored exactly as given
  Kind kind = Kind::File;
  std::string data;         // File: the content
  std::uint64_t zeros = 0;  // File: that many zero bytes after `data` (bombs)
  mode_t perm = 0644;
  std::string target;  // Symlink and Hardlink
};

// A file's bytes ("" when it cannot be read).
inline std::string file_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline ArchiveEntry file_entry(std::string path, std::string data, mode_t perm = 0644) {
  return {std::move(path), ArchiveEntry::Kind::File, std::move(data), 0, perm, {}};
}
inline ArchiveEntry zeros_entry(std::string path, std::uint64_t count) {
  return {std::move(path), ArchiveEntry::Kind::File, {}, count, 0644, {}};
}
inline ArchiveEntry folder_entry(std::string path) {
  return {std::move(path), ArchiveEntry::Kind::Folder, {}, 0, 0755, {}};
}
inline ArchiveEntry symlink_entry(std::string path, std::string target) {
  return {std::move(path), ArchiveEntry::Kind::Symlink, {}, 0, 0777, std::move(target)};
}
inline ArchiveEntry hardlink_entry(std::string path, std::string target) {
  return {std::move(path), ArchiveEntry::Kind::Hardlink, {}, 0, 0644, std::move(target)};
}
inline ArchiveEntry fifo_entry(std::string path) {
  return {std::move(path), ArchiveEntry::Kind::Fifo, {}, 0, 0644, {}};
}

enum class ArchiveFormat { Zip, Tar, TarGz };

inline void write_archive(const std::filesystem::path& out,
                          const std::vector<ArchiveEntry>& entries,
                          ArchiveFormat format = ArchiveFormat::Zip) {
  struct archive* a = archive_write_new();
  ASSERT_NE(a, nullptr);
  if (format == ArchiveFormat::Zip) {
    ASSERT_EQ(archive_write_set_format_zip(a), ARCHIVE_OK);
    ASSERT_EQ(archive_write_zip_set_compression_deflate(a), ARCHIVE_OK);
  } else {
    ASSERT_EQ(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    if (format == ArchiveFormat::TarGz) {
      ASSERT_EQ(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    }
  }
  ASSERT_EQ(archive_write_open_filename(a, out.c_str()), ARCHIVE_OK) << archive_error_string(a);
  const std::string chunk(1 << 20, '\0');
  for (const auto& e : entries) {
    struct archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    archive_entry_set_perm(entry, e.perm);
    archive_entry_set_mtime(entry, 1700000000, 0);
    switch (e.kind) {
      case ArchiveEntry::Kind::File:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_size(entry, static_cast<la_int64_t>(e.data.size() + e.zeros));
        break;
      case ArchiveEntry::Kind::Folder:
        archive_entry_set_filetype(entry, AE_IFDIR);
        archive_entry_set_size(entry, 0);
        break;
      case ArchiveEntry::Kind::Symlink:
        archive_entry_set_filetype(entry, AE_IFLNK);
        archive_entry_set_symlink(entry, e.target.c_str());
        archive_entry_set_size(entry, 0);
        break;
      case ArchiveEntry::Kind::Hardlink:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_hardlink(entry, e.target.c_str());
        archive_entry_set_size(entry, 0);
        break;
      case ArchiveEntry::Kind::Fifo:
        archive_entry_set_filetype(entry, AE_IFIFO);
        archive_entry_set_size(entry, 0);
        break;
    }
    ASSERT_GE(archive_write_header(a, entry), ARCHIVE_WARN) << archive_error_string(a);
    if (!e.data.empty()) {
      ASSERT_EQ(archive_write_data(a, e.data.data(), e.data.size()),
                static_cast<la_ssize_t>(e.data.size()));
    }
    for (std::uint64_t left = e.zeros; left > 0;) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size()));
      ASSERT_EQ(archive_write_data(a, chunk.data(), n), static_cast<la_ssize_t>(n));
      left -= n;
    }
    archive_entry_free(entry);
  }
  ASSERT_EQ(archive_write_close(a), ARCHIVE_OK) << archive_error_string(a);
  archive_write_free(a);
}

}  // namespace openbatch::agent::packages::testing
