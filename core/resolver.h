// A host name looked up without blocking the worker: glibc's getaddrinfo_a does the
// lookup on a helper thread of its own and the loop polls for the answer every few
// milliseconds (an answer rarely takes more than one or two polls). A Resolve owns
// itself: its owner may cancel it at any time (the callback then never comes), and it
// frees itself only once glibc no longer writes to it.
#pragma once

#include <netdb.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "core/event_loop.h"
#include "core/timer.h"

namespace strom {

class Resolve {
public:
    // The first address (IPv4 preferred) or the error; called once, from a timer.
    using DoneFn = void (*)(void* arg, const sockaddr* sa, socklen_t len, const char* err);

    // nullptr with *err set when the lookup could not even be started.
    static Resolve* start(EventLoop& loop, const std::string& host, uint16_t port,
                          uint64_t timeout_ms, DoneFn fn, void* arg, const char** err);
    void cancel();

private:
    Resolve(EventLoop& loop) : loop_(loop) {}
    ~Resolve();
    static void on_poll(Timer& t);
    void finish(const char* err);

    EventLoop& loop_;
    std::string host_;
    std::string service_;
    addrinfo hints_{};
    gaicb req_{};
    Timer timer_;
    uint64_t deadline_ = 0;
    DoneFn fn_ = nullptr;  // null once cancelled or answered
    void* arg_ = nullptr;
};

// Numeric IPv4 or IPv6 (no brackets) or "localhost" (127.0.0.1): no lookup needed.
bool numeric_host_addr(const std::string& host, uint16_t port, sockaddr_storage* ss,
                       socklen_t* len);

}  // namespace strom
