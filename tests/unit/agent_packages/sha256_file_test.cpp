// sha256_file: the FIPS 180-2 vectors, a file larger than one read chunk, and a missing file.
#include "node_agent/packages/sha256_file.hpp"

#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace openbatch::agent::packages {
namespace {

using openbatch::testing::TempDir;

std::string hash_of(const TempDir& dir, const std::string& content) {
  const auto path = dir.path() / "f";
  std::ofstream(path, std::ios::binary) << content;
  auto digest = sha256_file(path);
  EXPECT_TRUE(digest) << digest.error().message;
  return digest ? *digest : std::string();
}

TEST(Sha256File, KnownVectors) {
  TempDir dir;
  EXPECT_EQ(hash_of(dir, ""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hash_of(dir, "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256File, AFileLargerThanOneChunk) {
  TempDir dir;
  // One million 'a': the FIPS 180-2 long vector, spread over several reads.
  EXPECT_EQ(hash_of(dir, std::string(1000000, 'a') + std::string()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256File, AMissingFileIsAnError) {
  TempDir dir;
  auto digest = sha256_file(dir.path() / "missing");
  ASSERT_FALSE(digest);
  EXPECT_EQ(digest.error().code, kFileReadFailed);
  EXPECT_NE(digest.error().message.find("missing"), std::string::npos);
}

}  // namespace
}  // namespace openbatch::agent::packages
