// Plain-text tables for terminal output: a header row and rows of cells, each column as wide
// as its widest cell, separated by two spaces, the last column not padded. Also the
// "NAME: value" layout of a single entity. Pure functions over values; thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace openbatch::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // A row with fewer cells than headers is padded with empty cells; extra cells are dropped.
  void add_row(std::vector<std::string> cells);

  std::size_t rows() const { return rows_.size(); }

  // The header line and every row, each ending in '\n'. Widths count UTF-8 code points, and
  // control characters in cells (newlines, tabs) print as spaces so rows stay one line.
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// One "label:  value" line per pair, values aligned after the longest label. Multi-line
// values continue on lines indented to the value column.
std::string render_properties(const std::vector<std::pair<std::string, std::string>>& properties);

// Shortens `text` to at most `max_chars` code points, ending in "..." when cut.
std::string truncate(const std::string& text, std::size_t max_chars);

// Code points in a UTF-8 string (continuation bytes not counted).
std::size_t display_width(const std::string& text);

}  // namespace openbatch::cli
