// Where a notify 3xx answer sends a stream when notify_relay_redirect is on:
// `rtmp://host[:port]/app[/...]/name[?args]` split into what a client session needs
// (nginx-rtmp's convention: the last path segment is the stream, the rest the app).
// Plain value, parsed from the Location header and copied into the relay that uses it.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "rtmp/session.h"

namespace strom::mod {

struct RelayTarget {
    std::string host;  // without the brackets of an IPv6 literal
    uint16_t port = 1935;
    std::string app;   // "live", or "live/inst" for a deeper path
    std::string name;  // the stream, without args
    std::string args;  // after '?', passed on to the remote server

    // rtmp://host:port/app/name for logs (the args may hold a token: left out).
    std::string url() const;
    // What the client session sends: tcUrl rtmp://host[:port]/app, the stream with args.
    rtmp::ClientParams client_params(bool publish) const;
};

// True when `location` starts with rtmp:// (any case): then it is a relay target or
// an error, never a plain name.
bool is_rtmp_url(std::string_view location);

// False with *why set when it is not an rtmp:// URL with a host, a valid port, an app and
// a stream name (no user info, no control characters, name within max_name).
bool parse_relay_url(std::string_view location, size_t max_name, RelayTarget* out,
                     const char** why);

}  // namespace strom::mod
