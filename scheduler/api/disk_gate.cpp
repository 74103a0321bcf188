// The low-disk refusal decision (see disk_gate.hpp).
#include "scheduler/api/disk_gate.hpp"

#include "common/text/ascii.hpp"

#include <algorithm>
#include <array>

namespace openbatch::api {
namespace {

// POST actions that stop work or shrink a pool: they free space or stop what fills it.
constexpr std::array<std::string_view, 5> kStoppingActions = {"terminate", "disable", "removenodes",
                                                              "stopresize", "disablescheduling"};

}  // namespace

bool refused_when_disk_low(std::string_view method, const std::vector<std::string>& segments) {
  if (text::iequals(method, "GET") || text::iequals(method, "HEAD") ||
      text::iequals(method, "DELETE"))
    return false;
  if (text::iequals(method, "POST") && !segments.empty()) {
    const std::string& last = segments.back();
    for (std::string_view action : kStoppingActions) {
      if (text::iequals(last, action)) return false;
    }
  }
  return true;
}

}  // namespace openbatch::api
