// The live stream's source side, protocol-neutral: a source that is no RTMP session (as a
// WebSocket publisher or a playlist will be) feeds a LiveStream through LiveModule::admit /
// attach / on_frame / detach, and reaches every kind of sink: an RTMP player, a player of
// another protocol (a LivePlayer of the test's own), the stream events, and the record
// module (a recorder is a sink of the stream, `live on` or off). Real cycle and loop, no
// worker (so no cross-worker directory). Every test ends with the pool back at zero.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "core/buf.h"
#include "modules/live_module.h"
#include "modules/live_stream.h"
#include "rtmp/rtmp_core_module.h"
#include "t/lib/rtmp_test_peer.h"

using namespace strom;
using namespace strom::test;
namespace msg_type = rtmp::msg_type;

namespace {

// A source of no protocol: frames are handed to the stream by the test.
class FakeSource final : public mod::LiveSource {
public:
    explicit FakeSource(EventLoop& loop, uint64_t id = 900) : loop_(loop), id_(id) {}
    Kind kind() const override { return Kind::publisher; }
    uint64_t log_id() const override { return id_; }
    const char* protocol() const override { return "fake"; }
    const char* peer() const override { return "test"; }
    EventLoop& loop() const override { return loop_; }
    void drop(const char* reason) override
    {
        dropped = reason;
        if (stream) stream->registry().detach(*this);
    }

    // One frame, its payload copied into pool blocks as a protocol reader would.
    void send(uint8_t type, uint32_t ts, const std::string& body, bool key = false,
              bool config = false)
    {
        ASSERT_TRUE(stream) << "not attached";
        Chain ch(loop_.pool());
        ASSERT_EQ(ch.append(body.data(), body.size()), Rc::ok);
        media::Frame f;
        f.type = type;
        f.ts = ts;
        f.key = key;
        f.config = config;
        f.seq = config;
        f.len = uint32_t(body.size());
        f.payload = ch.take();
        stream->on_frame(f);
    }
    void headers(uint32_t ts)
    {
        send(msg_type::video, ts, avc_sequence_header(), false, true);
        send(msg_type::audio, ts, aac_sequence_header(), false, true);
    }

    std::string dropped;

private:
    EventLoop& loop_;
    uint64_t id_;
};

// A sink of no protocol: it queues the RTMP framing on a connection (it needs one to have
// an out-queue) and remembers what the stream gave it.
class FakeSink final : public mod::LivePlayer {
public:
    explicit FakeSink(Connection& c) : c_(c) {}
    Connection& conn() override { return c_; }
    uint64_t log_id() const override { return c_.id(); }
    bool frame(mod::LiveStream& st, mod::LiveMsg& m, BufRef* out, size_t* size) override
    {
        seen.push_back({m.type, m.ts, m.key, m.seq});
        return st.frame_rtmp(m, 1, st.chunk_size(), out, size);
    }
    void publisher_started(mod::LiveStream&) override { ++starts; }
    void publisher_ended(mod::LiveStream&) override { ++ends; }
    void fail(const std::string&) override {}

    struct Seen {
        uint8_t type;
        uint32_t ts;
        bool key;
        bool seq;
    };
    std::vector<Seen> seen;
    int starts = 0;
    int ends = 0;

private:
    Connection& c_;
};

// Listens to the stream events of the cycle as a module would.
struct EventLog {
    void published(mod::LiveStream& st) { log.push_back("published " + st.key()); }
    void frame(mod::LiveStream&, const media::Frame& f) { frames.push_back(f.ts); }
    void unpublished(mod::LiveStream& st) { log.push_back("unpublished " + st.key()); }
    void record_done(const mod::RecordDone& ev)
    {
        done.push_back(std::string(ev.path));
        done_ids.push_back(ev.session_id);
    }
    std::vector<std::string> log;
    std::vector<uint32_t> frames;
    std::vector<std::string> done;
    std::vector<uint64_t> done_ids;
};

std::string conf_text(const std::string& dir)
{
    return "rtmp { server { chunk_size 4096;\n"
           "  application live { live on; }\n"
           "  application takeover { live on; publisher_takeover on; }\n"
           "  application rec { live on; record all; record_path " +
           dir +
           "; }\n"
           "  application norelay { live off; record all; record_path " +
           dir +
           "; }\n"
           "} }\n";
}

class LiveSource : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/strom-live-source-XXXXXX";
        ASSERT_TRUE(mkdtemp(tmpl));
        dir_ = tmpl;
        srv_ = std::make_unique<TestServer>(conf_text(dir_));
        ASSERT_TRUE(srv_->ok()) << srv_->error();
        mod::StreamEvents& ev = mod::stream_events(srv_->cycle());
        ev.published.push_back(
            media::Listener<mod::LiveStream&>::bind<&EventLog::published>(&events_));
        ev.frame.push_back(
            media::Listener<mod::LiveStream&, const media::Frame&>::bind<&EventLog::frame>(
                &events_));
        ev.unpublished.push_back(
            media::Listener<mod::LiveStream&>::bind<&EventLog::unpublished>(&events_));
        ev.record_done.push_back(
            media::Listener<const mod::RecordDone&>::bind<&EventLog::record_done>(&events_));
    }
    void TearDown() override
    {
        srv_->shutdown();
        EXPECT_EQ(srv_->outstanding(), 0u)
            << "pool blocks still referenced after every connection closed";
        EXPECT_EQ(mod::stream_registry(srv_->cycle()).stream_count(), 0u)
            << "a live stream outlived its source and sinks";
        std::string cmd = "rm -rf '" + dir_ + "'";
        EXPECT_EQ(system(cmd.c_str()), 0);
    }

    const AppBlock& app(std::string_view name)
    {
        const AppBlock* a = rtmp::rtmp_servers(srv_->cycle())[0]->find_app(name);
        EXPECT_TRUE(a) << name;
        return *a;
    }
    // Admits and attaches src as `name` of `app`.
    bool start(FakeSource& src, std::string_view a, const std::string& name)
    {
        if (const char* why = mod::stream_registry(srv_->cycle()).admit(app(a), name, src.log_id(), src.peer())) {
            ADD_FAILURE() << "admit refused: " << why;
            return false;
        }
        mod::stream_registry(srv_->cycle()).attach(app(a), name, src);
        return src.stream != nullptr;
    }
    rtmp::Session* player(RtmpTestPeer& p, uint32_t* msid, std::string_view name,
                          std::string_view a = "live")
    {
        rtmp::Session* s = srv_->open(p, msid, a);
        if (!s) return nullptr;
        std::string code = srv_->play(p, *msid, name);
        EXPECT_EQ(code, "NetStream.Play.Start");
        return code == "NetStream.Play.Start" ? s : nullptr;
    }
    static off_t file_size(const std::string& path)
    {
        struct stat st;
        return stat(path.c_str(), &st) == 0 ? st.st_size : -1;
    }

    std::string dir_;
    std::unique_ptr<TestServer> srv_;
    EventLog events_;
};

TEST_F(LiveSource, FramesOfANonRtmpSourceReachAnRtmpPlayerWithHeadersFirst)
{
    FakeSource src(srv_->loop());
    ASSERT_TRUE(start(src, "live", "fake"));
    src.headers(1000);
    src.send(msg_type::video, 1000, avc_frame(true, 1), true);
    src.send(msg_type::audio, 1010, aac_frame(2));
    src.send(msg_type::video, 1040, avc_frame(false, 3));

    // A late joiner: sequence headers, then the GOP from its keyframe, then live frames.
    RtmpTestPeer pl;
    uint32_t msid = 0;
    ASSERT_TRUE(player(pl, &msid, "fake"));
    srv_->settle();
    src.send(msg_type::video, 1080, avc_frame(false, 4));
    ASSERT_TRUE(srv_->run_until([&] { return pl.media().size() >= 6; }));
    auto media = pl.media();
    ASSERT_EQ(media.size(), 6u);
    EXPECT_TRUE(media[0]->video_seq());
    EXPECT_EQ(media[1]->type, msg_type::audio);
    EXPECT_TRUE(media[2]->video_key());
    EXPECT_EQ(media[2]->frame_no(), 1u);
    EXPECT_EQ(media[5]->frame_no(), 4u);

    // The source leaves: the player hears the end of the stream and stays (it waits).
    mod::stream_registry(srv_->cycle()).detach(src);
    EXPECT_EQ(src.stream, nullptr);
    EXPECT_TRUE(srv_->run_until([&] {
        for (const PeerMsg& m : pl.msgs()) {
            if (m.is_user(rtmp::uc_event::stream_eof)) return true;
        }
        return false;
    }));
    EXPECT_FALSE(pl.eof());
}

TEST_F(LiveSource, ASinkOfAnotherProtocolAndTheStreamEventsHearTheSource)
{
    RtmpTestPeer conn_peer;  // only lends the sink a connection
    uint32_t msid = 0;
    rtmp::Session* s = srv_->open(conn_peer, &msid);
    ASSERT_TRUE(s);
    FakeSink sink(s->conn());
    ASSERT_EQ(mod::stream_registry(srv_->cycle()).add_player(app("live"), "ev", sink, srv_->loop()), nullptr);
    ASSERT_TRUE(sink.stream);
    EXPECT_FALSE(sink.stream->has_publisher());  // waits for a source

    FakeSource src(srv_->loop());
    ASSERT_TRUE(start(src, "live", "ev"));
    EXPECT_EQ(sink.starts, 1);
    src.headers(500);
    src.send(msg_type::video, 500, avc_frame(true, 1), true);
    src.send(msg_type::video, 540, avc_frame(false, 2));
    ASSERT_EQ(sink.seen.size(), 4u);
    EXPECT_TRUE(sink.seen[0].seq);
    EXPECT_TRUE(sink.seen[2].key);
    // The sink sees the stream's timeline (the first source starts it where it is); the
    // events see the frames as the source sent them.
    EXPECT_EQ(sink.seen[3].ts - sink.seen[2].ts, 40u);
    EXPECT_EQ(events_.frames, (std::vector<uint32_t>{500, 500, 500, 540}));
    EXPECT_EQ(events_.log, (std::vector<std::string>{"published live/ev"}));

    mod::stream_registry(srv_->cycle()).detach(src);
    EXPECT_EQ(sink.ends, 1);
    EXPECT_EQ(events_.log, (std::vector<std::string>{"published live/ev", "unpublished live/ev"}));
    mod::stream_registry(srv_->cycle()).remove_player(sink);
    EXPECT_EQ(mod::stream_registry(srv_->cycle()).stream_count(), 0u);
}

TEST_F(LiveSource, ASecondSourceIsRefusedAndTakeoverDropsTheFirst)
{
    FakeSource first(srv_->loop(), 901);
    FakeSource second(srv_->loop(), 902);
    ASSERT_TRUE(start(first, "live", "one"));
    EXPECT_NE(mod::stream_registry(srv_->cycle()).admit(app("live"), "one", second.log_id(), second.peer()), nullptr);
    EXPECT_EQ(first.dropped, "");
    mod::stream_registry(srv_->cycle()).detach(first);

    ASSERT_TRUE(start(first, "takeover", "two"));
    ASSERT_TRUE(start(second, "takeover", "two"));
    EXPECT_EQ(first.dropped, "publisher taken over");
    EXPECT_EQ(first.stream, nullptr);
    ASSERT_TRUE(second.stream);
    EXPECT_EQ(second.stream->source(), &second);
    // The same source again is never a takeover.
    EXPECT_NE(mod::stream_registry(srv_->cycle()).admit(app("takeover"), "two", second.log_id(), second.peer()),
              nullptr);
    mod::stream_registry(srv_->cycle()).detach(second);
}

TEST_F(LiveSource, TheRecorderIsASinkOfAnySource)
{
    FakeSource src(srv_->loop(), 903);
    ASSERT_TRUE(start(src, "rec", "cam"));
    src.headers(0);
    for (uint32_t i = 0; i < 10; ++i) {
        src.send(msg_type::video, i * 40, avc_frame(i % 5 == 0, i), i % 5 == 0);
        src.send(msg_type::audio, i * 40 + 5, aac_frame(i));
    }
    mod::stream_registry(srv_->cycle()).detach(src);
    ASSERT_TRUE(srv_->run_until([&] { return !events_.done.empty(); }, 3000)) << "no record_done";
    ASSERT_EQ(events_.done.size(), 1u);
    EXPECT_EQ(events_.done_ids[0], 903u);
    EXPECT_EQ(events_.done[0], dir_ + "/cam.flv");
    EXPECT_GT(file_size(dir_ + "/cam.flv"), 20 * 30);
}

TEST_F(LiveSource, LiveOffRecordsAndAdmitsNoPlayers)
{
    // An RTMP publisher of an application that relays nothing is recorded through the
    // stream events too; nobody can play it live.
    RtmpTestPeer pub;
    uint32_t pm = 0;
    ASSERT_TRUE(srv_->open(pub, &pm, "norelay"));
    ASSERT_EQ(srv_->publish(pub, pm, "solo"), "NetStream.Publish.Start");
    EXPECT_EQ(mod::stream_registry(srv_->cycle()).stream_count(), 1u);
    mod::LiveStream* st = mod::stream_registry(srv_->cycle()).find("norelay/solo");
    ASSERT_TRUE(st);
    EXPECT_FALSE(st->live());
    EXPECT_EQ(events_.log, (std::vector<std::string>{"published norelay/solo"}));
    EXPECT_NE(mod::stream_registry(srv_->cycle()).play_refusal(app("norelay"), "solo", true), nullptr);

    pub.video(pm, 0, avc_sequence_header());
    pub.audio(pm, 0, aac_sequence_header());
    for (uint32_t i = 0; i < 10; ++i) {
        pub.video(pm, i * 40, avc_frame(i % 5 == 0, i));
        pub.audio(pm, i * 40 + 5, aac_frame(i));
    }
    ASSERT_TRUE(srv_->run_until([&] { return events_.frames.size() >= 22; }));
    // A second publisher of the same name is refused as with live on.
    RtmpTestPeer dup;
    uint32_t dm = 0;
    ASSERT_TRUE(srv_->open(dup, &dm, "norelay"));
    EXPECT_EQ(srv_->publish(dup, dm, "solo"), "NetStream.Publish.BadName");
    pub.close();
    ASSERT_TRUE(srv_->run_until([&] { return !events_.done.empty(); }, 3000)) << "no record_done";
    EXPECT_EQ(events_.done[0], dir_ + "/solo.flv");
    EXPECT_GT(file_size(dir_ + "/solo.flv"), 20 * 30);
    EXPECT_EQ(mod::stream_registry(srv_->cycle()).stream_count(), 0u);
}

TEST_F(LiveSource, EachCycleHasItsOwnRegistry)
{
    // A second cycle from the same configuration (as a reload loads one): its streams are
    // its own, and the lookup an HTTP-FLV or notify call makes (through the application
    // of its own cycle) reaches its own cycle's registry.
    TestServer other(conf_text(dir_));
    ASSERT_TRUE(other.ok()) << other.error();
    mod::StreamRegistry& mine = mod::stream_registry(srv_->cycle());
    mod::StreamRegistry& theirs = mod::stream_registry(other.cycle());
    ASSERT_NE(&mine, &theirs);
    const AppBlock* other_live = rtmp::rtmp_servers(other.cycle())[0]->find_app("live");
    ASSERT_TRUE(other_live);
    EXPECT_EQ(&mod::stream_registry(app("live")), &mine);
    EXPECT_EQ(&mod::stream_registry(*other_live), &theirs);

    FakeSource src(srv_->loop(), 910);
    ASSERT_TRUE(start(src, "live", "cam"));
    EXPECT_EQ(&src.stream->registry(), &mine);
    EXPECT_EQ(mine.find("live/cam"), src.stream);
    EXPECT_EQ(theirs.find("live/cam"), nullptr);
    EXPECT_EQ(theirs.stream_count(), 0u);
    // What an HTTP-FLV play asks: published in its own cycle only.
    EXPECT_EQ(mod::stream_registry(app("live")).play_refusal(app("live"), "cam", false), nullptr);
    EXPECT_STREQ(mod::stream_registry(*other_live).play_refusal(*other_live, "cam", false),
                 "not published");
    // The same name is free in the other cycle: no duplicate across registries.
    FakeSource second(other.loop(), 911);
    ASSERT_EQ(theirs.admit(*other_live, "cam", second.log_id(), second.peer()), nullptr);
    theirs.attach(*other_live, "cam", second);
    EXPECT_NE(second.stream, src.stream);
    EXPECT_EQ(theirs.find("live/cam"), second.stream);
    EXPECT_EQ(second.dropped, "");
    EXPECT_EQ(src.dropped, "");

    theirs.detach(second);
    EXPECT_EQ(theirs.stream_count(), 0u);
    EXPECT_EQ(mine.stream_count(), 1u);
    mine.detach(src);
    EXPECT_EQ(mine.stream_count(), 0u);
    other.shutdown();
}

}  // namespace
