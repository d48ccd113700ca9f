// CIDR parsing and matching (core/cidr.h): IPv4, IPv6, IPv4-mapped IPv6, prefix edges.
#include "core/cidr.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>

using namespace strom;

namespace {

Cidr cidr(const char* s)
{
    Cidr c;
    const char* why = "";
    EXPECT_TRUE(parse_cidr(s, &c, &why)) << s << ": " << why;
    return c;
}

IpAddr ip(const char* s)
{
    IpAddr a;
    EXPECT_TRUE(parse_ip(s, &a)) << s;
    return a;
}

sockaddr_in v4sa(const char* s)
{
    sockaddr_in in{};
    in.sin_family = AF_INET;
    inet_pton(AF_INET, s, &in.sin_addr);
    return in;
}

sockaddr_in6 v6sa(const char* s)
{
    sockaddr_in6 in{};
    in.sin6_family = AF_INET6;
    inet_pton(AF_INET6, s, &in.sin6_addr);
    return in;
}

}  // namespace

TEST(Cidr, SingleV4AddressMatchesOnlyItself)
{
    Cidr c = cidr("127.0.0.1");
    EXPECT_TRUE(c.contains(ip("127.0.0.1")));
    EXPECT_FALSE(c.contains(ip("127.0.0.2")));
    EXPECT_FALSE(c.contains(ip("::1")));
}

TEST(Cidr, V4PrefixesIncludingOddLengths)
{
    Cidr c = cidr("10.0.0.0/8");
    EXPECT_TRUE(c.contains(ip("10.255.1.2")));
    EXPECT_FALSE(c.contains(ip("11.0.0.0")));
    Cidr odd = cidr("192.168.4.0/22");
    EXPECT_TRUE(odd.contains(ip("192.168.7.255")));
    EXPECT_FALSE(odd.contains(ip("192.168.8.0")));
    EXPECT_FALSE(odd.contains(ip("192.168.3.255")));
    Cidr any4 = cidr("0.0.0.0/0");
    EXPECT_TRUE(any4.contains(ip("203.0.113.9")));
    EXPECT_FALSE(any4.contains(ip("2001:db8::1"))) << "a v4 block is not every v6 address";
}

TEST(Cidr, V6Prefixes)
{
    Cidr c = cidr("2001:db8::/32");
    EXPECT_TRUE(c.contains(ip("2001:db8:ffff::1")));
    EXPECT_FALSE(c.contains(ip("2001:db9::1")));
    Cidr one = cidr("::1");
    EXPECT_TRUE(one.contains(ip("::1")));
    EXPECT_FALSE(one.contains(ip("::2")));
    Cidr odd = cidr("fe80::/10");
    EXPECT_TRUE(odd.contains(ip("febf::1")));
    EXPECT_FALSE(odd.contains(ip("fec0::1")));
}

TEST(Cidr, MappedV6ClientMatchesV4Rule)
{
    Cidr c = cidr("192.0.2.0/24");
    sockaddr_in6 mapped = v6sa("::ffff:192.0.2.77");
    EXPECT_TRUE(cidr_match(c, reinterpret_cast<sockaddr*>(&mapped), sizeof(mapped)));
    sockaddr_in plain = v4sa("192.0.2.77");
    EXPECT_TRUE(cidr_match(c, reinterpret_cast<sockaddr*>(&plain), sizeof(plain)));
    sockaddr_in other = v4sa("192.0.3.1");
    EXPECT_FALSE(cidr_match(c, reinterpret_cast<sockaddr*>(&other), sizeof(other)));
    // And a rule written in the mapped form matches a plain v4 client.
    Cidr m = cidr("::ffff:192.0.2.0/120");
    EXPECT_TRUE(cidr_match(m, reinterpret_cast<sockaddr*>(&plain), sizeof(plain)));
}

TEST(Cidr, AllMatchesEverythingIncludingUnixSockets)
{
    Cidr all = cidr("all");
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    EXPECT_TRUE(cidr_match(all, reinterpret_cast<sockaddr*>(&un), sizeof(un)));
    Cidr any6 = cidr("::/0");
    EXPECT_FALSE(cidr_match(any6, reinterpret_cast<sockaddr*>(&un), sizeof(un)));
}

TEST(Cidr, RejectsMalformedBlocks)
{
    const char* bad[] = {"",         "1.2.3",      "1.2.3.4/33",   "::/129",
                         "1.2.3.4/", "1.2.3.4/x",  "10.0.0.1/8",   "2001:db8::1/32",
                         "[::1]",    "1.2.3.4:80", "1.2.3.4/0008", "host.example"};
    for (const char* s : bad) {
        Cidr c;
        const char* why = "";
        EXPECT_FALSE(parse_cidr(s, &c, &why)) << s;
    }
}

TEST(Cidr, IpTextRoundTrips)
{
    EXPECT_EQ(ip_text(ip("10.1.2.3")), "10.1.2.3");
    EXPECT_EQ(ip_text(ip("::ffff:10.1.2.3")), "10.1.2.3");
    EXPECT_EQ(ip_text(ip("2001:db8::1")), "2001:db8::1");
}
