#include "modules/stats_module.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/connection.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "core/process.h"
#include "http/http_session.h"
#include "modules/live_module.h"
#include "modules/live_stream.h"
#include "rtmp/amf0.h"
#include "rtmp/amf_decode_state.h"
#include "rtmp/codec_info.h"

namespace strom::mod {

StatsModule stats_module;

namespace {

constexpr uint64_t kTickMs = 1000;
constexpr size_t kMaxParsedBytes = 65536;  // a sequence header or onMetaData read for figures

// A small file of /proc read whole (no stdio: a few syscalls a second).
size_t read_proc(const char* path, char* buf, size_t n)
{
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t r = ::read(fd, buf, n - 1);
    ::close(fd);
    if (r < 0) r = 0;
    buf[r] = 0;
    return size_t(r);
}

// utime + stime of this process, in ms (proc(5): fields 14 and 15, after the comm field).
uint64_t cpu_ms()
{
    char buf[1024];
    if (!read_proc("/proc/self/stat", buf, sizeof buf)) return 0;
    const char* p = strrchr(buf, ')');
    if (!p) return 0;
    unsigned long long ut = 0, st = 0;
    // state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) {
        return 0;
    }
    long hz = sysconf(_SC_CLK_TCK);
    return hz > 0 ? (ut + st) * 1000 / uint64_t(hz) : 0;
}

uint64_t rss_bytes()
{
    char buf[256];
    if (!read_proc("/proc/self/statm", buf, sizeof buf)) return 0;
    unsigned long long size = 0, resident = 0;
    if (sscanf(buf, "%llu %llu", &size, &resident) != 2) return 0;
    return resident * uint64_t(sysconf(_SC_PAGESIZE));
}

// The bytes of a message payload chain, up to kMaxParsedBytes.
std::vector<uint8_t> payload_bytes(const Block* b, uint32_t len)
{
    std::vector<uint8_t> out;
    size_t want = len < kMaxParsedBytes ? len : kMaxParsedBytes;
    out.reserve(want);
    for (; b && out.size() < want; b = b->next) {
        const uint8_t* p = b->data() + b->start;
        size_t n = b->size();
        if (n > want - out.size()) n = want - out.size();
        out.insert(out.end(), p, p + n);
    }
    return out;
}

const char* video_profile(const rtmp::VideoConfig& c)
{
    switch (c.codec) {
        case rtmp::VideoCodec::avc:
            return rtmp::avc_profile_name(c.profile, c.constraints);
        case rtmp::VideoCodec::hevc:
            return rtmp::hevc_profile_name(c.profile);
        case rtmp::VideoCodec::av1:
            return rtmp::av1_profile_name(c.profile);
        default:
            return "";
    }
}

StatsModule::PlayerKind player_kind(LivePlayer& p)
{
    Connection& c = p.conn();
    auto* srv = static_cast<const ServerBlock*>(c.server());
    if (!srv) return StatsModule::PlayerKind::relay_push;  // a connection this worker opened
    if (srv->proto && srv->proto->name == "http") {
        auto* h = static_cast<http::HttpSession*>(c.handler());
        return h && h->websocket() ? StatsModule::PlayerKind::ws_flv
                                   : StatsModule::PlayerKind::http_flv;
    }
    auto& rp = static_cast<RtmpPlayer&>(p);
    return rp.s->internal() ? StatsModule::PlayerKind::worker_pull : StatsModule::PlayerKind::rtmp;
}

const char* kind_protocol(StatsModule::PlayerKind k)
{
    switch (k) {
        case StatsModule::PlayerKind::http_flv:
            return "http-flv";
        case StatsModule::PlayerKind::ws_flv:
            return "ws-flv";
        default:
            return "rtmp";
    }
}

uint64_t player_dropped(LivePlayer& p, StatsModule::PlayerKind k)
{
    if (k == StatsModule::PlayerKind::http_flv || k == StatsModule::PlayerKind::ws_flv) {
        return p.dropped;
    }
    return static_cast<RtmpPlayer&>(p).ns->dropped;  // RtmpPlayer counts on its NetStream
}

uint32_t& count_of(StreamFigures& f, StatsModule::PlayerKind k)
{
    switch (k) {
        case StatsModule::PlayerKind::http_flv:
            return f.players_http_flv;
        case StatsModule::PlayerKind::ws_flv:
            return f.players_ws_flv;
        case StatsModule::PlayerKind::worker_pull:
            return f.worker_pulls;
        case StatsModule::PlayerKind::relay_push:
            return f.relay_pushes;
        default:
            return f.players_rtmp;
    }
}

// Connection start (loop ms) as unix ms.
int64_t start_unix_ms(const Connection& c)
{
    return unix_ms() - int64_t(c.loop().now() - c.started_ms());
}

}  // namespace

Rc StatsModule::postconfiguration(Cycle& cycle)
{
    StatsBoard::get();  // mapped in the master, before any worker is forked
    StreamEvents& ev = stream_events(cycle);
    ev.published.push_back(media::Listener<LiveStream&>::bind<&StatsModule::on_published>(this));
    ev.unpublished.push_back(
        media::Listener<LiveStream&>::bind<&StatsModule::on_unpublished>(this));
    ev.frame.push_back(
        media::Listener<LiveStream&, const media::Frame&>::bind<&StatsModule::on_frame>(this));
    ev.player_started.push_back(
        media::Listener<LiveStream&, LivePlayer&>::bind<&StatsModule::on_player_started>(this));
    ev.player_stopped.push_back(
        media::Listener<LiveStream&, LivePlayer&>::bind<&StatsModule::on_player_stopped>(this));
    return Rc::ok;
}

Rc StatsModule::init_process(Cycle&)
{
    WorkerContext* w = current_worker();
    if (!w) return Rc::ok;
    pid_ = getpid();
    worker_ = WorkerFigures{};
    worker_.pid = pid_;
    worker_.generation = w->generation;
    worker_.index = w->index;
    worker_.started_ms = unix_ms();
    worker_slot_ = StatsBoard::get()->claim_worker(pid_);
    if (worker_slot_ < 0) {
        STROM_LOG(warn, 0, "stats: all %zu worker slots are taken, this worker is not listed",
                  StatsBoard::kWorkers);
    }
    last_in_ = last_out_ = 0;
    sample_worker();
    tick_.fn = &StatsModule::on_tick;
    tick_.arg = this;
    w->loop->add_timer(tick_, kTickMs);
    return Rc::ok;
}

void StatsModule::exit_process(Cycle&)
{
    WorkerContext* w = current_worker();
    if (!w) return;
    w->loop->cancel_timer(tick_);
    StatsBoard* b = StatsBoard::get();
    for (auto& [k, c] : clients_) b->release_client(c->slot, pid_);
    for (auto& [k, t] : streams_) b->release_stream(t->slot, pid_);
    clients_.clear();
    streams_.clear();
    sample_worker();  // the final totals are what the retired ones keep
    b->release_worker(worker_slot_, pid_, true);
    worker_slot_ = -1;
}

// --- streams --------------------------------------------------------------------------------

StatsModule::TrackedStream& StatsModule::track(LiveStream& st)
{
    auto it = streams_.find(&st);
    if (it != streams_.end()) return *it->second;
    auto t = std::make_unique<TrackedStream>();
    t->st = &st;
    t->key = st.key();
    t->registry = &st.registry();
    t->f.pid = pid_;
    size_t n = t->key.size() < StreamFigures::kKeyMax ? t->key.size() : StreamFigures::kKeyMax;
    memcpy(t->f.key, t->key.data(), n);
    t->f.key_len = uint16_t(n);
    TrackedStream& ref = *t;
    streams_.emplace(&st, std::move(t));
    return ref;
}

void StatsModule::untrack(LiveStream* st)
{
    auto it = streams_.find(st);
    if (it == streams_.end()) return;
    StatsBoard::get()->release_stream(it->second->slot, pid_);
    streams_.erase(it);
}

void StatsModule::untrack_if_unused(LiveStream& st)
{
    // The stream goes once neither a source nor a player holds it (release_if_unused).
    if (!st.has_publisher() && st.player_count() == 0) untrack(&st);
}

void StatsModule::write_stream(TrackedStream& t)
{
    StatsBoard* b = StatsBoard::get();
    if (t.slot < 0) t.slot = b->claim_stream(pid_);
    if (t.slot >= 0) b->write_stream(t.slot, t.f);
}

void StatsModule::fill_source(TrackedStream& t)
{
    LiveStream& st = *t.st;
    StreamFigures& f = t.f;
    LiveSource* src = st.source();
    f.source = !src                                           ? SourceKind::none
               : src->kind() == LiveSource::Kind::publisher   ? SourceKind::local
               : src->kind() == LiveSource::Kind::worker_pull ? SourceKind::worker_pull
                                                              : SourceKind::relay_pull;
    if (!src) {
        f.publisher_addr[0] = f.publisher_proto[0] = f.encoder[0] = 0;
        f.publisher_id = 0;
        f.started_ms = 0;
        return;
    }
    set_text(f.publisher_addr, f.source == SourceKind::worker_pull ? "" : src->peer());
    set_text(f.publisher_proto, src->protocol());
    f.publisher_id = f.source == SourceKind::local ? src->log_id() : 0;
    RtmpPublisher* rp = src->rtmp_publisher();
    // onMetaData's "encoder" replaces it
    set_text(f.encoder, rp ? rp->s->connect_info().flash_ver.c_str() : "");
    f.started_ms = unix_ms();
    f.bytes_in = 0;
    t.samples = 0;
}

void StatsModule::on_published(LiveStream& st)
{
    if (pid_ == 0) return;  // not a worker: unit tests drive streams without one
    TrackedStream& t = track(st);
    StreamFigures& f = t.f;
    f.video_codec[0] = f.video_profile[0] = f.video_level[0] = 0;
    f.audio_codec[0] = f.audio_profile[0] = 0;
    f.width = f.height = f.fps_milli = f.sample_rate = f.channels = 0;
    fill_source(t);
    write_stream(t);
    if (t.f.source == SourceKind::local) add_publisher_client(t);
}

void StatsModule::add_publisher_client(TrackedStream& t)
{
    RtmpPublisher* rp = t.st->source() ? t.st->source()->rtmp_publisher() : nullptr;
    if (!rp) return;  // a publisher of no connection of ours
    rtmp::Session* s = rp->s;
    auto c = std::make_unique<TrackedClient>();
    c->publisher = s;
    ClientFigures& f = c->f;
    f.pid = pid_;
    f.id = s->id();
    set_text(f.addr, s->peer());
    set_text(f.protocol, "rtmp");
    f.role = ClientRole::publisher;
    set_text(f.flashver, s->connect_info().flash_ver);
    memcpy(f.key, t.f.key, t.f.key_len);
    f.key_len = t.f.key_len;
    f.started_ms = start_unix_ms(s->conn());
    f.bytes_in = s->conn().bytes_in();
    f.bytes_out = s->conn().bytes_out();
    TrackedClient& ref = *c;
    clients_[s] = std::move(c);
    write_client(ref);
}

void StatsModule::on_unpublished(LiveStream& st)
{
    if (pid_ == 0) return;  // not a worker: unit tests drive streams without one
    RtmpPublisher* rp = st.source() ? st.source()->rtmp_publisher() : nullptr;
    if (rtmp::Session* s = rp ? rp->s : nullptr) {
        auto it = clients_.find(s);
        if (it != clients_.end()) {
            StatsBoard::get()->release_client(it->second->slot, pid_);
            clients_.erase(it);
        }
    }
    auto it = streams_.find(&st);
    if (it == streams_.end()) return;
    if (st.player_count() == 0) {
        untrack(&st);
        return;
    }
    TrackedStream& t = *it->second;
    t.f.source = SourceKind::none;
    t.f.publisher_addr[0] = t.f.publisher_proto[0] = t.f.encoder[0] = 0;
    t.f.publisher_id = 0;
    t.f.started_ms = 0;
    t.f.bitrate = 0;
    write_stream(t);
}

void StatsModule::on_frame(LiveStream& st, const media::Frame& fr)
{
    // Per message: this test and nothing else. Sequence headers and metadata are rare.
    bool vseq = fr.type == media::frame_type::video && fr.config;
    bool aseq = fr.type == media::frame_type::audio && fr.config;
    bool meta = fr.type == media::frame_type::data;
    if ((!vseq && !aseq && !meta) || pid_ == 0) return;
    auto it = streams_.find(&st);
    if (it == streams_.end()) return;
    TrackedStream& t = *it->second;
    StreamFigures& f = t.f;
    std::vector<uint8_t> bytes = payload_bytes(fr.payload.get(), fr.len);
    struct {
        rtmp::VideoInfo video;
        rtmp::AudioInfo audio;
    } m;
    if (vseq) m.video = rtmp::parse_video(std::span<const uint8_t>(bytes));
    if (aseq) m.audio = rtmp::parse_audio(std::span<const uint8_t>(bytes));
    if (vseq) {
        rtmp::VideoConfig vc;
        size_t off = m.video.body_offset, n = m.video.body_size;
        if (off + n <= bytes.size()) {
            (void)rtmp::parse_video_config(m.video.codec, std::span(bytes.data() + off, n), &vc);
        }
        set_text(f.video_codec, rtmp::video_codec_name(m.video.codec));
        set_text(f.video_profile, video_profile(vc));
        char lvl[8];
        set_text(f.video_level, vc.level ? rtmp::video_level_str(vc, lvl) : "");
        if (vc.width) f.width = vc.width;
        if (vc.height) f.height = vc.height;
        if (vc.fps_num && vc.fps_den)
            f.fps_milli = uint32_t(uint64_t(vc.fps_num) * 1000 / vc.fps_den);
    } else if (aseq) {
        rtmp::AudioConfig ac;
        size_t off = m.audio.body_offset, n = m.audio.body_size;
        if (off + n <= bytes.size()) {
            (void)rtmp::parse_audio_config(m.audio.codec, std::span(bytes.data() + off, n), &ac);
        }
        set_text(f.audio_codec, rtmp::audio_codec_name(m.audio.codec));
        set_text(f.audio_profile, m.audio.codec == rtmp::AudioCodec::aac
                                      ? rtmp::aac_object_name(ac.object_type)
                                      : "");
        f.sample_rate = ac.sample_rate ? ac.sample_rate : m.audio.rate_hz;
        f.channels = ac.channels ? ac.channels : m.audio.channels;
    } else {
        std::vector<rtmp::AmfValue> vals;
        rtmp::AmfDecodeState ds;
        const char* why = "";
        (void)rtmp::amf0_decode_all(bytes.data(), bytes.size(), &vals, ds, &why);
        for (const rtmp::AmfValue& v : vals) {
            if (!v.is_object()) continue;
            const rtmp::AmfValue* e = v.get("encoder");
            if (e && e->is_string()) set_text(f.encoder, e->str());
            // Declared figures fill what the sequence header did not say.
            const rtmp::AmfValue* w = v.get("width");
            const rtmp::AmfValue* h = v.get("height");
            const rtmp::AmfValue* fr = v.get("framerate");
            if (!fr) fr = v.get("videoframerate");
            if (!f.width && w && w->num() > 0 && w->num() < 1e5) f.width = uint32_t(w->num());
            if (!f.height && h && h->num() > 0 && h->num() < 1e5) f.height = uint32_t(h->num());
            if (!f.fps_milli && fr && fr->num() > 0 && fr->num() < 1e4) {
                f.fps_milli = uint32_t(fr->num() * 1000 + 0.5);
            }
        }
    }
    write_stream(t);
}

// --- clients ----------------------------------------------------------------------------------

void StatsModule::write_client(TrackedClient& c)
{
    StatsBoard* b = StatsBoard::get();
    if (c.slot < 0) c.slot = b->claim_client(pid_);
    if (c.slot >= 0) b->write_client(c.slot, c.f);
}

void StatsModule::on_player_started(LiveStream& st, LivePlayer& p)
{
    if (pid_ == 0) return;  // not a worker: unit tests drive streams without one
    TrackedStream& t = track(st);
    PlayerKind kind = player_kind(p);
    ++count_of(t.f, kind);
    write_stream(t);
    if (kind == PlayerKind::worker_pull || kind == PlayerKind::relay_push) {
        clients_[&p] = std::make_unique<TrackedClient>();  // counted, not listed
        clients_[&p]->kind = kind;
        clients_[&p]->player = &p;
        return;
    }
    auto c = std::make_unique<TrackedClient>();
    c->player = &p;
    c->kind = kind;
    ClientFigures& f = c->f;
    Connection& conn = p.conn();
    f.pid = pid_;
    f.id = p.log_id();
    set_text(f.addr,
             kind == PlayerKind::rtmp ? static_cast<RtmpPlayer&>(p).s->peer() : conn.peer_text());
    set_text(f.protocol, kind_protocol(kind));
    f.role = ClientRole::player;
    set_text(f.flashver,
             kind == PlayerKind::rtmp
                 ? std::string_view(static_cast<RtmpPlayer&>(p).s->connect_info().flash_ver)
                 : std::string_view());
    memcpy(f.key, t.f.key, t.f.key_len);
    f.key_len = t.f.key_len;
    f.started_ms = start_unix_ms(conn);
    f.bytes_in = conn.bytes_in();
    f.bytes_out = conn.bytes_out();
    TrackedClient& ref = *c;
    clients_[&p] = std::move(c);
    write_client(ref);
}

void StatsModule::on_player_stopped(LiveStream& st, LivePlayer& p)
{
    if (pid_ == 0) return;  // not a worker: unit tests drive streams without one
    auto it = clients_.find(&p);
    if (it != clients_.end()) {
        PlayerKind kind = it->second->kind;
        StatsBoard::get()->release_client(it->second->slot, pid_);
        clients_.erase(it);
        auto s = streams_.find(&st);
        if (s != streams_.end()) {
            uint32_t& n = count_of(s->second->f, kind);
            if (n) --n;
            write_stream(*s->second);
        }
    }
    untrack_if_unused(st);
}

// --- once a second ----------------------------------------------------------------------------

void StatsModule::sample_streams()
{
    std::vector<LiveStream*> gone;
    for (auto& [st, t] : streams_) {
        // A stream the live module no longer has (released without an event we saw).
        if (t->registry->find(t->key) != st) {
            gone.push_back(st);
            continue;
        }
        LiveSource* s = st->source();
        if (s) {
            RtmpPublisher* rp = s->rtmp_publisher();
            t->f.bytes_in = rp ? rp->ns->bytes : st->bytes_in();
        }
        // bitrate over the last kRateWindow samples
        if (t->samples == kRateWindow + 1) {
            memmove(t->hist, t->hist + 1, sizeof(uint64_t) * kRateWindow);
            --t->samples;
        }
        t->hist[t->samples++] = t->f.bytes_in;
        int span = t->samples - 1;
        t->f.bitrate = span > 0 && s ? (t->hist[span] - t->hist[0]) * 8 / uint64_t(span) : 0;
        t->f.dropped = 0;
    }
    for (LiveStream* st : gone) untrack(st);
}

void StatsModule::sample_clients()
{
    for (auto& [k, c] : clients_) {
        if (c->player) {
            LivePlayer& p = *c->player;
            auto s = streams_.find(p.stream);
            uint64_t dropped = player_dropped(p, c->kind);
            if (s != streams_.end() && c->kind != PlayerKind::worker_pull &&
                c->kind != PlayerKind::relay_push) {
                s->second->f.dropped += dropped;
            }
            if (c->kind == PlayerKind::worker_pull || c->kind == PlayerKind::relay_push) continue;
            c->f.dropped = dropped;
            c->f.bytes_in = p.conn().bytes_in();
            c->f.bytes_out = p.conn().bytes_out();
        } else {
            auto* s = static_cast<rtmp::Session*>(c->publisher);
            c->f.bytes_in = s->conn().bytes_in();
            c->f.bytes_out = s->conn().bytes_out();
        }
        write_client(*c);
    }
}

void StatsModule::sample_worker()
{
    WorkerContext* w = current_worker();
    if (!w) return;
    WorkerFigures& f = worker_;
    f.draining = w->draining;
    f.conns_rtmp = f.conns_http = f.conns_internal = f.conns_outgoing = 0;
    uint64_t in = w->conns->closed_bytes_in(), out = w->conns->closed_bytes_out();
    w->conns->for_each([&](Connection& c) {
        in += c.bytes_in();
        out += c.bytes_out();
        auto* srv = static_cast<const ServerBlock*>(c.server());
        if (!srv) {
            ++f.conns_outgoing;
        } else if (srv->proto && srv->proto->name == "http") {
            ++f.conns_http;
        } else if (c.handler() && static_cast<rtmp::Session*>(c.handler())->internal()) {
            ++f.conns_internal;
        } else {
            ++f.conns_rtmp;
        }
    });
    f.rate_in = in >= last_in_ ? (in - last_in_) * 1000 / kTickMs : 0;
    f.rate_out = out >= last_out_ ? (out - last_out_) * 1000 / kTickMs : 0;
    if (last_in_ == 0 && last_out_ == 0) f.rate_in = f.rate_out = 0;
    last_in_ = in;
    last_out_ = out;
    f.bytes_in = in;
    f.bytes_out = out;
    f.cpu_ms = cpu_ms();
    f.rss_bytes = rss_bytes();
    f.updated_ms = unix_ms();
    f.streams_left_out = f.clients_left_out = 0;
    for (auto& [k, t] : streams_) f.streams_left_out += t->slot < 0;
    for (auto& [k, c] : clients_) {
        bool listed = c->kind != PlayerKind::worker_pull && c->kind != PlayerKind::relay_push;
        f.clients_left_out += listed && c->slot < 0;
    }
    if (worker_slot_ >= 0) StatsBoard::get()->write_worker(worker_slot_, f);
}

void StatsModule::on_tick(Timer& t)
{
    auto* m = static_cast<StatsModule*>(t.arg);
    m->sample_streams();
    m->sample_clients();
    for (auto& [st, ts] : m->streams_) m->write_stream(*ts);
    m->sample_worker();
    if (WorkerContext* w = current_worker()) w->loop->add_timer(t, kTickMs);
}

}  // namespace strom::mod
