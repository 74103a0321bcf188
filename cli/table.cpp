// Aligned plain-text tables (see table.hpp).
#include "cli/table.hpp"

#include <algorithm>

namespace openbatch::cli {
namespace {

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Cells print on one line: control characters become spaces.
std::string one_line(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

void pad_to(std::string& line, std::size_t width, std::size_t current) {
  if (current < width) line.append(width - current, ' ');
}

}  // namespace

std::size_t display_width(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return !is_continuation(static_cast<unsigned char>(c));
  }));
}

std::string truncate(const std::string& text, std::size_t max_chars) {
  if (display_width(text) <= max_chars) return text;
  const std::size_t keep = max_chars > 3 ? max_chars - 3 : 0;
  std::size_t points = 0;
  std::size_t i = 0;
  for (; i < text.size(); ++i) {
    if (!is_continuation(static_cast<unsigned char>(text[i]))) {
      if (points == keep) break;
      ++points;
    }
  }
  return text.substr(0, i) + std::string(std::min<std::size_t>(3, max_chars), '.');
}

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  for (auto& cell : cells) cell = one_line(cell);
  rows_.push_back(std::move(cells));
}

std::string Table::render() const {
  std::vector<std::size_t> widths;
  for (const auto& h : headers_) widths.push_back(display_width(h));
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], display_width(row[i]));
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      line += cells[i];
      if (i + 1 < cells.size()) {
        line.append(widths[i] - display_width(cells[i]) + 2, ' ');
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  emit(headers_);
  for (const auto& row : rows_) emit(row);
  return out;
}

std::string render_properties(const std::vector<std::pair<std::string, std::string>>& properties) {
  std::size_t width = 0;
  for (const auto& [label, value] : properties) width = std::max(width, display_width(label) + 1);
  std::string out;
  for (const auto& [label, value] : properties) {
    std::string line = label + ":";
    pad_to(line, width + 2, display_width(label) + 1);
    std::size_t start = 0;
    for (;;) {
      const std::size_t nl = value.find('\n', start);
      line += value.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line;
      out += '\n';
      if (nl == std::string::npos) break;
      start = nl + 1;
      line.assign(width + 2, ' ');
    }
  }
  return out;
}

}  // namespace openbatch::cli
