// The access module: rule order (first match wins), inheritance between levels, the
// status a denied client gets and the close that follows; sessions over socketpairs with
// their client address set as a PROXY header would set it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <memory>
#include <string>

#include "modules/access_module.h"
#include "t/lib/rtmp_test_peer.h"

using namespace strom;
using namespace strom::test;

namespace {

constexpr const char* kConf = R"(
rtmp {
    deny play 203.0.113.0/24;
    server {
        application live {
            live on;
            allow publish 127.0.0.1;
            allow publish 2001:db8::/32;
            deny publish all;
            allow play all;
        }
        application inherit {
            live on;
        }
        application order {
            live on;
            deny publish 10.0.0.5;
            allow publish 10.0.0.0/8;
            deny publish all;
        }
    }
}
)";

sockaddr_storage addr(const char* text)
{
    sockaddr_storage ss{};
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(40000);
    } else {
        EXPECT_EQ(inet_pton(AF_INET6, text, &in6->sin6_addr), 1) << text;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(40000);
    }
    return ss;
}

class Access : public ::testing::Test {
protected:
    void SetUp() override
    {
        srv_ = std::make_unique<TestServer>(kConf);
        ASSERT_TRUE(srv_->ok()) << srv_->error();
    }
    void TearDown() override
    {
        srv_->shutdown();
        EXPECT_EQ(srv_->outstanding(), 0u);
    }

    // The status code a client at `ip` gets for publish (or play) of app/name, and
    // whether the server then closed the connection.
    std::string attempt(const char* ip, const char* app, bool publish, bool* closed)
    {
        RtmpTestPeer p;
        rtmp::Session* s = srv_->adopt(p);
        sockaddr_storage ss = addr(ip);
        s->set_client_addr(reinterpret_cast<sockaddr*>(&ss),
                           ss.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
        uint32_t msid = 0;
        if (!srv_->handshake(p) || !srv_->connect(p, app) || !(msid = srv_->create_stream(p)))
            return "setup";
        std::string code = publish ? srv_->publish(p, msid, "cam") : srv_->play(p, msid, "cam");
        srv_->run_until([&] { return p.eof(); }, 50);
        *closed = p.eof();
        p.close();
        srv_->settle(3);
        srv_->forget(&p);
        return code;
    }

    std::unique_ptr<TestServer> srv_;
};

}  // namespace

TEST(AccessRules, FirstMatchWins)
{
    std::vector<mod::AccessRule> rules(3);
    const char* why = "";
    rules[0].allow = false;
    rules[0].ops = uint8_t(mod::AccessOp::publish);
    ASSERT_TRUE(parse_cidr("10.0.0.5", &rules[0].cidr, &why));
    rules[1].allow = true;
    rules[1].ops = uint8_t(mod::AccessOp::publish);
    ASSERT_TRUE(parse_cidr("10.0.0.0/8", &rules[1].cidr, &why));
    rules[2].allow = false;
    rules[2].ops = uint8_t(mod::AccessOp::publish) | uint8_t(mod::AccessOp::play);
    ASSERT_TRUE(parse_cidr("all", &rules[2].cidr, &why));
    auto match = [&](const char* ip, mod::AccessOp op) {
        sockaddr_storage ss = addr(ip);
        return mod::access_match(rules, op, reinterpret_cast<sockaddr*>(&ss), sizeof(ss));
    };
    EXPECT_EQ(match("10.0.0.5", mod::AccessOp::publish), &rules[0]);
    EXPECT_EQ(match("10.9.9.9", mod::AccessOp::publish), &rules[1]);
    EXPECT_EQ(match("::ffff:10.9.9.9", mod::AccessOp::publish), &rules[1]);
    EXPECT_EQ(match("11.0.0.1", mod::AccessOp::publish), &rules[2]);
    EXPECT_EQ(match("10.0.0.5", mod::AccessOp::play), &rules[2]) << "publish rules skip play";
    rules.pop_back();
    EXPECT_EQ(match("11.0.0.1", mod::AccessOp::play), nullptr) << "no rule: allowed";
}

TEST_F(Access, AllowedAddressPublishes)
{
    bool closed = false;
    EXPECT_EQ(attempt("127.0.0.1", "live", true, &closed), "NetStream.Publish.Start");
    EXPECT_FALSE(closed);
}

TEST_F(Access, V6AllowRule)
{
    bool closed = false;
    EXPECT_EQ(attempt("2001:db8::7", "live", true, &closed), "NetStream.Publish.Start");
}

TEST_F(Access, DeniedPublishGetsDeniedStatusThenClose)
{
    bool closed = false;
    EXPECT_EQ(attempt("192.0.2.1", "live", true, &closed), "NetStream.Publish.Denied");
    EXPECT_TRUE(closed);
}

TEST_F(Access, MappedClientMatchesV4Allow)
{
    bool closed = false;
    EXPECT_EQ(attempt("::ffff:127.0.0.1", "live", true, &closed), "NetStream.Publish.Start");
}

TEST_F(Access, PlayAllowedWherePublishDenied)
{
    bool closed = false;
    // `allow play all` in the application replaces the rtmp{} level's `deny play`.
    EXPECT_NE(attempt("203.0.113.9", "live", false, &closed), "NetStream.Play.Failed");
    EXPECT_FALSE(closed);
}

TEST_F(Access, ApplicationWithoutRulesInheritsTheServerLevel)
{
    bool closed = false;
    EXPECT_EQ(attempt("203.0.113.9", "inherit", false, &closed), "NetStream.Play.Failed");
    EXPECT_TRUE(closed);
    EXPECT_EQ(attempt("198.51.100.1", "inherit", true, &closed), "NetStream.Publish.Start");
}

TEST_F(Access, RuleOrderInConfig)
{
    bool closed = false;
    EXPECT_EQ(attempt("10.0.0.5", "order", true, &closed), "NetStream.Publish.Denied");
    EXPECT_EQ(attempt("10.0.0.6", "order", true, &closed), "NetStream.Publish.Start");
    EXPECT_EQ(attempt("172.16.0.1", "order", true, &closed), "NetStream.Publish.Denied");
}

TEST(AccessConf, BadRulesAreConfigErrors)
{
    const char* bad[] = {
        "rtmp { server { application a { deny publish 1.2.3.4/40; } } }",
        "rtmp { server { application a { deny record all; } } }",
        "rtmp { server { application a { allow; } } }",
        "rtmp { server { application a { allow play 1.2.3.4 x; } } }",
    };
    for (const char* conf : bad) {
        TestServer srv(conf);
        EXPECT_FALSE(srv.ok()) << conf;
    }
}
