// Shape-tolerant JSON reads for display (see json_fields.hpp).
#include "cli/json_fields.hpp"

namespace openbatch::cli {

const nlohmann::json* find_path(const nlohmann::json& entity, std::string_view path) {
  const nlohmann::json* node = &entity;
  while (!path.empty()) {
    const auto slash = path.find('/');
    const std::string_view name = path.substr(0, slash);
    if (!node->is_object()) return nullptr;
    auto it = node->find(name);
    if (it == node->end()) return nullptr;
    node = &*it;
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
  }
  return node;
}

std::string text_at(const nlohmann::json& entity, std::string_view path) {
  const nlohmann::json* v = find_path(entity, path);
  if (v == nullptr || v->is_null()) return {};
  if (v->is_string()) return v->get<std::string>();
  return v->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::int64_t int_at(const nlohmann::json& entity, std::string_view path, std::int64_t fallback) {
  const nlohmann::json* v = find_path(entity, path);
  if (v == nullptr || !v->is_number_integer()) return fallback;
  return v->get<std::int64_t>();
}

bool bool_at(const nlohmann::json& entity, std::string_view path, bool fallback) {
  const nlohmann::json* v = find_path(entity, path);
  if (v == nullptr || !v->is_boolean()) return fallback;
  return v->get<bool>();
}

}  // namespace openbatch::cli
