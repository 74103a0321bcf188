// mpi_hello: every rank prints "hello from rank R of N on HOST" (HOST from
// MPI_Get_processor_name); rank 0 gathers all names and prints, last,
// "ranks: N, distinct hosts: H" (after MPI_Finalize, so that it comes out after every hello
// line that mpirun forwards).
#include "common.hpp"

#include <cstdio>
#include <mpi.h>
#include <set>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  const auto [rank, size] = mpi_examples::init(&argc, &argv);
  const std::string host = mpi_examples::processor_name();

  std::printf("hello from rank %d of %d on %s\n", rank, size, host.c_str());
  std::fflush(stdout);

  // Fixed-size records so one MPI_Gather brings every name to rank 0.
  std::vector<char> mine(MPI_MAX_PROCESSOR_NAME, '\0');
  host.copy(mine.data(), mine.size() - 1);
  std::vector<char> all(rank == 0 ? static_cast<std::size_t>(size) * MPI_MAX_PROCESSOR_NAME : 0);
  MPI_Gather(mine.data(), MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(), MPI_MAX_PROCESSOR_NAME,
             MPI_CHAR, 0, MPI_COMM_WORLD);
  int distinct = 0;
  if (rank == 0) {
    std::set<std::string> hosts;
    for (int r = 0; r < size; ++r) {
      hosts.emplace(all.data() + static_cast<std::size_t>(r) * MPI_MAX_PROCESSOR_NAME);
    }
    distinct = static_cast<int>(hosts.size());
  }
  // Output of remote ranks reaches mpirun through their node's daemon, behind a barrier's
  // messages; MPI_Finalize's fence goes the same way after it, so a summary printed after
  // finalize comes out after every hello line.
  MPI_Finalize();
  if (rank == 0) {
    std::printf("ranks: %d, distinct hosts: %d\n", size, distinct);
    std::fflush(stdout);
  }
  return 0;
}
