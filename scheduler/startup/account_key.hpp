// The scheduler's account key: where it may come from and where it may not.
//
// A key on the command line (`--key BASE64`) is readable by every local user, every task
// included, in /proc/<pid>/cmdline: it is refused with a message naming the safe ways. Those
// are, first found wins:
//   1. --key-file PATH: a file only its owner can read (mode 0600 or stricter; a group- or
//      world-readable one is refused, as ssh refuses a readable private key). /dev/fd/N (an
//      inherited pipe) works too;
//   2. the environment, OPENBATCH_ACCOUNT_KEY (/proc/<pid>/environ is readable by the same
//      user and root only);
//   3. <data-dir>/account.key, generated on the first start: created with O_CREAT|O_EXCL and
//      mode 0600 (never world-readable, even for an instant), then linked into place.
#pragma once

#include "common/error.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace openbatch::startup {

inline constexpr const char* kAccountKeyEnv = "OPENBATCH_ACCOUNT_KEY";
inline constexpr const char* kAccountKeyFile = "account.key";

// Where the operator tried to give the key, as parsed from the command line and config file.
struct KeySources {
  bool key_in_argv = false;        // --key / --key=... on the command line
  bool key_in_config = false;      // key = ... in the --config file
  std::filesystem::path key_file;  // --key-file (or key-file in the config file)
  std::optional<std::string> env;  // $OPENBATCH_ACCOUNT_KEY
  std::filesystem::path data_dir;  // holds account.key
};

struct AccountKey {
  std::string base64;   // as clients configure it
  std::string decoded;  // the HMAC key
  std::string origin;   // "--key-file PATH", "OPENBATCH_ACCOUNT_KEY", "PATH (generated)", ...
  bool generated = false;
};

// The message for a key given on the command line or in the config file: why it is refused
// and what to use instead.
std::string key_option_refusal(bool in_argv);

// Reads a key file, refusing one that group or others may read (the message says `chmod 600`).
Result<std::string> read_private_key_file(const std::filesystem::path& path);

// Creates `path` holding `text` + '\n', mode 0600, never replacing an existing file.
Status create_private_file(const std::filesystem::path& path, const std::string& text);

// The key from the first of `sources` that has one; generates account.key when none does.
Result<AccountKey> load_account_key(const KeySources& sources);

}  // namespace openbatch::startup
