// Small helpers shared by the MPI examples: the processor name as a std::string, and parsing of
// the few numeric command-line options they take. Header-only, MPI C API only.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <mpi.h>
#include <string>
#include <string_view>

namespace mpi_examples {

// MPI_Init, then this process's place in MPI_COMM_WORLD.
struct World {
  int rank = 0;
  int size = 0;
};
inline World init(int* argc, char*** argv) {
  MPI_Init(argc, argv);
  World world;
  MPI_Comm_rank(MPI_COMM_WORLD, &world.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world.size);
  return world;
}

inline std::string processor_name() {
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int len = 0;
  MPI_Get_processor_name(name, &len);
  return std::string(name, static_cast<std::size_t>(len));
}

// Looks for `--NAME VALUE` or `--NAME=VALUE` in argv; returns `fallback` when absent. Sets `ok`
// to false (and keeps `fallback`) when the value is not a positive integer.
inline long positive_option(int argc, char** argv, std::string_view name, long fallback, bool& ok) {
  const std::string flag = "--" + std::string(name);
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string value;
    if (arg == flag && i + 1 < argc) {
      value = argv[i + 1];
    } else if (arg.substr(0, flag.size() + 1) == flag + "=") {
      value = std::string(arg.substr(flag.size() + 1));
    } else {
      continue;
    }
    char* end = nullptr;
    const long parsed = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || parsed <= 0) {
      ok = false;
      return fallback;
    }
    return parsed;
  }
  return fallback;
}

}  // namespace mpi_examples
