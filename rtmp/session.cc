// Session: connection I/O, handshake, chunk stream, protocol control, timers.
// Commands are in session_cmd.cc, the client side's steps in session_client.cc.
#include "rtmp/session.h"

#include <cstring>

#include "core/cidr.h"
#include "core/conf_block.h"
#include "core/log.h"
#include "rtmp/aggregate.h"
#include "rtmp/amf0.h"
#include "rtmp/chunk_writer.h"
#include "rtmp/handshake.h"
#include "rtmp/proxy_protocol.h"
#include "rtmp/rtmp_core_module.h"

namespace strom::rtmp {

namespace {
constexpr uint32_t kCsidCommand = 3;
constexpr uint32_t kCsidStreamCommand = 5;
}  // namespace

Session::Session(Connection& c, const ServerBlock* server) : conn_(&c), server_(server), role_(Role::server)
{
    init_common();
    hs_ = std::make_unique<Handshake>(Handshake::Role::server);
    arm_deadline(handshake_timeout_);   // absolute: PROXY header, handshake and connect together
    // The start hooks run once the factory has finished with us (it may still ask for
    // a PROXY header), and before any byte of the handshake is looked at.
    start_ev_ = Posted{&Session::on_start_posted, this};
    loop().post(start_ev_);
}

Session::Session(Connection& c, const ServerBlock* server, const ClientParams& p, ClientObserver* observer)
    : conn_(&c), server_(server), role_(Role::client), client_(p), observer_(observer)
{
    init_common();
    chunk_size_conf_ = p.chunk_size;
    hs_ = std::make_unique<Handshake>(Handshake::Role::client, p.complex_handshake);
    arm_deadline(handshake_timeout_);
}

Session::~Session() = default;

const sockaddr* Session::client_addr() const
{
    return reinterpret_cast<const sockaddr*>(client_len_ ? &client_ss_ : &conn_->peer());
}

socklen_t Session::client_addr_len() const
{
    return client_len_ ? client_len_ : socklen_t(sizeof(sockaddr_storage));
}

void Session::set_client_addr(const sockaddr* sa, socklen_t len)
{
    if (len > socklen_t(sizeof(client_ss_))) len = sizeof(client_ss_);
    memcpy(&client_ss_, sa, len);
    client_len_ = len;
    format_sockaddr(sa, len, client_text_, sizeof(client_text_));
}

void Session::on_start_posted(Posted& p)
{
    auto* s = static_cast<Session*>(p.arg);
    if (!s->started_ && !s->proxy_pending_ && !s->conn_->closing()) (void)s->run_start();
}

bool Session::run_start()
{
    started_ = true;
    loop().cancel_post(start_ev_);
    if (!hooks_ || role_ == Role::client) return true;
    for (const StartHandler& h : hooks_->start) {
        if (h.fn(h.self, *this) != Rc::ok) {
            if (!conn_->closing()) close("refused");
            return false;
        }
    }
    return true;
}

Rc Session::read_proxy_header(size_t* used)
{
    auto in = conn_->input();
    ProxyHeader h;
    const char* why = "";
    Rc rc = parse_proxy_header(in.data(), in.size(), &h, used, &why);
    if (rc == Rc::again) return rc;
    if (rc == Rc::error) {
        STROM_LOG(info, id(), "client %s: %s, closing", peer(), why);
        close("bad PROXY header");
        return Rc::error;
    }
    // Only a proxy we trust may name another client (set_real_ip_from).
    const auto& trusted = *rtmp_conf(*server_).real_ip_from;
    const sockaddr* sa = reinterpret_cast<const sockaddr*>(&conn_->peer());
    bool ok = false;
    for (const Cidr& c : trusted) ok = ok || cidr_match(c, sa, sizeof(sockaddr_storage));
    if (!ok) {
        STROM_LOG(notice, id(), "client %s: PROXY header from an untrusted address (set_real_ip_from), closing",
                  peer());
        close("untrusted PROXY header");
        return Rc::error;
    }
    proxy_pending_ = false;
    if (!h.local) {
        set_client_addr(reinterpret_cast<const sockaddr*>(&h.src), h.src_len);
        STROM_LOG(debug, id(), "client %s via proxy %s", peer(), conn_->peer_text());
    }
    return run_start() ? Rc::ok : Rc::error;
}

void Session::init_common()
{
    ChunkLimits limits;
    if (server_) {
        const RtmpCoreConf& rc = rtmp_conf(*server_);
        chunk_size_conf_ = *rc.chunk_size;
        limits.max_message = *rc.max_message;
        limits.max_csids = *rc.max_chunk_streams;
        limits.max_partial_bytes = *rc.max_partial;
        max_streams_ = *rc.max_streams;
        max_name_ = *rc.max_name;
        handshake_timeout_ = *rc.handshake_timeout;
        idle_timeout_ = *rc.timeout;
        ping_ms_ = *rc.ping;
        ping_timeout_ = *rc.ping_timeout;
        ack_window_ = *rc.ack_window;
        conn_->out().configure(*rc.out_queue, *rc.out_queue_bytes);
        hooks_ = rc.hooks;
    }
    reader_ = std::make_unique<ChunkReader>(pool(), limits);
    deadline_.fn = &Session::on_deadline;
    deadline_.arg = this;
    ping_timer_.fn = &Session::on_ping_timer;
    ping_timer_.arg = this;
    last_input_ = loop().now();
}

void Session::arm_deadline(uint64_t ms)
{
    if (ms == 0) {
        loop().cancel_timer(deadline_);
    } else {
        loop().add_timer(deadline_, ms);
    }
}

void Session::on_deadline(Timer& t)
{
    auto* s = static_cast<Session*>(t.arg);
    const char* what = s->state_ == State::handshake ? "handshake timed out" : "no connect in time";
    STROM_LOG(info, s->id(), "client %s: %s", s->peer(), what);
    s->close(what);
}

void Session::on_ping_timer(Timer& t)
{
    // One timer does idle detection and keepalive: after `ping` ms without input we
    // send a ping; without any input for `ping_timeout` more, the peer is gone.
    auto* s = static_cast<Session*>(t.arg);
    uint64_t now = s->loop().now();
    uint64_t idle = now - s->last_input_;
    if (s->ping_ms_ == 0) {
        if (s->idle_timeout_ && idle >= s->idle_timeout_) {
            STROM_LOG(info, s->id(), "client %s timed out (no data for %llums)", s->peer(),
                      (unsigned long long)idle);
            s->close("timeout");
            return;
        }
        s->loop().add_timer(t, s->idle_timeout_ ? s->idle_timeout_ - idle : 60000);
        return;
    }
    if (s->ping_outstanding_) {
        if (idle >= s->ping_ms_ + s->ping_timeout_) {
            STROM_LOG(info, s->id(), "client %s: ping timeout", s->peer());
            s->close("ping timeout");
            return;
        }
    } else if (idle >= s->ping_ms_) {
        s->ping_outstanding_ = true;
        s->ping_sent_at_ = uint32_t(now);
        if (s->send_control(Control::ping_request(uint32_t(now))) != Rc::ok) return;
        s->conn_->flush_soon();
        s->loop().add_timer(t, s->ping_timeout_);
        return;
    }
    uint64_t wait = s->ping_outstanding_ ? s->ping_ms_ + s->ping_timeout_ - idle : s->ping_ms_ - idle;
    s->loop().add_timer(t, wait ? wait : 1);
}

// --- input --------------------------------------------------------------------------------

void Session::on_read(Connection& c)
{
    last_input_ = loop().now();
    ping_outstanding_ = false;
    size_t off = 0;
    if (proxy_pending_) {
        Rc rc = read_proxy_header(&off);
        if (rc == Rc::error) return;
        if (rc == Rc::again) return;
        c.consume(off);
        off = 0;
    }
    if (!started_ && !run_start()) return;
    auto in = c.input();
    if (state_ == State::handshake) {
        size_t used = 0;
        Rc rc = drive_handshake(&used);
        off = used;
        if (rc == Rc::error) return;
        if (rc == Rc::again) {
            c.consume(off);
            return;
        }
    }
    while (off < in.size() && !c.closing() && !suspended_) {
        size_t used = 0;
        Rc rc = reader_->feed(in.data() + off, in.size() - off, &used, *this);
        if (ack_.add(used)) {
            ack_.acked();
            if (send_control(Control::ack(ack_.sequence())) == Rc::ok) conn_->flush_soon();
        }
        off += used;
        if (c.closing()) return;   // a handler closed it and logged why
        if (rc == Rc::again) break;
        if (rc == Rc::error) {
            STROM_LOG(warn, id(), "client %s: bad chunk stream: %s, closing", peer(), reader_->reason());
            close("protocol error");
            return;
        }
        if (rc != Rc::ok) break;   // the sink stopped: closing, or the chain suspended
    }
    if (!c.closing()) c.consume(off);
}

Rc Session::drive_handshake(size_t* used)
{
    auto in = conn_->input();
    Rc rc = hs_->feed(in.data(), in.size(), used);
    auto out = hs_->output();
    if (!out.empty()) {
        Chain ch(loop().small_pool());
        if (ch.append(out.data(), out.size()) != Rc::ok) {
            close("out of buffers");
            return Rc::error;
        }
        hs_->sent(out.size());
        send_framed(ch.take());
        conn_->flush_soon();
    }
    if (rc == Rc::error) {
        STROM_LOG(info, id(), "client %s: handshake failed: %s", peer(), hs_->reason());
        close("bad handshake");
        return Rc::error;
    }
    if (rc == Rc::ok) handshake_done();
    return rc;
}

void Session::handshake_done()
{
    STROM_LOG(debug, id(), "client %s: %s handshake done", peer(), hs_->complex() ? "complex" : "simple");
    hs_.reset();   // ~3 KiB back before the session settles
    state_ = State::connecting;
    loop().add_timer(ping_timer_, ping_ms_ ? ping_ms_ : (idle_timeout_ ? idle_timeout_ : 60000));
    if (role_ == Role::client) client_send_connect();
}

Rc Session::on_message(Message& m)
{
    if (conn_->closing()) return Rc::done;
    switch (m.type) {
    case msg_type::set_chunk_size:
    case msg_type::abort:
    case msg_type::ack:
    case msg_type::user_control:
    case msg_type::window_ack_size:
    case msg_type::set_peer_bandwidth:
        return on_control(m);
    case msg_type::audio:
    case msg_type::video:
        return on_media(m);
    case msg_type::data_amf0:
    case msg_type::data_amf3:
        return on_data(m);
    case msg_type::command_amf0:
    case msg_type::command_amf3:
        return on_command(m);
    case msg_type::aggregate:
        return on_aggregate(m);
    default:
        STROM_LOG(debug, id(), "ignoring message type %u (%s)", m.type, msg_type_name(m.type));
        return Rc::ok;
    }
}

Rc Session::on_control(Message& m)
{
    Control c;
    const char* why = nullptr;
    if (parse_control(m, &c, &why) != Rc::ok) {
        STROM_LOG(warn, id(), "client %s: bad control message: %s, closing", peer(), why);
        close("protocol error");
        return Rc::error;
    }
    switch (c.type) {
    case msg_type::window_ack_size:
        ack_.set_window(c.value);
        break;
    case msg_type::set_peer_bandwidth:
        // RTMP 5.4.5: answer with our Window Acknowledgement Size when it differs.
        if (role_ == Role::client && send_control(Control::window_ack_size(ack_window_)) == Rc::ok) {
            conn_->flush_soon();
        }
        break;
    case msg_type::user_control:
        if (c.event == uc_event::ping_request) {
            if (send_control(Control::ping_response(c.value)) == Rc::ok) conn_->flush_soon();
        } else if (c.event == uc_event::ping_response) {
            ping_outstanding_ = false;
        } else if (c.event == uc_event::stream_eof && role_ == Role::client && observer_ &&
                   c.value == client_msid_) {
            observer_->on_stream_eof(*this);
        }
        break;
    default:
        break;
    }
    return Rc::ok;
}

Rc Session::on_aggregate(Message& m)
{
    const char* why = nullptr;
    Rc rc = split_aggregate(pool(), m, *this, &why);
    if (rc == Rc::error) {
        STROM_LOG(warn, id(), "client %s: bad aggregate message: %s, closing", peer(), why ? why : "");
        close("protocol error");
    }
    return rc;
}

Rc Session::on_media(Message& m)
{
    if (role_ == Role::client) {
        if (observer_) observer_->on_media(*this, m);
        return Rc::ok;
    }
    NetStream* ns = stream(m.msid);
    if (!ns || ns->role != NetStream::Role::publishing) {
        // Media before publish (or after unpublish): dropped, as other servers do.
        return Rc::ok;
    }
    ns->bytes += m.length;
    MediaMsg mm{&m};
    if (m.type == msg_type::video) {
        mm.is_video = true;
        mm.video = parse_video(m.payload.get());
    } else {
        mm.is_audio = true;
        mm.audio = parse_audio(m.payload.get());
    }
    return run_media(*ns, mm);
}

Rc Session::run_media(NetStream& ns, MediaMsg& mm)
{
    if (!hooks_) return Rc::ok;
    for (const MediaHandler& h : hooks_->media) {
        Rc rc = h.fn(h.self, *this, ns, mm);
        if (rc == Rc::error) {
            close("media handler error");
            return Rc::error;
        }
    }
    return Rc::ok;
}

Rc Session::on_data(Message& m)
{
    // @setDataFrame("onMetaData", {...}) from encoders is stored and relayed as
    // onMetaData({...}): strip the first string. Other data messages pass unchanged.
    if (m.length == 0) return Rc::ok;
    uint8_t head[64];
    size_t n = chain_copy(m.payload.get(), 0, head, sizeof(head));
    size_t skip = 0;
    if (m.type == msg_type::data_amf3 && n > 0 && head[0] == 0) skip = 1;   // AMF3 data: format byte
    static constexpr char kSetDataFrame[] = "\x02\x00\x0d@setDataFrame";
    bool set_data_frame = n >= skip + 16 && memcmp(head + skip, kSetDataFrame, 16) == 0;
    bool on_meta = false;
    size_t name_at = set_data_frame ? skip + 16 : skip;
    static constexpr char kOnMetaData[] = "\x02\x00\x0aonMetaData";
    if (n >= name_at + 13 && memcmp(head + name_at, kOnMetaData, 13) == 0) on_meta = true;
    if (role_ == Role::client) {
        if (observer_) observer_->on_media(*this, m);
        return Rc::ok;
    }
    NetStream* ns = stream(m.msid);
    if (!ns || ns->role != NetStream::Role::publishing) return Rc::ok;
    if (set_data_frame || skip) {
        // Rebuild the payload without the prefix (metadata is rare: a copy is fine).
        size_t off = set_data_frame ? skip + 16 : skip;
        Chain ch(pool());
        std::string tmp(m.length - off, '\0');
        chain_copy(m.payload.get(), off, tmp.data(), tmp.size());
        if (ch.append(tmp.data(), tmp.size()) != Rc::ok) return Rc::ok;
        m.length = uint32_t(tmp.size());
        m.payload = ch.take();
        m.type = msg_type::data_amf0;
    }
    if (!on_meta) {
        STROM_LOG(debug, id(), "ignoring data message on stream \"%s\"", ns->name.c_str());
        return Rc::ok;
    }
    MediaMsg mm{&m};
    mm.is_meta = true;
    return run_media(*ns, mm);
}

NetStream* Session::stream(uint32_t msid)
{
    for (auto& ns : streams_) {
        if (ns->msid == msid) return ns.get();
    }
    return nullptr;
}

// --- output -------------------------------------------------------------------------------

bool Session::send_framed(BufRef msg, uint8_t tag)
{
    return conn_->send(std::move(msg), tag);
}

Rc Session::send_control(const Control& c)
{
    BufRef out;
    if (frame_control(loop().small_pool(), out_chunk_size_, c, &out) != Rc::ok) {
        close("out of buffers");
        return Rc::error;
    }
    if (!conn_->send(std::move(out), 0)) {
        STROM_LOG(info, id(), "client %s: out-queue full on a control message, closing", peer());
        close("out-queue full");
        return Rc::error;
    }
    if (c.type == msg_type::set_chunk_size) out_chunk_size_ = c.value;
    return Rc::ok;
}

Rc Session::send_amf(uint8_t type, uint32_t msid, std::initializer_list<const AmfValue*> values)
{
    std::string body;
    for (const AmfValue* v : values) amf0_encode(*v, &body);
    MsgHeader h{msid == 0 ? kCsidCommand : kCsidStreamCommand, type, msid, 0};
    BufRef out;
    if (frame_message(loop().small_pool(), out_chunk_size_, h, body.data(), body.size(), &out) != Rc::ok) {
        close("out of buffers");
        return Rc::error;
    }
    if (!conn_->send(std::move(out), 0)) {
        STROM_LOG(info, id(), "client %s: out-queue full on a command, closing", peer());
        close("out-queue full");
        return Rc::error;
    }
    conn_->flush_soon();
    return Rc::ok;
}

Rc Session::send_status_raw(uint32_t msid, const AmfValue& info)
{
    AmfValue name("onStatus"), tid(0.0), null(nullptr);
    return send_amf(msg_type::command_amf0, msid, {&name, &tid, &null, &info});
}

Rc Session::send_status(uint32_t msid, Status st, std::string_view description, std::string_view details)
{
    return send_status_raw(msid, status_object(st, description, details));
}

Rc Session::send_result(double tid, const AmfValue& a, const AmfValue& b)
{
    AmfValue name("_result"), t(tid);
    return send_amf(msg_type::command_amf0, 0, {&name, &t, &a, &b});
}

Rc Session::send_error(double tid, const AmfValue& info)
{
    AmfValue name("_error"), t(tid), null(nullptr);
    return send_amf(msg_type::command_amf0, 0, {&name, &t, &null, &info});
}

void Session::send_play_start(NetStream& ns, bool reset)
{
    if (send_control(Control::stream_begin(ns.msid)) != Rc::ok) return;
    if (reset) {
        std::string d = "Playing and resetting " + ns.name + ".";
        if (send_status(ns.msid, Status::play_reset, d) != Rc::ok) return;
    }
    std::string d = "Started playing " + ns.name + ".";
    if (send_status(ns.msid, Status::play_start, d) != Rc::ok) return;
    AmfValue name("|RtmpSampleAccess"), yes(true);
    (void)send_amf(msg_type::data_amf0, ns.msid, {&name, &yes, &yes});
}

// --- life cycle -----------------------------------------------------------------------------

void Session::end_stream(NetStream& ns, bool notify)
{
    if (ns.role == NetStream::Role::idle) return;
    NetStream::Role was = ns.role;
    // What the access log line says at close (streams may be deleted before that).
    if (was == NetStream::Role::publishing || access_role_[0] == '-') {
        access_role_ = was == NetStream::Role::publishing ? "publish" : "play";
    }
    if (access_streams_.size() < 256 && access_streams_.find(ns.name) == std::string::npos) {
        if (!access_streams_.empty()) access_streams_ += ',';
        access_streams_ += ns.name;
    }
    if (hooks_) {
        for (auto& h : hooks_->close_stream) h.fn(h.self, *this, ns);
    }
    uint64_t secs = (loop().now() - ns.started_ms) / 1000;
    if (was == NetStream::Role::publishing) {
        STROM_LOG(info, id(), "unpublish \"%s/%s\" from %s: %llu bytes in %llus", connect_.app.c_str(),
                  ns.name.c_str(), peer(), (unsigned long long)ns.bytes, (unsigned long long)secs);
        if (notify && !conn_->closing()) {
            (void)send_status(ns.msid, Status::unpublish_success, ns.name + " is now unpublished.");
        }
    } else {
        STROM_LOG(info, id(), "play stop \"%s/%s\" to %s: %llu bytes in %llus, %llu frames dropped",
                  connect_.app.c_str(), ns.name.c_str(), peer(), (unsigned long long)ns.bytes,
                  (unsigned long long)secs, (unsigned long long)ns.dropped);
        if (notify && !conn_->closing()) (void)send_status(ns.msid, Status::play_stop);
    }
    ns.role = NetStream::Role::idle;
    ns.control = nullptr;
    ns.paused = false;
    ns.ctx.clear();
}

void Session::on_close(Connection& c, const char* reason)
{
    state_ = State::closing;
    loop().cancel_post(start_ev_);
    loop().cancel_timer(deadline_);
    loop().cancel_timer(ping_timer_);
    for (auto& ns : streams_) end_stream(*ns, false);
    const char* role = access_role_;
    const std::string& names = access_streams_;
    if (hooks_) {
        for (auto& h : hooks_->disconnect) h.fn(h.self, *this);
    }
    uint64_t ms = loop().now() - c.started_ms();
    STROM_LOG(info, id(), "client %s closed: %s", peer(), reason);
    Log::access("%s app=\"%s\" stream=\"%s\" role=%s in=%llu out=%llu time=%llu.%03llus reason=\"%s\"",
                peer(), connect_.app.c_str(), names.c_str(), role, (unsigned long long)c.bytes_in(),
                (unsigned long long)c.bytes_out(), (unsigned long long)(ms / 1000),
                (unsigned long long)(ms % 1000), reason);
    if (observer_) {
        ClientObserver* o = observer_;
        observer_ = nullptr;
        o->on_close(*this, reason);
    }
}

void Session::on_drain(Connection&) {}

}  // namespace strom::rtmp
