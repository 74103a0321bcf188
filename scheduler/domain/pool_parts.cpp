// userAccounts and mountConfiguration validation (pool_parts.hpp).
#include "scheduler/domain/pool_parts.hpp"

#include "common/text/ascii.hpp"
#include "scheduler/domain/parts.hpp"

#include <string>
#include <vector>

namespace openbatch::domain::detail {
namespace {

constexpr std::size_t kMaxUserNameChars = 32;
constexpr std::size_t kMaxSecretChars = 8192;

Status check_linux_user(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  if (f.has("uid") != f.has("gid")) {
    const char* given = f.has("uid") ? "uid" : "gid";
    return invalid(f.at(given), *f.find(given), "uid and gid must be specified together");
  }
  if (auto st = f.integer("uid", {.min = 0}); !st) return st;
  if (auto st = f.integer("gid", {.min = 0}); !st) return st;
  return f.string("sshPrivateKey", {.max_chars = kMaxSecretChars});
}

Status check_windows_user(json& src, json& out, const Path& path) {
  return Fields(src, out, path).enumeration("loginMode", {"batch", "interactive"});
}

Status check_user_account(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  if (const json* name = f.find("name");
      name != nullptr && (!name->is_string() || !is_valid_user_name(name->get<std::string>()))) {
    return invalid(f.at("name"), *name,
                   "must be 1 to 32 characters from letters, digits, '_', '.' and '-', start "
                   "with a letter or '_', and not be root or start with _azbatch");
  }
  if (auto st = f.string("name", {.required = true, .max_chars = kMaxUserNameChars}); !st) {
    return st;
  }
  if (auto st = f.string("password", {.required = true, .max_chars = kMaxSecretChars}); !st) {
    return st;
  }
  if (auto st = f.enumeration("elevationLevel", {"nonadmin", "admin"}, "nonadmin"); !st) {
    return st;
  }
  if (auto st = f.object("linuxUserConfiguration", check_linux_user); !st) return st;
  return f.object("windowsUserConfiguration", check_windows_user);
}

Status mount_common(Fields& f) {
  if (const json* p = f.find("relativeMountPath");
      p != nullptr && p->is_string() && !is_safe_relative_path(p->get<std::string>())) {
    return invalid(f.at("relativeMountPath"), *p,
                   "must be a relative path under AZ_BATCH_NODE_MOUNTS_DIR (no leading '/', "
                   "no '..')");
  }
  if (auto st = f.string("relativeMountPath", {.required = true, .max_chars = kMaxPathChars});
      !st) {
    return st;
  }
  return f.string("mountOptions", {.max_chars = kMaxUrlChars, .allow_empty = true});
}

Status check_nfs(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  if (auto st = f.string("source", {.required = true, .max_chars = kMaxUrlChars}); !st) return st;
  return mount_common(f);
}

Status check_cifs(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  if (auto st = f.string("username", {.required = true, .max_chars = 256}); !st) return st;
  if (auto st = f.string("source", {.required = true, .max_chars = kMaxUrlChars}); !st) return st;
  if (auto st = f.string("password", {.required = true, .max_chars = kMaxSecretChars}); !st) {
    return st;
  }
  return mount_common(f);
}

Status check_blobfuse(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  const int credentials =
      int(f.has("accountKey")) + int(f.has("sasKey")) + int(f.has("identityReference"));
  if (credentials != 1) {
    return invalid(path, src,
                   "must specify exactly one of accountKey, sasKey and identityReference");
  }
  if (auto st = f.string("accountName", {.required = true, .max_chars = 256}); !st) return st;
  if (auto st = f.string("containerName", {.required = true, .max_chars = 256}); !st) return st;
  if (auto st = f.string("accountKey", {.max_chars = kMaxSecretChars}); !st) return st;
  if (auto st = f.string("sasKey", {.max_chars = kMaxSecretChars}); !st) return st;
  if (auto st = f.keep("identityReference", Kind::Object); !st) return st;
  if (auto st = f.string("blobfuseOptions", {.max_chars = kMaxUrlChars, .allow_empty = true});
      !st) {
    return st;
  }
  // blobfuse has no mountOptions; relativeMountPath is checked the same way.
  return mount_common(f);
}

Status check_file_share(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  if (auto st = f.string("accountName", {.required = true, .max_chars = 256}); !st) return st;
  if (auto st = f.string("azureFileUrl", {.required = true, .max_chars = kMaxUrlChars}); !st) {
    return st;
  }
  if (auto st = f.string("accountKey", {.required = true, .max_chars = kMaxSecretChars}); !st) {
    return st;
  }
  return mount_common(f);
}

}  // namespace

bool is_valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxUserNameChars) return false;
  const char first = name.front();
  if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') || first == '_')) {
    return false;
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  if (text::iequals(name, "root")) return false;
  constexpr std::string_view kAutoUserPrefix = "_azbatch";
  return !(name.size() >= kAutoUserPrefix.size() &&
           text::iequals(name.substr(0, kAutoUserPrefix.size()), kAutoUserPrefix));
}

Status take_user_accounts(Fields& pool) {
  if (auto st = pool.objects("userAccounts", kMaxListItems, check_user_account); !st) return st;
  const json* accounts = find_member(pool.out(), "userAccounts");
  if (accounts == nullptr) return {};
  const Path list = pool.at("userAccounts");
  for (std::size_t i = 0; i < accounts->size(); ++i) {
    const auto& name = (*accounts)[i]["name"].get_ref<const std::string&>();
    for (std::size_t j = 0; j < i; ++j) {
      if (text::iequals((*accounts)[j]["name"].get_ref<const std::string&>(), name)) {
        const Path entry = list[i];
        return invalid(entry / "name", (*accounts)[i]["name"], "duplicate user account name");
      }
    }
  }
  return {};
}

Status check_mount_configuration(json& src, json& out, const Path& path) {
  Fields f(src, out, path);
  constexpr std::string_view kKinds[] = {"nfsMountConfiguration", "cifsMountConfiguration",
                                         "azureBlobFileSystemConfiguration",
                                         "azureFileShareConfiguration"};
  int kinds = 0;
  for (auto k : kKinds) kinds += int(f.has(k));
  if (kinds != 1) {
    return invalid(path, src,
                   "must specify exactly one of nfsMountConfiguration, cifsMountConfiguration, "
                   "azureBlobFileSystemConfiguration and azureFileShareConfiguration");
  }
  if (auto st = f.object(kKinds[0], check_nfs); !st) return st;
  if (auto st = f.object(kKinds[1], check_cifs); !st) return st;
  if (auto st = f.object(kKinds[2], check_blobfuse); !st) return st;
  return f.object(kKinds[3], check_file_share);
}

}  // namespace openbatch::domain::detail
