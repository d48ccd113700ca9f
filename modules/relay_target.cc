#include "modules/relay_target.h"

#include <strings.h>

#include <algorithm>

#include "rtmp/command.h"
#include "rtmp/url.h"

namespace strom::mod {

namespace {

constexpr size_t kMaxHost = 253;
constexpr size_t kMaxApp = 256;

bool host_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_';
}

bool ipv6_char(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F') ||
           ch == ':' || ch == '.';
}

}  // namespace

bool is_rtmp_url(std::string_view location)
{
    return location.size() >= 7 && strncasecmp(location.data(), "rtmp://", 7) == 0;
}

bool parse_relay_url(std::string_view location, size_t max_name, RelayTarget* out, const char** why)
{
    *out = RelayTarget();
    rtmp::RtmpUrl u;
    std::string err;
    if (!is_rtmp_url(location)) {
        *why = "not an rtmp:// URL";
        return false;
    }
    if (!rtmp::parse_rtmp_url(location, true, &u, &err)) {
        *why = "not rtmp://host[:port]/app/name";
        return false;
    }
    // Stricter than a command line: the URL came from an HTTP answer, and its parts go
    // into logs and the relay's connect.
    bool v6 = location.size() > 7 && location[7] == '[';   // an IPv6 literal in brackets
    if (u.host.size() > kMaxHost || (v6 && u.host.find(':') == std::string::npos) ||
        !std::all_of(u.host.begin(), u.host.end(), [v6](char ch) { return v6 ? ipv6_char(ch) : host_char(ch); })) {
        *why = "bad host";
        return false;
    }
    if (u.app.size() > kMaxApp || !std::all_of(u.app.begin(), u.app.end(), [](char ch) {
            return static_cast<unsigned char>(ch) > 0x20 && ch != 0x7f;
        })) {
        *why = "bad application";
        return false;
    }
    out->host = u.host;
    out->port = uint16_t(u.port);
    out->app = u.app;
    return rtmp::split_stream_name(u.stream, max_name, &out->name, &out->args, why);
}

std::string RelayTarget::url() const
{
    bool v6 = host.find(':') != std::string::npos;
    std::string h = v6 ? "[" + host + "]" : host;
    return "rtmp://" + h + ":" + std::to_string(port) + "/" + app + "/" + name;
}

rtmp::ClientParams RelayTarget::client_params(bool publish) const
{
    bool v6 = host.find(':') != std::string::npos;
    std::string h = v6 ? "[" + host + "]" : host;
    if (port != 1935) h += ":" + std::to_string(port);
    rtmp::ClientParams p;
    p.app = app;
    p.tc_url = "rtmp://" + h + "/" + app;
    p.stream = args.empty() ? name : name + "?" + args;
    p.publish = publish;
    if (!publish) p.flash_ver = "LNX 9,0,124,2";  // what players send; some servers check
    p.buffer_ms = 0;
    return p;
}

}  // namespace strom::mod
