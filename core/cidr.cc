#include "core/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace strom {

namespace {
constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void map_v4(const void* v4, IpAddr* out)
{
    memcpy(out->b, kMappedPrefix, 12);
    memcpy(out->b + 12, v4, 4);
}
}  // namespace

bool IpAddr::v4_mapped() const
{
    return memcmp(b, kMappedPrefix, 12) == 0;
}

bool IpAddr::operator==(const IpAddr& o) const
{
    return memcmp(b, o.b, 16) == 0;
}

bool ip_from_sockaddr(const sockaddr* sa, socklen_t len, IpAddr* out)
{
    if (sa->sa_family == AF_INET && len >= socklen_t(sizeof(sockaddr_in))) {
        map_v4(&reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, out);
        return true;
    }
    if (sa->sa_family == AF_INET6 && len >= socklen_t(sizeof(sockaddr_in6))) {
        memcpy(out->b, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
        return true;
    }
    return false;
}

bool parse_ip(std::string_view s, IpAddr* out)
{
    char buf[INET6_ADDRSTRLEN + 1];
    if (s.empty() || s.size() >= sizeof(buf)) return false;
    memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\0';
    uint8_t raw[16];
    if (inet_pton(AF_INET, buf, raw) == 1) {
        map_v4(raw, out);
        return true;
    }
    if (inet_pton(AF_INET6, buf, raw) == 1) {
        memcpy(out->b, raw, 16);
        return true;
    }
    return false;
}

std::string ip_text(const IpAddr& a)
{
    char buf[INET6_ADDRSTRLEN] = "?";
    if (a.v4_mapped()) {
        inet_ntop(AF_INET, a.b + 12, buf, sizeof(buf));
    } else {
        inet_ntop(AF_INET6, a.b, buf, sizeof(buf));
    }
    return buf;
}

bool Cidr::contains(const IpAddr& a) const
{
    if (all) return true;
    size_t full = prefix / 8;
    if (memcmp(a.b, net.b, full) != 0) return false;
    unsigned rest = prefix % 8;
    if (rest == 0) return true;
    uint8_t mask = uint8_t(0xff << (8 - rest));
    return (a.b[full] & mask) == net.b[full];
}

bool parse_cidr(std::string_view s, Cidr* out, const char** why)
{
    Cidr c;
    if (s == "all") {
        c.all = true;
        *out = c;
        return true;
    }
    size_t slash = s.find('/');
    std::string_view addr = s.substr(0, slash);
    if (!parse_ip(addr, &c.net)) {
        *why = "invalid address";
        return false;
    }
    bool v4 = addr.find(':') == std::string_view::npos;
    unsigned max = v4 ? 32 : 128;
    unsigned len = max;
    if (slash != std::string_view::npos) {
        std::string_view l = s.substr(slash + 1);
        if (l.empty() || l.size() > 3) {
            *why = "invalid prefix length";
            return false;
        }
        len = 0;
        for (char ch : l) {
            if (ch < '0' || ch > '9') {
                *why = "invalid prefix length";
                return false;
            }
            len = len * 10 + unsigned(ch - '0');
        }
        if (len > max) {
            *why = "prefix length too large";
            return false;
        }
    }
    // The v4 form lives in the last 32 bits of the mapped address.
    c.prefix = uint8_t(v4 ? len + 96 : len);
    Cidr masked = c;
    for (unsigned i = 0; i < 16; ++i) {
        unsigned bits = c.prefix > i * 8 ? c.prefix - i * 8 : 0;
        uint8_t mask = bits >= 8 ? 0xff : uint8_t(0xff << (8 - bits));
        masked.net.b[i] &= mask;
    }
    if (!(masked.net == c.net)) {
        *why = "host bits set after the prefix length";
        return false;
    }
    *out = c;
    return true;
}

bool cidr_match(const Cidr& c, const sockaddr* sa, socklen_t len)
{
    if (c.all) return true;
    IpAddr a;
    return ip_from_sockaddr(sa, len, &a) && c.contains(a);
}

}  // namespace strom
