// mpi_allreduce: times MPI_Allreduce (MPI_SUM over doubles) for vectors of 1 .. 1M elements.
// Every element on rank r is r, so every element of the result must be N(N-1)/2; the program
// checks that after every call. Rank 0 prints one row per size -- elements and the average,
// minimum and maximum time of one call in microseconds over all ranks and `--iterations`
// calls (default 100; fewer for the largest vectors) -- then "result: ok" (exit 0) or
// "result: FAILED ..." (exit 1).
#include "common.hpp"

#include <algorithm>
#include <cstdio>
#include <mpi.h>
#include <vector>

namespace {

constexpr long kSizes[] = {1, 16, 256, 4096, 65536, 1048576};
constexpr long kBigElements = 4096;  // above this, iterations shrink with the size

long iterations_for(long elements, long requested) {
  if (elements <= kBigElements) return requested;
  return std::max(5L, requested * kBigElements / elements);
}

}  // namespace

int main(int argc, char** argv) {
  const auto [rank, size] = mpi_examples::init(&argc, &argv);

  bool ok = true;
  const long iterations = mpi_examples::positive_option(argc, argv, "iterations", 100, ok);
  if (!ok) {
    if (rank == 0) std::fprintf(stderr, "mpi_allreduce: --iterations needs a positive integer\n");
    MPI_Finalize();
    return 2;
  }

  const double expected = static_cast<double>(size) * (size - 1) / 2.0;
  long wrong = 0;  // elements that differed from `expected`, over all sizes and calls
  if (rank == 0) {
    std::printf("allreduce (MPI_SUM, double) over %d ranks\n", size);
    std::printf("%10s  %12s  %12s  %12s\n", "elements", "avg_us", "min_us", "max_us");
    std::fflush(stdout);
  }
  for (const long elements : kSizes) {
    const long rounds = iterations_for(elements, iterations);
    std::vector<double> in(static_cast<std::size_t>(elements), static_cast<double>(rank));
    std::vector<double> out(static_cast<std::size_t>(elements), -1.0);
    // One untimed call to set up connections and buffers.
    MPI_Allreduce(in.data(), out.data(), static_cast<int>(elements), MPI_DOUBLE, MPI_SUM,
                  MPI_COMM_WORLD);
    double sum = 0;
    double lo = 1e30;
    double hi = 0;
    for (long i = 0; i < rounds; ++i) {
      std::fill(out.begin(), out.end(), -1.0);
      MPI_Barrier(MPI_COMM_WORLD);
      const double start = MPI_Wtime();
      MPI_Allreduce(in.data(), out.data(), static_cast<int>(elements), MPI_DOUBLE, MPI_SUM,
                    MPI_COMM_WORLD);
      const double us = (MPI_Wtime() - start) * 1e6;
      sum += us;
      lo = std::min(lo, us);
      hi = std::max(hi, us);
      wrong += std::count_if(out.begin(), out.end(), [&](double v) { return v != expected; });
    }
    double total_sum = 0;
    double total_lo = 0;
    double total_hi = 0;
    MPI_Reduce(&sum, &total_sum, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Reduce(&lo, &total_lo, 1, MPI_DOUBLE, MPI_MIN, 0, MPI_COMM_WORLD);
    MPI_Reduce(&hi, &total_hi, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (rank == 0) {
      const double avg = total_sum / static_cast<double>(rounds) / size;
      std::printf("%10ld  %12.2f  %12.2f  %12.2f\n", elements, avg, total_lo, total_hi);
      std::fflush(stdout);
    }
  }

  long wrong_total = 0;
  MPI_Reduce(&wrong, &wrong_total, 1, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
  int status = 0;
  if (rank == 0) {
    if (wrong_total == 0) {
      std::printf("result: ok\n");
    } else {
      std::printf("result: FAILED (%ld elements differed from %.0f)\n", wrong_total, expected);
      status = 1;
    }
    std::fflush(stdout);
  }
  MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Finalize();
  return status;
}
