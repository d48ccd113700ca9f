#include "core/net_addr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>

#include "core/conf_value.h"

namespace strom {

namespace {

bool set_err(std::string* err, const char* what, std::string_view s)
{
    *err = std::string(what) + " \"" + std::string(s) + "\"";
    return false;
}

bool parse_unix(std::string_view s, NetAddr* out, std::string* err)
{
    std::string_view path = s.substr(5);
    sockaddr_un un{};
    if (path.empty()) return set_err(err, "no path in unix socket address", s);
    if (path.size() >= sizeof(un.sun_path) || path.find('\0') != std::string_view::npos) {
        return set_err(err, "invalid unix socket path in", s);
    }
    un.sun_family = AF_UNIX;
    memcpy(un.sun_path, path.data(), path.size());
    NetAddr a;
    memcpy(&a.ss, &un, sizeof(un));
    a.len = socklen_t(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    a.text = "unix:" + std::string(path);
    *out = std::move(a);
    return true;
}

// Splits `host:port`, `[v6]:port`, `[v6]`, `port` or `host`.
bool split(std::string_view s, std::string_view* host, std::string_view* port, bool* has_port,
           bool* bracketed)
{
    *bracketed = !s.empty() && s[0] == '[';
    if (*bracketed) {
        size_t close = s.find(']');
        if (close == std::string_view::npos) return false;
        *host = s.substr(1, close - 1);
        std::string_view rest = s.substr(close + 1);
        *has_port = !rest.empty();
        if (*has_port && rest[0] != ':') return false;
        if (*has_port) *port = rest.substr(1);
        return true;
    }
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) {
        *has_port = !s.empty() && s.find_first_not_of("0123456789") == s.npos;
        if (*has_port) {  // `listen 1935;` is every IPv4 address, as in nginx
            *port = s;
            *host = "*";
        } else {
            *host = s;
        }
        return true;
    }
    *host = s.substr(0, colon);
    *port = s.substr(colon + 1);
    *has_port = true;
    return host->find(':') == std::string_view::npos;  // IPv6 needs brackets
}

// Resolves host into *out (port not set). Numeric first; a name once, IPv4 preferred.
bool resolve(const std::string& host, bool v6_only, NetAddr* out)
{
    addrinfo hints{};
    hints.ai_family = v6_only ? AF_INET6 : AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) {
        if (v6_only) return false;
        hints.ai_flags = AI_PASSIVE;
        res = nullptr;
        if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) return false;
    }
    const addrinfo* pick = nullptr;
    for (const addrinfo* ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
        if (ai->ai_addrlen > sizeof(out->ss)) continue;
        if (!pick || (pick->ai_family != AF_INET && ai->ai_family == AF_INET)) pick = ai;
    }
    if (pick) {
        memcpy(&out->ss, pick->ai_addr, pick->ai_addrlen);
        out->len = pick->ai_addrlen;
    }
    freeaddrinfo(res);
    return pick != nullptr;
}

}  // namespace

int NetAddr::port() const
{
    if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
    if (ss.ss_family == AF_INET6) {
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
    }
    return -1;
}

bool parse_listen_address(std::string_view s, NetAddr* out, std::string* err, int default_port)
{
    if (s.substr(0, 5) == "unix:") return parse_unix(s, out, err);
    std::string_view host, port_text;
    bool has_port = false, bracketed = false;
    if (!split(s, &host, &port_text, &has_port, &bracketed)) {
        return set_err(err, "invalid address", s);
    }
    uint64_t port = 0;
    if (has_port) {
        if (!parse_uint(port_text, &port) || port > 65535) {
            return set_err(err, "invalid port in", s);
        }
    } else if (default_port >= 0 && default_port <= 65535) {
        port = uint64_t(default_port);
    } else {
        return set_err(err, "no port in", s);
    }
    NetAddr a;
    if (host == "*") {
        sockaddr_in in{};
        in.sin_family = AF_INET;
        in.sin_addr.s_addr = htonl(INADDR_ANY);
        memcpy(&a.ss, &in, sizeof(in));
        a.len = sizeof(in);
    } else if (host.empty() || !resolve(std::string(host), bracketed, &a)) {
        return set_err(err, host.empty() ? "invalid address" : "host not found in", s);
    }
    if (a.ss.ss_family == AF_INET) {
        reinterpret_cast<sockaddr_in*>(&a.ss)->sin_port = htons(uint16_t(port));
    } else {
        reinterpret_cast<sockaddr_in6*>(&a.ss)->sin6_port = htons(uint16_t(port));
    }
    a.text = format_addr(a.sa(), a.len);
    *out = std::move(a);
    return true;
}

std::string format_addr(const sockaddr* sa, socklen_t len)
{
    char buf[INET6_ADDRSTRLEN];
    if (!sa || len < socklen_t(sizeof(sa_family_t))) return "unknown";
    if (sa->sa_family == AF_INET && len >= socklen_t(sizeof(sockaddr_in))) {
        auto* in = reinterpret_cast<const sockaddr_in*>(sa);
        if (!inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf))) return "unknown";
        return std::string(buf) + ":" + std::to_string(ntohs(in->sin_port));
    }
    if (sa->sa_family == AF_INET6 && len >= socklen_t(sizeof(sockaddr_in6))) {
        auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        if (!inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf))) return "unknown";
        return "[" + std::string(buf) + "]:" + std::to_string(ntohs(in6->sin6_port));
    }
    if (sa->sa_family == AF_UNIX) {
        auto* un = reinterpret_cast<const sockaddr_un*>(sa);
        size_t off = offsetof(sockaddr_un, sun_path);
        size_t n = size_t(len) > off ? size_t(len) - off : 0;
        if (n > sizeof(un->sun_path)) n = sizeof(un->sun_path);
        if (n == 0) return "unix:";
        if (un->sun_path[0] == '\0') {  // abstract namespace
            return "unix:@" + std::string(un->sun_path + 1, n - 1);
        }
        return "unix:" + std::string(un->sun_path, strnlen(un->sun_path, n));
    }
    return "unknown";
}

bool same_addr(const NetAddr& a, const NetAddr& b)
{
    if (a.family() != b.family()) return false;
    if (a.family() == AF_INET) {
        auto* x = reinterpret_cast<const sockaddr_in*>(&a.ss);
        auto* y = reinterpret_cast<const sockaddr_in*>(&b.ss);
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a.family() == AF_INET6) {
        auto* x = reinterpret_cast<const sockaddr_in6*>(&a.ss);
        auto* y = reinterpret_cast<const sockaddr_in6*>(&b.ss);
        return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
    }
    return a.text == b.text;
}

}  // namespace strom
