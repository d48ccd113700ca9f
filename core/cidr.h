// IP addresses and CIDR blocks for access rules, trusted-proxy lists and connection
// limits. Every address is kept as 16 bytes: IPv4 as the IPv4-mapped IPv6 address
// ::ffff:a.b.c.d (RFC 4291 2.5.5.2), so one comparison serves both families and a client
// that reaches a dual-stack socket as ::ffff:127.0.0.1 matches the rule `127.0.0.1`.
// Plain values, copied freely.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace strom {

struct IpAddr {
    uint8_t b[16] = {};
    bool v4_mapped() const;
    bool operator==(const IpAddr& o) const;
};

// The IP of an AF_INET / AF_INET6 socket address; false for anything else (unix:).
bool ip_from_sockaddr(const sockaddr* sa, socklen_t len, IpAddr* out);
// `192.0.2.1`, `2001:db8::1`, `::ffff:192.0.2.1` (no brackets, no port).
bool parse_ip(std::string_view s, IpAddr* out);
// `192.0.2.1`, or `2001:db8::1` (mapped v4 printed as v4).
std::string ip_text(const IpAddr& a);

struct Cidr {
    IpAddr net;          // with the host bits cleared
    uint8_t prefix = 0;  // in bits of the 128-bit form (an IPv4 /24 is 120 here)
    bool all = false;    // `all`: every client, unix sockets included

    bool contains(const IpAddr& a) const;
};

// `all`, `ADDR` or `ADDR/LEN` (v4: LEN 0..32, v6: 0..128). A v4 block matches v4
// clients only, and also their IPv4-mapped v6 form. Host bits set in ADDR are an error
// (`192.0.2.1/24`), as in nginx: the operator probably meant something else.
bool parse_cidr(std::string_view s, Cidr* out, const char** why);

// Does `c` match the peer at `sa`? A non-IP peer (unix socket) matches only `all`.
bool cidr_match(const Cidr& c, const sockaddr* sa, socklen_t len);

}  // namespace strom
