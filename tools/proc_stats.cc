#include "tools/proc_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace strom::tools {

namespace {

// Fields 14 (utime), 15 (stime) and 24 (rss, pages) of /proc/PID/stat (proc(5)); the
// command name in field 2 may hold spaces and parentheses, so parse after the last ')'.
bool read_stat(int pid, double* cpu_s, uint64_t* rss)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE* f = fopen(path, "re");
    if (!f) return false;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char* p = strrchr(buf, ')');
    if (!p) return false;
    p += 2;  // the state field (3)
    unsigned long long utime = 0, stime = 0;
    long long rss_pages = 0;
    int field = 3;
    for (char* tok = strtok(p, " "); tok; tok = strtok(nullptr, " "), ++field) {
        if (field == 14) utime = strtoull(tok, nullptr, 10);
        if (field == 15) stime = strtoull(tok, nullptr, 10);
        if (field == 24) {
            rss_pages = strtoll(tok, nullptr, 10);
            break;
        }
    }
    static const double tick = double(sysconf(_SC_CLK_TCK));
    static const long page = sysconf(_SC_PAGESIZE);
    *cpu_s = double(utime + stime) / tick;
    *rss = rss_pages > 0 ? uint64_t(rss_pages) * uint64_t(page) : 0;
    return true;
}

void children_of(int pid, std::vector<int>* out)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    DIR* d = opendir(path);
    if (!d) return;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::string cpath = std::string(path) + "/" + e->d_name + "/children";
        FILE* f = fopen(cpath.c_str(), "re");
        if (!f) continue;
        int child = 0;
        while (fscanf(f, "%d", &child) == 1) out->push_back(child);
        fclose(f);
    }
    closedir(d);
}

}  // namespace

ProcSample sample_process_tree(int pid)
{
    ProcSample s;
    std::vector<int> pending{pid};
    for (size_t i = 0; i < pending.size() && i < 4096; ++i) {
        double cpu = 0;
        uint64_t rss = 0;
        if (!read_stat(pending[i], &cpu, &rss)) {
            if (i == 0) return s;
            continue;
        }
        s.cpu_s += cpu;
        s.rss_bytes += rss;
        ++s.processes;
        children_of(pending[i], &pending);
    }
    s.ok = true;
    return s;
}

double self_cpu_seconds()
{
    rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace strom::tools
