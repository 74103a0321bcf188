// userIdentity JSON -> tasks::UserIdentity (see user_identity.hpp).
#include "node_agent/runner/user_identity.hpp"

namespace openbatch::agent::runner {
namespace {

Error invalid(std::string why) { return Error(400, "InvalidUserIdentity", std::move(why)); }

}  // namespace

Result<tasks::UserIdentity> parse_user_identity(const nlohmann::json& j) {
  tasks::UserIdentity out;
  if (j.is_null()) return out;
  if (!j.is_object()) return invalid("userIdentity must be a JSON object");
  const nlohmann::json* name = nullptr;
  for (const char* key : {"username", "userName"}) {
    auto it = j.find(key);
    if (it != j.end() && !it->is_null()) name = &*it;
  }
  auto auto_user = j.find("autoUser");
  const bool has_auto = auto_user != j.end() && !auto_user->is_null();
  if (name != nullptr && has_auto) return invalid("userIdentity names both username and autoUser");
  if (name != nullptr) {
    if (!name->is_string() || name->get_ref<const std::string&>().empty()) {
      return invalid("userIdentity.username must be a non-empty string");
    }
    out.user_name = name->get<std::string>();
    return out;
  }
  if (!has_auto) return out;
  if (!auto_user->is_object()) return invalid("userIdentity.autoUser must be a JSON object");
  auto text = [&](const char* key) -> std::string {
    auto it = auto_user->find(key);
    return it != auto_user->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string scope = text("scope");
  if (scope == "task") {
    out.scope = tasks::AutoUserScope::Task;
  } else if (!scope.empty() && scope != "pool") {
    return invalid("userIdentity.autoUser.scope must be pool or task, not '" + scope + "'");
  }
  const std::string elevation = text("elevationLevel");
  if (elevation == "admin") {
    out.elevation = tasks::ElevationLevel::Admin;
  } else if (!elevation.empty() && elevation != "nonadmin") {
    return invalid("userIdentity.autoUser.elevationLevel must be admin or nonadmin, not '" +
                   elevation + "'");
  }
  return out;
}

}  // namespace openbatch::agent::runner
