// CPU time and memory of a server process and all its descendants (master + workers),
// read from /proc, and this process's own CPU time: the bench's cost figures.
#pragma once

#include <cstdint>

namespace strom::tools {

struct ProcSample {
    bool ok = false;
    double cpu_s = 0;        // utime + stime of the process and every live descendant
    uint64_t rss_bytes = 0;  // resident set of them all
    uint32_t processes = 0;
};

// Samples pid and its descendants (through /proc/PID/task/TID/children).
ProcSample sample_process_tree(int pid);
// user + system CPU seconds of this process so far.
double self_cpu_seconds();

}  // namespace strom::tools
