// The live module over socketpairs: publishers and players are test peers driving real
// server Sessions; the configuration comes from a string and the event loop is turned a
// bounded number of times. Covers what a player sees when it starts (late joiner order),
// one publisher per stream (BadName, takeover), a publisher that comes back, and a slow
// player that must not hurt anyone else. Every test ends with the pool back at zero.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "modules/live_module.h"
#include "t/lib/rtmp_test_peer.h"

using namespace strom;
using namespace strom::test;
using rtmp::AmfValue;
namespace msg_type = rtmp::msg_type;
namespace uc_event = rtmp::uc_event;

namespace {

constexpr const char* kConf = R"(
rtmp {
    server {
        chunk_size 4096;
        application live {
            live on;
        }
        application takeover {
            live on;
            publisher_takeover on;
        }
        application strict {
            live on;
            idle_streams off;
        }
        application nogop {
            live on;
            gop_cache off;
        }
        application merged {
            live on;
            send_merge 20ms;
        }
        application idle {
            live on;
            drop_idle_publisher 200ms;
        }
    }
}
)";

// A short out-queue so that a player which does not read falls behind quickly.
constexpr const char* kSlowConf = R"(
rtmp {
    server {
        chunk_size 4096;
        out_queue 32;
        out_queue_bytes 64k;
        application live {
            live on;
        }
        application impatient {
            live on;
            play_timeout 300ms;
        }
    }
}
)";

class Live : public ::testing::Test {
protected:
    void SetUp() override { use(kConf); }
    void TearDown() override { check_clean(); }

    void use(const char* conf)
    {
        if (srv_) check_clean();
        srv_ = std::make_unique<TestServer>(conf);
        ASSERT_TRUE(srv_->ok()) << srv_->error();
    }
    void check_clean()
    {
        srv_->shutdown();
        EXPECT_EQ(srv_->outstanding(), 0u)
            << "pool blocks still referenced after every connection closed";
        EXPECT_EQ(mod::stream_registry(srv_->cycle()).stream_count(), 0u) << "a live stream outlived its sessions";
    }
    TestServer& srv() { return *srv_; }

    // A connected peer publishing `name`; its stream id in *msid.
    rtmp::Session* publisher(RtmpTestPeer& p, uint32_t* msid, std::string_view name,
                             std::string_view app = "live")
    {
        rtmp::Session* s = srv().open(p, msid, app);
        if (!s) return nullptr;
        std::string code = srv().publish(p, *msid, name);
        EXPECT_EQ(code, "NetStream.Publish.Start");
        return code == "NetStream.Publish.Start" ? s : nullptr;
    }
    rtmp::Session* player(RtmpTestPeer& p, uint32_t* msid, std::string_view name,
                          std::string_view app = "live")
    {
        rtmp::Session* s = srv().open(p, msid, app);
        if (!s) return nullptr;
        std::string code = srv().play(p, *msid, name);
        EXPECT_EQ(code, "NetStream.Play.Start");
        return code == "NetStream.Play.Start" ? s : nullptr;
    }

    std::unique_ptr<TestServer> srv_;
};

// What an encoder sends first: metadata, then the AVC and AAC sequence headers.
void send_headers(RtmpTestPeer& p, uint32_t msid, uint32_t ts)
{
    AmfValue md = AmfValue::ecma_array({{"width", 640.0}, {"height", 360.0}, {"framerate", 25.0}});
    p.data(msid, ts, {"@setDataFrame", "onMetaData", md});
    p.video(msid, ts, avc_sequence_header());
    p.audio(msid, ts, aac_sequence_header());
}

bool has_video_frame(const RtmpTestPeer& p, uint32_t number)
{
    for (const PeerMsg* m : p.media()) {
        if (m->type == msg_type::video && !m->video_seq() && m->frame_no() == number) return true;
    }
    return false;
}

// Turns the loop until pred() holds or `ms` of real time passed (timers need the clock).
template <class Pred>
bool run_for(TestServer& srv, uint64_t ms, Pred&& pred)
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        srv.turn();
    }
    return pred();
}

uint64_t ms_since(std::chrono::steady_clock::time_point t)
{
    return uint64_t(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t)
            .count());
}

size_t count_user(const RtmpTestPeer& p, uint16_t event)
{
    size_t n = 0;
    for (const PeerMsg& m : p.msgs()) n += m.is_user(event);
    return n;
}

}  // namespace

TEST_F(Live, PlayStartsWithStreamBeginResetStartAndSampleAccess)
{
    RtmpTestPeer pub, pl;
    uint32_t pm = 0, lm = 0;
    ASSERT_TRUE(publisher(pub, &pm, "cam"));
    ASSERT_TRUE(srv().open(pl, &lm));
    pl.clear();
    pl.play(lm, "cam");
    ASSERT_TRUE(srv().run_until([&] { return pl.find_command("|RtmpSampleAccess") != nullptr; }));
    const auto& m = pl.msgs();
    ASSERT_GE(m.size(), 4u);
    EXPECT_TRUE(m[0].is_user(uc_event::stream_begin));
    EXPECT_EQ(m[0].ctl.value, lm);
    EXPECT_EQ(m[1].name(), "onStatus");
    EXPECT_EQ(m[1].code(), "NetStream.Play.Reset");
    EXPECT_EQ(m[1].msid, lm);
    EXPECT_EQ(m[2].code(), "NetStream.Play.Start");
    EXPECT_EQ(m[2].msid, lm);
    EXPECT_EQ(m[2].info()->get_str("level"), "status");
    EXPECT_EQ(m[3].type, msg_type::data_amf0);
    EXPECT_EQ(m[3].name(), "|RtmpSampleAccess");
    EXPECT_EQ(m[3].msid, lm);
}

TEST_F(Live, LateJoinerGetsMetadataSequenceHeadersThenKeyframeFirst)
{
    RtmpTestPeer pub, pl;
    uint32_t pm = 0, lm = 0;
    ASSERT_TRUE(publisher(pub, &pm, "cam"));
    send_headers(pub, pm, 0);
    pub.video(pm, 0, avc_frame(true, 0));
    pub.audio(pm, 0, aac_frame(0));
    pub.video(pm, 40, avc_frame(false, 1));
    pub.video(pm, 80, avc_frame(false, 2));
    pub.video(pm, 120, avc_frame(true, 3));  // the GOP a joiner starts on
    pub.video(pm, 160, avc_frame(false, 4));
    pub.audio(pm, 170, aac_frame(1));
    pub.video(pm, 200, avc_frame(false, 5));
    srv().settle(10);

    ASSERT_TRUE(srv().open(pl, &lm));
    pl.clear();
    pl.play(lm, "cam");
    ASSERT_TRUE(srv().run_until([&] { return has_video_frame(pl, 5); }));
    const auto& m = pl.msgs();
    ASSERT_EQ(m.size(), 11u);
    EXPECT_TRUE(m[0].is_user(uc_event::stream_begin));
    EXPECT_EQ(m[1].code(), "NetStream.Play.Reset");
    EXPECT_EQ(m[2].code(), "NetStream.Play.Start");
    EXPECT_EQ(m[3].name(), "|RtmpSampleAccess");
    EXPECT_EQ(m[4].type, msg_type::data_amf0);
    EXPECT_EQ(m[4].name(), "onMetaData");
    EXPECT_TRUE(m[5].video_seq());
    EXPECT_EQ(m[6].type, msg_type::audio);
    EXPECT_EQ(m[6].payload, aac_sequence_header());
    EXPECT_TRUE(m[7].video_key());
    EXPECT_EQ(m[7].frame_no(), 3u);
    EXPECT_EQ(m[7].timestamp, 120u);
    EXPECT_EQ(m[8].frame_no(), 4u);
    EXPECT_EQ(m[9].type, msg_type::audio);
    EXPECT_EQ(m[9].frame_no(), 1u);
    EXPECT_EQ(m[10].frame_no(), 5u);
    // onMetaData at 0 (ffmpeg takes metadata at any other time for a data track); sequence
    // headers where the cached GOP starts, so the media timeline never goes back.
    EXPECT_EQ(m[4].timestamp, 0u);
    for (size_t i = 5; i < 7; ++i) EXPECT_EQ(m[i].timestamp, 120u) << i;
    for (size_t i = 4; i < m.size(); ++i) EXPECT_EQ(m[i].msid, lm) << i;

    // Then it is live.
    pub.video(pm, 240, avc_frame(false, 6));
    ASSERT_TRUE(srv().run_until([&] { return has_video_frame(pl, 6); }));
    EXPECT_EQ(pl.msgs().back().timestamp, 240u);
}

TEST_F(Live, WithoutGopCacheLateJoinerWaitsForNextKeyframe)
{
    RtmpTestPeer pub, pl;
    uint32_t pm = 0, lm = 0;
    ASSERT_TRUE(publisher(pub, &pm, "cam", "nogop"));
    send_headers(pub, pm, 0);
    pub.video(pm, 0, avc_frame(true, 0));
    pub.video(pm, 40, avc_frame(false, 1));
    srv().settle(5);
    ASSERT_TRUE(player(pl, &lm, "cam", "nogop"));
    srv().settle(5);
    EXPECT_TRUE(pl.find_command("onMetaData"));
    ASSERT_EQ(pl.media().size(), 2u);  // the sequence headers only
    pub.video(pm, 80, avc_frame(false, 2));
    pub.video(pm, 120, avc_frame(true, 3));
    ASSERT_TRUE(srv().run_until([&] { return has_video_frame(pl, 3); }));
    auto media = pl.media();
    ASSERT_EQ(media.size(), 3u);
    EXPECT_TRUE(media[2]->video_key());
}

TEST_F(Live, PlayersGetEveryFrameInOrder)
{
    RtmpTestPeer pub, a, b;
    uint32_t pm = 0, am = 0, bm = 0;
    ASSERT_TRUE(publisher(pub, &pm, "fan"));
    ASSERT_TRUE(player(a, &am, "fan"));
    ASSERT_TRUE(player(b, &bm, "fan"));
    send_headers(pub, pm, 0);
    for (uint32_t i = 0; i < 60; ++i) {
        pub.video(pm, i * 40, avc_frame(i % 20 == 0, i, 3000));
        pub.audio(pm, i * 40 + 5, aac_frame(i));
        srv().turn();
    }
    ASSERT_TRUE(srv().run_until([&] { return has_video_frame(a, 59) && has_video_frame(b, 59); }));
    for (RtmpTestPeer* p : {&a, &b}) {
        uint32_t next_video = 0, next_audio = 0, last_ts = 0;
        for (const PeerMsg* m : p->media()) {
            EXPECT_GE(m->timestamp, last_ts);
            last_ts = m->timestamp;
            if (m->video_seq() || m->payload == aac_sequence_header()) continue;
            uint32_t& next = m->type == msg_type::video ? next_video : next_audio;
            EXPECT_EQ(m->frame_no(), next);
            next = m->frame_no() + 1;
        }
        EXPECT_EQ(next_video, 60u);
        EXPECT_EQ(next_audio, 60u);
    }
}

TEST_F(Live, SecondPublisherIsRejectedWithBadName)
{
    RtmpTestPeer first, second, pl;
    uint32_t fm = 0, sm = 0, lm = 0;
    ASSERT_TRUE(publisher(first, &fm, "one"));
    ASSERT_TRUE(srv().open(second, &sm));
    EXPECT_EQ(srv().publish(second, sm, "one"), "NetStream.Publish.BadName");
    // Both stay connected, and the first one still feeds players.
    ASSERT_TRUE(player(pl, &lm, "one"));
    first.video(fm, 0, avc_frame(true, 7));
    ASSERT_TRUE(srv().run_until([&] { return has_video_frame(pl, 7); }));
    EXPECT_FALSE(first.eof());
    EXPECT_FALSE(second.eof());
    // The same name is free in another application.
    EXPECT_EQ(srv().create_stream(second), 2u);
    RtmpTestPeer other;
    uint32_t om = 0;
    ASSERT_TRUE(publisher(other, &om, "one", "takeover"));
}

TEST_F(Live, PublisherTakeoverClosesTheFirstPublisher)
{
    RtmpTestPeer first, second, pl;
    uint32_t fm = 0, sm = 0, lm = 0;
    ASSERT_TRUE(publisher(first, &fm, "t", "takeover"));
    ASSERT_TRUE(player(pl, &lm, "t", "takeover"));
    send_headers(first, fm, 0);
    first.video(fm, 0, avc_frame(true, 1));
    ASSERT_TRUE(srv().run_until([&] { return has_video_frame(pl, 1); }));

    ASSERT_TRUE(publisher(second, &sm, "t", "takeover"));
    EXPECT_TRUE(srv().run_until([&] { return first.eof(); }))
        << "the replaced publisher was not closed";
    EXPECT_TRUE(first.find_status("NetStream.Unpublish.Success"));
    EXPECT_FALSE(second.eof());

    // The player stays and continues with the new publisher.
    send_headers(second, sm, 0);
    second.video(sm, 0, avc_frame(true, 2));
    ASSERT_TRUE(srv().run_until([&] { return has_video_frame(pl, 2); }));
    EXPECT_FALSE(pl.eof());
}

TEST_F(Live, ReconnectingPublisherKeepsPlayersWithMonotonicTimestamps)
{
    RtmpTestPeer a, pl;
    uint32_t am = 0, lm = 0;
    ASSERT_TRUE(player(pl, &lm, "re"));  // waits for the stream (idle_streams on)
    ASSERT_TRUE(publisher(a, &am, "re"));
    send_headers(a, am, 1000);
    a.video(am, 1000, avc_frame(true, 0));
    a.video(am, 1040, avc_frame(false, 1));
    a.audio(am, 1050, aac_frame(0));
    a.video(am, 1080, avc_frame(false, 2));
    ASSERT_TRUE(srv().run_until([&] { return has_video_frame(pl, 2); }));

    a.close();  // the encoder's network drops
    ASSERT_TRUE(srv().run_until([&] { return count_user(pl, uc_event::stream_eof) > 0; }));

    RtmpTestPeer b;
    uint32_t bm = 0;
    ASSERT_TRUE(publisher(b, &bm, "re"));
    send_headers(b, bm, 0);  // the new encoder starts its clock at 0
    b.video(bm, 0, avc_frame(true, 10));
    b.video(bm, 40, avc_frame(false, 11));
    ASSERT_TRUE(srv().run_until([&] { return has_video_frame(pl, 11); }));

    uint32_t last = 0;
    size_t seq_headers = 0;
    for (const PeerMsg* m : pl.media()) {
        EXPECT_GE(m->timestamp, last) << "frame " << m->frame_no();
        last = m->timestamp;
        seq_headers += m->video_seq();
    }
    EXPECT_EQ(seq_headers, 2u) << "the new publisher's sequence header was not sent";
    EXPECT_GT(last, 1080u);
    EXPECT_FALSE(pl.eof());
    size_t starts = 0;
    for (const PeerMsg& m : pl.msgs()) starts += m.code() == "NetStream.Play.Start";
    EXPECT_EQ(starts, 1u) << "the player had to start again";
}

TEST_F(Live, PlayOfAbsentStreamWithIdleStreamsOffIsNotFoundAndClosed)
{
    RtmpTestPeer pl;
    uint32_t lm = 0;
    ASSERT_TRUE(srv().open(pl, &lm, "strict"));
    EXPECT_EQ(srv().play(pl, lm, "nobody"), "NetStream.Play.StreamNotFound");
    EXPECT_TRUE(srv().run_until([&] { return pl.eof(); }));
}

TEST_F(Live, SlowPlayerLosesInterFramesUpToNextKeyframeAndHurtsNobody)
{
    use(kSlowConf);
    RtmpTestPeer pub, healthy, slow;
    uint32_t pm = 0, hm = 0, sm = 0;
    slow.shrink_buffers(4096);
    ASSERT_TRUE(publisher(pub, &pm, "big"));
    ASSERT_TRUE(player(healthy, &hm, "big"));
    rtmp::Session* slow_session = player(slow, &sm, "big");
    ASSERT_TRUE(slow_session);
    slow.set_reading(false);  // from here on it never reads

    send_headers(pub, pm, 0);
    constexpr uint32_t kFrames = 150, kGop = 30;
    for (uint32_t i = 0; i < kFrames; ++i) {
        pub.video(pm, i * 40, avc_frame(i % kGop == 0, i, 1500));
        pub.audio(pm, i * 40 + 10, aac_frame(i));
        // The healthy player is never held back: each frame reaches it at once.
        ASSERT_TRUE(srv().run_until([&] { return has_video_frame(healthy, i); }, 20))
            << "frame " << i;
    }
    ASSERT_FALSE(slow.eof());
    ASSERT_TRUE(slow_session->stream(sm));
    uint64_t dropped = slow_session->stream(sm)->dropped;
    EXPECT_GT(dropped, 0u);
    EXPECT_FALSE(pub.eof());
    EXPECT_FALSE(healthy.eof());
    uint32_t next = 0;
    for (const PeerMsg* m : healthy.media()) {
        if (m->type != msg_type::video || m->video_seq()) continue;
        EXPECT_EQ(m->frame_no(), next);
        next = m->frame_no() + 1;
    }
    EXPECT_EQ(next, kFrames);
    EXPECT_EQ(healthy.count(msg_type::audio), kFrames + 1);  // + the sequence header

    // The slow player catches up: what it lost ends at a keyframe.
    slow.set_reading(true);
    ASSERT_TRUE(srv().run_until([&] { return slow_session->conn().out().empty(); }));
    for (uint32_t i = kFrames; i < kFrames + kGop; ++i) {
        pub.video(pm, i * 40, avc_frame(i % kGop == 0, i, 1500));
        srv().turn();
    }
    ASSERT_TRUE(srv().run_until([&] { return has_video_frame(slow, kFrames + kGop - 1); }));
    uint32_t prev = UINT32_MAX;
    size_t frames = 0;
    for (const PeerMsg* m : slow.media()) {
        if (m->type != msg_type::video || m->video_seq()) continue;
        ++frames;
        if (prev == UINT32_MAX || m->frame_no() != prev + 1) {
            EXPECT_TRUE(m->video_key())
                << "after a gap, frame " << m->frame_no() << " is not a keyframe";
        }
        EXPECT_TRUE(prev == UINT32_MAX || m->frame_no() > prev);
        prev = m->frame_no();
    }
    EXPECT_LT(frames, size_t(kFrames + kGop));
    EXPECT_TRUE(slow.error().empty()) << slow.error();
}

TEST_F(Live, UnpublishSendsStreamEofAndPlayersWait)
{
    RtmpTestPeer pub, pl;
    uint32_t pm = 0, lm = 0;
    ASSERT_TRUE(publisher(pub, &pm, "bye"));
    ASSERT_TRUE(player(pl, &lm, "bye"));
    pub.video(pm, 0, avc_frame(true, 0));
    ASSERT_TRUE(srv().run_until([&] { return has_video_frame(pl, 0); }));
    pub.command(pm, {"closeStream", 0.0, nullptr});
    ASSERT_TRUE(srv().run_until([&] { return count_user(pl, uc_event::stream_eof) == 1; }));
    EXPECT_TRUE(
        srv().run_until([&] { return pub.find_status("NetStream.Unpublish.Success") != nullptr; }));
    srv().settle(3);
    EXPECT_FALSE(pl.eof());
    // The publisher may publish again on the same stream.
    EXPECT_EQ(srv().publish(pub, pm, "bye"), "NetStream.Publish.Start");
    pub.video(pm, 40, avc_frame(true, 1));
    EXPECT_TRUE(srv().run_until([&] { return has_video_frame(pl, 1); }));
}

TEST_F(Live, PlayerStalledPastPlayTimeoutIsClosedOthersContinue)
{
    use(kSlowConf);
    RtmpTestPeer pub, slow;
    uint32_t pm = 0, sm = 0;
    slow.shrink_buffers(4096);
    ASSERT_TRUE(publisher(pub, &pm, "s", "impatient"));
    ASSERT_TRUE(player(slow, &sm, "s", "impatient"));
    slow.set_reading(false);
    send_headers(pub, pm, 0);
    auto start = std::chrono::steady_clock::now();
    uint32_t i = 0;
    bool closed = run_for(srv(), 5000, [&] {
        pub.video(pm, i * 40, avc_frame(i % 30 == 0, i, 1500));
        ++i;
        return srv().table().active() == 1;
    });
    ASSERT_TRUE(closed) << "a player stalled for 5s is still connected";
    EXPECT_GE(ms_since(start), 290u);  // the loop's clock is cached per iteration
    EXPECT_FALSE(pub.eof());
    slow.set_reading(true);
    EXPECT_TRUE(srv().run_until([&] { return slow.eof(); }));
    // The stream goes on for whoever comes next.
    RtmpTestPeer next;
    uint32_t nm = 0;
    ASSERT_TRUE(player(next, &nm, "s", "impatient"));
    pub.video(pm, i * 40, avc_frame(true, i));
    EXPECT_TRUE(srv().run_until([&] { return has_video_frame(next, i); }));
}

TEST_F(Live, IdlePublisherIsDropped)
{
    RtmpTestPeer pub;
    uint32_t pm = 0;
    auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(publisher(pub, &pm, "quiet", "idle"));
    pub.video(pm, 0, avc_frame(true, 0));
    EXPECT_TRUE(run_for(srv(), 3000, [&] { return pub.eof(); })) << "idle publisher kept";
    EXPECT_GE(ms_since(start), 190u);  // the loop's clock is cached per iteration
}

TEST_F(Live, EnhancedRtmpLateJoinerStartsOnHevcKeyframe)
{
    RtmpTestPeer pub, pl;
    uint32_t pm = 0, lm = 0;
    ASSERT_TRUE(publisher(pub, &pm, "hevc"));
    pub.video(pm, 0, hevc_sequence_start());
    pub.video(pm, 0, hevc_frame(true, 0));
    pub.video(pm, 40, hevc_frame(false, 1));
    pub.video(pm, 80, hevc_frame(true, 2));
    pub.video(pm, 120, hevc_frame(false, 3));
    srv().settle(5);
    ASSERT_TRUE(player(pl, &lm, "hevc"));
    ASSERT_TRUE(srv().run_until([&] { return has_video_frame(pl, 3); }));
    auto media = pl.media();
    ASSERT_EQ(media.size(), 3u);
    EXPECT_EQ(media[0]->payload, hevc_sequence_start());  // relayed untouched
    EXPECT_TRUE(media[1]->video_key());
    EXPECT_EQ(media[1]->frame_no(), 2u);
    EXPECT_EQ(media[1]->payload, hevc_frame(true, 2));
    EXPECT_EQ(media[2]->frame_no(), 3u);
}

TEST_F(Live, SendMergeStillDeliversEveryFrameInOrder)
{
    RtmpTestPeer pub, pl;
    uint32_t pm = 0, lm = 0;
    ASSERT_TRUE(publisher(pub, &pm, "m", "merged"));
    ASSERT_TRUE(player(pl, &lm, "m", "merged"));
    for (uint32_t i = 0; i < 20; ++i) {
        pub.video(pm, i * 40, avc_frame(i == 0, i));
        srv().turn();
    }
    ASSERT_TRUE(run_for(srv(), 2000, [&] { return has_video_frame(pl, 19); }));
    uint32_t next = 0;
    for (const PeerMsg* m : pl.media()) EXPECT_EQ(m->frame_no(), next++);
    EXPECT_EQ(next, 20u);
}

TEST_F(Live, UnpublishWhileAPlayersQueueIsFullClosesThatPlayerSafely)
{
    // Regression: in LiveStream::detach_publisher the Stream EOF that did not fit closed
    // the player's session, which freed its LivePlayer, and the loop then read p->s
    // (heap-use-after-free) while players_ shrank under a range-for.
    use(kSlowConf);
    RtmpTestPeer pub, slow, healthy;
    uint32_t pm = 0, sm = 0, hm = 0;
    slow.shrink_buffers(4096);
    ASSERT_TRUE(publisher(pub, &pm, "full"));
    rtmp::Session* ss = player(slow, &sm, "full");
    ASSERT_TRUE(ss);
    ASSERT_TRUE(player(healthy, &hm, "full"));
    slow.set_reading(false);
    // Audio is never dropped while there is room: it fills the queue to the brim.
    for (uint32_t i = 0; i < 400 && !ss->conn().out().full(); ++i) {
        pub.audio(pm, i * 20, aac_frame(i));
        srv().turn();
    }
    ASSERT_TRUE(ss->conn().out().full());
    // Unpublish: the Stream EOF for the slow player does not fit, so it is closed (and its
    // LivePlayer freed) in the middle of the notification loop.
    pub.command(pm, {"closeStream", 0.0, nullptr});
    ASSERT_TRUE(srv().run_until([&] { return count_user(healthy, uc_event::stream_eof) == 1; }));
    EXPECT_TRUE(srv().run_until([&] { return srv().table().active() == 2; }));
    EXPECT_FALSE(pub.eof());
    EXPECT_FALSE(healthy.eof());
}

TEST_F(Live, PlayerClosedForPlayTimeoutCostsOtherPlayersNoFrame)
{
    // Regression: in LiveStream::deliver, enqueue() closed the stalled player,
    // remove_player swapped the last player into its slot, and ++i skipped that player
    // for this frame.
    use(kSlowConf);
    RtmpTestPeer pub, a, slow, b;
    uint32_t pm = 0, am = 0, sm = 0, bm = 0;
    slow.shrink_buffers(4096);
    ASSERT_TRUE(publisher(pub, &pm, "s", "impatient"));
    ASSERT_TRUE(player(a, &am, "s", "impatient"));  // players in this order: a, slow, b
    ASSERT_TRUE(player(slow, &sm, "s", "impatient"));
    ASSERT_TRUE(player(b, &bm, "s", "impatient"));
    slow.set_reading(false);
    uint32_t i = 0;
    bool closed = run_for(srv(), 5000, [&] {
        pub.video(pm, i * 40, avc_frame(i % 30 == 0, i, 1500));
        ++i;
        return srv().table().active() == 3;
    });
    ASSERT_TRUE(closed);
    pub.video(pm, i * 40, avc_frame(false, i));
    ASSERT_TRUE(srv().run_until([&] { return has_video_frame(a, i) && has_video_frame(b, i); }));
    for (RtmpTestPeer* p : {&a, &b}) {
        uint32_t next = 0;
        for (const PeerMsg* m : p->media()) {
            EXPECT_EQ(m->frame_no(), next)
                << (p == &a ? "first" : "last") << " player lost a frame";
            next = m->frame_no() + 1;
        }
        EXPECT_EQ(next, i + 1);
    }
}

TEST_F(Live, PlayWhileTheOutQueueIsFullClosesTheSessionSafely)
{
    // Regression: in LiveModule::on_play the play start closed the session before
    // add_player set p->stream, so on_close_stream called remove_player on a null
    // LiveStream (and add_player then ran on the freed player).
    use(kSlowConf);
    RtmpTestPeer pub, slow;
    uint32_t pm = 0, sm = 0;
    slow.shrink_buffers(4096);
    ASSERT_TRUE(publisher(pub, &pm, "a"));
    rtmp::Session* ss = player(slow, &sm, "a");
    ASSERT_TRUE(ss);
    uint32_t second = srv().create_stream(slow);
    ASSERT_NE(second, 0u);
    slow.set_reading(false);
    for (uint32_t i = 0; i < 400 && !ss->conn().out().full(); ++i) {
        pub.audio(pm, i * 20, aac_frame(i));
        srv().turn();
    }
    ASSERT_TRUE(ss->conn().out().full());
    // The play's Stream Begin does not fit: the session closes while the live module is
    // still setting the player up.
    slow.play(second, "b");
    EXPECT_TRUE(srv().run_until([&] { return srv().table().active() == 1; }));
    EXPECT_FALSE(pub.eof());
}
