// The scheduler's account key: refused on the command line and in the config file, read from
// a private key file only, from the environment, else generated once into a 0600 account.key.
#include "scheduler/startup/account_key.hpp"

#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>

namespace openbatch::startup {
namespace {

namespace fs = std::filesystem;

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

void write(const fs::path& p, const std::string& text, mode_t mode) {
  std::ofstream(p) << text;
  ASSERT_EQ(::chmod(p.c_str(), mode), 0);
}

TEST(AccountKey, OnTheCommandLineItIsRefusedWithWhyAndWhatInstead) {
  openbatch::testing::TempDir dir;
  KeySources s;
  s.key_in_argv = true;
  s.env = "a2V5";  // even with a safe source beside it: the operator must fix the command line
  s.data_dir = dir.path();
  auto key = load_account_key(s);
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message.find("/proc/<pid>/cmdline"), std::string::npos)
      << key.error().message;
  EXPECT_NE(key.error().message.find("--key-file PATH"), std::string::npos);
  EXPECT_NE(key.error().message.find("OPENBATCH_ACCOUNT_KEY"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.path() / "account.key")) << "nothing generated";
}

TEST(AccountKey, InTheConfigFileItIsRefusedToo) {
  openbatch::testing::TempDir dir;
  KeySources s;
  s.key_in_config = true;
  s.data_dir = dir.path();
  auto key = load_account_key(s);
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message.find("config file"), std::string::npos) << key.error().message;
  EXPECT_NE(key.error().message.find("--key-file"), std::string::npos);
}

TEST(AccountKey, AKeyFileOthersMayReadIsRefused) {
  openbatch::testing::TempDir dir;
  const fs::path file = dir.path() / "k";
  for (mode_t loose : {0644, 0640, 0604, 0660}) {
    write(file, "a2V5\n", loose);
    auto text = read_private_key_file(file);
    ASSERT_FALSE(text) << std::oct << loose;
    EXPECT_NE(text.error().message.find("chmod 600 " + file.string()), std::string::npos)
        << text.error().message;
  }
}

TEST(AccountKey, APrivateKeyFileWinsOverTheEnvironment) {
  openbatch::testing::TempDir dir;
  const fs::path file = dir.path() / "k";
  write(file, "a2V5\n", 0600);
  KeySources s;
  s.key_file = file;
  s.env = "b3RoZXI=";
  s.data_dir = dir.path();
  auto key = load_account_key(s);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->base64, "a2V5");
  EXPECT_EQ(key->decoded, "key");
  EXPECT_FALSE(key->generated);
  write(file, "a2V5\n", 0400);
  EXPECT_TRUE(read_private_key_file(file));
}

TEST(AccountKey, EmptyOrNotBase64IsRefused) {
  openbatch::testing::TempDir dir;
  const fs::path file = dir.path() / "k";
  write(file, "\n", 0600);
  EXPECT_FALSE(read_private_key_file(file));
  KeySources s;
  s.env = "not base64!";
  s.data_dir = dir.path();
  auto key = load_account_key(s);
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message.find("OPENBATCH_ACCOUNT_KEY"), std::string::npos)
      << key.error().message;
}

TEST(AccountKey, GeneratedOnceInto0600AccountKeyAndKept) {
  openbatch::testing::TempDir dir;
  ::umask(022);  // a usual umask: the file must still be 0600
  KeySources s;
  s.data_dir = dir.path();
  auto first = load_account_key(s);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(first->generated);
  EXPECT_EQ(first->decoded.size(), 64u);
  EXPECT_EQ(mode_of(dir.path() / "account.key"), 0600u);
  EXPECT_FALSE(fs::exists(dir.path() / "account.key.tmp"));
  auto second = load_account_key(s);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_FALSE(second->generated);
  EXPECT_EQ(second->base64, first->base64);
}

TEST(AccountKey, ALooseGeneratedKeyOfOursIsTightened) {
  openbatch::testing::TempDir dir;
  write(dir.path() / "account.key", "a2V5\n", 0644);
  KeySources s;
  s.data_dir = dir.path();
  auto key = load_account_key(s);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->decoded, "key");
  EXPECT_EQ(mode_of(dir.path() / "account.key"), 0600u);
}

TEST(AccountKey, CreatePrivateFileNeverReplacesAFile) {
  openbatch::testing::TempDir dir;
  const fs::path file = dir.path() / "f";
  ASSERT_TRUE(create_private_file(file, "one"));
  EXPECT_FALSE(create_private_file(file, "two"));
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "one");
}

}  // namespace
}  // namespace openbatch::startup
