// A worker process: the event loop, the connection slots, the inherited listeners and
// the modules' per-process state. SIGQUIT drains (stop accepting, serve what is open
// until it ends or worker_shutdown_timeout), SIGTERM/SIGINT stop at once, SIGUSR1
// reopens the logs.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "core/connection.h"
#include "core/core_module.h"
#include "core/event_loop.h"
#include "core/file_sink.h"
#include "core/listener.h"
#include "core/log.h"
#include "core/process.h"

namespace strom {

namespace {

WorkerContext g_worker;
// Files still being written when the worker exits (a recording closed by the stop) get
// this long to reach the disk: under the master's 10 s before it SIGKILLs a worker.
constexpr uint64_t kFileDrainMs = 8000;
bool g_in_worker = false;

class Worker final : public SignalHandler {
public:
    Worker(Cycle& cycle, const CoreConf& cc)
        : cc_(cc), loop_(), conns_(loop_, uint32_t(cc.worker_connections))
    {
        (void)cycle;
        drain_timer_.fn = &Worker::on_drain_timer;
        drain_timer_.arg = this;
        deadline_timer_.fn = &Worker::on_deadline;
        deadline_timer_.arg = this;
    }

    EventLoop& loop() { return loop_; }
    ConnectionTable& conns() { return conns_; }
    std::vector<std::unique_ptr<Listener>> listeners;
    std::vector<int> listen_fds;

    void on_signal(int signo) override
    {
        switch (signo) {
        case SIGTERM:
        case SIGINT:
            STROM_LOG(notice, 0, "exiting (signal %d)", signo);
            conns_.close_all("worker stopping");
            loop_.stop();
            break;
        case SIGQUIT:
            start_drain();
            break;
        case SIGUSR1:
            if (Log::reopen() != Rc::ok) STROM_LOG(alert, 0, "reopening logs failed");
            break;
        default:
            break;
        }
    }

private:
    void start_drain()
    {
        if (g_worker.draining) return;
        g_worker.draining = true;
        STROM_LOG(notice, 0, "gracefully shutting down, %u connections open", conns_.active());
        listeners.clear();                      // stop accepting
        for (int fd : listen_fds) ::close(fd);  // the master and new workers keep theirs
        listen_fds.clear();
        loop_.add_timer(drain_timer_, 0);
        if (cc_.worker_shutdown_timeout > 0) loop_.add_timer(deadline_timer_, cc_.worker_shutdown_timeout);
    }

    static void on_drain_timer(Timer& t)
    {
        auto* w = static_cast<Worker*>(t.arg);
        w->conns_.for_each([](Connection& c) {
            if (c.handler() && c.handler()->idle()) c.close("worker shutting down");
        });
        if (w->conns_.active() == 0) {
            STROM_LOG(notice, 0, "exiting: all connections closed");
            w->loop_.stop();
            return;
        }
        w->loop_.add_timer(t, 100);
    }

    static void on_deadline(Timer& t)
    {
        auto* w = static_cast<Worker*>(t.arg);
        STROM_LOG(notice, 0, "worker_shutdown_timeout expired, closing %u connections",
                  w->conns_.active());
        w->conns_.close_all("worker shutdown timeout");
        w->loop_.stop();
    }

    const CoreConf& cc_;
    EventLoop loop_;
    ConnectionTable conns_;
    Timer drain_timer_;
    Timer deadline_timer_;
};

}  // namespace

WorkerContext* current_worker() { return g_in_worker ? &g_worker : nullptr; }

int run_worker(Cycle& cycle, std::span<Module* const> modules, const std::vector<int>& listen_fds,
               int index, uint32_t generation)
{
    const CoreConf& cc = core_conf(cycle);
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, nullptr);

    auto w = std::make_unique<Worker>(cycle, cc);
    if (!w->loop().ok()) {
        STROM_LOG(emerg, 0, "epoll_create1() failed");
        return 2;
    }
    g_worker = WorkerContext{&w->loop(), &w->conns(), &cycle, index, generation, false};
    g_in_worker = true;

    w->listen_fds = listen_fds;
    for (size_t i = 0; i < cycle.listens.size() && i < listen_fds.size(); ++i) {
        const ListenSpec& ls = cycle.listens[i];
        auto l = std::make_unique<Listener>(w->conns(), listen_fds[i], ls.proto, ls.server);
        if (l->start() != Rc::ok) {
            STROM_LOG(emerg, 0, "cannot register listener %s", ls.addr.text.c_str());
            return 2;
        }
        w->listeners.push_back(std::move(l));
    }
    for (Module* m : modules) {
        if (m->init_process(cycle) != Rc::ok) {
            STROM_LOG(emerg, 0, "module \"%s\" failed to start in worker", m->name());
            return 2;
        }
    }
    sigset_t mask;
    sigemptyset(&mask);
    for (int s : {SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGHUP}) sigaddset(&mask, s);
    if (w->loop().watch_signals(mask, w.get()) != Rc::ok) {
        STROM_LOG(emerg, 0, "signalfd() failed");
        return 2;
    }
    STROM_LOG(notice, 0, "worker %d (generation %u) started, %d listeners, %u connection slots",
              index, generation, int(w->listeners.size()), w->conns().capacity());
    w->loop().run();
    w->listeners.clear();
    w->conns().close_all("worker exiting");
    w->loop().reap();
    if (unsigned left = file_sink_drain(w->loop(), kFileDrainMs)) {
        // A writer thread may still be reading pool blocks: do not free them under it.
        STROM_LOG(alert, 0, "exiting with %u files not written to the end after %llu ms", left,
                  (unsigned long long)kFileDrainMs);
        _exit(1);
    }
    for (Module* m : modules) m->exit_process(cycle);
    g_in_worker = false;
    return 0;
}

}  // namespace strom
