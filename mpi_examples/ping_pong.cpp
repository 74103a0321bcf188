// mpi_ping_pong: point-to-point latency and bandwidth between ranks 0 and 1 (exactly two ranks).
// For message sizes 1 B .. 4 MiB (powers of 4) it bounces a buffer back and forth
// `--iterations` times (default 100; fewer for sizes above 64 KiB) after a short warm-up and
// prints, on rank 0, one row per size: bytes, one-way latency in microseconds (half the mean
// round trip) and bandwidth in MB/s (10^6 bytes per second).
#include "common.hpp"

#include <algorithm>
#include <cstdio>
#include <mpi.h>
#include <string>
#include <vector>

namespace {

constexpr long kMaxBytes = 4L << 20;   // 4 MiB
constexpr long kBigBytes = 64L << 10;  // above this, iterations shrink with the size
constexpr int kTag = 17;

// Round trips for `bytes`: the requested count up to 64 KiB, then proportionally fewer (at
// least 10), so the largest sizes take about as long as 64 KiB does.
long iterations_for(long bytes, long requested) {
  if (bytes <= kBigBytes) return requested;
  return std::max(10L, requested * kBigBytes / bytes);
}

}  // namespace

int main(int argc, char** argv) {
  const auto [rank, size] = mpi_examples::init(&argc, &argv);

  bool ok = true;
  const long iterations = mpi_examples::positive_option(argc, argv, "iterations", 100, ok);
  if (!ok || size != 2) {
    if (rank == 0) {
      if (!ok) {
        std::fprintf(stderr, "mpi_ping_pong: --iterations needs a positive integer\n");
      } else {
        std::fprintf(stderr, "mpi_ping_pong: needs exactly 2 ranks, got %d (mpirun -np 2 ...)\n",
                     size);
      }
    }
    MPI_Finalize();
    return 2;
  }

  // Both host names on rank 0 for the first line.
  const std::string host = mpi_examples::processor_name();
  std::vector<char> peer(MPI_MAX_PROCESSOR_NAME, '\0');
  if (rank == 1) {
    std::vector<char> mine(MPI_MAX_PROCESSOR_NAME, '\0');
    host.copy(mine.data(), mine.size() - 1);
    MPI_Send(mine.data(), MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0, kTag, MPI_COMM_WORLD);
  } else {
    MPI_Recv(peer.data(), MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 1, kTag, MPI_COMM_WORLD,
             MPI_STATUS_IGNORE);
    std::printf("ping-pong between rank 0 on %s and rank 1 on %s\n", host.c_str(), peer.data());
    std::printf("%10s  %12s  %14s\n", "bytes", "latency_us", "bandwidth_MBps");
    std::fflush(stdout);
  }

  std::vector<char> buffer(kMaxBytes, 'x');
  const int other = 1 - rank;
  for (long bytes = 1; bytes <= kMaxBytes; bytes *= 4) {
    const int count = static_cast<int>(bytes);
    const long rounds = iterations_for(bytes, iterations);
    const long warmup = std::min(rounds, 5L);
    double start = 0;
    for (long i = 0; i < warmup + rounds; ++i) {
      if (i == warmup) {
        MPI_Barrier(MPI_COMM_WORLD);
        start = MPI_Wtime();
      }
      if (rank == 0) {
        MPI_Send(buffer.data(), count, MPI_CHAR, other, kTag, MPI_COMM_WORLD);
        MPI_Recv(buffer.data(), count, MPI_CHAR, other, kTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      } else {
        MPI_Recv(buffer.data(), count, MPI_CHAR, other, kTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(buffer.data(), count, MPI_CHAR, other, kTag, MPI_COMM_WORLD);
      }
    }
    const double elapsed = MPI_Wtime() - start;
    if (rank == 0) {
      const double latency_us = elapsed / static_cast<double>(rounds) / 2.0 * 1e6;
      const double mbps = static_cast<double>(bytes) / latency_us;  // bytes/us == MB/s
      std::printf("%10ld  %12.2f  %14.2f\n", bytes, latency_us, mbps);
      std::fflush(stdout);
    }
  }
  MPI_Finalize();
  return 0;
}
