#include "core/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

extern char** environ;

namespace strom {

namespace {

constexpr uint64_t kPollMs = 100;  // only without pidfd_open (Linux < 5.3)

int pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
    return int(syscall(SYS_pidfd_open, pid, 0));
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

}  // namespace

ChildProcess::ChildProcess(EventLoop& loop) : loop_(loop)
{
    kill_timer_.fn = &ChildProcess::on_kill_timer;
    kill_timer_.arg = this;
    poll_timer_.fn = &ChildProcess::on_poll_timer;
    poll_timer_.arg = this;
}

ChildProcess::~ChildProcess()
{
    loop_.cancel_timer(kill_timer_);
    loop_.cancel_timer(poll_timer_);
}

int ChildProcess::exit_code(int status)
{
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

// posix_spawn: glibc's is clone(CLONE_VM | CLONE_VFORK) + exec, so the worker's address
// space is not copied, and an exec failure comes back as the return value. The worker
// blocks its signals for the signalfd: the child gets an empty mask and every signal at
// its default. closefrom(3) also catches an fd some library opened without O_CLOEXEC.
Rc ChildProcess::spawn(const std::vector<std::string>& argv, int out_fd, ChildHandler* h, int* err)
{
    if (running() || argv.empty()) {
        *err = running() ? EBUSY : EINVAL;
        return Rc::error;
    }
    std::vector<char*> cargv;
    for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&fa);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (out_fd >= 0) {
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
        posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
    } else {
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
    }
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, cargv[0], &fa, &attr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        *err = rc;
        return Rc::error;
    }
    pid_ = pid;
    h_ = h;
    // The child cannot be reaped by anyone else (the worker never waits for -1), so even
    // if it has exited already the pid is still its own zombie and pidfd_open finds it.
    int pfd = pidfd_open(pid);
    if (pfd >= 0) {
        fcntl(pfd, F_SETFD, FD_CLOEXEC);
        pidfd_.reset(pfd);
        // A child that has exited already makes the pidfd readable at once: epoll
        // reports that readiness on EPOLL_CTL_ADD, edge-triggered or not.
        if (reg_.add(loop_, pfd, EPOLLIN, this) == Rc::ok) return Rc::ok;
        pidfd_.reset();
    }
    loop_.add_timer(poll_timer_, kPollMs);
    return Rc::ok;
}

void ChildProcess::kill(uint64_t grace_ms)
{
    if (!running()) return;
    if (grace_ms == 0) {
        ::kill(-pid_, SIGKILL);
        return;
    }
    ::kill(-pid_, SIGTERM);
    loop_.add_timer(kill_timer_, grace_ms);
}

// True when the child was reaped (and the handler told: `this` may be gone).
bool ChildProcess::try_reap()
{
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR)) return false;
    if (r < 0) status = -1;  // ECHILD: reaped elsewhere (SIGCHLD ignored); status unknown
    reg_.reset();
    pidfd_.reset();
    loop_.cancel_timer(kill_timer_);
    loop_.cancel_timer(poll_timer_);
    pid_ = -1;
    ChildHandler* h = h_;
    h_ = nullptr;
    if (h) h->on_child_exit(*this, status);
    return true;
}

void ChildProcess::on_io(uint32_t)
{
    if (running()) (void)try_reap();
}

void ChildProcess::on_kill_timer(Timer& t)
{
    auto* c = static_cast<ChildProcess*>(t.arg);
    // The leader is not reaped yet, so its pid is still the group's id: no other
    // process can have taken it.
    if (c->running()) ::kill(-c->pid_, SIGKILL);
}

void ChildProcess::on_poll_timer(Timer& t)
{
    auto* c = static_cast<ChildProcess*>(t.arg);
    if (!c->running() || c->try_reap()) return;
    c->loop_.add_timer(t, kPollMs);
}

}  // namespace strom
