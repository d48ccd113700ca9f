// What every strom-client command runs on: the same EventLoop and ConnectionTable the
// server's workers use (so the client exercises the server's own rtmp/ client session),
// Ctrl-C / SIGTERM turned into a flag the command polls, SIGPIPE ignored, the fd limit
// raised for the bench, and host resolution. One per process, on main()'s stack.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "core/connection.h"
#include "core/event_loop.h"
#include "rtmp/session.h"
#include "rtmp/url.h"

namespace strom::tools {

using rtmp::kDefaultRtmpPort;
using rtmp::parse_rtmp_url;
using rtmp::RtmpUrl;

struct Target {
    sockaddr_storage ss{};
    socklen_t len = 0;
    std::string text;  // "127.0.0.1:1935"
    const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss); }
};

// Resolves the URL's host (numeric first, then DNS, IPv4 preferred). False with *err
// ("cannot resolve host \"x\": Name or service not known").
bool resolve_target(const RtmpUrl& url, Target* out, std::string* err);

// The client session's parameters for a URL (app, tcUrl, stream with its query).
rtmp::ClientParams client_params(const RtmpUrl& url, bool publish);

// "2.5s", "150ms": a duration for messages.
std::string format_secs(uint64_t ms);

// Monotonic microseconds, uncached (latency figures need better than the loop's ms).
uint64_t mono_us();

class ClientLoop : private SignalHandler {
public:
    // `connections`: slots of the connection table (players + publishers + a margin).
    explicit ClientLoop(uint32_t connections, bool verbose);
    ~ClientLoop();

    bool ok() const { return ok_; }
    EventLoop& loop() { return loop_; }
    ConnectionTable& table() { return *table_; }
    bool interrupted() const { return interrupted_; }
    int signal_number() const { return signo_; }
    // Starts a client session to target for observer; nullptr with *error
    // ("cannot connect to 127.0.0.1:1935: connection refused") when it cannot start.
    rtmp::Session* connect(const Target& target, const rtmp::ClientParams& p, rtmp::ClientObserver* observer,
                           std::string* error);
    // Turns the loop once (at most `max_wait_ms`).
    void turn(int max_wait_ms = 100) { (void)loop_.run_once(max_wait_ms); }
    // Turns the loop until every connection is gone or `ms` passed (clean exits).
    void drain(uint64_t ms);
    // Closes every connection now and destroys the sessions: a command calls it before
    // the observers its sessions point to go out of scope.
    void close_all(const char* reason);
    // The soft RLIMIT_NOFILE after raising it to the hard limit.
    static uint64_t raise_fd_limit();

private:
    void on_signal(int signo) override;

    EventLoop loop_;
    ConnectionTable* table_ = nullptr;
    bool ok_ = false;
    bool interrupted_ = false;
    int signo_ = 0;
};

}  // namespace strom::tools
