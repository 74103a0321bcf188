// Whole-machine CPU from /proc/stat, in seconds: what the benchmarks print beside their own
// processes' CPU so noise from other processes is visible.
#pragma once

#include <fstream>
#include <string>
#include <unistd.h>

namespace openbatch::bench {

struct MachineCpu {
  double busy = 0;  // user + nice + system + irq + softirq + steal
  double idle = 0;
  double iowait = 0;
};

inline MachineCpu read_machine_cpu() {
  const double hz = double(sysconf(_SC_CLK_TCK));
  std::ifstream stat("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  return {(user + nice + system + irq + softirq + steal) / hz, idle / hz, iowait / hz};
}

}  // namespace openbatch::bench
