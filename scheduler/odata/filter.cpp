// Evaluates a compiled $filter against an entity's wire JSON (see filter.hpp).
//
// This runs once per row of a filtered list page, so it walks the pre-built node array and
// compares in place: no parsing of the filter, no allocation, no exceptions (nlohmann accessors
// are used only after checking the value's type).
#include "scheduler/odata/filter.hpp"

#include "common/text/ascii.hpp"
#include "common/time.hpp"
#include "scheduler/odata/filter_program.hpp"

#include <nlohmann/json.hpp>

#include <compare>

namespace openbatch::odata {
namespace {

using detail::CompareOp;
using detail::FilterProgram;
using detail::Literal;
using detail::LiteralKind;
using detail::Node;
using detail::NodeKind;
using nlohmann::json;

// Follows `path` through nested objects, matching keys case-insensitively (exact match first,
// as the wire's camelCase is what clients almost always send). Null when absent.
const json* resolve(const json& entity, const std::vector<std::string>& path) {
  const json* current = &entity;
  for (const std::string& segment : path) {
    if (!current->is_object()) return nullptr;
    const auto& object = current->get_ref<const json::object_t&>();
    auto it = object.find(segment);
    if (it == object.end()) {
      for (it = object.begin(); it != object.end(); ++it) {
        if (text::iequals(it->first, segment)) break;
      }
      if (it == object.end()) return nullptr;
    }
    current = &it->second;
  }
  return current;
}

template <class T>
std::partial_ordering order(const T& a, const T& b) {
  return a <=> b;
}

std::partial_ordering compare_numbers(const json& value, const Literal& lit) {
  if (lit.is_integer && value.is_number_integer()) {
    if (value.is_number_unsigned()) {
      const auto u = value.get_ref<const json::number_unsigned_t&>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return std::partial_ordering::greater;
      return order(static_cast<int64_t>(u), lit.integer);
    }
    return order(value.get_ref<const json::number_integer_t&>(), lit.integer);
  }
  double number = 0;
  if (value.is_number_float()) {
    number = value.get_ref<const json::number_float_t&>();
  } else if (value.is_number_unsigned()) {
    number = static_cast<double>(value.get_ref<const json::number_unsigned_t&>());
  } else {
    number = static_cast<double>(value.get_ref<const json::number_integer_t&>());
  }
  return order(number, lit.number);
}

std::partial_ordering compare_strings(std::string_view value, const Literal& lit) {
  if (lit.time) {
    const auto time = try_parse_iso8601(value);
    if (time) return order(*time, *lit.time);
    // A datetime literal only compares with times; an ISO-looking string literal falls back
    // to text when the property is not a time.
    if (lit.kind == LiteralKind::DateTime) return std::partial_ordering::unordered;
  }
  return text::icompare(value, lit.text);
}

// How the property value orders against the literal; unordered when they cannot be compared.
// A missing property counts as null.
std::partial_ordering compare(const json* value, const Literal& lit) {
  const bool value_null = value == nullptr || value->is_null();
  if (lit.kind == LiteralKind::Null || value_null) {
    return (lit.kind == LiteralKind::Null && value_null) ? std::partial_ordering::equivalent
                                                         : std::partial_ordering::unordered;
  }
  switch (lit.kind) {
    case LiteralKind::Bool:
      if (!value->is_boolean()) return std::partial_ordering::unordered;
      return order(value->get_ref<const json::boolean_t&>(), lit.boolean);
    case LiteralKind::Number:
      if (!value->is_number()) return std::partial_ordering::unordered;
      return compare_numbers(*value, lit);
    case LiteralKind::String:
    case LiteralKind::DateTime:
      if (!value->is_string()) return std::partial_ordering::unordered;
      return compare_strings(value->get_ref<const json::string_t&>(), lit);
    case LiteralKind::Null:
      break;
  }
  return std::partial_ordering::unordered;
}

bool apply(CompareOp op, std::partial_ordering ord) {
  switch (op) {
    case CompareOp::Eq:
      return std::is_eq(ord);
    case CompareOp::Ne:
      return !std::is_eq(ord);  // unordered (incl. missing) counts as "not equal"
    case CompareOp::Gt:
      return std::is_gt(ord);
    case CompareOp::Ge:
      return std::is_gteq(ord);
    case CompareOp::Lt:
      return std::is_lt(ord);
    case CompareOp::Le:
      return std::is_lteq(ord);
  }
  return false;
}

// Recursion depth is bounded by the parser (kMaxFilterDepth; and/or chains are flat).
bool evaluate(const FilterProgram& program, uint32_t index, const json& entity) {
  const Node& node = program.nodes[index];
  switch (node.kind) {
    case NodeKind::And:
      for (uint32_t child : node.children) {
        if (!evaluate(program, child, entity)) return false;
      }
      return true;
    case NodeKind::Or:
      for (uint32_t child : node.children) {
        if (evaluate(program, child, entity)) return true;
      }
      return false;
    case NodeKind::Not:
      return !evaluate(program, node.children.front(), entity);
    case NodeKind::Compare:
      return apply(node.op, compare(resolve(entity, node.path), node.literal));
    case NodeKind::StartsWith: {
      const json* value = resolve(entity, node.path);
      return value != nullptr && value->is_string() &&
             text::istarts_with(value->get_ref<const json::string_t&>(), node.literal.text);
    }
  }
  return false;
}

bool path_is(const std::vector<std::string>& path, std::string_view property) {
  for (std::size_t i = 0; i < path.size(); ++i) {
    const std::size_t slash = property.find('/');
    const bool last = i + 1 == path.size();
    if (last != (slash == std::string_view::npos)) return false;
    if (!text::iequals(path[i], property.substr(0, slash))) return false;
    if (!last) property.remove_prefix(slash + 1);
  }
  return !path.empty();
}

const Node* string_equality(const Node& node, std::string_view property) {
  const bool hit = node.kind == NodeKind::Compare && node.op == CompareOp::Eq &&
                   node.literal.kind == LiteralKind::String && path_is(node.path, property);
  return hit ? &node : nullptr;
}

}  // namespace

bool Filter::matches(const nlohmann::json& entity) const {
  return program_ == nullptr || evaluate(*program_, program_->root, entity);
}

std::optional<std::string> Filter::string_equals(std::string_view property) const {
  if (program_ == nullptr) return std::nullopt;
  const Node& root = program_->nodes[program_->root];
  if (const Node* hit = string_equality(root, property)) return hit->literal.text;
  if (root.kind != NodeKind::And) return std::nullopt;
  for (uint32_t child : root.children) {
    if (const Node* hit = string_equality(program_->nodes[child], property)) {
      return hit->literal.text;
    }
  }
  return std::nullopt;
}

std::optional<std::string> Filter::unknown_property(std::span<const std::string_view> known) const {
  if (program_ == nullptr || known.empty()) return std::nullopt;
  for (const Node& node : program_->nodes) {
    if (node.path.empty()) continue;
    bool found = false;
    for (std::string_view name : known) {
      if (text::iequals(name, node.path.front())) {
        found = true;
        break;
      }
    }
    if (found) continue;
    std::string joined;
    for (const std::string& segment : node.path) {
      if (!joined.empty()) joined += '/';
      joined += segment;
    }
    return joined;
  }
  return std::nullopt;
}

std::optional<std::string> Filter::state_equals() const {
  auto state = string_equals("state");
  if (state) return text::to_lower(*state);
  return std::nullopt;
}

}  // namespace openbatch::odata
