// PROXY protocol v1/v2 parsing (rtmp/proxy_protocol.h) at every split point, and a
// session behind a proxy: trusted header sets the client address that rules see, an
// untrusted or malformed one closes the connection.
#include "rtmp/proxy_protocol.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <memory>
#include <string>

#include "core/connection.h"
#include "t/lib/rtmp_test_peer.h"

using namespace strom;
using namespace strom::rtmp;
using namespace strom::test;

namespace {

std::string text(const sockaddr_storage& ss, socklen_t len)
{
    char buf[80];
    format_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len, buf, sizeof(buf));
    return buf;
}

// Parses `h` whole, then checks that every shorter prefix asks for more.
Rc parse_all(const std::string& h, ProxyHeader* out, size_t* used, const char** why,
             const std::string& after = "")
{
    for (size_t k = 0; k < h.size(); ++k) {
        ProxyHeader tmp;
        size_t u = 0;
        const char* w = "";
        Rc rc = parse_proxy_header(reinterpret_cast<const uint8_t*>(h.data()), k, &tmp, &u, &w);
        if (rc != Rc::again) return rc == Rc::ok ? Rc::error : rc;  // complete too early: wrong
    }
    std::string all = h + after;
    return parse_proxy_header(reinterpret_cast<const uint8_t*>(all.data()), all.size(), out, used,
                              why);
}

const std::string kSig("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A", 12);

std::string v2(uint8_t ver_cmd, uint8_t fam, const std::string& body)
{
    std::string h = kSig;
    h += char(ver_cmd);
    h += char(fam);
    h += char(body.size() >> 8);
    h += char(body.size() & 0xff);
    return h + body;
}

}  // namespace

TEST(ProxyV1, Tcp4)
{
    std::string h = "PROXY TCP4 192.0.2.10 198.51.100.1 56324 1935\r\n";
    ProxyHeader p;
    size_t used = 0;
    const char* why = "";
    ASSERT_EQ(parse_all(h, &p, &used, &why, "\x03rtmp"), Rc::ok) << why;
    EXPECT_EQ(used, h.size());
    EXPECT_FALSE(p.local);
    EXPECT_EQ(text(p.src, p.src_len), "192.0.2.10:56324");
    EXPECT_EQ(text(p.dst, p.dst_len), "198.51.100.1:1935");
}

TEST(ProxyV1, Tcp6AndUnknown)
{
    ProxyHeader p;
    size_t used = 0;
    const char* why = "";
    ASSERT_EQ(parse_all("PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n", &p, &used, &why), Rc::ok)
        << why;
    EXPECT_EQ(text(p.src, p.src_len), "[2001:db8::1]:1");
    ASSERT_EQ(parse_all("PROXY UNKNOWN\r\n", &p, &used, &why), Rc::ok);
    EXPECT_TRUE(p.local);
    ASSERT_EQ(parse_all("PROXY UNKNOWN ffff:f...f:ffff 1.2.3.4 65535 65535\r\n", &p, &used, &why),
              Rc::ok);
    EXPECT_TRUE(p.local);
}

TEST(ProxyV1, Malformed)
{
    const char* bad[] = {
        "PROXY TCP4 192.0.2.10 198.51.100.1 56324 1935\n",      // no CR
        "PROXY TCP4 192.0.2.10 198.51.100.1 56324\r\n",         // a field short
        "PROXY TCP4 192.0.2.10 198.51.100.1 56324 1935 x\r\n",  // one too many
        "PROXY TCP4 2001:db8::1 198.51.100.1 1 2\r\n",          // family mismatch
        "PROXY TCP4 192.0.2.10 198.51.100.1 65536 1\r\n",       // port range
        "PROXY TCP4 192.0.2.10 198.51.100.1 01 1\r\n",          // leading zero
        "PROXY TCP4  192.0.2.10 198.51.100.1 1 1\r\n",          // double space
        "PROXY UDP4 192.0.2.10 198.51.100.1 1 1\r\n",
        "proxy TCP4 192.0.2.10 198.51.100.1 1 1\r\n",
        "\x03\x00\x00\x00",  // an RTMP C0 instead
    };
    for (const char* b : bad) {
        ProxyHeader p;
        size_t used = 0;
        const char* why = "";
        EXPECT_EQ(
            parse_proxy_header(reinterpret_cast<const uint8_t*>(b), strlen(b), &p, &used, &why),
            Rc::error)
            << b;
    }
    // A line that never ends is refused at the spec's 107 bytes, not awaited forever.
    std::string longline = "PROXY TCP4 " + std::string(200, '1');
    ProxyHeader p;
    size_t used = 0;
    const char* why = "";
    EXPECT_EQ(parse_proxy_header(reinterpret_cast<const uint8_t*>(longline.data()), longline.size(),
                                 &p, &used, &why),
              Rc::error);
}

TEST(ProxyV2, Tcp4WithTlvs)
{
    std::string body("\xC0\x00\x02\x0A\xC6\x33\x64\x01\xDC\x04\x07\x8F", 12);
    body += std::string(
        "\x04\x00\x03"
        "abc",
        6);  // a TLV (NOOP) to skip
    std::string h = v2(0x21, 0x11, body);
    ProxyHeader p;
    size_t used = 0;
    const char* why = "";
    ASSERT_EQ(parse_all(h, &p, &used, &why, "rest"), Rc::ok) << why;
    EXPECT_EQ(used, h.size());
    EXPECT_EQ(text(p.src, p.src_len), "192.0.2.10:56324");
    EXPECT_EQ(text(p.dst, p.dst_len), "198.51.100.1:1935");
}

TEST(ProxyV2, Tcp6LocalAndUnspec)
{
    std::string body(36, '\0');
    body[15] = 1;     // src ::1
    body[31] = 2;     // dst ::2
    body[32] = 0x12;  // sport 0x1234
    body[33] = 0x34;
    ProxyHeader p;
    size_t used = 0;
    const char* why = "";
    ASSERT_EQ(parse_all(v2(0x21, 0x21, body), &p, &used, &why), Rc::ok) << why;
    EXPECT_EQ(text(p.src, p.src_len), "[::1]:4660");
    ASSERT_EQ(parse_all(v2(0x20, 0x11, std::string(12, '\0')), &p, &used, &why), Rc::ok);
    EXPECT_TRUE(p.local);
    ASSERT_EQ(parse_all(v2(0x21, 0x00, ""), &p, &used, &why), Rc::ok);
    EXPECT_TRUE(p.local);
}

TEST(ProxyV2, Malformed)
{
    std::string cases[] = {
        v2(0x11, 0x11, std::string(12, '\0')),   // version 1 in a v2 signature
        v2(0x22, 0x11, std::string(12, '\0')),   // command 2
        v2(0x21, 0x11, std::string(11, '\0')),   // short v4 block
        v2(0x21, 0x21, std::string(35, '\0')),   // short v6 block
        v2(0x21, 0x31, std::string(216, '\0')),  // AF_UNIX: not supported
        v2(0x21, 0x11, std::string(kProxyV2MaxBody + 1, '\0')),
        std::string("\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0B", 12),
    };
    for (const std::string& h : cases) {
        ProxyHeader p;
        size_t used = 0;
        const char* why = "";
        EXPECT_EQ(parse_proxy_header(reinterpret_cast<const uint8_t*>(h.data()), h.size(), &p,
                                     &used, &why),
                  Rc::error)
            << h.size();
    }
}

namespace {

constexpr const char* kConf = R"(
rtmp {
    server {
        set_real_ip_from all;
        application live {
            live on;
            deny publish 192.0.2.66;
        }
    }
    server {
        set_real_ip_from 10.0.0.0/8;
        application live { live on; }
    }
}
)";

}  // namespace

TEST(ProxySession, TrustedHeaderSetsTheClientAddressForRules)
{
    TestServer srv(kConf);
    ASSERT_TRUE(srv.ok()) << srv.error();
    for (const char* ip : {"192.0.2.1", "192.0.2.66"}) {
        RtmpTestPeer p;
        Session* s = srv.adopt(p);
        s->expect_proxy_header();
        p.send_raw(std::string("PROXY TCP4 ") + ip + " 198.51.100.1 40000 1935\r\n");
        ASSERT_TRUE(srv.handshake(p));
        EXPECT_EQ(std::string(s->peer()), std::string(ip) + ":40000");
        ASSERT_TRUE(srv.connect(p));
        uint32_t msid = srv.create_stream(p);
        std::string code = srv.publish(p, msid, "cam");
        EXPECT_EQ(code, std::string(ip) == "192.0.2.66" ? "NetStream.Publish.Denied"
                                                        : "NetStream.Publish.Start");
        p.close();
        srv.settle(3);
        srv.forget(&p);
    }
    srv.shutdown();
    EXPECT_EQ(srv.outstanding(), 0u);
}

TEST(ProxySession, MissingOrBadHeaderCloses)
{
    TestServer srv(kConf);
    ASSERT_TRUE(srv.ok()) << srv.error();
    RtmpTestPeer p;
    Session* s = srv.adopt(p);
    s->expect_proxy_header();
    p.start_handshake();  // C0C1 where the header should be
    EXPECT_TRUE(srv.run_until([&] { return p.eof(); }, 50));
    EXPECT_FALSE(p.handshake_done());
    srv.forget(&p);
    srv.shutdown();
    EXPECT_EQ(srv.outstanding(), 0u);
}
