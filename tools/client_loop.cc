#include "tools/client_loop.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "core/log.h"

namespace strom::tools {

uint64_t mono_us()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000 + uint64_t(ts.tv_nsec) / 1000;
}

std::string format_secs(uint64_t ms)
{
    char buf[32];
    if (ms < 1000) {
        snprintf(buf, sizeof(buf), "%llums", (unsigned long long)ms);
    } else {
        snprintf(buf, sizeof(buf), "%.*fs", ms % 1000 ? 1 : 0, double(ms) / 1000);
    }
    return buf;
}

bool resolve_target(const RtmpUrl& url, Target* out, std::string* err)
{
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    addrinfo* res = nullptr;
    std::string port = std::to_string(url.port);
    int rc = getaddrinfo(url.host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0 || !res) {
        *err = "cannot resolve host \"" + url.host + "\": " + gai_strerror(rc);
        return false;
    }
    const addrinfo* pick = res;
    for (const addrinfo* a = res; a; a = a->ai_next) {
        if (a->ai_family == AF_INET) {
            pick = a;
            break;
        }
    }
    memset(&out->ss, 0, sizeof(out->ss));
    memcpy(&out->ss, pick->ai_addr, pick->ai_addrlen);
    out->len = pick->ai_addrlen;
    char text[80];
    format_sockaddr(pick->ai_addr, pick->ai_addrlen, text, sizeof(text));
    out->text = text;
    freeaddrinfo(res);
    return true;
}

ClientLoop::ClientLoop(uint32_t connections, bool verbose)
{
    signal(SIGPIPE, SIG_IGN);
    // The rtmp layer logs each session's end at info: a command line tool shows only
    // warnings unless asked.
    Log::set_level(verbose ? LogLevel::debug : LogLevel::warn);
    if (!loop_.ok()) return;
    table_ = new ConnectionTable(loop_, connections);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    ok_ = loop_.watch_signals(mask, this) == Rc::ok;
}

ClientLoop::~ClientLoop()
{
    delete table_;  // closes what is left; the loop reaps the sessions
}

void ClientLoop::on_signal(int signo)
{
    if (interrupted_) _exit(128 + signo);  // a second Ctrl-C while winding down
    interrupted_ = true;
    signo_ = signo;
}

void ClientLoop::close_all(const char* reason)
{
    if (table_) table_->close_all(reason);
    loop_.reap();
}

void ClientLoop::drain(uint64_t ms)
{
    uint64_t until = loop_.now() + ms;
    while (table_ && table_->active() > 0 && loop_.now() < until) turn(20);
    loop_.reap();
}

uint64_t ClientLoop::raise_fd_limit()
{
    rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    return uint64_t(rl.rlim_cur);
}

rtmp::ClientParams client_params(const RtmpUrl& url, bool publish)
{
    rtmp::ClientParams p;
    p.app = url.app;
    p.tc_url = url.tc_url;
    p.stream = url.stream;
    p.publish = publish;
    return p;
}

rtmp::Session* ClientLoop::connect(const Target& target, const rtmp::ClientParams& p,
                                   rtmp::ClientObserver* observer, std::string* error)
{
    const char* err = nullptr;
    rtmp::Session* s = rtmp::Session::connect_to(table(), target.sa(), target.len, p, observer, &err);
    if (!s) *error = "cannot connect to " + target.text + ": " + (err ? err : "error");
    return s;
}

}  // namespace strom::tools
