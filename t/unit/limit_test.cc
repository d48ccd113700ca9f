// The limit module's protective defaults over socketpair sessions: max_connections auto
// (3/4 of worker_connections) refuses the next client and leaves the other slots to what
// the worker opens itself; explicit values and 0 (off) replace it; the configuration
// accepts N and auto. RTMP sessions and HTTP connections are counted together (per worker
// and per address), each protocol's clients against the limits of its own blocks.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "core/cycle.h"
#include "modules/limit_module.h"
#include "t/lib/rtmp_test_peer.h"

using namespace strom;
using namespace strom::test;

namespace {

constexpr const char* kConf = "rtmp { server { application live { live on; } } }";

// Adopts peers one by one and returns how many the server kept (a refused one is
// closed before its handshake is answered).
size_t fill(TestServer& srv, std::vector<std::unique_ptr<RtmpTestPeer>>& peers, size_t n)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; ++i) {
        peers.push_back(std::make_unique<RtmpTestPeer>());
        RtmpTestPeer& p = *peers.back();
        if (!srv.adopt(p)) continue;
        srv.settle(3);
        if (p.eof()) continue;
        ++kept;
    }
    return kept;
}

}  // namespace

TEST(Limit, AutoIsThreeQuartersOfTheSlots)
{
    EXPECT_EQ(mod::LimitModule::auto_limit(1024), 768u);
    EXPECT_EQ(mod::LimitModule::auto_limit(8), 6u);
    EXPECT_EQ(mod::LimitModule::auto_limit(4), 3u);
    EXPECT_EQ(mod::LimitModule::auto_limit(1), 1u);
}

TEST(Limit, DefaultRefusesClientsBeyondTheShareAndKeepsTheReserve)
{
    TestServer srv(kConf, 8);
    ASSERT_TRUE(srv.ok()) << srv.error();
    std::vector<std::unique_ptr<RtmpTestPeer>> peers;
    EXPECT_EQ(fill(srv, peers, 8), 6u) << "max_connections auto: 8 - 8/4";
    EXPECT_EQ(mod::limit_module.total(), 6u);
    srv.settle(3);
    EXPECT_EQ(srv.table().active(), 6u) << "refused clients give their slot back at once";
    // The reserve is there for the worker's own connections (pulls, relays, notify).
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    sockaddr_storage ss{};
    ss.ss_family = AF_UNIX;
    EXPECT_NE(
        srv.table().adopt(fds[0], reinterpret_cast<sockaddr*>(&ss), sizeof(sa_family_t), nullptr),
        nullptr);
    ::close(fds[1]);
    srv.shutdown();
    EXPECT_EQ(mod::limit_module.total(), 0u);
}

TEST(Limit, ExplicitValueAndZeroReplaceTheDefault)
{
    {
        TestServer srv("rtmp { max_connections 2; server { application live { live on; } } }", 8);
        ASSERT_TRUE(srv.ok()) << srv.error();
        std::vector<std::unique_ptr<RtmpTestPeer>> peers;
        EXPECT_EQ(fill(srv, peers, 4), 2u);
        srv.shutdown();
    }
    {
        TestServer srv("rtmp { max_connections 0; server { application live { live on; } } }", 8);
        ASSERT_TRUE(srv.ok()) << srv.error();
        std::vector<std::unique_ptr<RtmpTestPeer>> peers;
        EXPECT_EQ(fill(srv, peers, 8), 8u) << "0: only worker_connections bounds the worker";
        srv.shutdown();
    }
    {
        TestServer srv("rtmp { server { max_connections auto; application live { live on; } } }",
                       8);
        ASSERT_TRUE(srv.ok()) << srv.error();
    }
}

TEST(Limit, ConfigurationErrors)
{
    TestServer bad("rtmp { max_connections lots; server { } }");
    EXPECT_FALSE(bad.ok());
    EXPECT_NE(bad.error().find("\"max_connections\" directive invalid value"), std::string::npos)
        << bad.error();
    TestServer dup("rtmp { max_connections auto; max_connections 3; server { } }");
    EXPECT_FALSE(dup.ok());
    EXPECT_NE(dup.error().find("is duplicate"), std::string::npos) << dup.error();
}

namespace {

// A client of the first server block of `proto` ("rtmp" or "http") from `ip`.
struct ClientOf {
    sockaddr_in sin{};
    mod::LimitClient c;
    ClientOf(TestServer& srv, const char* proto, const char* ip, uint64_t id)
    {
        sin.sin_family = AF_INET;
        inet_pton(AF_INET, ip, &sin.sin_addr);
        const ServerBlock* sb = srv.cycle().proto(proto)->servers[0].get();
        const Module& m = std::string_view(proto) == "rtmp"
                              ? static_cast<const Module&>(mod::limit_module)
                              : static_cast<const Module&>(mod::http_limit_module);
        c.id = id;
        c.addr = reinterpret_cast<const sockaddr*>(&sin);
        c.addr_len = sizeof(sin);
        c.peer = ip;
        c.server = sb;
        c.top = &sb->proto->conf<mod::LimitConf>(m);
        c.conf = &sb->conf<mod::LimitConf>(m);
        c.slots = 32;
        c.now = 1000 * id;  // a second apart: every refusal is logged
    }
};

}  // namespace

TEST(Limit, RtmpAndHttpClientsOfOneAddressCountTogether)
{
    TestServer srv(R"(
        rtmp { max_connections_per_ip 2; server { application live { live on; } } }
        http { server { max_connections_per_ip 2; location / { flv_live on; } } })");
    ASSERT_TRUE(srv.ok()) << srv.error();
    mod::LimitModule& lm = mod::limit_module;
    ASSERT_EQ(lm.admit(ClientOf(srv, "rtmp", "192.0.2.1", 1).c), nullptr);
    ASSERT_EQ(lm.admit(ClientOf(srv, "http", "192.0.2.1", 2).c), nullptr);
    // The third from that address is refused, whichever protocol it speaks.
    EXPECT_STREQ(lm.admit(ClientOf(srv, "http", "192.0.2.1", 3).c), "max_connections_per_ip");
    EXPECT_STREQ(lm.admit(ClientOf(srv, "rtmp", "192.0.2.1", 4).c), "max_connections_per_ip");
    EXPECT_EQ(lm.admit(ClientOf(srv, "http", "192.0.2.9", 5).c), nullptr) << "another address";
    EXPECT_EQ(lm.total(), 3u);
    lm.release(3);  // refused: nothing to give back
    EXPECT_EQ(lm.total(), 3u);
    lm.release(1);  // the RTMP player leaves: an HTTP one may come
    EXPECT_EQ(lm.admit(ClientOf(srv, "http", "192.0.2.1", 6).c), nullptr);
    for (uint64_t id : {2, 5, 6}) lm.release(id);
    EXPECT_EQ(lm.total(), 0u);
}

TEST(Limit, TheWorkerLimitCountsHttpConnections)
{
    // rtmp{} bounds the worker when an RTMP client comes, http{} when an HTTP one does;
    // both count every client of the worker.
    TestServer srv(R"(
        rtmp { max_connections 2; server { application live { live on; } } }
        http { max_connections 3; server { location / { flv_live on; } } })");
    ASSERT_TRUE(srv.ok()) << srv.error();
    mod::LimitModule& lm = mod::limit_module;
    ASSERT_EQ(lm.admit(ClientOf(srv, "http", "192.0.2.1", 1).c), nullptr);
    ASSERT_EQ(lm.admit(ClientOf(srv, "http", "192.0.2.2", 2).c), nullptr);
    EXPECT_STREQ(lm.admit(ClientOf(srv, "rtmp", "192.0.2.3", 3).c), "max_connections (worker)");
    EXPECT_EQ(lm.admit(ClientOf(srv, "http", "192.0.2.4", 4).c), nullptr);
    EXPECT_STREQ(lm.admit(ClientOf(srv, "http", "192.0.2.5", 5).c), "max_connections (worker)");
    for (uint64_t id : {1, 2, 4}) lm.release(id);
    EXPECT_EQ(lm.total(), 0u);
}

TEST(Limit, HttpBlocksTakeTheLimitDirectives)
{
    TestServer srv(R"(
        rtmp { server { application live { live on; } } }
        http { server { location / { flv_live on; } } })");
    ASSERT_TRUE(srv.ok()) << srv.error();
    const ServerBlock& hs = *srv.cycle().proto("http")->servers[0];
    EXPECT_EQ(*hs.proto->conf<mod::LimitConf>(mod::http_limit_module).max_connections,
              mod::LimitConf::kAuto);
    EXPECT_EQ(*hs.conf<mod::LimitConf>(mod::http_limit_module).max_connections, 0u);
    EXPECT_EQ(*hs.conf<mod::LimitConf>(mod::http_limit_module).max_connections_per_ip, 64u);
    TestServer loc("http { server { location / { max_connections_per_ip 3; } } }");
    EXPECT_FALSE(loc.ok());
    EXPECT_NE(loc.error().find("\"max_connections_per_ip\" directive is not allowed here"),
              std::string::npos)
        << loc.error();
    TestServer dup("http { max_connections 3; max_connections auto; server { } }");
    EXPECT_FALSE(dup.ok());
    EXPECT_NE(dup.error().find("is duplicate"), std::string::npos) << dup.error();
}
