// Listen addresses as the config writes them, and socket addresses as logs print them.
#include "core/net_addr.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>

using namespace strom;

namespace {

NetAddr parse_ok(const char* s, int default_port = -1)
{
    NetAddr a;
    std::string err;
    EXPECT_TRUE(parse_listen_address(s, &a, &err, default_port)) << s << ": " << err;
    return a;
}

std::string parse_err(const char* s, int default_port = -1)
{
    NetAddr a;
    std::string err;
    EXPECT_FALSE(parse_listen_address(s, &a, &err, default_port)) << s;
    return err;
}

}  // namespace

TEST(NetAddr, PortOnlyIsEveryIPv4Address)
{
    NetAddr a = parse_ok("1935");
    EXPECT_EQ(a.text, "0.0.0.0:1935");
    EXPECT_EQ(a.family(), AF_INET);
    EXPECT_EQ(a.port(), 1935);
    EXPECT_EQ(a.len, sizeof(sockaddr_in));
    EXPECT_EQ(parse_ok("*:1935").text, "0.0.0.0:1935");
    EXPECT_EQ(parse_ok("0.0.0.0:1935").text, "0.0.0.0:1935");
    EXPECT_EQ(parse_ok("0").text, "0.0.0.0:0");
    EXPECT_EQ(parse_ok("65535").port(), 65535);
}

TEST(NetAddr, NumericHosts)
{
    NetAddr a = parse_ok("127.0.0.1:1935");
    EXPECT_EQ(a.text, "127.0.0.1:1935");
    auto* in = reinterpret_cast<const sockaddr_in*>(&a.ss);
    EXPECT_EQ(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
    NetAddr b = parse_ok("[::1]:1935");
    EXPECT_EQ(b.text, "[::1]:1935");
    EXPECT_EQ(b.family(), AF_INET6);
    EXPECT_EQ(b.len, sizeof(sockaddr_in6));
    EXPECT_EQ(parse_ok("[::]:1935").text, "[::]:1935");
    EXPECT_EQ(parse_ok("[2001:db8::5]:80").text, "[2001:db8::5]:80");
}

TEST(NetAddr, HostNameResolvedOnce)
{
    NetAddr a = parse_ok("localhost:1935");
    EXPECT_TRUE(a.text == "127.0.0.1:1935" || a.text == "[::1]:1935") << a.text;
    EXPECT_EQ(a.port(), 1935);
    EXPECT_EQ(parse_err("no-such-host.invalid:1935"),
              "host not found in \"no-such-host.invalid:1935\"");
}

TEST(NetAddr, DefaultPortForABareHost)
{
    EXPECT_EQ(parse_ok("127.0.0.1", 1935).text, "127.0.0.1:1935");
    EXPECT_EQ(parse_ok("[::1]", 1935).text, "[::1]:1935");
    EXPECT_EQ(parse_err("127.0.0.1"), "no port in \"127.0.0.1\"");
}

TEST(NetAddr, UnixSockets)
{
    NetAddr a = parse_ok("unix:/tmp/strom.sock");
    EXPECT_EQ(a.text, "unix:/tmp/strom.sock");
    EXPECT_EQ(a.family(), AF_UNIX);
    EXPECT_EQ(a.port(), -1);
    EXPECT_EQ(a.len, offsetof(sockaddr_un, sun_path) + strlen("/tmp/strom.sock") + 1);
    EXPECT_EQ(format_addr(a.sa(), a.len), "unix:/tmp/strom.sock");
    EXPECT_EQ(parse_err("unix:"), "no path in unix socket address \"unix:\"");
    std::string longp = "unix:/" + std::string(200, 'x');
    EXPECT_EQ(parse_err(longp.c_str()), "invalid unix socket path in \"" + longp + "\"");
}

TEST(NetAddr, Errors)
{
    EXPECT_EQ(parse_err("65536"), "invalid port in \"65536\"");
    EXPECT_EQ(parse_err("127.0.0.1:65536"), "invalid port in \"127.0.0.1:65536\"");
    EXPECT_EQ(parse_err("127.0.0.1:"), "invalid port in \"127.0.0.1:\"");
    EXPECT_EQ(parse_err("127.0.0.1:-1"), "invalid port in \"127.0.0.1:-1\"");
    EXPECT_EQ(parse_err("127.0.0.1:19x"), "invalid port in \"127.0.0.1:19x\"");
    EXPECT_EQ(parse_err("::1:1935"), "invalid address \"::1:1935\"");
    EXPECT_EQ(parse_err("[::1:1935"), "invalid address \"[::1:1935\"");
    EXPECT_EQ(parse_err("[::1]x1935"), "invalid address \"[::1]x1935\"");
    EXPECT_EQ(parse_err("[127.0.0.1]:1935"), "host not found in \"[127.0.0.1]:1935\"");
    EXPECT_EQ(parse_err(":1935"), "invalid address \":1935\"");
    EXPECT_EQ(parse_err("[]:1935"), "invalid address \"[]:1935\"");
    EXPECT_EQ(parse_err(""), "no port in \"\"");
    EXPECT_EQ(parse_err("999.1.1.1:80"), "host not found in \"999.1.1.1:80\"");
}

TEST(NetAddr, FormatPeerAddresses)
{
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(50312);
    inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
    EXPECT_EQ(format_addr(reinterpret_cast<sockaddr*>(&in), sizeof(in)), "127.0.0.1:50312");
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(50312);
    inet_pton(AF_INET6, "::1", &in6.sin6_addr);
    EXPECT_EQ(format_addr(reinterpret_cast<sockaddr*>(&in6), sizeof(in6)), "[::1]:50312");
    EXPECT_EQ(format_addr(reinterpret_cast<sockaddr*>(&in), 4), "unknown");  // truncated
    EXPECT_EQ(format_addr(nullptr, 0), "unknown");
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    EXPECT_EQ(format_addr(reinterpret_cast<sockaddr*>(&un), sizeof(sa_family_t)), "unix:");
    memcpy(un.sun_path, "/p", 3);
    EXPECT_EQ(format_addr(reinterpret_cast<sockaddr*>(&un), sizeof(un)), "unix:/p");
}

TEST(NetAddr, SameAddr)
{
    EXPECT_TRUE(same_addr(parse_ok("1935"), parse_ok("0.0.0.0:1935")));
    EXPECT_TRUE(same_addr(parse_ok("[::]:1935"), parse_ok("[0::0]:1935")));
    EXPECT_FALSE(same_addr(parse_ok("1935"), parse_ok("1936")));
    EXPECT_FALSE(same_addr(parse_ok("1935"), parse_ok("127.0.0.1:1935")));
    EXPECT_FALSE(same_addr(parse_ok("1935"), parse_ok("[::]:1935")));
    EXPECT_TRUE(same_addr(parse_ok("unix:/a"), parse_ok("unix:/a")));
    EXPECT_FALSE(same_addr(parse_ok("unix:/a"), parse_ok("unix:/b")));
}
