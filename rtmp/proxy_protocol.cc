#include "rtmp/proxy_protocol.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <string_view>

#include "core/bytes.h"

namespace strom::rtmp {

namespace {

constexpr uint8_t kV2Sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr char kV1Sig[] = "PROXY ";

Rc fail(const char** why, const char* w)
{
    *why = w;
    return Rc::error;
}

// A decimal port 0..65535 without leading zeros (spec 2.1).
bool parse_port(std::string_view s, uint16_t* out)
{
    if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return false;
    uint32_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + uint32_t(c - '0');
    }
    if (v > 65535) return false;
    *out = uint16_t(v);
    return true;
}

bool v1_addr(std::string_view ip, std::string_view port, bool v6, sockaddr_storage* ss,
             socklen_t* len)
{
    char buf[INET6_ADDRSTRLEN + 1];
    uint16_t pt = 0;
    if (ip.empty() || ip.size() >= sizeof(buf) || !parse_port(port, &pt)) return false;
    memcpy(buf, ip.data(), ip.size());
    buf[ip.size()] = '\0';
    memset(ss, 0, sizeof(*ss));
    if (!v6) {
        auto* in = reinterpret_cast<sockaddr_in*>(ss);
        in->sin_family = AF_INET;
        in->sin_port = htons(pt);
        *len = sizeof(sockaddr_in);
        return inet_pton(AF_INET, buf, &in->sin_addr) == 1;
    }
    auto* in6 = reinterpret_cast<sockaddr_in6*>(ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(pt);
    *len = sizeof(sockaddr_in6);
    return inet_pton(AF_INET6, buf, &in6->sin6_addr) == 1;
}

// Spec 2.1: "PROXY" SP proto SP src SP dst SP sport SP dport CRLF, or "PROXY UNKNOWN ...".
Rc parse_v1(const uint8_t* p, size_t n, ProxyHeader* out, size_t* used, const char** why)
{
    size_t lim = n < kProxyV1Max ? n : kProxyV1Max;
    const void* lf = memchr(p, '\n', lim);
    if (!lf) return n >= kProxyV1Max ? fail(why, "PROXY v1 line too long") : Rc::again;
    size_t end = size_t(static_cast<const uint8_t*>(lf) - p);
    if (end == 0 || p[end - 1] != '\r') return fail(why, "PROXY v1 line without CRLF");
    std::string_view line(reinterpret_cast<const char*>(p), end - 1);
    std::string_view f[6];
    size_t nf = 0, pos = 0;
    while (pos <= line.size() && nf < 6) {
        size_t sp = line.find(' ', pos);
        f[nf++] = line.substr(pos, sp == std::string_view::npos ? sp : sp - pos);
        if (sp == std::string_view::npos) {
            pos = line.size() + 1;
            break;
        }
        pos = sp + 1;
    }
    if (nf >= 2 && f[1] == "UNKNOWN") {
        out->local = true;  // the rest of the line is to be ignored (spec 2.1)
        *used = end + 1;
        return Rc::ok;
    }
    if (nf != 6 || pos <= line.size()) return fail(why, "PROXY v1 line malformed");
    bool v6 = f[1] == "TCP6";
    if (!v6 && f[1] != "TCP4") return fail(why, "PROXY v1 unknown protocol");
    if (!v1_addr(f[2], f[4], v6, &out->src, &out->src_len) ||
        !v1_addr(f[3], f[5], v6, &out->dst, &out->dst_len)) {
        return fail(why, "PROXY v1 bad address");
    }
    out->local = false;
    *used = end + 1;
    return Rc::ok;
}

// Spec 2.2: signature, ver_cmd, fam, len (network order), addresses, TLVs.
Rc parse_v2(const uint8_t* p, size_t n, ProxyHeader* out, size_t* used, const char** why)
{
    if (n < 16) return Rc::again;
    uint8_t ver = p[12] >> 4, cmd = p[12] & 0x0F, fam = p[13];
    size_t len = load_be16(p + 14);
    if (ver != 2) return fail(why, "PROXY v2 bad version");
    if (cmd > 1) return fail(why, "PROXY v2 bad command");
    if (len > kProxyV2MaxBody) return fail(why, "PROXY v2 header too long");
    if (n < 16 + len) return Rc::again;
    const uint8_t* b = p + 16;
    *used = 16 + len;
    if (cmd == 0) {  // LOCAL: the proxy speaking for itself; addresses are ignored
        out->local = true;
        return Rc::ok;
    }
    memset(&out->src, 0, sizeof(out->src));
    memset(&out->dst, 0, sizeof(out->dst));
    if (fam == 0x11) {  // TCP over IPv4: src4 dst4 sport dport
        if (len < 12) return fail(why, "PROXY v2 short IPv4 block");
        auto* s = reinterpret_cast<sockaddr_in*>(&out->src);
        auto* d = reinterpret_cast<sockaddr_in*>(&out->dst);
        s->sin_family = d->sin_family = AF_INET;
        memcpy(&s->sin_addr, b, 4);
        memcpy(&d->sin_addr, b + 4, 4);
        memcpy(&s->sin_port, b + 8, 2);
        memcpy(&d->sin_port, b + 10, 2);
        out->src_len = out->dst_len = sizeof(sockaddr_in);
    } else if (fam == 0x21) {  // TCP over IPv6
        if (len < 36) return fail(why, "PROXY v2 short IPv6 block");
        auto* s = reinterpret_cast<sockaddr_in6*>(&out->src);
        auto* d = reinterpret_cast<sockaddr_in6*>(&out->dst);
        s->sin6_family = d->sin6_family = AF_INET6;
        memcpy(&s->sin6_addr, b, 16);
        memcpy(&d->sin6_addr, b + 16, 16);
        memcpy(&s->sin6_port, b + 32, 2);
        memcpy(&d->sin6_port, b + 34, 2);
        out->src_len = out->dst_len = sizeof(sockaddr_in6);
    } else if (fam == 0x00) {  // UNSPEC: the receiver keeps its own addresses
        out->local = true;
        return Rc::ok;
    } else {
        return fail(why, "PROXY v2 unsupported address family");
    }
    out->local = false;
    return Rc::ok;
}

}  // namespace

Rc parse_proxy_header(const uint8_t* p, size_t n, ProxyHeader* out, size_t* used, const char** why)
{
    *used = 0;
    if (n == 0) return Rc::again;
    if (p[0] == kV2Sig[0]) {
        size_t k = n < sizeof(kV2Sig) ? n : sizeof(kV2Sig);
        if (memcmp(p, kV2Sig, k) != 0) return fail(why, "no PROXY header");
        return parse_v2(p, n, out, used, why);
    }
    size_t k = n < 6 ? n : 6;
    if (memcmp(p, kV1Sig, k) != 0) return fail(why, "no PROXY header");
    if (n < 6) return Rc::again;
    return parse_v1(p, n, out, used, why);
}

}  // namespace strom::rtmp
