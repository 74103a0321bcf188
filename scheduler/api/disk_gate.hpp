// Which requests are refused while the data directory's disk space is low (DiskGuard): every
// write that adds or grows state -- creates, adds, updates, package uploads, actions that
// start work -- but never reads, deletes, or the actions that stop work or shrink a pool
// (terminate, disable, removenodes, stopresize, disablescheduling), so a person can always
// free space and stop what fills it. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace openbatch::api {

// `method` is the HTTP verb ("POST"), `segments` the decoded path segments.
bool refused_when_disk_low(std::string_view method, const std::vector<std::string>& segments);

}  // namespace openbatch::api
