// strom-client's URL and command-line parsing: every user mistake gets a message.

#include <gtest/gtest.h>

#include "tools/client_args.h"
#include "rtmp/url.h"

using namespace strom::tools;
using strom::rtmp::parse_rtmp_url;
using strom::rtmp::RtmpUrl;

namespace {

RtmpUrl url_ok(std::string_view s, bool want_stream = true)
{
    RtmpUrl u;
    std::string err;
    EXPECT_TRUE(parse_rtmp_url(s, want_stream, &u, &err)) << s << ": " << err;
    return u;
}

std::string url_err(std::string_view s, bool want_stream = true)
{
    RtmpUrl u;
    std::string err;
    EXPECT_FALSE(parse_rtmp_url(s, want_stream, &u, &err)) << s;
    return err;
}

}  // namespace

TEST(ClientUrl, HostPortAppStream)
{
    RtmpUrl u = url_ok("rtmp://127.0.0.1:1936/live/cam1");
    EXPECT_EQ(u.host, "127.0.0.1");
    EXPECT_EQ(u.port, 1936);
    EXPECT_EQ(u.app, "live");
    EXPECT_EQ(u.stream, "cam1");
    EXPECT_EQ(u.tc_url, "rtmp://127.0.0.1:1936/live");
}

TEST(ClientUrl, DefaultPortIs1935)
{
    RtmpUrl u = url_ok("rtmp://example.com/live/x");
    EXPECT_EQ(u.port, 1935);
    EXPECT_EQ(u.tc_url, "rtmp://example.com:1935/live");
    EXPECT_EQ(u.text(), "rtmp://example.com:1935/live/x");
}

TEST(ClientUrl, SchemeIsCaseInsensitive)
{
    EXPECT_EQ(url_ok("RTMP://h/live/x").host, "h");
}

TEST(ClientUrl, AppWithInstanceKeepsLastSegmentAsStream)
{
    RtmpUrl u = url_ok("rtmp://h/live/inst/cam");
    EXPECT_EQ(u.app, "live/inst");
    EXPECT_EQ(u.stream, "cam");
}

TEST(ClientUrl, QueryStaysWithTheStreamEvenWithSlashes)
{
    RtmpUrl u = url_ok("rtmp://h/live/cam?token=a/b&x=1");
    EXPECT_EQ(u.app, "live");
    EXPECT_EQ(u.stream, "cam?token=a/b&x=1");
}

TEST(ClientUrl, Ipv6InBrackets)
{
    RtmpUrl u = url_ok("rtmp://[::1]:1940/live/s");
    EXPECT_EQ(u.host, "::1");
    EXPECT_EQ(u.port, 1940);
    EXPECT_EQ(u.tc_url, "rtmp://[::1]:1940/live");
    EXPECT_EQ(url_ok("rtmp://[::1]/live/s").port, 1935);
}

TEST(ClientUrl, TrailingSlashIsDropped)
{
    EXPECT_EQ(url_ok("rtmp://h/live/", false).app, "live");
    EXPECT_EQ(url_ok("rtmp://h/live/s/").stream, "s");
}

TEST(ClientUrl, AppOnlyForBench)
{
    RtmpUrl u = url_ok("rtmp://h:1/live", false);
    EXPECT_EQ(u.app, "live");
    EXPECT_TRUE(u.stream.empty());
}

TEST(ClientUrl, Errors)
{
    EXPECT_NE(url_err("127.0.0.1/live/x").find("expected rtmp://"), std::string::npos);
    EXPECT_NE(url_err("http://h/live/x").find("scheme \"http\" is not supported"),
              std::string::npos);
    EXPECT_NE(url_err("rtmps://h/live/x").find("not supported"), std::string::npos);
    EXPECT_NE(url_err("rtmp://h/live").find("missing stream name"), std::string::npos);
    EXPECT_NE(url_err("rtmp://h/live/").find("missing stream name"), std::string::npos);
    EXPECT_NE(url_err("rtmp://h/").find("missing application"), std::string::npos);
    EXPECT_NE(url_err("rtmp://h").find("missing application"), std::string::npos);
    EXPECT_NE(url_err("rtmp:///live/x").find("missing host"), std::string::npos);
    EXPECT_NE(url_err("rtmp://h:0/live/x").find("invalid port"), std::string::npos);
    EXPECT_NE(url_err("rtmp://h:65536/live/x").find("invalid port"), std::string::npos);
    EXPECT_NE(url_err("rtmp://h:12a/live/x").find("invalid port"), std::string::npos);
    EXPECT_NE(url_err("rtmp://h:/live/x").find("invalid port"), std::string::npos);
    EXPECT_NE(url_err("rtmp://::1/live/x").find("brackets"), std::string::npos);
    EXPECT_NE(url_err("rtmp://[::1/live/x").find("unbalanced"), std::string::npos);
    EXPECT_NE(url_err("rtmp://u@h/live/x").find("invalid character"), std::string::npos);
    EXPECT_NE(url_err("rtmp://h/live/?x=1").find("missing stream name"), std::string::npos);
    EXPECT_NE(url_err("rtmp://h//x").find("application"), std::string::npos);
}

TEST(ClientArgs, Durations)
{
    uint64_t ms = 0;
    EXPECT_TRUE(parse_duration_ms("10s", &ms));
    EXPECT_EQ(ms, 10000u);
    EXPECT_TRUE(parse_duration_ms("500ms", &ms));
    EXPECT_EQ(ms, 500u);
    EXPECT_TRUE(parse_duration_ms("2m", &ms));
    EXPECT_EQ(ms, 120000u);
    EXPECT_TRUE(parse_duration_ms("1h", &ms));
    EXPECT_EQ(ms, 3600000u);
    EXPECT_TRUE(parse_duration_ms("1.5s", &ms));
    EXPECT_EQ(ms, 1500u);
    EXPECT_TRUE(parse_duration_ms("7", &ms));
    EXPECT_EQ(ms, 7000u);
    for (const char* bad : {"", "s", "-1s", "1e3", "10x", "25h", "inf", "0x10", "1.2.3s"}) {
        EXPECT_FALSE(parse_duration_ms(bad, &ms)) << bad;
    }
}

TEST(ClientArgs, Speed)
{
    double s = -1;
    EXPECT_TRUE(parse_speed("max", &s));
    EXPECT_EQ(s, 0);
    EXPECT_TRUE(parse_speed("1", &s));
    EXPECT_EQ(s, 1);
    EXPECT_TRUE(parse_speed("2.5", &s));
    EXPECT_EQ(s, 2.5);
    for (const char* bad : {"0", "fast", "-1", "5000", ""})
        EXPECT_FALSE(parse_speed(bad, &s)) << bad;
}

TEST(ClientArgs, Publish)
{
    PublishArgs p;
    std::string err;
    ASSERT_TRUE(parse_publish_args(
        {"a.flv", "rtmp://h/live/s", "--loop", "--speed", "max", "--timeout=3s"}, &p, &err))
        << err;
    EXPECT_EQ(p.file, "a.flv");
    EXPECT_EQ(p.url.stream, "s");
    EXPECT_TRUE(p.loop);
    EXPECT_EQ(p.speed, 0);
    EXPECT_EQ(p.common.timeout_ms, 3000u);
    ASSERT_TRUE(parse_publish_args({"--speed=1", "a.flv", "rtmp://h/live/s", "-q"}, &p, &err))
        << err;
    EXPECT_EQ(p.speed, 1);
    EXPECT_FALSE(p.loop);
    EXPECT_TRUE(p.common.quiet);
}

TEST(ClientArgs, PublishErrors)
{
    PublishArgs p;
    std::string err;
    EXPECT_FALSE(parse_publish_args({"a.flv"}, &p, &err));
    EXPECT_NE(err.find("needs a FILE.flv and an rtmp:// URL"), std::string::npos);
    EXPECT_FALSE(parse_publish_args({"a.flv", "rtmp://h/live/s", "x"}, &p, &err));
    EXPECT_FALSE(parse_publish_args({"a.flv", "rtmp://h/live/s", "--speed"}, &p, &err));
    EXPECT_NE(err.find("--speed needs a value"), std::string::npos);
    EXPECT_FALSE(parse_publish_args({"a.flv", "rtmp://h/live/s", "--speed", "warp"}, &p, &err));
    EXPECT_NE(err.find("invalid value \"warp\" for --speed"), std::string::npos);
    EXPECT_FALSE(parse_publish_args({"a.flv", "rtmp://h/live/s", "--loop=yes"}, &p, &err));
    EXPECT_NE(err.find("takes no value"), std::string::npos);
    EXPECT_FALSE(parse_publish_args({"a.flv", "rtmp://h/live/s", "--bogus"}, &p, &err));
    EXPECT_NE(err.find("unknown option --bogus for \"publish\""), std::string::npos);
    EXPECT_FALSE(parse_publish_args({"a.flv", "rtmp://h/live"}, &p, &err));
    EXPECT_NE(err.find("missing stream name"), std::string::npos);
    EXPECT_FALSE(parse_publish_args({"a.flv", "rtmp://h/live/s", "--timeout", "0"}, &p, &err));
}

TEST(ClientArgs, Play)
{
    PlayArgs p;
    std::string err;
    ASSERT_TRUE(
        parse_play_args({"rtmp://h/live/s", "-o", "out.flv", "--duration", "10s"}, &p, &err))
        << err;
    EXPECT_EQ(p.out, "out.flv");
    EXPECT_EQ(p.duration_ms, 10000u);
    ASSERT_TRUE(parse_play_args({"-o", "-", "rtmp://h/live/s"}, &p, &err)) << err;
    EXPECT_EQ(p.out, "-");
    EXPECT_EQ(p.duration_ms, 0u);
    EXPECT_FALSE(parse_play_args({}, &p, &err));
    EXPECT_NE(err.find("play needs an rtmp:// URL"), std::string::npos);
    EXPECT_FALSE(parse_play_args({"rtmp://h/live/s", "-o"}, &p, &err));
    EXPECT_FALSE(parse_play_args({"rtmp://h/live/s", "--duration", "0"}, &p, &err));
    EXPECT_FALSE(parse_play_args({"rtmp://h/live/s", "--duration", "soon"}, &p, &err));
    EXPECT_NE(err.find("a duration"), std::string::npos);
}

TEST(ClientArgs, Probe)
{
    ProbeArgs p;
    std::string err;
    ASSERT_TRUE(parse_probe_args({"rtmp://h/live/s", "--json", "-t", "2s"}, &p, &err)) << err;
    EXPECT_TRUE(p.json);
    EXPECT_EQ(p.duration_ms, 2000u);
    EXPECT_FALSE(parse_probe_args({"rtmp://h/live/s", "rtmp://h/live/t"}, &p, &err));
}

TEST(ClientArgs, Bench)
{
    BenchArgs b;
    std::string err;
    ASSERT_TRUE(parse_bench_args(
        {"rtmp://h:2000/live", "--file", "m.flv", "--players", "1000", "--streams=4", "--ramp", "0",
         "--server-pid", "123", "--json", "--idle", "50"},
        &b, &err))
        << err;
    EXPECT_EQ(b.url.app, "live");
    EXPECT_EQ(b.players, 1000u);
    EXPECT_EQ(b.streams, 4u);
    EXPECT_EQ(b.ramp, 0);
    EXPECT_EQ(b.server_pid, 123);
    EXPECT_EQ(b.idle, 50u);
    EXPECT_TRUE(b.json);
    EXPECT_FALSE(parse_bench_args({"rtmp://h/live", "--players", "10"}, &b, &err));
    EXPECT_NE(err.find("--file"), std::string::npos);
    EXPECT_FALSE(parse_bench_args({"rtmp://h/live", "--file", "m", "--streams", "0"}, &b, &err));
    EXPECT_FALSE(parse_bench_args({"rtmp://h/live", "--file", "m", "--players", "-5"}, &b, &err));
    EXPECT_FALSE(parse_bench_args({"rtmp://h/live", "--no-publish"}, &b, &err));
    EXPECT_NE(err.find("nothing to do"), std::string::npos);
    EXPECT_FALSE(
        parse_bench_args({"rtmp://h/live", "--file", "m", "--stream-prefix", "a/b"}, &b, &err));
}

TEST(ClientArgs, BenchHttpPortMakesHttpFlvPlayers)
{
    BenchArgs b;
    std::string err;
    ASSERT_TRUE(parse_bench_args({"rtmp://h/live", "--file", "m", "--players", "5"}, &b, &err));
    EXPECT_EQ(b.http_port, 0);  // RTMP players unless asked
    ASSERT_TRUE(parse_bench_args(
        {"rtmp://h/live", "--file", "m", "--players", "5", "--http-port", "8080"}, &b, &err))
        << err;
    EXPECT_EQ(b.http_port, 8080);
    ASSERT_TRUE(parse_bench_args({"rtmp://h/live", "--file", "m", "--http-port=81"}, &b, &err));
    EXPECT_EQ(b.http_port, 81);
    for (const char* bad : {"0", "65536", "-1", "x", ""}) {
        EXPECT_FALSE(parse_bench_args({"rtmp://h/live", "--file", "m", "--http-port", bad}, &b, &err))
            << bad;
        EXPECT_NE(err.find("--http-port"), std::string::npos) << bad;
    }
    EXPECT_FALSE(parse_bench_args({"rtmp://h/live", "--file", "m", "--http-port"}, &b, &err));
}
