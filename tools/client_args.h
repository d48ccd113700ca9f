// strom-client's command lines: one plain struct per subcommand and a pure parser for
// each, so that every user mistake gets a one-line message (unit-tested) before any
// socket is opened. Options take "--name value" or "--name=value".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rtmp/url.h"

namespace strom::tools {

using rtmp::kDefaultRtmpPort;
using rtmp::parse_rtmp_url;
using rtmp::RtmpUrl;

// Exit codes of strom-client (documented in tools/README.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // network or server: unreachable, rejected, lost
inline constexpr int kExitUsage = 2;   // bad arguments or URL
inline constexpr int kExitFile = 3;    // unreadable input or unwritable output

// "10s", "500ms", "2m", "1h", "1.5s"; a bare number is seconds. False on anything else,
// a negative value or more than a day.
bool parse_duration_ms(std::string_view s, uint64_t* out);
// "1" (real time), "2", "0.5", "max" (as fast as the connection takes it; 0 here).
bool parse_speed(std::string_view s, double* out);

struct CommonArgs {
    uint64_t timeout_ms = 10000;  // connect + handshake + publish/play answered
    bool quiet = false;           // no live status line
    bool verbose = false;         // the rtmp layer's debug log on stderr
};

struct PublishArgs {
    CommonArgs common;
    std::string file;
    RtmpUrl url;
    bool loop = false;
    double speed = 1.0;        // 0 = max
    uint64_t duration_ms = 0;  // 0 = the whole file (or forever with --loop)
};

struct PlayArgs {
    CommonArgs common;
    RtmpUrl url;
    std::string out;           // FLV file, "-" for stdout; empty: per-second stats
    uint64_t duration_ms = 0;  // 0 = until the stream ends or Ctrl-C
    uint64_t idle_ms = 0;      // stop when no media came for this long (0 = never)
};

struct ProbeArgs {
    CommonArgs common;
    RtmpUrl url;
    uint64_t duration_ms = 5000;
    bool json = false;
};

struct BenchArgs {
    CommonArgs common;
    RtmpUrl url;       // rtmp://host:port/app
    std::string file;  // FLV the publishers loop; required unless --no-publish
    std::string stream_prefix = "bench";
    uint32_t streams = 1;          // S publishers: streams prefix-0 .. prefix-(S-1)
    uint32_t players = 0;          // N players, round robin over the streams
    uint32_t idle = 0;             // connections that only connect (memory figure)
    double ramp = 100;             // connections started per second (0 = all at once)
    uint64_t warmup_ms = 3000;     // after the ramp, before the measured window
    uint64_t duration_ms = 10000;  // the measured window
    bool no_publish = false;       // players of streams published by someone else
    int server_pid = 0;
    int http_port = 0;  // players play http://host:PORT/app/NAME.flv (0: RTMP players)
    bool json = false;
    std::string label;  // copied into the output (server name, config)
};

// args exclude the program and subcommand names. On error: false and *err.
bool parse_publish_args(const std::vector<std::string_view>& args, PublishArgs* out,
                        std::string* err);
bool parse_play_args(const std::vector<std::string_view>& args, PlayArgs* out, std::string* err);
bool parse_probe_args(const std::vector<std::string_view>& args, ProbeArgs* out, std::string* err);
bool parse_bench_args(const std::vector<std::string_view>& args, BenchArgs* out, std::string* err);

// The usage text of one subcommand, or of all when name is empty or unknown.
const char* client_usage(std::string_view name);

}  // namespace strom::tools
