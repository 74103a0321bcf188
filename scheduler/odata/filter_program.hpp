// The compiled form of a $filter: a flat array of expression nodes, shared by the parser
// (filter_parser.cpp), which builds it, and the evaluator (filter.cpp), which walks it.
// Internal to openbatch_odata. Immutable once built, so safe to read from many threads.
#pragma once

#include "common/clock.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace openbatch::odata::detail {

enum class NodeKind : uint8_t { And, Or, Not, Compare, StartsWith };
enum class CompareOp : uint8_t { Eq, Ne, Gt, Ge, Lt, Le };
enum class LiteralKind : uint8_t { Null, Bool, Number, String, DateTime };

struct Literal {
  LiteralKind kind = LiteralKind::Null;
  bool boolean = false;
  bool is_integer = false;  // Number: `integer` is exact; `number` is always set
  int64_t integer = 0;
  double number = 0;
  std::string text;               // String: unescaped; DateTime: the text between quotes
  std::optional<TimePoint> time;  // DateTime, or a String that is an ISO 8601 time
};

struct Node {
  NodeKind kind = NodeKind::Compare;
  CompareOp op = CompareOp::Eq;    // Compare only
  std::vector<uint32_t> children;  // And/Or: two or more (flattened); Not: one
  std::vector<std::string> path;   // Compare/StartsWith: property path segments
  Literal literal;                 // Compare/StartsWith (StartsWith: a String)
};

struct FilterProgram {
  std::vector<Node> nodes;
  uint32_t root = 0;
};

}  // namespace openbatch::odata::detail
