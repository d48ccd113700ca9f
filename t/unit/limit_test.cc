// The limit module's protective defaults over socketpair sessions: max_connections auto
// (3/4 of worker_connections) refuses the next client and leaves the other slots to what
// the worker opens itself; explicit values and 0 (off) replace it; the configuration
// accepts N and auto.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

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
