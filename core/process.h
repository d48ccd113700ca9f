// The process model: the master reads the configuration, binds the listeners, writes
// the pid file and forks the workers; it respawns dead workers (with a back-off for a
// crash loop), reloads on SIGHUP (a bad new config changes nothing; a good one starts a
// new generation of workers and drains the old one), stops fast on SIGTERM/SIGINT and
// gracefully on SIGQUIT, and reopens logs on SIGUSR1. Workers run the event loop.
#pragma once

#include <sys/types.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/cycle.h"
#include "core/module.h"

namespace strom {

class EventLoop;
class ConnectionTable;

struct ProcessOptions {
    std::string prefix;      // -p
    std::string conf_path;   // -c
    std::string global;      // -g
};

// What a worker's modules can reach: the loop and connection table of this process.
struct WorkerContext {
    EventLoop* loop = nullptr;
    ConnectionTable* conns = nullptr;
    Cycle* cycle = nullptr;
    int index = 0;            // 0 .. worker_processes-1
    uint32_t generation = 0;  // increases at every reload
    bool draining = false;
};
// The running worker's context (nullptr in the master and in unit tests).
WorkerContext* current_worker();

// Runs the master until it stops; returns the process exit status.
int run_master(std::span<Module* const> modules, const ProcessOptions& opt,
               std::unique_ptr<Cycle> cycle);

// Runs one worker in the current process (used by the master after fork, and with
// `master_process off` for debugging). Returns the exit status.
int run_worker(Cycle& cycle, std::span<Module* const> modules, const std::vector<int>& listen_fds,
               int index, uint32_t generation);

}  // namespace strom
