#include "rtmp/url.h"

#include <strings.h>

#include <cstdlib>

namespace strom::rtmp {

namespace {

bool parse_port(std::string_view s, int* out)
{
    if (s.empty() || s.size() > 5) return false;
    int v = 0;
    for (char ch : s) {
        if (ch < '0' || ch > '9') return false;
        v = v * 10 + (ch - '0');
    }
    if (v < 1 || v > 65535) return false;
    *out = v;
    return true;
}

// host, [v6], host:port, [v6]:port
bool parse_authority(std::string_view a, RtmpUrl* out, std::string* err)
{
    std::string_view host = a, port;
    if (!a.empty() && a[0] == '[') {
        size_t close = a.find(']');
        if (close == std::string_view::npos) {
            *err = "unbalanced '[' in the host";
            return false;
        }
        host = a.substr(1, close - 1);
        std::string_view rest = a.substr(close + 1);
        if (!rest.empty()) {
            if (rest[0] != ':') {
                *err = "unexpected characters after ']'";
                return false;
            }
            port = rest.substr(1);
            if (port.empty()) port = "-";  // "[::1]:" is an error below
        }
    } else {
        size_t colon = a.rfind(':');
        if (colon != std::string_view::npos) {
            if (a.find(':') != colon) {
                *err = "an IPv6 address must be in brackets: rtmp://[::1]:1935/app/stream";
                return false;
            }
            host = a.substr(0, colon);
            port = a.substr(colon + 1);
            if (port.empty()) port = "-";
        }
    }
    if (host.empty()) {
        *err = "missing host";
        return false;
    }
    for (char ch : host) {
        if (ch == '@' || ch == ' ' || ch == '/' || ch == '?' || ch == '#') {
            *err = "invalid character in the host";
            return false;
        }
    }
    out->host = std::string(host);
    out->port = kDefaultRtmpPort;
    if (!port.empty() && !parse_port(port, &out->port)) {
        *err = "invalid port \"" + std::string(port == "-" ? "" : port) + "\" (1..65535)";
        return false;
    }
    return true;
}

}  // namespace

std::string RtmpUrl::text() const
{
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    std::string s = "rtmp://" + h + ":" + std::to_string(port) + "/" + app;
    if (!stream.empty()) s += "/" + stream;
    return s;
}

bool parse_rtmp_url(std::string_view url, bool want_stream, RtmpUrl* out, std::string* err)
{
    std::string why;
    auto fail = [&](const std::string& w) {
        *err = "invalid URL \"" + std::string(url) + "\": " + w;
        return false;
    };
    size_t scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
        return fail("expected rtmp://host[:port]/app" + std::string(want_stream ? "/stream" : ""));
    }
    std::string scheme(url.substr(0, scheme_end));
    if (strcasecmp(scheme.c_str(), "rtmp") != 0) {
        return fail("scheme \"" + scheme + "\" is not supported (only rtmp://)");
    }
    std::string_view rest = url.substr(scheme_end + 3);
    size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    RtmpUrl u;
    if (!parse_authority(authority, &u, &why)) return fail(why);
    std::string_view path =
        slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    // The stream name may carry a query with slashes in it ("?token=a/b"): split the
    // path at the last '/' before any '?'. A trailing '/' without a query is dropped.
    if (path.find('?') == std::string_view::npos) {
        while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    }
    size_t query = path.find('?');
    std::string_view before_query = path.substr(0, query);
    if (before_query.empty()) return fail("missing application name");
    if (want_stream) {
        size_t last = before_query.rfind('/');
        if (last == std::string_view::npos || last + 1 >= path.size() ||
            (query != std::string_view::npos && last + 1 == query)) {
            return fail("missing stream name (rtmp://host[:port]/app/stream)");
        }
        u.app = std::string(path.substr(0, last));
        u.stream = std::string(path.substr(last + 1));
    } else {
        u.app = std::string(path);
    }
    if (u.app.empty() || u.app.find("//") != std::string::npos)
        return fail("empty application name");
    std::string h = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
    u.tc_url = "rtmp://" + h + ":" + std::to_string(u.port) + "/" + u.app;
    *out = std::move(u);
    return true;
}

}  // namespace strom::rtmp
