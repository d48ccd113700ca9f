#include "core/resolver.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace strom {

namespace {
constexpr uint64_t kPollMs = 5;
}  // namespace

bool numeric_host_addr(const std::string& host, uint16_t port, sockaddr_storage* ss, socklen_t* len)
{
    memset(ss, 0, sizeof(*ss));
    auto* in = reinterpret_cast<sockaddr_in*>(ss);
    auto* in6 = reinterpret_cast<sockaddr_in6*>(ss);
    const char* h = host == "localhost" ? "127.0.0.1" : host.c_str();
    if (inet_pton(AF_INET, h, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        *len = sizeof(sockaddr_in);
        return true;
    }
    if (inet_pton(AF_INET6, h, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *len = sizeof(sockaddr_in6);
        return true;
    }
    return false;
}

Resolve* Resolve::start(EventLoop& loop, const std::string& host, uint16_t port,
                        uint64_t timeout_ms, DoneFn fn, void* arg, const char** err)
{
    auto* r = new Resolve(loop);
    r->host_ = host;
    r->service_ = std::to_string(port);
    r->hints_.ai_family = AF_UNSPEC;
    r->hints_.ai_socktype = SOCK_STREAM;
    r->hints_.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    r->req_.ar_name = r->host_.c_str();
    r->req_.ar_service = r->service_.c_str();
    r->req_.ar_request = &r->hints_;
    gaicb* list[1] = {&r->req_};
    // GAI_NOWAIT with SIGEV_NONE: no signal, no thread of ours; we poll gai_error().
    sigevent sev{};
    sev.sigev_notify = SIGEV_NONE;
    if (getaddrinfo_a(GAI_NOWAIT, list, 1, &sev) != 0) {
        *err = "getaddrinfo_a() failed";
        delete r;
        return nullptr;
    }
    r->fn_ = fn;
    r->arg_ = arg;
    r->deadline_ = loop.now() + timeout_ms;
    r->timer_.fn = &Resolve::on_poll;
    r->timer_.arg = r;
    loop.add_timer(r->timer_, kPollMs);
    return r;
}

Resolve::~Resolve()
{
    loop_.cancel_timer(timer_);
    if (req_.ar_result) freeaddrinfo(req_.ar_result);
}

void Resolve::cancel()
{
    fn_ = nullptr;
    // A lookup glibc has not started yet is dropped; a running one must end first (it
    // writes into req_), so we keep polling and free ourselves then.
    if (gai_cancel(&req_) == EAI_CANCELED || gai_error(&req_) != EAI_INPROGRESS) delete this;
}

void Resolve::on_poll(Timer& t)
{
    auto* r = static_cast<Resolve*>(t.arg);
    int rc = gai_error(&r->req_);
    if (rc == EAI_INPROGRESS) {
        if (r->fn_ && r->loop_.now() >= r->deadline_) {
            // Answered now, freed later: glibc may still write to req_ (and may finish
            // at any moment, even before finish() returns), so the poll goes on silently
            // until gai_error() says it let go.
            (void)gai_cancel(&r->req_);
            r->finish("host name lookup timed out");
        }
        r->loop_.add_timer(t, kPollMs);
        return;
    }
    if (!r->fn_) {
        delete r;
        return;
    }
    if (rc != 0) {
        r->finish(rc == EAI_NONAME ? "host not found" : gai_strerror(rc));
        delete r;
        return;
    }
    const addrinfo* pick = nullptr;
    for (const addrinfo* ai = r->req_.ar_result; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        }
        if (!pick && ai->ai_family == AF_INET6) pick = ai;
    }
    if (!pick) {
        r->finish("host has no IPv4 or IPv6 address");
        delete r;
        return;
    }
    sockaddr_storage ss{};
    memcpy(&ss, pick->ai_addr, pick->ai_addrlen);
    socklen_t len = pick->ai_addrlen;
    DoneFn fn = r->fn_;
    void* arg = r->arg_;
    delete r;  // before the callback: the owner may start another lookup in it
    fn(arg, reinterpret_cast<sockaddr*>(&ss), len, nullptr);
}

// Calls back with an error; the caller decides whether to free or keep polling.
void Resolve::finish(const char* err)
{
    DoneFn fn = fn_;
    fn_ = nullptr;
    fn(arg_, nullptr, 0, err);
}

}  // namespace strom
