// A program run by the worker without a shell (exec_record_done now; exec hooks and
// respawned pulls later): argv as given, looked up in PATH, stdin on /dev/null,
// stdout/stderr on a given fd (the error log) or /dev/null, no other descriptor, its own
// process group, an empty signal mask and default dispositions. It is reaped through the
// loop (a pidfd, Linux >= 5.3; else a 100 ms waitpid poll of this pid only), never by a
// blocking wait. Owned by its user; destroying it while the child runs neither kills nor
// waits for it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/event_loop.h"
#include "core/rc.h"
#include "core/timer.h"
#include "core/unique_fd.h"

namespace strom {

class ChildProcess;

class ChildHandler {
public:
    // From the loop, once the child has been reaped. `status` is waitpid()'s (see
    // ChildProcess::exit_code). The handler may destroy the ChildProcess here.
    virtual void on_child_exit(ChildProcess& c, int status) = 0;

protected:
    ~ChildHandler() = default;
};

class ChildProcess final : private IoHandler {
public:
    explicit ChildProcess(EventLoop& loop);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    // Starts argv[0] (PATH search, no shell). out_fd: stdout and stderr (-1: /dev/null).
    // Rc::error with *err an errno value (a missing program is ENOENT) and no child.
    Rc spawn(const std::vector<std::string>& argv, int out_fd, ChildHandler* h, int* err);
    // SIGTERM to the child's process group, then SIGKILL to it after grace_ms if the child
    // has not exited (grace_ms 0: SIGKILL at once). The exit is reported as usual.
    void kill(uint64_t grace_ms);

    bool running() const { return pid_ > 0; }
    pid_t pid() const { return pid_; }
    // The exit status, or 128 + the signal that ended it (as a shell reports it).
    static int exit_code(int status);

private:
    void on_io(uint32_t events) override;  // the pidfd
    bool try_reap();
    static void on_kill_timer(Timer& t);
    static void on_poll_timer(Timer& t);

    EventLoop& loop_;
    ChildHandler* h_ = nullptr;
    pid_t pid_ = -1;
    UniqueFd pidfd_;
    IoReg reg_;  // after pidfd_: dies first
    Timer kill_timer_;
    Timer poll_timer_;
};

}  // namespace strom
