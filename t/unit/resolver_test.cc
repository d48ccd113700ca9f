// Resolve: host names looked up by getaddrinfo_a while the event loop keeps turning;
// numeric hosts need no lookup; a cancelled lookup never calls back.
#include "core/resolver.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>

#include "core/event_loop.h"

using namespace strom;

namespace {

struct Answer {
    bool done = false;
    std::string err;
    int family = 0;
    uint16_t port = 0;
};

void on_done(void* arg, const sockaddr* sa, socklen_t, const char* err)
{
    auto* a = static_cast<Answer*>(arg);
    a->done = true;
    if (err) a->err = err;
    if (sa) {
        a->family = sa->sa_family;
        a->port =
            ntohs(sa->sa_family == AF_INET ? reinterpret_cast<const sockaddr_in*>(sa)->sin_port
                                           : reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
    }
}

bool turn_until(EventLoop& loop, const bool& flag, int max_ms = 5000)
{
    for (int i = 0; i < max_ms / 5 && !flag; ++i) (void)loop.run_once(5);
    return flag;
}

}  // namespace

TEST(Resolve, NumericHostsNeedNoLookup)
{
    sockaddr_storage ss;
    socklen_t len = 0;
    ASSERT_TRUE(numeric_host_addr("127.0.0.1", 1936, &ss, &len));
    EXPECT_EQ(ss.ss_family, AF_INET);
    EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port), 1936);
    ASSERT_TRUE(numeric_host_addr("::1", 1935, &ss, &len));
    EXPECT_EQ(ss.ss_family, AF_INET6);
    EXPECT_EQ(len, socklen_t(sizeof(sockaddr_in6)));
    ASSERT_TRUE(numeric_host_addr("localhost", 1935, &ss, &len));
    EXPECT_EQ(reinterpret_cast<sockaddr_in*>(&ss)->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    EXPECT_FALSE(numeric_host_addr("origin.example", 1935, &ss, &len));
}

TEST(Resolve, LooksANameUpWhileTheLoopTurns)
{
    EventLoop loop;
    Answer a;
    const char* err = "";
    // "localhost" through the real lookup (/etc/hosts), not the numeric shortcut.
    ASSERT_NE(Resolve::start(loop, "localhost", 1936, 5000, on_done, &a, &err), nullptr) << err;
    EXPECT_FALSE(a.done) << "the answer comes from the loop, never from start()";
    ASSERT_TRUE(turn_until(loop, a.done));
    EXPECT_EQ(a.err, "");
    EXPECT_TRUE(a.family == AF_INET || a.family == AF_INET6);
    EXPECT_EQ(a.port, 1936);
    EXPECT_EQ(loop.timer_count(), 0u);
}

TEST(Resolve, UnknownNameFails)
{
    EventLoop loop;
    Answer a;
    const char* err = "";
    ASSERT_NE(Resolve::start(loop, "no-such-host.invalid", 1935, 5000, on_done, &a, &err), nullptr);
    ASSERT_TRUE(turn_until(loop, a.done, 15000));
    EXPECT_NE(a.err, "");
    EXPECT_EQ(a.family, 0);
}

TEST(Resolve, CancelledLookupNeverCallsBack)
{
    EventLoop loop;
    Answer a;
    const char* err = "";
    Resolve* r = Resolve::start(loop, "localhost", 1935, 5000, on_done, &a, &err);
    ASSERT_NE(r, nullptr);
    r->cancel();
    for (int i = 0; i < 200 && loop.timer_count() > 0; ++i) (void)loop.run_once(5);
    EXPECT_FALSE(a.done);
    EXPECT_EQ(loop.timer_count(), 0u) << "the request freed itself once glibc was done";
}
