// The server Session over a socketpair: handshake, protocol control, the NetConnection
// and NetStream commands, and what the session does to media on the way to the live
// module (@setDataFrame, aggregates, pause). The far end is the test peer of t/lib; the
// configuration comes from a string and the real event loop is turned a bounded number
// of times. Every test ends with the pool's outstanding-block count back at zero.
#include "rtmp/session.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/bytes.h"
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
        chunk_size 4000;
        ack_window 2500000;
        max_streams 4;
        application live {
            live on;
        }
    }
}
)";

class RtmpSession : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(srv.ok()) << srv.error(); }
    void TearDown() override
    {
        srv.shutdown();
        EXPECT_EQ(srv.outstanding(), 0u)
            << "pool blocks still referenced after every connection closed";
        EXPECT_EQ(mod::stream_registry(srv.cycle()).stream_count(), 0u) << "a live stream outlived its sessions";
    }

    TestServer srv{kConf};
};

// The index of the first message at or after `from` that `pred` accepts; npos if none.
template <class Pred>
size_t index_of(const RtmpTestPeer& p, Pred pred, size_t from = 0)
{
    for (size_t i = from; i < p.msgs().size(); ++i) {
        if (pred(p.msgs()[i])) return i;
    }
    return std::string::npos;
}

// An FLV tag as an aggregate message carries it (RTMP 7.1.6): header, data, back pointer.
void append_tag(std::string* out, uint8_t type, uint32_t ts, const std::string& data)
{
    uint8_t h[11];
    h[0] = type;
    store_be24(h + 1, uint32_t(data.size()));
    store_be24(h + 4, ts & 0xffffff);
    h[7] = uint8_t(ts >> 24);
    store_be24(h + 8, 0);
    out->append(reinterpret_cast<const char*>(h), sizeof(h));
    out->append(data);
    uint8_t back[4];
    store_be32(back, uint32_t(data.size() + sizeof(h)));
    out->append(reinterpret_cast<const char*>(back), sizeof(back));
}

}  // namespace

// --- handshake and connect ----------------------------------------------------------------------

TEST_F(RtmpSession, ConnectIsAnsweredWithWindowBandwidthChunkSizeAndSuccess)
{
    RtmpTestPeer p;
    ASSERT_TRUE(srv.adopt(p));
    ASSERT_TRUE(srv.handshake(p));
    AmfValue obj = AmfValue::object();
    obj.set("app", AmfValue("live"));
    obj.set("tcUrl", AmfValue("rtmp://127.0.0.1/live"));
    obj.set("objectEncoding", AmfValue(3.0));
    p.command(0, {"connect", 1.0, obj});
    ASSERT_TRUE(srv.run_until([&] { return p.find_result(1) != nullptr; }));

    size_t was = index_of(p, [](const PeerMsg& m) { return m.type == msg_type::window_ack_size; });
    size_t spb =
        index_of(p, [](const PeerMsg& m) { return m.type == msg_type::set_peer_bandwidth; });
    size_t scs = index_of(p, [](const PeerMsg& m) { return m.type == msg_type::set_chunk_size; });
    size_t res = index_of(p, [](const PeerMsg& m) { return m.name() == "_result"; });
    ASSERT_NE(was, std::string::npos);
    ASSERT_NE(spb, std::string::npos);
    ASSERT_NE(scs, std::string::npos);
    // RTMP 7.2.1.1: the controls come before the _result.
    EXPECT_LT(was, res);
    EXPECT_LT(spb, res);
    EXPECT_LT(scs, res);
    EXPECT_EQ(p.msgs()[was].ctl.value, 2500000u);
    EXPECT_EQ(p.msgs()[spb].ctl.value, 2500000u);
    EXPECT_EQ(p.msgs()[spb].ctl.value2, 2u);  // dynamic
    EXPECT_EQ(p.msgs()[scs].ctl.value, 4000u);

    const PeerMsg& r = p.msgs()[res];
    EXPECT_EQ(r.tid(), 1);
    EXPECT_EQ(r.msid, 0u);
    ASSERT_GE(r.amf.size(), 4u);
    ASSERT_TRUE(r.amf[2].is_object());
    EXPECT_FALSE(r.amf[2].get_str("fmsVer").empty());
    EXPECT_EQ(r.code(), "NetConnection.Connect.Success");
    EXPECT_EQ(r.info()->get_str("level"), "status");
    EXPECT_EQ(r.info()->get_num("objectEncoding", -1), 3);
    EXPECT_FALSE(p.eof());
}

TEST_F(RtmpSession, ComplexHandshakeClientConnects)
{
    RtmpTestPeer p;
    ASSERT_TRUE(srv.adopt(p));
    ASSERT_TRUE(srv.handshake(p, true));
    EXPECT_TRUE(srv.connect(p));
}

TEST_F(RtmpSession, FourCcListIsAnsweredInConnectResult)
{
    RtmpTestPeer p;
    ASSERT_TRUE(srv.adopt(p));
    ASSERT_TRUE(srv.handshake(p));
    AmfValue list = AmfValue::strict_array({"hvc1", "av01"});
    AmfValue obj = AmfValue::object({{"app", "live"}, {"fourCcList", list}});
    p.command(0, {"connect", 1.0, obj});
    ASSERT_TRUE(srv.run_until([&] { return p.find_result(1) != nullptr; }));
    const PeerMsg* r = p.find_result(1);
    ASSERT_EQ(r->name(), "_result");
    const AmfValue* echoed = r->amf[2].get("fourCcList");
    ASSERT_TRUE(echoed);
    bool hvc1 = false;
    for (const AmfValue& v : echoed->items()) hvc1 |= v.str() == "hvc1";
    EXPECT_TRUE(hvc1) << echoed->dump();
}

TEST_F(RtmpSession, ConnectToUnknownAppIsRejectedAndClosed)
{
    RtmpTestPeer p;
    ASSERT_TRUE(srv.adopt(p));
    ASSERT_TRUE(srv.handshake(p));
    p.connect("nosuchapp", 1);
    ASSERT_TRUE(srv.run_until([&] { return p.eof(); }));
    const PeerMsg* r = p.find_result(1);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->name(), "_error");
    EXPECT_EQ(r->code(), "NetConnection.Connect.Rejected");
    EXPECT_EQ(r->info()->get_str("level"), "error");
    EXPECT_EQ(p.find_command("_result"), nullptr);
}

TEST_F(RtmpSession, CommandBeforeConnectClosesTheConnection)
{
    RtmpTestPeer p;
    ASSERT_TRUE(srv.adopt(p));
    ASSERT_TRUE(srv.handshake(p));
    p.create_stream(2);
    EXPECT_TRUE(srv.run_until([&] { return p.eof(); }));
    EXPECT_EQ(p.find_result(2), nullptr);
}

TEST_F(RtmpSession, PeerChunkSizeIsHonoured)
{
    RtmpTestPeer p;
    ASSERT_TRUE(srv.adopt(p));
    ASSERT_TRUE(srv.handshake(p));
    p.set_chunk_size(7);  // the connect spans many chunks
    EXPECT_TRUE(srv.connect(p));
    EXPECT_EQ(srv.create_stream(p), 1u);
}

// --- protocol control
// -----------------------------------------------------------------------------

TEST_F(RtmpSession, AcknowledgesAsThePeersWindowRequires)
{
    RtmpTestPeer p;
    uint32_t msid = 0;
    ASSERT_TRUE(srv.open(p, &msid));
    p.send_control(rtmp::Control::window_ack_size(3000));
    // Media before publish: read and dropped, but counted for acknowledgements.
    for (uint32_t i = 0; i < 8; ++i) p.video(msid, i * 40, avc_frame(false, i, 1000));
    ASSERT_TRUE(srv.run_until([&] { return p.count(msg_type::ack) > 0; }));
    const PeerMsg* ack = nullptr;
    for (const PeerMsg& m : p.msgs()) {
        if (m.type == msg_type::ack) ack = &m;
    }
    EXPECT_GE(ack->ctl.value, 3000u);
    EXPECT_LE(ack->ctl.value, p.bytes_read() + 20000u);
    EXPECT_FALSE(p.eof());
}

TEST_F(RtmpSession, PingRequestIsAnsweredWithPingResponse)
{
    RtmpTestPeer p;
    uint32_t msid = 0;
    ASSERT_TRUE(srv.open(p, &msid));
    p.send_control(rtmp::Control::ping_request(123456));
    ASSERT_TRUE(srv.run_until([&] {
        return index_of(p, [](const PeerMsg& m) { return m.is_user(uc_event::ping_response); }) !=
               std::string::npos;
    }));
    size_t i = index_of(p, [](const PeerMsg& m) { return m.is_user(uc_event::ping_response); });
    EXPECT_EQ(p.msgs()[i].ctl.value, 123456u);
}

// --- streams
// ---------------------------------------------------------------------------------------

TEST_F(RtmpSession, CreateStreamGivesFreshIdsAndReusesDeletedOnes)
{
    RtmpTestPeer p;
    uint32_t first = 0;
    ASSERT_TRUE(srv.open(p, &first));
    EXPECT_EQ(first, 1u);
    EXPECT_EQ(srv.create_stream(p), 2u);
    EXPECT_EQ(srv.create_stream(p), 3u);
    p.command(0, {"deleteStream", 0.0, nullptr, 2.0});
    EXPECT_EQ(srv.create_stream(p), 2u);
    EXPECT_FALSE(p.eof());
}

TEST_F(RtmpSession, MoreStreamsThanMaxStreamsCloses)
{
    RtmpTestPeer p;
    uint32_t msid = 0;
    ASSERT_TRUE(srv.open(p, &msid));
    for (int i = 0; i < 3; ++i) EXPECT_NE(srv.create_stream(p), 0u);
    p.create_stream(99);  // the fifth, over max_streams 4
    EXPECT_TRUE(srv.run_until([&] { return p.eof(); }));
    EXPECT_EQ(p.find_result(99), nullptr);
}

TEST_F(RtmpSession, PublishIsAnsweredWithPublishStart)
{
    RtmpTestPeer p;
    uint32_t msid = 0;
    rtmp::Session* s = srv.open(p, &msid);
    ASSERT_TRUE(s);
    p.command(0, {"releaseStream", 10.0, nullptr, "cam"});
    p.command(0, {"FCPublish", 11.0, nullptr, "cam"});
    EXPECT_EQ(srv.publish(p, msid, "cam?token=abc"), "NetStream.Publish.Start");
    ASSERT_TRUE(srv.run_until([&] { return p.find_result(11) != nullptr; }));
    EXPECT_EQ(p.find_result(10)->name(), "_result");
    EXPECT_TRUE(p.find_command("onFCPublish"));
    const PeerMsg* st = p.find_status("NetStream.Publish.Start");
    EXPECT_EQ(st->msid, msid);
    EXPECT_EQ(st->info()->get_str("level"), "status");
    // The query string is kept for modules, not part of the name.
    ASSERT_TRUE(s->stream(msid));
    EXPECT_EQ(s->stream(msid)->role, rtmp::NetStream::Role::publishing);
    EXPECT_EQ(s->stream(msid)->name, "cam");
    EXPECT_EQ(s->stream(msid)->args, "token=abc");
}

TEST_F(RtmpSession, PublishOfEmptyNameIsBadName)
{
    RtmpTestPeer p;
    uint32_t msid = 0;
    ASSERT_TRUE(srv.open(p, &msid));
    EXPECT_EQ(srv.publish(p, msid, ""), "NetStream.Publish.BadName");
    EXPECT_EQ(srv.publish(p, msid, "?only=args"), "NetStream.Publish.BadName");
    // The connection and the stream stay usable.
    EXPECT_EQ(srv.publish(p, msid, "good"), "NetStream.Publish.Start");
    EXPECT_FALSE(p.eof());
}

TEST_F(RtmpSession, PublishOfNameWithControlCharactersIsBadName)
{
    RtmpTestPeer p;
    uint32_t msid = 0;
    ASSERT_TRUE(srv.open(p, &msid));
    EXPECT_EQ(srv.publish(p, msid,
                          std::string("a\x01"
                                      "b",
                                      3)),
              "NetStream.Publish.BadName");
    EXPECT_EQ(srv.publish(p, msid, std::string("a\nb")), "NetStream.Publish.BadName");
    EXPECT_EQ(srv.publish(p, msid, std::string("a\x7f")), "NetStream.Publish.BadName");
    EXPECT_EQ(srv.publish(p, msid, std::string(300, 'n')),
              "NetStream.Publish.BadName");  // max_name 256
    EXPECT_FALSE(p.eof());
    EXPECT_EQ(srv.create_stream(p), 2u);
}

TEST_F(RtmpSession, UnknownCommandWithTransactionIdGetsErrorAndConnectionStays)
{
    RtmpTestPeer p;
    uint32_t msid = 0;
    ASSERT_TRUE(srv.open(p, &msid));
    p.command(0, {"noSuchMethod", 7.0, nullptr, "x"});
    ASSERT_TRUE(srv.run_until([&] { return p.find_result(7) != nullptr || p.eof(); }));
    const PeerMsg* r = p.find_result(7);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->name(), "_error");
    EXPECT_EQ(r->code(), "NetConnection.Call.Failed");
    // Without a transaction id nobody waits for an answer: none is sent.
    size_t before = p.msgs().size();
    p.command(0, {"alsoUnknown", 0.0, nullptr});
    EXPECT_EQ(srv.create_stream(p), 2u);
    EXPECT_EQ(p.msgs().size(), before + 1);  // only the createStream _result
    EXPECT_FALSE(p.eof());
}

TEST_F(RtmpSession, MalformedCommandClosesOnlyThatConnection)
{
    RtmpTestPeer bad, good;
    uint32_t msid = 0;
    ASSERT_TRUE(srv.open(good, &msid));
    ASSERT_TRUE(srv.adopt(bad));
    ASSERT_TRUE(srv.handshake(bad));
    // "connect" then an object whose key claims 0x7000 bytes that are not there.
    static const char kBody[] =
        "\x02\x00\x07"
        "connect"
        "\x00\x3f\xf0\x00\x00\x00\x00\x00\x00"
        "\x03\x70\x00"
        "app";
    std::string body(kBody, sizeof(kBody) - 1);
    bad.send_message(msg_type::command_amf0, 3, 0, 0, body);
    EXPECT_TRUE(srv.run_until([&] { return bad.eof(); }));
    EXPECT_EQ(srv.create_stream(good), 2u);
    EXPECT_FALSE(good.eof());
}

// --- media through the session
// ----------------------------------------------------------------------

TEST_F(RtmpSession, SetDataFrameIsStrippedToOnMetaData)
{
    RtmpTestPeer pub, player, late;
    uint32_t pm = 0, lm = 0, late_msid = 0;
    ASSERT_TRUE(srv.open(pub, &pm));
    ASSERT_TRUE(srv.open(player, &lm));
    ASSERT_EQ(srv.publish(pub, pm, "meta"), "NetStream.Publish.Start");
    ASSERT_EQ(srv.play(player, lm, "meta"), "NetStream.Play.Start");
    AmfValue md = AmfValue::ecma_array({{"width", 1280.0}, {"height", 720.0}, {"encoder", "test"}});
    pub.data(pm, 0, {"@setDataFrame", "onMetaData", md});
    ASSERT_TRUE(srv.run_until([&] { return player.find_command("onMetaData") != nullptr; }));
    const PeerMsg* m = player.find_command("onMetaData");
    EXPECT_EQ(m->type, msg_type::data_amf0);
    ASSERT_EQ(m->amf.size(), 2u);
    EXPECT_EQ(m->amf[1].get_num("width"), 1280);
    EXPECT_EQ(m->amf[1].get_str("encoder"), "test");
    EXPECT_EQ(player.find_command("@setDataFrame"), nullptr);

    // What a late joiner gets from the cache is the stripped form too.
    ASSERT_TRUE(srv.open(late, &late_msid));
    ASSERT_EQ(srv.play(late, late_msid, "meta"), "NetStream.Play.Start");
    ASSERT_TRUE(srv.run_until([&] { return late.find_command("onMetaData") != nullptr; }));
    EXPECT_EQ(late.find_command("onMetaData")->amf.size(), 2u);
    EXPECT_EQ(late.find_command("@setDataFrame"), nullptr);
}

TEST_F(RtmpSession, AggregateMessagesAreSplitWithRebasedTimestamps)
{
    RtmpTestPeer pub, player;
    uint32_t pm = 0, lm = 0;
    ASSERT_TRUE(srv.open(pub, &pm));
    ASSERT_TRUE(srv.open(player, &lm));
    ASSERT_EQ(srv.publish(pub, pm, "agg"), "NetStream.Publish.Start");
    ASSERT_EQ(srv.play(player, lm, "agg"), "NetStream.Play.Start");
    pub.video(pm, 5000, avc_sequence_header());
    std::string agg;
    append_tag(&agg, msg_type::video, 100, avc_frame(true, 1));
    append_tag(&agg, msg_type::audio, 110, aac_frame(2));
    append_tag(&agg, msg_type::video, 140, avc_frame(false, 3));
    pub.send_message(msg_type::aggregate, 7, pm, 5000, agg);
    ASSERT_TRUE(srv.run_until([&] { return player.media().size() >= 4; }));
    auto media = player.media();
    ASSERT_EQ(media.size(), 4u);
    EXPECT_TRUE(media[0]->video_seq());
    EXPECT_TRUE(media[1]->video_key());
    EXPECT_EQ(media[1]->frame_no(), 1u);
    EXPECT_EQ(media[1]->timestamp, 5000u);  // RTMP 7.1.6: sub_ts - first_sub_ts + aggregate ts
    EXPECT_EQ(media[2]->type, msg_type::audio);
    EXPECT_EQ(media[2]->frame_no(), 2u);
    EXPECT_EQ(media[2]->timestamp, 5010u);
    EXPECT_EQ(media[3]->type, msg_type::video);
    EXPECT_EQ(media[3]->frame_no(), 3u);
    EXPECT_EQ(media[3]->timestamp, 5040u);
    EXPECT_EQ(player.count(msg_type::aggregate), 0u);
}

TEST_F(RtmpSession, PauseAndUnpauseAreNotifiedAndUnpauseResumesOnKeyframe)
{
    RtmpTestPeer pub, player;
    uint32_t pm = 0, lm = 0;
    ASSERT_TRUE(srv.open(pub, &pm));
    ASSERT_TRUE(srv.open(player, &lm));
    ASSERT_EQ(srv.publish(pub, pm, "pz"), "NetStream.Publish.Start");
    ASSERT_EQ(srv.play(player, lm, "pz"), "NetStream.Play.Start");
    pub.video(pm, 0, avc_sequence_header());
    pub.video(pm, 0, avc_frame(true, 0));
    ASSERT_TRUE(srv.run_until([&] { return player.media().size() == 2; }));

    player.pause(lm, true, 40);
    ASSERT_TRUE(
        srv.run_until([&] { return player.find_status("NetStream.Pause.Notify") != nullptr; }));
    pub.video(pm, 40, avc_frame(false, 1));
    pub.video(pm, 80, avc_frame(false, 2));
    srv.settle(10);
    EXPECT_EQ(player.media().size(), 2u) << "frames reached a paused player";

    player.clear();
    player.pause(lm, false, 80);
    ASSERT_TRUE(
        srv.run_until([&] { return player.find_status("NetStream.Unpause.Notify") != nullptr; }));
    EXPECT_NE(index_of(player,
                       [&](const PeerMsg& m) {
                           return m.is_user(uc_event::stream_begin) && m.ctl.value == lm;
                       }),
              std::string::npos);
    pub.video(pm, 120, avc_frame(false, 3));  // an inter frame cannot start the picture
    pub.video(pm, 160, avc_frame(true, 4));
    pub.video(pm, 200, avc_frame(false, 5));
    ASSERT_TRUE(srv.run_until([&] { return player.media().size() == 2; }));
    auto media = player.media();
    EXPECT_TRUE(media[0]->video_key());
    EXPECT_EQ(media[0]->frame_no(), 4u);
    EXPECT_EQ(media[1]->frame_no(), 5u);
}

TEST_F(RtmpSession, SeekOnLiveFailsAndPlayContinues)
{
    RtmpTestPeer player;
    uint32_t lm = 0;
    ASSERT_TRUE(srv.open(player, &lm));
    ASSERT_EQ(srv.play(player, lm, "noone"), "NetStream.Play.Start");  // idle_streams on
    player.command(lm, {"seek", 0.0, nullptr, 1000.0});
    EXPECT_TRUE(
        srv.run_until([&] { return player.find_status("NetStream.Seek.Failed") != nullptr; }));
    EXPECT_FALSE(player.eof());
}

TEST_F(RtmpSession, DeleteStreamWithOutOfRangeIdIsIgnored)
{
    // Regression: the peer's AMF number went through uint32_t(double), undefined for -1,
    // NaN, 1e300 or 2^32+1 (clang's UBSan reports float-cast-overflow; g++ does not check
    // it, and on x86-64 2^32+1 deleted stream 1). Found by session_fuzz.
    RtmpTestPeer p;
    uint32_t msid = 0;
    ASSERT_TRUE(srv.open(p, &msid));
    for (double bad : {-1.0, 1e300, std::nan(""), 4294967296.0 + 1}) {
        p.command(0, {"deleteStream", 0.0, nullptr, bad});
    }
    EXPECT_EQ(srv.create_stream(p), 2u);  // stream 1 is still there
    EXPECT_FALSE(p.eof());
}
