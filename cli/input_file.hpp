// Reading the files commands take (-f pool.json, task files, package zips): whole files as
// bytes, "-" meaning standard input; JSON entity files must hold one object. Failures are
// usage errors naming the file.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace openbatch::cli {

Result<std::string> read_input(const std::string& path);

// The JSON object in `path` (for pool.json, job.json).
Result<nlohmann::json> read_json_object(const std::string& path);

}  // namespace openbatch::cli
