// strom-client bench's HTTP-FLV players: the request they send, the reader of the answer
// (HTTP head, then FLV) fed whole, at every split point and byte by byte, the refusals
// (status, transfer coding, oversized head), and one player over a real loopback
// connection checked against its SentLog like an RTMP player.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "rtmp/flv.h"
#include "tools/bench_http_player.h"
#include "tools/http_flv_reader.h"
#include "tools/sent_log.h"

using namespace strom;
using namespace strom::tools;

namespace {

const std::vector<uint8_t> kAvcSeq = {0x17, 0x00, 0, 0, 0, 0x01, 0x42, 0xc0, 0x1e, 0xff};
const std::vector<uint8_t> kAvcKey = {0x17, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x65};
const std::vector<uint8_t> kAvcInter = {0x27, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x41};
const std::vector<uint8_t> kAacSeq = {0xaf, 0x00, 0x12, 0x10};
const std::vector<uint8_t> kAacRaw = {0xaf, 0x01, 0x21, 0x00, 0x49};
const std::vector<uint8_t> kMeta = {0x02, 0x00, 0x0a, 'o', 'n', 'M', 'e',
                                    't',  'a',  'D',  'a', 't', 'a'};

const char kHead[] =
    "HTTP/1.1 200 OK\r\nServer: strom/0.1\r\nContent-Type: video/x-flv\r\n"
    "Connection: close\r\nCache-Control: no-cache\r\n\r\n";

struct Tag {
    uint8_t type;
    uint32_t ts;
    std::vector<uint8_t> data;
};

// What Strom sends a late joiner: metadata at 0, sequence headers, the GOP, live tags.
std::vector<Tag> sample_tags()
{
    return {{18, 0, kMeta},   {9, 0, kAvcSeq},    {8, 0, kAacSeq},  {9, 0, kAvcKey},
            {8, 10, kAacRaw}, {9, 40, kAvcInter}, {8, 33, kAacRaw}, {9, 80, kAvcInter}};
}

std::vector<uint8_t> flv_bytes(const std::vector<Tag>& tags, bool file_start = true)
{
    std::vector<uint8_t> out;
    if (file_start) {
        out.resize(rtmp::kFlvFileStartSize);
        rtmp::flv_write_header(out.data(), true, true);
    }
    for (const Tag& t : tags) {
        size_t at = out.size();
        out.resize(at + rtmp::kFlvTagHeaderSize);
        rtmp::flv_write_tag_header(out.data() + at, t.type, uint32_t(t.data.size()), t.ts);
        out.insert(out.end(), t.data.begin(), t.data.end());
        at = out.size();
        out.resize(at + rtmp::kFlvBackPointerSize);
        rtmp::flv_write_prev_size(out.data() + at, uint32_t(t.data.size()));
    }
    return out;
}

std::vector<uint8_t> answer(const std::string& head, const std::vector<Tag>& tags)
{
    std::vector<uint8_t> v(head.begin(), head.end());
    std::vector<uint8_t> f = flv_bytes(tags);
    v.insert(v.end(), f.begin(), f.end());
    return v;
}

// Feeds `bytes` in slices cut at `cuts` (increasing offsets); collects the tags.
Rc feed(HttpFlvReader& r, const std::vector<uint8_t>& bytes, const std::vector<size_t>& cuts,
        std::vector<Tag>* got)
{
    size_t from = 0;
    Rc rc = Rc::again;
    for (size_t i = 0; i <= cuts.size(); ++i) {
        size_t to = i < cuts.size() ? cuts[i] : bytes.size();
        std::span<const uint8_t> in(bytes.data() + from, to - from);
        rtmp::FlvTag t;
        while ((rc = r.next(in, &t)) == Rc::ok) {
            got->push_back({t.type, t.timestamp, {t.data.begin(), t.data.end()}});
        }
        if (rc == Rc::error) return rc;
        EXPECT_TRUE(in.empty());
        from = to;
    }
    return rc;
}

void expect_same(const std::vector<Tag>& got, const std::vector<Tag>& want, const char* how)
{
    ASSERT_EQ(got.size(), want.size()) << how;
    for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(got[i].type, want[i].type) << how << " tag " << i;
        EXPECT_EQ(got[i].ts, want[i].ts) << how << " tag " << i;
        EXPECT_EQ(got[i].data, want[i].data) << how << " tag " << i;
    }
}

}  // namespace

TEST(ClientHttpFlv, RequestNamesTheStreamPathWithItsQuery)
{
    rtmp::RtmpUrl u;
    u.host = "127.0.0.1";
    u.app = "live";
    u.stream = "bench-3";
    EXPECT_EQ(http_flv_request(u, 8080),
              "GET /live/bench-3.flv HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
              "User-Agent: strom-client bench\r\nAccept: */*\r\n\r\n");
    u.host = "::1";
    u.stream = "a b%?token=x&e=1";
    std::string r = http_flv_request(u, 80);
    EXPECT_EQ(r.substr(0, r.find("\r\n")), "GET /live/a%20b%25.flv?token=x&e=1 HTTP/1.1");
    EXPECT_NE(r.find("\r\nHost: [::1]:80\r\n"), std::string::npos);
}

TEST(ClientHttpFlv, ReaderSkipsTheHeadAndReadsTagsWhole)
{
    HttpFlvReader r;
    std::vector<Tag> got;
    std::vector<uint8_t> bytes = answer(kHead, sample_tags());
    EXPECT_EQ(feed(r, bytes, {}, &got), Rc::again);
    EXPECT_TRUE(r.head_done());
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.head_size(), sizeof(kHead) - 1);
    expect_same(got, sample_tags(), "whole");
    EXPECT_TRUE(r.flv().header().audio);
    EXPECT_TRUE(r.flv().header().video);
}

TEST(ClientHttpFlv, ReaderGivesTheSameTagsAtEverySplitAndByteByByte)
{
    std::vector<uint8_t> bytes = answer(kHead, sample_tags());
    for (size_t cut = 0; cut <= bytes.size(); ++cut) {
        HttpFlvReader r;
        std::vector<Tag> got;
        EXPECT_EQ(feed(r, bytes, {cut}, &got), Rc::again) << "cut " << cut;
        expect_same(got, sample_tags(), ("cut " + std::to_string(cut)).c_str());
    }
    HttpFlvReader r;
    std::vector<size_t> every;
    for (size_t i = 1; i < bytes.size(); ++i) every.push_back(i);
    std::vector<Tag> got;
    EXPECT_EQ(feed(r, bytes, every, &got), Rc::again);
    expect_same(got, sample_tags(), "byte by byte");
    EXPECT_TRUE(r.head_done());
}

TEST(ClientHttpFlv, ReaderWaitsForTheWholeHead)
{
    HttpFlvReader r;
    std::string part = "HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\n\r";
    std::vector<uint8_t> bytes(part.begin(), part.end());
    std::vector<Tag> got;
    EXPECT_EQ(feed(r, bytes, {}, &got), Rc::again);
    EXPECT_FALSE(r.head_done());
    EXPECT_EQ(r.status(), 0);
}

TEST(ClientHttpFlv, ReaderRefusesOtherStatusesChunkingAndHugeHeads)
{
    struct Case {
        std::string head;
        const char* reason;
        int status;
    } cases[] = {
        {"HTTP/1.1 404 Not Found\r\nContent-Length: 17\r\n\r\n", "HTTP status is not 200", 404},
        {"HTTP/1.0 403 Forbidden\r\n\r\n", "HTTP status is not 200", 403},
        {"HTTP/1.1 200 OK\r\ntransfer-encoding:  Chunked \r\n\r\n",
         "HTTP transfer coding not supported", 200},
        {"RTMP/1.1 200 OK\r\n\r\n", "not an HTTP/1.x response", 0},
        {"HTTP/1.1 20 OK\r\n\r\n", "not an HTTP/1.x response", 0},
        {"HTTP/1.1 200 OK\r\nX: " + std::string(HttpFlvReader::kMaxHead, 'x') + "\r\n\r\n",
         "HTTP response head over 16 KiB", 0},  // refused before the status line is read
    };
    for (const Case& c : cases) {
        for (bool bytewise : {false, true}) {
            HttpFlvReader r;
            std::vector<uint8_t> bytes = answer(c.head, sample_tags());
            std::vector<size_t> cuts;
            if (bytewise)
                for (size_t i = 1; i < bytes.size(); ++i) cuts.push_back(i);
            std::vector<Tag> got;
            EXPECT_EQ(feed(r, bytes, cuts, &got), Rc::error) << c.head.substr(0, 40);
            EXPECT_STREQ(r.reason(), c.reason) << c.head.substr(0, 40);
            if (c.status) {
                EXPECT_EQ(r.status(), c.status);
            }
            EXPECT_FALSE(r.head_done());
            EXPECT_TRUE(got.empty());
            std::span<const uint8_t> more(bytes);
            rtmp::FlvTag t;
            EXPECT_EQ(r.next(more, &t), Rc::error);  // stays failed
        }
    }
}

TEST(ClientHttpFlv, ReaderFailsOnABadFlvSignatureAfterAGoodHead)
{
    HttpFlvReader r;
    std::vector<uint8_t> bytes = answer(kHead, sample_tags());
    bytes[sizeof(kHead) - 1] = 'X';  // "FLV" -> "XLV"
    std::vector<Tag> got;
    EXPECT_EQ(feed(r, bytes, {}, &got), Rc::error);
    EXPECT_TRUE(r.head_done());
    EXPECT_NE(r.reason(), nullptr);
}

namespace {

// One HTTP "server" socket on 127.0.0.1 for a player of the client's own loop.
struct Loopback {
    int listen_fd = -1;
    int peer = -1;
    Target target;

    Loopback()
    {
        listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(bind(listen_fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
        EXPECT_EQ(listen(listen_fd, 4), 0);
        socklen_t len = sizeof(sa);
        getsockname(listen_fd, reinterpret_cast<sockaddr*>(&sa), &len);
        memcpy(&target.ss, &sa, sizeof(sa));
        target.len = sizeof(sa);
        target.text = "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));
    }
    ~Loopback()
    {
        if (peer >= 0) close(peer);
        close(listen_fd);
    }
    int port() const { return ntohs(reinterpret_cast<const sockaddr_in*>(&target.ss)->sin_port); }

    // Turns the loop until the player's request arrived whole (or 2 s passed).
    std::string accept_request(ClientLoop& cl)
    {
        std::string req;
        for (int i = 0; i < 200 && req.find("\r\n\r\n") == std::string::npos; ++i) {
            cl.turn(10);
            if (peer < 0) peer = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK);
            if (peer < 0) continue;
            char buf[1024];
            ssize_t n = read(peer, buf, sizeof(buf));
            if (n > 0) req.append(buf, size_t(n));
        }
        return req;
    }
    void send(const std::vector<uint8_t>& bytes, size_t from, size_t to)
    {
        ASSERT_EQ(write(peer, bytes.data() + from, to - from), ssize_t(to - from));
    }
};

template <class F>
void turn_until(ClientLoop& cl, F done)
{
    for (int i = 0; i < 200 && !done(); ++i) cl.turn(10);
}

}  // namespace

TEST(ClientHttpFlv, PlayerChecksFramesAgainstTheSentLogLikeAnRtmpPlayer)
{
    Loopback srv;
    ClientLoop cl(8, false);
    ASSERT_TRUE(cl.ok());
    BenchShared shared;
    SentLog log;
    // What the publisher sent: video 0 (key), 40, 80, 120, 160; audio 10, 33.
    for (uint32_t ts : {0u, 40u, 80u, 120u, 160u}) log.record(1, ts, mono_us());
    for (uint32_t ts : {10u, 33u}) log.record(0, ts, mono_us());
    {
        HttpFlvBenchPlayer p(shared, &log, srv.port());
        RtmpUrl u;
        u.host = "127.0.0.1";
        u.app = "live";
        u.stream = "bench-0";
        ASSERT_TRUE(p.start(cl, srv.target, u));
        EXPECT_EQ(p.state(), BenchPlayer::State::connecting);
        std::string req = srv.accept_request(cl);
        EXPECT_EQ(req.substr(0, req.find("\r\n")), "GET /live/bench-0.flv HTTP/1.1");

        std::vector<uint8_t> bytes = answer(kHead, sample_tags());
        size_t mid = sizeof(kHead) - 1 + 20;  // the head, and a tag cut in two
        srv.send(bytes, 0, mid);
        turn_until(cl, [&] { return p.state() != BenchPlayer::State::connecting; });
        EXPECT_EQ(p.state(), BenchPlayer::State::playing);
        EXPECT_EQ(p.first_key_us(), 0u);
        srv.send(bytes, mid, bytes.size());
        turn_until(cl, [&] { return p.frames() == 5; });
        EXPECT_NE(p.first_key_us(), 0u);
        EXPECT_EQ(p.frames(), 5u);  // key, 2 inter, 2 audio; not metadata or headers
        EXPECT_EQ(p.lost(), 0u);
        EXPECT_EQ(p.unknown(), 0u);

        // Video 120 never arrives; 160 does, then 80 again and a frame never sent.
        std::vector<uint8_t> live =
            flv_bytes({{9, 160, kAvcInter}, {9, 80, kAvcInter}, {9, 999, kAvcInter}}, false);
        srv.send(live, 0, live.size());
        turn_until(cl, [&] { return p.frames() == 8; });
        EXPECT_EQ(p.lost(), 1u);
        EXPECT_EQ(p.reordered(), 1u);
        EXPECT_EQ(p.unknown(), 1u);
        EXPECT_EQ(p.bytes_in(), bytes.size() + live.size());

        close(srv.peer);  // the server goes away while playing
        srv.peer = -1;
        turn_until(cl, [&] { return p.state() != BenchPlayer::State::playing; });
        EXPECT_EQ(p.state(), BenchPlayer::State::dropped);
        EXPECT_EQ(p.bytes_in(), bytes.size() + live.size());
        cl.close_all("test done");
        cl.turn(0);
    }
    EXPECT_EQ(cl.loop().pool().outstanding(), 0u);
    EXPECT_EQ(cl.loop().small_pool().outstanding(), 0u);
}

TEST(ClientHttpFlv, PlayerFailsOnA404AndEndsClosedWhenWeClose)
{
    Loopback srv;
    ClientLoop cl(8, false);
    ASSERT_TRUE(cl.ok());
    BenchShared shared;
    RtmpUrl u;
    u.host = "127.0.0.1";
    u.app = "live";
    u.stream = "nope";
    {
        HttpFlvBenchPlayer p(shared, nullptr, srv.port());
        ASSERT_TRUE(p.start(cl, srv.target, u));
        srv.accept_request(cl);
        std::string h = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        srv.send(std::vector<uint8_t>(h.begin(), h.end()), 0, h.size());
        turn_until(cl, [&] { return p.settled(); });
        EXPECT_EQ(p.state(), BenchPlayer::State::failed);
        EXPECT_STREQ(p.error(), "HTTP status is not 200");
        close(srv.peer);
        srv.peer = -1;

        HttpFlvBenchPlayer q(shared, nullptr, srv.port());
        u.stream = "bench-0";
        ASSERT_TRUE(q.start(cl, srv.target, u));
        srv.accept_request(cl);
        srv.send(std::vector<uint8_t>(kHead, kHead + sizeof(kHead) - 1), 0, sizeof(kHead) - 1);
        turn_until(cl, [&] { return q.settled(); });
        EXPECT_EQ(q.state(), BenchPlayer::State::playing);
        q.close();
        EXPECT_EQ(q.state(), BenchPlayer::State::closed);
        EXPECT_EQ(q.frames(), 0u);
        cl.turn(0);
    }
    EXPECT_EQ(cl.loop().pool().outstanding(), 0u);
}

TEST(ClientHttpFlv, PlayerWithoutAStreamDoesNotStart)
{
    ClientLoop cl(4, false);
    BenchShared shared;
    HttpFlvBenchPlayer p(shared, nullptr, 80);
    Target t;
    RtmpUrl u;
    EXPECT_FALSE(p.start(cl, t, u));
    EXPECT_EQ(p.state(), BenchPlayer::State::failed);
}
