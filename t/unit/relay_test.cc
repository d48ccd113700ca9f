// Name lookups of relays (notify_relay_redirect) with glibc's asynchronous resolver
// replaced by a scripted one, so the cases a real DNS server only produces by bad luck
// happen on demand: a lookup still running at its deadline, one that ends between two
// polls of the same timer turn, one cancelled while glibc still writes to it. Every
// Resolve must call back at most once and free itself (and its answer) exactly once.
// The fake is linked into this binary only: it replaces getaddrinfo_a, gai_error,
// gai_cancel and freeaddrinfo for everything here.
#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "core/event_loop.h"
#include "core/resolver.h"

using namespace strom;

namespace {

// The one request in flight and how it goes: gai_error() says EAI_INPROGRESS for its
// first `running_polls` calls, then `final_rc` (0: an answer is filled in).
struct FakeGai {
    gaicb* req = nullptr;
    int running_polls = 0;
    int final_rc = 0;
    int error_calls = 0;
    int cancels = 0;
    int answers = 0;  // addrinfo lists handed out
    int frees = 0;    // and given back
    void reset() { *this = FakeGai(); }
    bool done() const { return error_calls > running_polls; }
};
FakeGai g_gai;

addrinfo* make_answer()
{
    auto* sa = static_cast<sockaddr_in*>(calloc(1, sizeof(sockaddr_in)));
    sa->sin_family = AF_INET;
    sa->sin_port = htons(1935);
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    auto* ai = static_cast<addrinfo*>(calloc(1, sizeof(addrinfo)));
    ai->ai_family = AF_INET;
    ai->ai_socktype = SOCK_STREAM;
    ai->ai_addr = reinterpret_cast<sockaddr*>(sa);
    ai->ai_addrlen = sizeof(sockaddr_in);
    ++g_gai.answers;
    return ai;
}

}  // namespace

extern "C" {

int getaddrinfo_a(int, gaicb* list[], int n, sigevent*)
{
    if (n != 1) return EAI_SYSTEM;
    g_gai.req = list[0];
    g_gai.req->ar_result = nullptr;
    return 0;
}

int gai_error(gaicb* req) noexcept
{
    ++g_gai.error_calls;
    if (!g_gai.done()) return EAI_INPROGRESS;
    if (g_gai.final_rc == 0 && !req->ar_result) req->ar_result = make_answer();
    return g_gai.final_rc;
}

int gai_cancel(gaicb*) noexcept
{
    ++g_gai.cancels;
    // Running in the fake's "helper thread": it cannot be stopped, only waited for.
    return g_gai.done() ? EAI_ALLDONE : EAI_NOTCANCELED;
}

void freeaddrinfo(addrinfo* ai) noexcept
{
    while (ai) {
        addrinfo* next = ai->ai_next;
        free(ai->ai_addr);
        free(ai);
        ++g_gai.frees;
        ai = next;
    }
}

}  // extern "C"

namespace {

struct Answer {
    int calls = 0;
    std::string err;
    bool addr = false;
};

void on_done(void* arg, const sockaddr* sa, socklen_t, const char* err)
{
    auto* a = static_cast<Answer*>(arg);
    ++a->calls;
    if (err) a->err = err;
    a->addr = sa != nullptr;
}

// Turns the loop until no timer is left (the Resolve freed itself) or max_turns.
void turn_until_idle(EventLoop& loop, int max_turns = 400)
{
    for (int i = 0; i < max_turns && loop.timer_count() > 0; ++i) (void)loop.run_once(5);
}

class RelayLookup : public ::testing::Test {
protected:
    void SetUp() override { g_gai.reset(); }

    // A lookup of `host` that glibc answers after `polls` polls (final_rc as set), turned
    // until the Resolve has freed itself.
    Answer lookup(const char* host, uint64_t timeout_ms, int polls)
    {
        g_gai.running_polls = polls;
        Answer a;
        const char* err = "";
        EXPECT_NE(Resolve::start(loop_, host, 1935, timeout_ms, on_done, &a, &err), nullptr);
        turn_until_idle(loop_);
        return a;
    }

    EventLoop loop_;
};

}  // namespace

TEST_F(RelayLookup, AnswerBeforeTheDeadlineCallsBackOnceAndFreesTheAnswer)
{
    Answer a = lookup("origin.example", 5000, 2);
    EXPECT_EQ(a.calls, 1);
    EXPECT_TRUE(a.addr);
    EXPECT_EQ(a.err, "");
    EXPECT_EQ(loop_.timer_count(), 0u);
    EXPECT_EQ(g_gai.frees, g_gai.answers);
}

TEST_F(RelayLookup, TimedOutLookupCallsBackOnceThenWaitsForGlibcAndFreesItself)
{
    Answer a = lookup("slow.example", 0, 20);   // glibc goes on long after our deadline
    EXPECT_EQ(a.calls, 1);
    EXPECT_EQ(a.err, "host name lookup timed out");
    EXPECT_FALSE(a.addr);
    EXPECT_TRUE(g_gai.done()) << "polled until glibc let go of the request";
    EXPECT_EQ(loop_.timer_count(), 0u);
    EXPECT_EQ(g_gai.answers, 1);
    EXPECT_EQ(g_gai.frees, 1) << "the late answer is freed with the request";
}

TEST_F(RelayLookup, LookupEndingJustAsItTimesOutIsStillFreed)
{
    // The poll sees EAI_INPROGRESS past the deadline; glibc finishes right after, before
    // the timeout path looks again. The request must not be orphaned (no timer, never
    // freed, its answer leaked).
    Answer a = lookup("racy.example", 0, 1);
    EXPECT_EQ(a.calls, 1);
    EXPECT_EQ(a.err, "host name lookup timed out");
    EXPECT_EQ(loop_.timer_count(), 0u);
    EXPECT_EQ(g_gai.answers, 1);
    EXPECT_EQ(g_gai.frees, 1) << "the Resolve and glibc's answer leak";
}

TEST_F(RelayLookup, CancelWhileGlibcRunsNeverCallsBackAndFreesItselfLater)
{
    g_gai.running_polls = 10;
    Answer a;
    const char* err = "";
    Resolve* r = Resolve::start(loop_, "origin.example", 1935, 5000, on_done, &a, &err);
    ASSERT_NE(r, nullptr);
    (void)loop_.run_once(10);
    r->cancel();   // the owner (a pull whose last player left) is gone from here on
    turn_until_idle(loop_);
    EXPECT_EQ(a.calls, 0);
    EXPECT_EQ(loop_.timer_count(), 0u);
    EXPECT_EQ(g_gai.frees, g_gai.answers);
}

TEST_F(RelayLookup, FailedLookupCallsBackWithTheReason)
{
    g_gai.final_rc = EAI_NONAME;
    Answer a = lookup("nx.example", 5000, 1);
    EXPECT_EQ(a.calls, 1);
    EXPECT_EQ(a.err, "host not found");
    EXPECT_EQ(loop_.timer_count(), 0u);
}
