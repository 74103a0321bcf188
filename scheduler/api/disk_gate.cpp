// The low-disk refusal decision (see disk_gate.hpp).
#include "scheduler/api/disk_gate.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace openbatch::api {
namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// POST actions that stop work or shrink a pool: they free space or stop what fills it.
constexpr std::array<std::string_view, 5> kStoppingActions = {"terminate", "disable", "removenodes",
                                                              "stopresize", "disablescheduling"};

}  // namespace

bool refused_when_disk_low(std::string_view method, const std::vector<std::string>& segments) {
  if (iequal(method, "GET") || iequal(method, "HEAD") || iequal(method, "DELETE")) return false;
  if (iequal(method, "POST") && !segments.empty()) {
    const std::string& last = segments.back();
    for (std::string_view action : kStoppingActions) {
      if (iequal(last, action)) return false;
    }
  }
  return true;
}

}  // namespace openbatch::api
