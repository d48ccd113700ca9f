#include "t/lib/rtmp_test_peer.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/bytes.h"
#include "core/log.h"
#include "rtmp/amf0.h"
#include "rtmp/amf_decode_state.h"
#include "rtmp/chunk_writer.h"
#include "rtmp/rtmp_core_module.h"

namespace strom {
std::span<Module* const> strom_modules();
}

namespace strom::test {

namespace msg_type = rtmp::msg_type;
using rtmp::AmfValue;

namespace {
constexpr uint32_t kCsidCommand = 3;
constexpr uint32_t kCsidStream = 5;
constexpr uint32_t kCsidAudio = 6;
constexpr uint32_t kCsidVideo = 7;
}  // namespace

// --- PeerMsg ---------------------------------------------------------------------------------

std::string_view PeerMsg::name() const
{
    return !amf.empty() && amf[0].is_string() ? amf[0].str() : std::string_view();
}

double PeerMsg::tid() const
{
    return amf.size() > 1 ? amf[1].num(-1) : -1;
}

const AmfValue* PeerMsg::info() const
{
    return amf.size() > 3 && amf[3].is_object() ? &amf[3] : nullptr;
}

std::string_view PeerMsg::code() const
{
    const AmfValue* i = info();
    return i ? i->get_str("code") : std::string_view();
}

bool PeerMsg::video_key() const
{
    // FLV VideoTagHeader / E-RTMP: frame type in bits 4-6, 1 = keyframe.
    return type == msg_type::video && !payload.empty() && ((uint8_t(payload[0]) >> 4) & 7) == 1 &&
           !video_seq();
}

bool PeerMsg::video_seq() const
{
    if (type != msg_type::video || payload.size() < 2) return false;
    uint8_t b0 = uint8_t(payload[0]);
    if (b0 & 0x80) return (b0 & 0x0f) == 0;  // E-RTMP IsExHeader: PacketType SequenceStart
    return payload[1] == 0;                  // AVCPacketType 0
}

uint32_t PeerMsg::frame_no() const
{
    size_t at = type == msg_type::video ? 5 : 2;
    if (payload.size() < at + 4) return UINT32_MAX;
    return load_be32(reinterpret_cast<const uint8_t*>(payload.data()) + at);
}

// --- media payloads ----------------------------------------------------------------------------

std::string avc_sequence_header()
{
    // FLV VideoTagHeader (keyframe, AVC, sequence header, cts 0) + AVCDecoderConfigurationRecord.
    static const uint8_t b[] = {0x17, 0x00, 0,    0,    0,    0x01, 0x64, 0x00,
                                0x1f, 0xff, 0xe1, 0x00, 0x04, 0x67, 0x64, 0x00,
                                0x1f, 0x01, 0x00, 0x04, 0x68, 0xee, 0x3c, 0x80};
    return std::string(reinterpret_cast<const char*>(b), sizeof(b));
}

std::string aac_sequence_header()
{
    // AAC, 44 kHz, 16 bit, stereo; AACPacketType 0; AudioSpecificConfig (AAC LC, 44.1k, 2 ch).
    return std::string("\xaf\x00\x12\x10", 4);
}

std::string avc_frame(bool key, uint32_t number, size_t size)
{
    std::string s(size < 9 ? 9 : size, '\x5a');
    s[0] = char(key ? 0x17 : 0x27);
    s[1] = 1;  // AVC NALU
    s[2] = s[3] = s[4] = 0;
    store_be32(reinterpret_cast<uint8_t*>(s.data()) + 5, number);
    return s;
}

std::string aac_frame(uint32_t number)
{
    std::string s(16, '\x21');
    s[0] = char(0xaf);
    s[1] = 1;  // raw AAC
    store_be32(reinterpret_cast<uint8_t*>(s.data()) + 2, number);
    return s;
}

std::string hevc_sequence_start()
{
    // IsExHeader | keyframe | SequenceStart, FourCC, then an HEVCDecoderConfigurationRecord
    // (its first bytes; the server relays it untouched).
    static const uint8_t b[] = {0x90, 'h',  'v',  'c',  '1',  0x01, 0x01, 0x60, 0x00, 0x00, 0x00,
                                0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5d, 0xf0, 0x00, 0xfc};
    return std::string(reinterpret_cast<const char*>(b), sizeof(b));
}

std::string hevc_frame(bool key, uint32_t number, size_t size)
{
    std::string s(size < 9 ? 9 : size, '\x26');
    s[0] = char(0x80 | (key ? 0x10 : 0x20) | 3);  // IsExHeader, frame type, CodedFramesX
    s.replace(1, 4, "hvc1");
    store_be32(reinterpret_cast<uint8_t*>(s.data()) + 5, number);
    return s;
}

// --- RtmpTestPeer ------------------------------------------------------------------------------

RtmpTestPeer::RtmpTestPeer() : reader_(pool_)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
        ADD_FAILURE() << "socketpair: " << strerror(errno);
        return;
    }
    fd_ = fds[0];
    server_fd_ = fds[1];
}

RtmpTestPeer::~RtmpTestPeer()
{
    if (server_) server_->forget(this);
    close();
    if (server_fd_ >= 0) ::close(server_fd_);
    msgs_.clear();
}

int RtmpTestPeer::take_server_fd()
{
    int fd = server_fd_;
    server_fd_ = -1;
    return fd;
}

void RtmpTestPeer::shrink_buffers(int bytes)
{
    EXPECT_EQ(setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)), 0);
    if (server_fd_ >= 0) {
        EXPECT_EQ(setsockopt(server_fd_, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes)), 0);
    }
}

void RtmpTestPeer::close()
{
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void RtmpTestPeer::pump()
{
    if (fd_ < 0) return;
    flush();
    if (!reading_) return;
    uint8_t buf[65536];
    for (;;) {
        ssize_t n = ::read(fd_, buf, sizeof(buf));
        if (n > 0) {
            bytes_read_ += uint64_t(n);
            on_bytes(buf, size_t(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        eof_ = true;  // 0: closed; ECONNRESET and friends alike
        break;
    }
    flush();  // a C2 the bytes just read produced
}

void RtmpTestPeer::flush()
{
    while (fd_ >= 0 && out_pos_ < out_.size()) {
        ssize_t n = ::write(fd_, out_.data() + out_pos_, out_.size() - out_pos_);
        if (n > 0) {
            out_pos_ += size_t(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        eof_ = true;  // EPIPE: the server is gone
        out_.clear();
        out_pos_ = 0;
        return;
    }
    out_.clear();
    out_pos_ = 0;
}

void RtmpTestPeer::start_handshake(bool complex)
{
    hs_ = std::make_unique<rtmp::Handshake>(rtmp::Handshake::Role::client, complex);
    take_handshake_output();
    flush();
}

void RtmpTestPeer::take_handshake_output()
{
    auto out = hs_->output();
    out_.append(reinterpret_cast<const char*>(out.data()), out.size());
    hs_->sent(out.size());
}

void RtmpTestPeer::on_bytes(const uint8_t* p, size_t n)
{
    if (!hs_) {
        raw_.append(reinterpret_cast<const char*>(p), n);
        return;
    }
    if (!hs_done_) {
        size_t used = 0;
        Rc rc = hs_->feed(p, n, &used);
        take_handshake_output();
        if (rc == Rc::error) error_ = std::string("handshake: ") + hs_->reason();
        if (rc != Rc::ok) return;
        hs_done_ = true;
        p += used;
        n -= used;
    }
    if (!error_.empty()) return;
    while (n > 0) {
        size_t used = 0;
        Rc rc = reader_.feed(p, n, &used, *this);
        if (rc == Rc::error) {
            error_ = std::string("chunk stream: ") + reader_.reason();
            return;
        }
        p += used;
        n -= used;
    }
}

Rc RtmpTestPeer::on_message(rtmp::Message& m)
{
    PeerMsg pm;
    pm.type = m.type;
    pm.csid = m.csid;
    pm.msid = m.msid;
    pm.timestamp = m.timestamp;
    pm.payload.resize(m.length);
    chain_copy(m.payload.get(), 0, pm.payload.data(), m.length);
    const auto* body = reinterpret_cast<const uint8_t*>(pm.payload.data());
    size_t len = pm.payload.size();
    switch (m.type) {
        case msg_type::command_amf3:
        case msg_type::data_amf3:
            if (len > 0 && body[0] == 0) {
                ++body;
                --len;
            }
            [[fallthrough]];
        case msg_type::command_amf0:
        case msg_type::data_amf0: {
            rtmp::AmfDecodeState st;
            const char* why = "";
            if (rtmp::amf0_decode_all(body, len, &pm.amf, st, &why) != Rc::ok) {
                ADD_FAILURE() << "peer: undecodable AMF from the server: " << why;
            }
            break;
        }
        default:
            if (m.type >= msg_type::set_chunk_size && m.type <= msg_type::set_peer_bandwidth) {
                const char* why = "";
                if (rtmp::parse_control(m, &pm.ctl, &why) != Rc::ok) {
                    ADD_FAILURE() << "peer: bad control message from the server: " << why;
                }
            }
            break;
    }
    msgs_.push_back(std::move(pm));
    return Rc::ok;
}

void RtmpTestPeer::send_raw(std::string_view bytes)
{
    out_.append(bytes);
    flush();
}

void RtmpTestPeer::send_message(uint8_t type, uint32_t csid, uint32_t msid, uint32_t ts,
                                std::string_view payload)
{
    rtmp::MsgHeader h{csid, type, msid, ts};
    BufRef framed;
    ASSERT_EQ(rtmp::frame_message(pool_, out_chunk_, h, payload.data(), payload.size(), &framed),
              Rc::ok);
    std::string bytes(chain_size(framed.get()), '\0');
    chain_copy(framed.get(), 0, bytes.data(), bytes.size());
    send_raw(bytes);
}

void RtmpTestPeer::send_control(const rtmp::Control& c)
{
    BufRef framed;
    ASSERT_EQ(rtmp::frame_control(pool_, out_chunk_, c, &framed), Rc::ok);
    std::string bytes(chain_size(framed.get()), '\0');
    chain_copy(framed.get(), 0, bytes.data(), bytes.size());
    send_raw(bytes);
}

void RtmpTestPeer::set_chunk_size(uint32_t n)
{
    send_control(rtmp::Control::set_chunk_size(n));
    out_chunk_ = n;
}

void RtmpTestPeer::command(uint32_t msid, const std::vector<AmfValue>& values)
{
    std::string body;
    for (const AmfValue& v : values) rtmp::amf0_encode(v, &body);
    send_message(msg_type::command_amf0, msid ? kCsidStream : kCsidCommand, msid, 0, body);
}

void RtmpTestPeer::data(uint32_t msid, uint32_t ts, const std::vector<AmfValue>& values)
{
    std::string body;
    for (const AmfValue& v : values) rtmp::amf0_encode(v, &body);
    send_message(msg_type::data_amf0, kCsidStream, msid, ts, body);
}

void RtmpTestPeer::connect(std::string_view app, double tid)
{
    AmfValue obj = AmfValue::object();
    obj.set("app", AmfValue(app));
    obj.set("type", AmfValue("nonprivate"));
    obj.set("flashVer", AmfValue("FMLE/3.0 (compatible; strom-test)"));
    obj.set("tcUrl", AmfValue("rtmp://127.0.0.1/" + std::string(app)));
    command(0, {"connect", tid, obj});
}

void RtmpTestPeer::create_stream(double tid)
{
    command(0, {"createStream", tid, nullptr});
}

void RtmpTestPeer::publish(uint32_t msid, std::string_view name, double tid)
{
    command(msid, {"publish", tid, nullptr, AmfValue(name), "live"});
}

void RtmpTestPeer::play(uint32_t msid, std::string_view name, double tid)
{
    command(msid, {"play", tid, nullptr, AmfValue(name), -2.0});
}

void RtmpTestPeer::pause(uint32_t msid, bool paused, double ms)
{
    command(msid, {"pause", 0.0, nullptr, paused, ms});
}

void RtmpTestPeer::video(uint32_t msid, uint32_t ts, std::string_view payload)
{
    send_message(msg_type::video, kCsidVideo, msid, ts, payload);
}

void RtmpTestPeer::audio(uint32_t msid, uint32_t ts, std::string_view payload)
{
    send_message(msg_type::audio, kCsidAudio, msid, ts, payload);
}

const PeerMsg* RtmpTestPeer::find_command(std::string_view name) const
{
    for (const PeerMsg& m : msgs_) {
        if ((m.type == msg_type::command_amf0 || m.type == msg_type::data_amf0) && m.name() == name)
            return &m;
    }
    return nullptr;
}

const PeerMsg* RtmpTestPeer::find_status(std::string_view code) const
{
    for (const PeerMsg& m : msgs_) {
        if (m.name() == "onStatus" && m.code() == code) return &m;
    }
    return nullptr;
}

const PeerMsg* RtmpTestPeer::find_result(double tid) const
{
    for (const PeerMsg& m : msgs_) {
        if ((m.name() == "_result" || m.name() == "_error") && m.tid() == tid) return &m;
    }
    return nullptr;
}

std::vector<const PeerMsg*> RtmpTestPeer::media() const
{
    std::vector<const PeerMsg*> out;
    for (const PeerMsg& m : msgs_) {
        if (m.is_media()) out.push_back(&m);
    }
    return out;
}

size_t RtmpTestPeer::count(uint8_t type) const
{
    size_t n = 0;
    for (const PeerMsg& m : msgs_) n += m.type == type;
    return n;
}

// --- TestServer --------------------------------------------------------------------------------

TestServer::TestServer(std::string_view conf_text, uint32_t slots)
{
    // Quiet unless asked (STROM_TEST_LOG=debug|info|...): the test runner shows the tail
    // of a failing binary's output, which should be gtest's messages.
    LogLevel level = LogLevel::crit;
    if (const char* env = getenv("STROM_TEST_LOG")) (void)parse_log_level(env, strlen(env), &level);
    Log::set_level(level);
    signal(SIGPIPE, SIG_IGN);  // as the master does: a peer that closed is EPIPE, not death
    cycle_ = Cycle::load_string(strom_modules(), conf_text, "test.conf", "/tmp/", &error_);
    table_ = std::make_unique<ConnectionTable>(loop_, slots);
}

TestServer::~TestServer()
{
    shutdown();
    for (RtmpTestPeer* p : peers_) p->server_ = nullptr;
    peers_.clear();
}

rtmp::Session* TestServer::adopt(RtmpTestPeer& p)
{
    if (!cycle_ || rtmp::rtmp_servers(*cycle_).empty()) {
        ADD_FAILURE() << "no server block in the test config: " << error_;
        return nullptr;
    }
    sockaddr_storage ss{};
    ss.ss_family = AF_UNIX;
    ServerBlock* srv = rtmp::rtmp_servers(*cycle_)[0].get();
    Connection* c = table_->adopt(p.take_server_fd(), reinterpret_cast<sockaddr*>(&ss),
                                  sizeof(sa_family_t), srv);
    if (!c) {
        ADD_FAILURE() << "no connection slot";
        return nullptr;
    }
    auto* s = new rtmp::Session(*c, srv);
    c->set_handler(s);
    p.server_ = this;
    peers_.push_back(&p);
    return s;
}

void TestServer::forget(RtmpTestPeer* p)
{
    for (size_t i = 0; i < peers_.size(); ++i) {
        if (peers_[i] == p) {
            peers_.erase(peers_.begin() + long(i));
            return;
        }
    }
}

void TestServer::turn()
{
    for (RtmpTestPeer* p : peers_) p->pump();
    (void)loop_.run_once(1);
    for (RtmpTestPeer* p : peers_) p->pump();
}

bool TestServer::handshake(RtmpTestPeer& p, bool complex)
{
    p.start_handshake(complex);
    bool ok = run_until([&] { return p.handshake_done() || !p.error().empty() || p.eof(); });
    EXPECT_TRUE(ok && p.handshake_done()) << "handshake: " << p.error();
    return p.handshake_done();
}

bool TestServer::connect(RtmpTestPeer& p, std::string_view app)
{
    p.connect(app, 1);
    run_until([&] { return p.find_result(1) || p.eof(); });
    const PeerMsg* r = p.find_result(1);
    EXPECT_TRUE(r && r->name() == "_result") << "connect to \"" << app << "\" not accepted";
    return r && r->name() == "_result";
}

uint32_t TestServer::create_stream(RtmpTestPeer& p)
{
    double tid = next_tid_++;
    p.create_stream(tid);
    run_until([&] { return p.find_result(tid) || p.eof(); });
    const PeerMsg* r = p.find_result(tid);
    EXPECT_TRUE(r && r->name() == "_result" && r->amf.size() > 3) << "createStream not answered";
    return r && r->amf.size() > 3 ? uint32_t(r->amf[3].num(0)) : 0;
}

namespace {
std::string status_after(TestServer& srv, RtmpTestPeer& p, size_t from, uint32_t msid)
{
    std::string code;
    srv.run_until([&] {
        for (size_t i = from; i < p.msgs().size(); ++i) {
            const PeerMsg& m = p.msgs()[i];
            if (m.name() == "onStatus" && m.msid == msid) {
                code = std::string(m.code());
                return true;
            }
        }
        return p.eof();
    });
    return code;
}
}  // namespace

std::string TestServer::publish(RtmpTestPeer& p, uint32_t msid, std::string_view name)
{
    size_t from = p.msgs().size();
    p.publish(msid, name);
    return status_after(*this, p, from, msid);
}

std::string TestServer::play(RtmpTestPeer& p, uint32_t msid, std::string_view name)
{
    size_t from = p.msgs().size();
    p.play(msid, name);
    std::string code = status_after(*this, p, from, msid);
    // Play.Reset comes first: the caller wants the status that decides.
    if (code == "NetStream.Play.Reset") {
        size_t at = from;
        while (at < p.msgs().size() && p.msgs()[at].code() != "NetStream.Play.Reset") ++at;
        code = status_after(*this, p, at + 1, msid);
    }
    return code;
}

rtmp::Session* TestServer::open(RtmpTestPeer& p, uint32_t* msid, std::string_view app)
{
    rtmp::Session* s = adopt(p);
    if (!s || !handshake(p) || !connect(p, app)) return nullptr;
    *msid = create_stream(p);
    return *msid ? s : nullptr;
}

void TestServer::shutdown()
{
    if (!table_) return;
    table_.reset();  // closes every connection and reaps them
    loop_.reap();
}

}  // namespace strom::test
