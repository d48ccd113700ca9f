// An rtmp:// URL as strom-client takes it on the command line and a notify redirect
// gives it to a relay, split the way ffmpeg, OBS and nginx-rtmp split it: the last path
// segment (with its ?query) is the stream name, everything between the authority and it
// is the application ("live", or "live/instance"). Plain value; parsing is pure so that
// it is unit-tested on its own.
#pragma once

#include <string>
#include <string_view>

namespace strom::rtmp {

inline constexpr int kDefaultRtmpPort = 1935;

struct RtmpUrl {
    std::string host;  // name or address, IPv6 without brackets
    int port = kDefaultRtmpPort;
    std::string app;     // "live", "live/instance"
    std::string stream;  // "cam1", "cam1?token=x"; empty when the URL names no stream
    std::string tc_url;  // rtmp://host[:port]/app, as sent in connect's tcUrl

    std::string text() const;  // rtmp://host:port/app[/stream], for messages
};

// want_stream: the URL must name a stream (publish, play, probe); bench takes
// rtmp://host/app and makes its own stream names. On error returns false and sets *err
// to one line a user can act on ("missing stream name in ...").
bool parse_rtmp_url(std::string_view url, bool want_stream, RtmpUrl* out, std::string* err);

}  // namespace strom::rtmp
