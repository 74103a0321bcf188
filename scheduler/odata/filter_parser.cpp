// Recursive-descent parser that compiles $filter tokens into a FilterProgram (see filter.hpp).
//
// Grammar (keywords case-insensitive):
//   or_expr   := and_expr ('or' and_expr)*
//   and_expr  := unary ('and' unary)*
//   unary     := 'not' unary | primary
//   primary   := '(' or_expr ')' | startswith '(' path ',' string ')' [('eq'|'ne') bool]
//              | operand op operand          (one side a property path, the other a literal)
// Recursion happens only through '(' and 'not', both counted against kMaxFilterDepth, so a
// hostile "((((..." fails with an error instead of overflowing the stack.
#include "common/text/ascii.hpp"
#include "common/time.hpp"
#include "scheduler/odata/entity_properties.hpp"
#include "scheduler/odata/filter.hpp"
#include "scheduler/odata/filter_lexer.hpp"
#include "scheduler/odata/filter_program.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

namespace openbatch::odata {
namespace {

using detail::CompareOp;
using detail::FilterProgram;
using detail::Literal;
using detail::LiteralKind;
using detail::Node;
using detail::NodeKind;
using detail::Token;
using detail::TokenKind;

constexpr std::string_view kParameter = "$filter";

struct Operand {
  bool is_path = false;
  std::vector<std::string> path;
  Literal literal;
};

std::vector<std::string> split_path(std::string_view text) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = text.find('/', start);
    segments.emplace_back(text.substr(start, slash - start));
    if (slash == std::string_view::npos) return segments;
    start = slash + 1;
  }
}

std::optional<CompareOp> compare_op(const Token& t) {
  if (t.kind != TokenKind::Word) return std::nullopt;
  static constexpr std::pair<std::string_view, CompareOp> kOps[] = {
      {"eq", CompareOp::Eq}, {"ne", CompareOp::Ne}, {"gt", CompareOp::Gt},
      {"ge", CompareOp::Ge}, {"lt", CompareOp::Lt}, {"le", CompareOp::Le}};
  for (const auto& [name, op] : kOps) {
    if (text::iequals(t.text, name)) return op;
  }
  return std::nullopt;
}

// The operator that keeps the meaning when the operands swap sides ('5 lt x' is 'x gt 5').
CompareOp mirrored(CompareOp op) {
  switch (op) {
    case CompareOp::Gt:
      return CompareOp::Lt;
    case CompareOp::Ge:
      return CompareOp::Le;
    case CompareOp::Lt:
      return CompareOp::Gt;
    case CompareOp::Le:
      return CompareOp::Ge;
    default:
      return op;
  }
}

bool is_reserved(std::string_view word) {
  for (std::string_view k : {"and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le"}) {
    if (text::iequals(word, k)) return true;
  }
  return false;
}

Literal number_literal(const std::string& text) {
  Literal lit;
  lit.kind = LiteralKind::Number;
  const char* end = text.data() + text.size();
  int64_t integer = 0;
  auto [int_end, int_ec] = std::from_chars(text.data(), end, integer);
  if (int_ec == std::errc() && int_end == end) {
    lit.is_integer = true;
    lit.integer = integer;
    lit.number = static_cast<double>(integer);
  } else {
    // The lexer guarantees the syntax; out-of-range values saturate to +-HUGE_VAL.
    std::from_chars(text.data(), end, lit.number);
  }
  return lit;
}

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens)
      : text_(text), tokens_(std::move(tokens)) {}

  Result<FilterProgram> run() {
    auto root = parse_or();
    if (!root) return root.error();
    if (peek().kind != TokenKind::End) return fail(peek(), "unexpected " + describe(peek()));
    program_.root = *root;
    return std::move(program_);
  }

 private:
  const Token& peek(std::size_t ahead = 0) const {
    return tokens_[std::min(next_ + ahead, tokens_.size() - 1)];
  }
  const Token& advance() { return tokens_[next_ < tokens_.size() - 1 ? next_++ : next_]; }
  bool at_keyword(std::string_view keyword, std::size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::Word && text::iequals(peek(ahead).text, keyword);
  }

  Error fail(std::size_t pos, std::string_view reason) const {
    return errors::invalid_query(kParameter, text_,
                                 std::string(reason) + " at character " + std::to_string(pos + 1));
  }
  Error fail(const Token& at, std::string_view reason) const { return fail(at.pos, reason); }

  static std::string describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::End:
        return "end of filter";
      case TokenKind::String:
        return "string '" + t.text + "'";
      default:
        return "'" + t.text + "'";
    }
  }

  uint32_t add(Node node) {
    program_.nodes.push_back(std::move(node));
    return static_cast<uint32_t>(program_.nodes.size() - 1);
  }

  Result<uint32_t> parse_or() { return parse_chain(NodeKind::Or, "or"); }
  Result<uint32_t> parse_and() { return parse_chain(NodeKind::And, "and"); }

  // A run of operands joined by one operator, as one n-ary node. Nested nodes of the same kind
  // (from parentheses) are flattened into it so that top-level `and` terms stay visible.
  Result<uint32_t> parse_chain(NodeKind kind, std::string_view keyword) {
    auto operand = [&] { return kind == NodeKind::Or ? parse_and() : parse_unary(); };
    auto first = operand();
    if (!first) return first;
    if (!at_keyword(keyword)) return first;
    Node node;
    node.kind = kind;
    std::vector<uint32_t> terms{*first};
    while (at_keyword(keyword)) {
      advance();
      auto next = operand();
      if (!next) return next;
      terms.push_back(*next);
    }
    for (uint32_t term : terms) {
      const Node& child = program_.nodes[term];
      if (child.kind == kind) {
        node.children.insert(node.children.end(), child.children.begin(), child.children.end());
      } else {
        node.children.push_back(term);
      }
    }
    return add(std::move(node));
  }

  Result<uint32_t> parse_unary() {
    if (!at_keyword("not")) return parse_primary();
    const Token& not_token = advance();
    if (++depth_ > kMaxFilterDepth) return fail(not_token, "the filter is nested too deeply");
    auto operand = parse_unary();
    --depth_;
    if (!operand) return operand;
    Node node;
    node.kind = NodeKind::Not;
    node.children.push_back(*operand);
    return add(std::move(node));
  }

  Result<uint32_t> parse_primary() {
    if (peek().kind == TokenKind::LParen) {
      const Token& open = advance();
      if (++depth_ > kMaxFilterDepth) return fail(open, "the filter is nested too deeply");
      auto inner = parse_or();
      --depth_;
      if (!inner) return inner;
      if (peek().kind != TokenKind::RParen) {
        return fail(peek(), "expected ')' but found " + describe(peek()));
      }
      advance();
      return inner;
    }
    if (peek().kind == TokenKind::Word && peek(1).kind == TokenKind::LParen) return parse_call();
    return parse_comparison();
  }

  Status count_term(const Token& at) {
    if (++terms_ > kMaxFilterTerms) return fail(at, "the filter has too many terms");
    return {};
  }

  Result<Operand> parse_operand() {
    const Token& t = peek();
    Operand out;
    switch (t.kind) {
      case TokenKind::String:
        out.literal.kind = LiteralKind::String;
        out.literal.text = t.text;
        out.literal.time = try_parse_iso8601(t.text);
        break;
      case TokenKind::DateTime:
        out.literal.kind = LiteralKind::DateTime;
        out.literal.text = t.text;
        out.literal.time = try_parse_iso8601(t.text);
        if (!out.literal.time) return fail(t, "invalid datetime literal '" + t.text + "'");
        break;
      case TokenKind::Number:
        out.literal = number_literal(t.text);
        break;
      case TokenKind::Word:
        if (text::iequals(t.text, "null")) {
          out.literal.kind = LiteralKind::Null;
        } else if (text::iequals(t.text, "true") || text::iequals(t.text, "false")) {
          out.literal.kind = LiteralKind::Bool;
          out.literal.boolean = text::iequals(t.text, "true");
        } else if (is_reserved(t.text)) {
          return fail(t, "expected a property or a value but found " + describe(t));
        } else {
          out.is_path = true;
          out.path = split_path(t.text);
        }
        break;
      default:
        return fail(t, "expected a property or a value but found " + describe(t));
    }
    advance();
    return out;
  }

  Result<uint32_t> parse_comparison() {
    const Token& start = peek();
    if (auto counted = count_term(start); !counted) return counted.error();
    auto left = parse_operand();
    if (!left) return left.error();
    const auto op = compare_op(peek());
    if (!op) {
      return fail(peek(), "expected a comparison operator (eq, ne, gt, ge, lt, le) but found " +
                              describe(peek()));
    }
    advance();
    auto right = parse_operand();
    if (!right) return right.error();
    if (left->is_path == right->is_path) {
      return fail(start, left->is_path ? "comparing two properties is not supported"
                                       : "a comparison needs a property on one side");
    }
    Node node;
    node.kind = NodeKind::Compare;
    node.op = left->is_path ? *op : mirrored(*op);
    Operand& property = left->is_path ? *left : *right;
    Operand& value = left->is_path ? *right : *left;
    node.path = std::move(property.path);
    node.literal = std::move(value.literal);
    return add(std::move(node));
  }

  // startswith(path, 'prefix'), optionally compared with true or false.
  Result<uint32_t> parse_call() {
    const Token& name = advance();
    if (!text::iequals(name.text, "startswith")) {
      return fail(name, "unsupported function '" + name.text + "'");
    }
    if (auto counted = count_term(name); !counted) return counted.error();
    advance();  // '('
    auto property = parse_operand();
    if (!property) return property.error();
    if (!property->is_path) return fail(name, "startswith needs a property as its first argument");
    if (peek().kind != TokenKind::Comma) {
      return fail(peek(), "expected ',' but found " + describe(peek()));
    }
    advance();
    if (peek().kind != TokenKind::String) {
      return fail(peek(), "startswith needs a string as its second argument");
    }
    Node node;
    node.kind = NodeKind::StartsWith;
    node.path = std::move(property->path);
    node.literal.kind = LiteralKind::String;
    node.literal.text = advance().text;
    if (peek().kind != TokenKind::RParen) {
      return fail(peek(), "expected ')' but found " + describe(peek()));
    }
    advance();
    const uint32_t call = add(std::move(node));
    return compare_with_bool(call);
  }

  // "startswith(...) eq true" and friends: the OData v3 spelling of a boolean function.
  Result<uint32_t> compare_with_bool(uint32_t call) {
    const auto op = compare_op(peek());
    if (!op) return call;
    const Token& op_token = peek();
    const bool is_bool = at_keyword("true", 1) || at_keyword("false", 1);
    if ((*op != CompareOp::Eq && *op != CompareOp::Ne) || !is_bool) {
      return fail(op_token, "startswith can only be compared with eq or ne and true or false");
    }
    advance();
    const bool want_true = text::iequals(advance().text, "true") == (*op == CompareOp::Eq);
    if (want_true) return call;
    Node negation;
    negation.kind = NodeKind::Not;
    negation.children.push_back(call);
    return add(std::move(negation));
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  std::size_t next_ = 0;
  int depth_ = 0;
  int terms_ = 0;
  FilterProgram program_;
};

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

}  // namespace

Result<Filter> parse_filter(std::string_view text) {
  if (text.size() > kMaxFilterLength) {
    return errors::invalid_query(
        kParameter, text,
        "the filter is longer than " + std::to_string(kMaxFilterLength) + " characters");
  }
  if (is_blank(text)) return Filter();
  std::vector<Token> tokens;
  if (auto lex_error = detail::tokenize(text, tokens)) {
    return errors::invalid_query(
        kParameter, text,
        lex_error->reason + " at character " + std::to_string(lex_error->pos + 1));
  }
  auto program = Parser(text, std::move(tokens)).run();
  if (!program) return program.error();
  return Filter(std::make_shared<const FilterProgram>(std::move(*program)));
}

}  // namespace openbatch::odata

namespace openbatch::odata {

Result<Filter> parse_filter_for(std::string_view text, std::string_view entity) {
  auto filter = parse_filter(text);
  if (!filter) return filter;
  if (auto unknown = filter->unknown_property(entity_properties(entity))) {
    return errors::invalid_query(kParameter, text,
                                 "'" + *unknown + "' is not a property of " + std::string(entity) +
                                     " that can be filtered on");
  }
  return filter;
}

}  // namespace openbatch::odata
