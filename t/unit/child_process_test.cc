// ChildProcess: programs run without a shell, reaped through the loop (no zombie left),
// a process group killed with SIGTERM then SIGKILL, spawn errors, what the child inherits
// (no parent fds, stdout on the given fd, a clean signal mask); and Backoff.
#include "core/child_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "core/backoff.h"
#include "core/event_loop.h"

using namespace strom;

namespace {

struct Exit final : ChildHandler {
    int calls = 0;
    int status = -2;
    pid_t pid_seen = -1;
    void on_child_exit(ChildProcess& c, int st) override
    {
        ++calls;
        status = st;
        pid_seen = c.pid();
    }
};

template <class F>
bool run_until(EventLoop& loop, F done, int ms)
{
    loop.update_time();
    uint64_t end = loop.now() + uint64_t(ms);
    while (!done()) {
        if (loop.now() >= end) return false;
        (void)loop.run_once(20);
    }
    return true;
}

bool proc_exists(pid_t pid)
{
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    if (!f) return false;
    std::string line;
    std::getline(f, line);
    size_t p = line.rfind(')');
    return p != std::string::npos && p + 2 < line.size() && line[p + 2] != 'Z';
}

bool zombie_or_alive(pid_t pid)
{
    return access(("/proc/" + std::to_string(pid)).c_str(), F_OK) == 0;
}

}  // namespace

TEST(ChildProcess, TrueExitsZeroThroughTheLoopAndLeavesNoZombie)
{
    EventLoop loop;
    ChildProcess c(loop);
    Exit e;
    int err = 0;
    ASSERT_EQ(c.spawn({"/bin/true"}, -1, &e, &err), Rc::ok) << strerror(err);
    pid_t pid = c.pid();
    EXPECT_TRUE(c.running());
    EXPECT_EQ(e.calls, 0);  // never reported from inside spawn
    ASSERT_TRUE(run_until(
        loop, [&] { return e.calls > 0; }, 5000));
    EXPECT_EQ(e.calls, 1);
    EXPECT_TRUE(WIFEXITED(e.status));
    EXPECT_EQ(ChildProcess::exit_code(e.status), 0);
    EXPECT_FALSE(c.running());
    EXPECT_FALSE(zombie_or_alive(pid)) << "pid " << pid << " still in /proc";
}

TEST(ChildProcess, ShellExitStatusIsDelivered)
{
    EventLoop loop;
    ChildProcess c(loop);
    Exit e;
    int err = 0;
    ASSERT_EQ(c.spawn({"/bin/sh", "-c", "exit 3"}, -1, &e, &err), Rc::ok);
    pid_t pid = c.pid();
    ASSERT_TRUE(run_until(
        loop, [&] { return e.calls > 0; }, 5000));
    EXPECT_EQ(ChildProcess::exit_code(e.status), 3);
    EXPECT_FALSE(zombie_or_alive(pid));
    // The same object runs another program afterwards.
    ASSERT_EQ(c.spawn({"/bin/sh", "-c", "exit 4"}, -1, &e, &err), Rc::ok);
    ASSERT_TRUE(run_until(
        loop, [&] { return e.calls > 1; }, 5000));
    EXPECT_EQ(ChildProcess::exit_code(e.status), 4);
}

TEST(ChildProcess, KillReachesTheWholeGroupEvenWhenItIgnoresSigterm)
{
    EventLoop loop;
    ChildProcess c(loop);
    Exit e;
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    int err = 0;
    // The background sleep is in the group too; both ignore SIGTERM.
    ASSERT_EQ(c.spawn({"/bin/sh", "-c", "trap '' TERM; sleep 30 & echo $!; wait; sleep 30"}, p[1],
                      &e, &err),
              Rc::ok);
    close(p[1]);
    char buf[32] = {};
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    close(p[0]);
    ASSERT_GT(n, 0);
    pid_t grandchild = pid_t(atoi(buf));
    ASSERT_GT(grandchild, 0);
    EXPECT_EQ(getpgid(grandchild), c.pid());
    loop.update_time();
    uint64_t t0 = loop.now();
    c.kill(300);
    // SIGTERM is ignored: still running well within the grace period
    (void)run_until(
        loop, [&] { return e.calls > 0; }, 150);
    EXPECT_EQ(e.calls, 0);
    ASSERT_TRUE(run_until(
        loop, [&] { return e.calls > 0; }, 5000));
    EXPECT_GE(loop.now() - t0, 290u);
    EXPECT_TRUE(WIFSIGNALED(e.status));
    EXPECT_EQ(ChildProcess::exit_code(e.status), 128 + SIGKILL);
    // The grandchild died with its group (reaped by init, or a zombie until then).
    ASSERT_TRUE(run_until(
        loop, [&] { return !proc_exists(grandchild); }, 5000));
}

TEST(ChildProcess, MissingProgramIsAnError)
{
    EventLoop loop;
    ChildProcess c(loop);
    Exit e;
    int err = 0;
    EXPECT_EQ(c.spawn({"/nonexistent/strom-no-such-program"}, -1, &e, &err), Rc::error);
    EXPECT_EQ(err, ENOENT);
    EXPECT_FALSE(c.running());
    EXPECT_EQ(c.spawn({"strom-no-such-program-in-path"}, -1, &e, &err), Rc::error);
    EXPECT_EQ(err, ENOENT);
    (void)loop.run_once(0);
    EXPECT_EQ(e.calls, 0);
}

TEST(ChildProcess, ParentDescriptorsAreNotInheritedAndStdoutGoesWhereAsked)
{
    EventLoop loop;
    int leak[2];
    ASSERT_EQ(pipe(leak), 0);  // no O_CLOEXEC on purpose
    int out[2];
    ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
    std::string script = "for f in " + std::to_string(leak[0]) + " " + std::to_string(leak[1]) +
                         "; do [ -e /proc/$$/fd/$f ] && echo leaked $f; done; echo ok; "
                         "[ -e /proc/$$/fd/0 ] && read x; echo stdin=$?";
    ChildProcess c(loop);
    Exit e;
    int err = 0;
    ASSERT_EQ(c.spawn({"/bin/sh", "-c", script}, out[1], &e, &err), Rc::ok);
    close(out[1]);
    std::string got;
    char buf[256];
    for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) got.append(buf, size_t(n));
    close(out[0]);
    close(leak[0]);
    close(leak[1]);
    ASSERT_TRUE(run_until(
        loop, [&] { return e.calls > 0; }, 5000));
    EXPECT_EQ(got, "ok\nstdin=1\n");  // nothing leaked; stdin is /dev/null (read hits EOF)
}

TEST(ChildProcess, SignalMaskAndDispositionsAreReset)
{
    EventLoop loop;
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    ASSERT_EQ(sigprocmask(SIG_BLOCK, &term, &old), 0);  // as the worker does for its signalfd
    struct sigaction ign = {}, old_int;
    ign.sa_handler = SIG_IGN;
    sigaction(SIGINT, &ign, &old_int);
    ChildProcess c(loop);
    Exit e;
    int err = 0;
    Rc rc = c.spawn({"/bin/sh", "-c", "kill -TERM $$; sleep 5; exit 0"}, -1, &e, &err);
    sigprocmask(SIG_SETMASK, &old, nullptr);
    sigaction(SIGINT, &old_int, nullptr);
    ASSERT_EQ(rc, Rc::ok);
    ASSERT_TRUE(run_until(
        loop, [&] { return e.calls > 0; }, 5000));
    EXPECT_EQ(ChildProcess::exit_code(e.status), 128 + SIGTERM);
}

TEST(ChildProcess, HandlerMayDestroyTheProcessObject)
{
    EventLoop loop;
    struct Owner final : ChildHandler {
        explicit Owner(EventLoop& l) : c(new ChildProcess(l)) {}
        void on_child_exit(ChildProcess&, int) override
        {
            delete c;
            c = nullptr;
        }
        ChildProcess* c;
    } o(loop);
    int err = 0;
    ASSERT_EQ(o.c->spawn({"/bin/true"}, -1, &o, &err), Rc::ok);
    ASSERT_TRUE(run_until(
        loop, [&] { return o.c == nullptr; }, 5000));
}

TEST(Backoff, DoublesToTheMaxAndResets)
{
    Backoff b(3000, 30000);
    EXPECT_EQ(b.next(), 3000u);
    EXPECT_EQ(b.next(), 6000u);
    EXPECT_EQ(b.next(), 12000u);
    EXPECT_EQ(b.next(), 24000u);
    EXPECT_EQ(b.next(), 30000u);
    EXPECT_EQ(b.next(), 30000u);
    b.reset();
    EXPECT_EQ(b.peek(), 3000u);
    EXPECT_EQ(b.next(), 3000u);
    Backoff odd(0, 0);  // never a zero delay: a tight respawn loop
    EXPECT_EQ(odd.next(), 1u);
    EXPECT_EQ(odd.next(), 1u);
}
