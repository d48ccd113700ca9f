// The master process. See core/process.h.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/core_module.h"
#include "core/event_loop.h"
#include "core/listener.h"
#include "core/log.h"
#include "core/process.h"

namespace strom {

namespace {

constexpr uint64_t kCrashWindowMs = 2000;      // dying sooner than this counts as a crash loop
constexpr uint64_t kMaxBackoffMs = 10000;
constexpr uint64_t kStopKillMs = 10000;        // fast stop: SIGKILL what is left after this

struct ListenSock {
    std::string key;   // address text (#worker for reuseport): equal keys keep their socket across reloads
    int fd;
    bool unix_path;
    std::string path;
};

struct WorkerProc {
    pid_t pid;
    int index;
    uint32_t generation;
    bool quitting;
    uint64_t started;
};

struct Slot {
    int crashes = 0;
    Timer respawn;
    class Master* master = nullptr;
    int index = 0;
};

class Master final : public SignalHandler {
public:
    Master(std::span<Module* const> modules, const ProcessOptions& opt, std::unique_ptr<Cycle> c)
        : modules_(modules), opt_(opt), cycle_(std::move(c))
    {
        kill_timer_.fn = &Master::on_kill_timer;
        kill_timer_.arg = this;
    }

    int run();
    void on_signal(int signo) override;

private:
    // fds: per cycle listens entry, one socket shared by all workers, or with `reuseport`
    // one per worker (the kernel spreads connections over them by address hash).
    bool open_listeners(const Cycle& c, std::vector<ListenSock>* out, std::vector<std::vector<int>>* fds);
    int open_one(const ListenSpec& ls, const std::string& key, std::vector<ListenSock>* out);
    void spawn(int index);
    void start_generation();
    void reap_children();
    void reload();
    void stop(int signo);
    void finish_if_done();
    void cleanup();
    static void on_respawn(Timer& t);
    static void on_kill_timer(Timer& t);

    std::span<Module* const> modules_;
    ProcessOptions opt_;
    std::unique_ptr<Cycle> cycle_;
    EventLoop loop_;
    std::vector<ListenSock> socks_;
    std::vector<std::vector<int>> fds_;   // per cycle_->listens entry: [0], or [worker] with reuseport
    std::vector<WorkerProc> procs_;
    std::vector<std::unique_ptr<Slot>> slots_;
    uint32_t generation_ = 0;
    pid_t pid_ = 0;
    bool stopping_ = false;
    Timer kill_timer_;
};

int Master::open_one(const ListenSpec& ls, const std::string& key, std::vector<ListenSock>* out)
{
    for (ListenSock& s : *out) {
        if (s.key == key) return s.fd;
    }
    int fd = -1;
    for (ListenSock& s : socks_) {
        if (s.key == key) fd = s.fd;
    }
    if (fd < 0) {
        const char* what = "";
        fd = open_listen_socket(reinterpret_cast<const sockaddr*>(&ls.addr.ss), ls.addr.len, ls.backlog,
                                ls.reuseport, &what);
        if (fd < 0) {
            STROM_LOG(emerg, 0, "%s to %s failed (%d: %s)", what, ls.addr.text.c_str(), errno,
                      strerror(errno));
            return -1;
        }
    }
    auto* sa = reinterpret_cast<const sockaddr*>(&ls.addr.ss);
    bool is_unix = sa->sa_family == AF_UNIX;
    out->push_back(ListenSock{key, fd, is_unix,
                              is_unix ? reinterpret_cast<const sockaddr_un*>(sa)->sun_path : ""});
    return fd;
}

bool Master::open_listeners(const Cycle& c, std::vector<ListenSock>* out, std::vector<std::vector<int>>* fds)
{
    int workers = core_conf(c).worker_processes;
    for (const ListenSpec& ls : c.listens) {
        // A unix socket has no port to share: reuseport means one socket per worker
        // only for TCP.
        bool per_worker = ls.reuseport && reinterpret_cast<const sockaddr*>(&ls.addr.ss)->sa_family != AF_UNIX;
        std::vector<int> row;
        for (int i = 0; i < (per_worker ? workers : 1); ++i) {
            int fd = open_one(ls, per_worker ? ls.addr.text + "#" + std::to_string(i) : ls.addr.text, out);
            if (fd < 0) return false;
            row.push_back(fd);
        }
        fds->push_back(std::move(row));
    }
    return true;
}

void Master::spawn(int index)
{
    pid_t pid = fork();
    if (pid < 0) {
        STROM_LOG(alert, 0, "fork() failed (%d: %s)", errno, strerror(errno));
        return;
    }
    if (pid == 0) {
        loop_.abandon_after_fork();
        // A master that dies must not leave workers behind.
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != pid_) _exit(0);
        std::vector<int> mine;
        for (const std::vector<int>& row : fds_) mine.push_back(row[row.size() > 1 ? size_t(index) : 0]);
        // Another worker's reuseport socket held here would keep it alive (and
        // receiving connections nobody accepts) after the master drops it.
        for (const ListenSock& s : socks_) {
            bool used = false;
            for (int fd : mine) used |= fd == s.fd;
            if (!used) ::close(s.fd);
        }
        int rc = run_worker(*cycle_, modules_, mine, index, generation_);
        exit(rc);
    }
    procs_.push_back(WorkerProc{pid, index, generation_, false, loop_.now()});
    STROM_LOG(notice, 0, "start worker process %d (worker %d, generation %u)", int(pid), index,
              generation_);
}

void Master::start_generation()
{
    int n = core_conf(*cycle_).worker_processes;
    slots_.clear();
    for (int i = 0; i < n; ++i) {
        auto s = std::make_unique<Slot>();
        s->master = this;
        s->index = i;
        s->respawn.fn = &Master::on_respawn;
        s->respawn.arg = s.get();
        slots_.push_back(std::move(s));
    }
    for (int i = 0; i < n; ++i) spawn(i);
}

void Master::on_respawn(Timer& t)
{
    auto* s = static_cast<Slot*>(t.arg);
    if (!s->master->stopping_) s->master->spawn(s->index);
}

void Master::reap_children()
{
    for (;;) {
        int status = 0;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0) break;
        size_t i = 0;
        while (i < procs_.size() && procs_[i].pid != pid) ++i;
        if (i == procs_.size()) continue;
        WorkerProc p = procs_[i];
        procs_.erase(procs_.begin() + long(i));
        bool crashed = WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
        if (WIFSIGNALED(status)) {
            Log::write(p.quitting || stopping_ ? LogLevel::notice : LogLevel::alert, 0,
                       "worker process %d exited on signal %d", int(pid), WTERMSIG(status));
        } else {
            Log::write(crashed && !p.quitting ? LogLevel::alert : LogLevel::notice, 0,
                       "worker process %d exited with code %d", int(pid), WEXITSTATUS(status));
        }
        if (stopping_ || p.quitting || p.generation != generation_) continue;
        if (p.index >= int(slots_.size())) continue;
        // Not asked to go: respawn, backing off when it keeps dying young.
        Slot& s = *slots_[size_t(p.index)];
        s.crashes = loop_.now() - p.started < kCrashWindowMs ? s.crashes + 1 : 1;
        uint64_t delay = 0;
        if (s.crashes > 1) {
            delay = 250ull << (s.crashes - 2 < 6 ? s.crashes - 2 : 6);
            if (delay > kMaxBackoffMs) delay = kMaxBackoffMs;
            STROM_LOG(alert, 0, "worker %d keeps dying (%d times in a row), respawning in %llums",
                      p.index, s.crashes, (unsigned long long)delay);
        }
        loop_.add_timer(s.respawn, delay);
    }
    finish_if_done();
}

void Master::reload()
{
    std::string err;
    std::unique_ptr<Cycle> next = Cycle::load(modules_, opt_.conf_path, opt_.prefix, opt_.global, &err);
    if (!next) {
        STROM_LOG(emerg, 0, "reload failed, the running configuration stays: %s", err.c_str());
        return;
    }
    std::vector<ListenSock> socks;
    std::vector<std::vector<int>> fds;
    if (!open_listeners(*next, &socks, &fds)) {
        for (ListenSock& s : socks) {
            bool old = false;
            for (ListenSock& o : socks_) old |= o.fd == s.fd;
            if (!old) ::close(s.fd);
        }
        STROM_LOG(emerg, 0, "reload failed (listen), the running configuration stays");
        return;
    }
    const CoreConf& cc = core_conf(*next);
    if (cc.error_log != Log::path() || cc.error_log_level != Log::level()) {
        if (Log::open(cc.error_log, cc.error_log_level) != Rc::ok) {
            STROM_LOG(alert, 0, "cannot open error log \"%s\" (%d)", cc.error_log.c_str(), errno);
        }
    }
    if (Log::open_access(cc.access_log) != Rc::ok) {
        STROM_LOG(alert, 0, "cannot open access log \"%s\" (%d)", cc.access_log.c_str(), errno);
    }
    // Old workers: drain. New generation: the new configuration and listeners.
    for (WorkerProc& p : procs_) {
        if (!p.quitting) {
            p.quitting = true;
            kill(p.pid, SIGQUIT);
        }
    }
    for (auto& s : slots_) loop_.cancel_timer(s->respawn);
    for (ListenSock& o : socks_) {
        bool kept = false;
        for (ListenSock& s : socks) kept |= s.fd == o.fd;
        if (!kept) {
            ::close(o.fd);
            if (o.unix_path && !o.path.empty()) ::unlink(o.path.c_str());
        }
    }
    socks_ = std::move(socks);
    fds_ = std::move(fds);
    cycle_ = std::move(next);
    ++generation_;
    STROM_LOG(notice, 0, "reconfiguring: generation %u", generation_);
    start_generation();
}

void Master::stop(int signo)
{
    bool graceful = signo == SIGQUIT;
    if (!stopping_) {
        STROM_LOG(notice, 0, "%s (signal %d)", graceful ? "gracefully shutting down" : "exiting", signo);
    }
    stopping_ = true;
    for (auto& s : slots_) loop_.cancel_timer(s->respawn);
    for (WorkerProc& p : procs_) kill(p.pid, graceful ? SIGQUIT : SIGTERM);
    for (ListenSock& s : socks_) ::close(s.fd);   // no new connections anywhere
    for (ListenSock& s : socks_) {
        if (s.unix_path && !s.path.empty()) ::unlink(s.path.c_str());
    }
    socks_.clear();
    if (!graceful) loop_.add_timer(kill_timer_, kStopKillMs);
    finish_if_done();
}

void Master::on_kill_timer(Timer& t)
{
    auto* m = static_cast<Master*>(t.arg);
    for (WorkerProc& p : m->procs_) {
        STROM_LOG(alert, 0, "worker process %d did not exit, killing it", int(p.pid));
        kill(p.pid, SIGKILL);
    }
}

void Master::finish_if_done()
{
    if (stopping_ && procs_.empty()) loop_.stop();
}

void Master::on_signal(int signo)
{
    switch (signo) {
    case SIGCHLD:
        reap_children();
        break;
    case SIGHUP:
        if (!stopping_) {
            STROM_LOG(notice, 0, "signal %d (SIGHUP) received, reconfiguring", signo);
            reload();
        }
        break;
    case SIGTERM:
    case SIGINT:
    case SIGQUIT:
        stop(signo);
        break;
    case SIGUSR1:
        STROM_LOG(notice, 0, "reopening logs");
        if (Log::reopen() != Rc::ok) STROM_LOG(alert, 0, "reopening logs failed (%d)", errno);
        for (WorkerProc& p : procs_) kill(p.pid, SIGUSR1);
        break;
    default:
        break;
    }
}

void Master::cleanup()
{
    const CoreConf& cc = core_conf(*cycle_);
    ::unlink(cc.pid.c_str());
}

int Master::run()
{
    pid_ = getpid();
    sigset_t mask;
    sigemptyset(&mask);
    for (int s : {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGUSR1}) sigaddset(&mask, s);
    if (loop_.watch_signals(mask, this) != Rc::ok) {
        STROM_LOG(emerg, 0, "signalfd() failed (%d)", errno);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    if (!open_listeners(*cycle_, &socks_, &fds_)) return 1;
    STROM_LOG(notice, 0, "strom started, master process %d", int(pid_));
    start_generation();
    loop_.run();
    cleanup();
    STROM_LOG(notice, 0, "exit");
    return 0;
}

}  // namespace

int run_master(std::span<Module* const> modules, const ProcessOptions& opt, std::unique_ptr<Cycle> cycle)
{
    Master m(modules, opt, std::move(cycle));
    return m.run();
}

}  // namespace strom
