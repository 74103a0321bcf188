// lookup_user: getpwnam_r with a growing buffer, then getgrouplist with a growing array.
#include "node_agent/exec/user.hpp"

#include "node_agent/exec/launcher.hpp"

#include <cerrno>
#include <grp.h>
#include <pwd.h>
#include <system_error>
#include <unistd.h>

namespace openbatch::agent::exec {

Result<UserIds> lookup_user(std::string_view name) {
  const std::string user(name);
  if (user.empty() || user.find('\0') != std::string::npos) {
    return Error(404, std::string(kUserNotFound), "no user named '" + user + "'");
  }
  long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(hint > 0 ? static_cast<std::size_t>(hint) : 4096);
  passwd pw{};
  passwd* found = nullptr;
  int rc = 0;
  while ((rc = ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < (std::size_t{1} << 20)) {
    buf.resize(buf.size() * 2);
  }
  if (rc != 0) {
    return Error(500, std::string(kLaunchFailed),
                 "looking up user '" + user +
                     "': " + std::error_code(rc, std::generic_category()).message());
  }
  if (found == nullptr)
    return Error(404, std::string(kUserNotFound), "no user named '" + user + "'");

  UserIds ids{user, pw.pw_uid, pw.pw_gid, {}, pw.pw_dir ? pw.pw_dir : ""};
  int count = 16;
  std::vector<gid_t> groups;
  while (true) {
    groups.resize(static_cast<std::size_t>(count));
    int n = count;
    if (::getgrouplist(user.c_str(), pw.pw_gid, groups.data(), &n) >= 0) {
      groups.resize(static_cast<std::size_t>(n));
      break;
    }
    if (n <= count) n = count * 2;  // some libcs leave n unchanged
    if (n > 65536) return Error(500, std::string(kLaunchFailed), "too many groups for " + user);
    count = n;
  }
  ids.groups = std::move(groups);
  return ids;
}

}  // namespace openbatch::agent::exec
