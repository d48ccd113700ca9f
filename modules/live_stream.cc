#include "modules/live_stream.h"

#include "core/log.h"
#include "modules/live_pull.h"
#include "modules/live_push.h"
#include "rtmp/chunk_writer.h"
#include "rtmp/message.h"

namespace strom::mod {

using rtmp::NetStream;
using rtmp::Session;
using rtmp::Status;
namespace msg_type = rtmp::msg_type;

namespace {
constexpr uint32_t kCsidData = 5;
constexpr uint32_t kCsidAudio = 6;
constexpr uint32_t kCsidVideo = 7;
constexpr uint8_t kTagMedia = 1;
constexpr uint64_t kRelayAgainMs = 1000;  // after a relayed stream ended (then relay_backoff_)
}  // namespace

LiveStream::LiveStream(StreamRegistry& r, std::string key, const LiveConf& conf, uint32_t chunk_size)
    : registry_(r), key_(std::move(key)), conf_(&conf), chunk_size_(chunk_size)
{
    idle_timer_.fn = &LiveStream::on_idle_check;
    idle_timer_.arg = this;
    lookup_timer_.fn = &LiveStream::on_lookup;
    lookup_timer_.arg = this;
    size_t slash = key_.find('/');
    app_ = key_.substr(0, slash);
    name_ = slash == std::string::npos ? std::string() : key_.substr(slash + 1);
}

LiveStream::~LiveStream()
{
    if (loop_) {
        loop_->cancel_timer(idle_timer_);
        loop_->cancel_timer(lookup_timer_);
    }
    if (pull_) {
        LivePull* p = pull_;
        pull_ = nullptr;
        p->stop();
    }
    stop_pushes();
}

void LiveStream::arm_lookup(EventLoop& loop)
{
    loop_ = &loop;
    if (!lookup_timer_.armed()) loop.add_timer(lookup_timer_, 1000);
}

void LiveStream::on_lookup(Timer& t)
{
    auto* st = static_cast<LiveStream*>(t.arg);
    if (st->source_ || st->pull_ || st->live_players_ == 0) return;
    st->registry_.try_pull(*st, *st->loop_);
    if (!st->source_ && !st->pull_ && st->relay_ && st->loop_->now() >= st->relay_retry_at_) {
        st->pull_relay_again();
    }
    if (!st->source_ && !st->pull_) st->loop_->add_timer(t, 1000);
}

void LiveStream::set_relay(const RelayTarget& t, EventLoop& loop)
{
    relay_ = std::make_unique<RelayTarget>(t);
    relay_ran_ = false;
    relay_failing_ = false;
    relay_backoff_.reset();
    loop_ = &loop;
}

void LiveStream::pull_relay_again()
{
    // The first attempt after the stream ran is logged; attempts that follow a failure,
    // while the origin stays down, only at debug.
    LogLevel lvl = relay_failing_ ? LogLevel::debug : LogLevel::info;
    const char* err = "";
    LivePull* p = LivePull::start_remote(*this, *relay_, &err);
    if (!p) {
        if (Log::enabled(lvl)) {
            Log::write(lvl, 0, "relay pull of \"%s\" from %s failed again: %s", key_.c_str(), relay_->url().c_str(), err);
        }
        relay_failing_ = true;
        relay_retry_at_ = loop_->now() + relay_backoff_.next();
        return;
    }
    if (Log::enabled(lvl)) {
        Log::write(lvl, 0, "relay pull of \"%s\" from %s: pulling again for %zu waiting players", key_.c_str(),
                   relay_->url().c_str(), live_players_);
    }
    if (relay_failing_) p->set_quiet();
    set_pull(p);
}

bool LiveStream::pull_closed(LivePull* p)
{
    if (pull_ != p) return false;
    pull_ = nullptr;
    if (p->remote() && p->fed()) {
        relay_ran_ = true;
        relay_failing_ = false;
        relay_backoff_.reset();
    }
    bool failed_first = p->remote() && !p->fed() && !relay_ran_;
    if (source_ && source_ == static_cast<LiveSource*>(p)) detach_source();
    if (failed_first) {
        // Another server never gave the stream (refused, unreachable, or accepted and
        // then refused): its players would wait for nothing. They are not told where it
        // was (an edge may hide its origin); the log line of the pull names it.
        fail_players("Relay failed.");
        relay_.reset();
    }
    if (p->remote() && relay_ && loop_) {
        if (!p->fed()) relay_failing_ = true;
        relay_retry_at_ = loop_->now() + (p->fed() ? kRelayAgainMs : relay_backoff_.next());
    }
    if (live_players_ > 0 && loop_) arm_lookup(*loop_);
    return true;
}

void LiveStream::fail_players(const std::string& why)
{
    each_player([&](LivePlayer& p) { p.fail(why); });
}

void LiveStream::push_closed(LivePush* p)
{
    for (size_t i = 0; i < pushes_.size(); ++i) {
        if (pushes_[i] == p) {
            pushes_.erase(pushes_.begin() + long(i));
            return;
        }
    }
}

void LiveStream::stop_pushes()
{
    // A stop closes the push's session at once, and its on_close calls push_closed:
    // walk a copy.
    std::vector<LivePush*> pushes;
    pushes.swap(pushes_);
    for (LivePush* p : pushes) p->stop();
}

template <class F> void LiveStream::each_player(F&& f)
{
    ++walking_;
    for (size_t i = 0; i < players_.size(); ++i) {
        if (LivePlayer* p = players_[i]) f(*p);
    }
    if (--walking_ == 0) {
        size_t j = 0;
        for (LivePlayer* p : players_) {
            if (p) players_[j++] = p;
        }
        players_.resize(j);
    }
}

// --- source -----------------------------------------------------------------------------------

void LiveStream::attach_source(LiveSource& src)
{
    source_ = &src;
    src.stream = this;
    loop_ = &src.loop();
    loop_->cancel_timer(lookup_timer_);
    // A local publisher replaces the relay, also when it leaves.
    if (src.kind() == LiveSource::Kind::publisher) relay_.reset();
    // A new publisher (a reconnecting encoder, a takeover) continues the timeline that
    // attached players already have: its first timestamp is mapped just past ours.
    rebase_pending_ = any_out_;
    meta_ = LiveMsg();
    seqs_.clear();
    gop_.clear();
    gop_bytes_ = 0;
    last_media_ms_ = loop_->now();
    each_player([&](LivePlayer& p) {
        p.waiting_key = *conf_->wait_key;
        p.sent_video_seq = p.sent_audio_seq = false;
        p.publisher_started(*this);   // the last use of p: a send may close and free it
    });
    if (*conf_->drop_idle_publisher) loop_->add_timer(idle_timer_, *conf_->drop_idle_publisher);
    if (conf_->events) {
        for (const auto& l : conf_->events->published) l(*this);
    }
}

void LiveStream::detach_source()
{
    if (source_ && conf_->events) {
        for (const auto& l : conf_->events->unpublished) l(*this);
    }
    stop_pushes();
    if (source_ && idle_timer_.armed()) loop_->cancel_timer(idle_timer_);
    if (source_) source_->stream = nullptr;
    source_ = nullptr;
    each_player([&](LivePlayer& p) { p.publisher_ended(*this); });
    meta_ = LiveMsg();
    seqs_.clear();
    gop_.clear();
    gop_bytes_ = 0;
}

void LiveStream::on_idle_check(Timer& t)
{
    auto* st = static_cast<LiveStream*>(t.arg);
    if (!st->source_) return;
    uint64_t now = st->loop_->now();
    uint64_t limit = *st->conf_->drop_idle_publisher;
    if (now - st->last_media_ms_ >= limit) {
        STROM_LOG(info, st->source_->log_id(), "publisher of \"%s\" idle for %llums, dropping it",
                  st->key_.c_str(), (unsigned long long)(now - st->last_media_ms_));
        st->source_->drop("idle publisher");  // may free st
        return;
    }
    st->loop_->add_timer(t, limit - (now - st->last_media_ms_));
}

// --- players ----------------------------------------------------------------------------------

void LiveStream::add_player(LivePlayer* p)
{
    p->stream = this;
    if (!loop_) loop_ = &p->conn().loop();
    p->waiting_key = *conf_->wait_key;
    players_.push_back(p);
    ++live_players_;
    if (conf_->events) {
        for (const auto& l : conf_->events->player_started) l(*this, *p);
    }
    if (source_) send_cached_start(*p);
}

void LiveStream::remove_player(LivePlayer* p)
{
    registry_.merge_flusher().cancel(*p);
    for (size_t i = 0; i < players_.size(); ++i) {
        if (players_[i] != p) continue;
        --live_players_;
        if (conf_->events) {
            for (const auto& l : conf_->events->player_stopped) l(*this, *p);
        }
        if (walking_) {
            players_[i] = nullptr;   // the walk compacts when it ends
        } else {
            players_[i] = players_.back();
            players_.pop_back();
        }
        break;
    }
    if (live_players_ == 0 && pull_) drop_pull();
}

void LiveStream::drop_pull()
{
    LivePull* pull = pull_;
    if (!pull) return;
    pull_ = nullptr;
    if (source_ && source_ == static_cast<LiveSource*>(pull)) detach_source();
    pull->stop();   // its on_close finds pull_ cleared
}

void LiveStream::send_cached_start(LivePlayer& p)
{
    // Metadata first at timestamp 0 (ffmpeg's FLV demuxer takes an onMetaData at any other
    // time for a data track, as nginx-rtmp's and SRS's joiners never show it), then the
    // sequence headers stamped with the GOP's first timestamp so the player's timeline
    // starts where its first frame is; then the GOP from its keyframe.
    uint32_t ts = gop_.empty() ? last_out_ts_ : gop_.front().ts;
    auto send_at_ts = [&](const LiveMsg& m) {
        if (m.ts == ts) return enqueue(p, const_cast<LiveMsg&>(m), false);
        LiveMsg copy;
        copy.type = m.type;
        copy.seq = m.seq;
        copy.config = m.config;
        copy.track = m.track;
        copy.slot = m.slot;
        copy.ts = ts;
        copy.len = m.len;
        copy.payload = m.payload;
        return enqueue(p, copy, false);
    };
    if ((meta_.payload || meta_.len) && !enqueue(p, meta_, false)) return;
    for (const LiveMsg& m : seqs_) {
        if (!send_at_ts(m)) return;
        (m.type == msg_type::video ? p.sent_video_seq : p.sent_audio_seq) = true;
    }
    for (LiveMsg& m : gop_) {
        if (m.type == msg_type::video && m.key) p.waiting_key = false;
        if (m.type == msg_type::video && p.waiting_key) continue;
        if (!enqueue(p, m, false)) break;
    }
}

void LiveStream::flush(LivePlayer& p)
{
    uint64_t merge = *conf_->send_merge;
    if (merge == 0) {
        p.conn().flush_soon();
    } else {
        registry_.merge_flusher().later(p, merge, p.conn().loop());
    }
}

// --- media ------------------------------------------------------------------------------------

uint32_t LiveStream::rebase(uint32_t ts)
{
    if (rebase_pending_) {
        ts_offset_ = last_out_ts_ + 1 - ts;
        rebase_pending_ = false;
    }
    uint32_t out = ts + ts_offset_;
    if (!any_out_ || int32_t(out - last_out_ts_) > 0) last_out_ts_ = out;
    any_out_ = true;
    return out;
}

void LiveStream::on_frame(const LiveMsg& in)
{
    if (!source_) return;
    last_media_ms_ = loop_->now();
    ++frames_in_;
    bytes_in_ += in.len;
    if (live()) {
        // The stream's own copy: player timestamps, framings made on first use.
        LiveMsg lm;
        lm.type = in.type;
        lm.key = in.key;
        lm.seq = in.seq;
        lm.config = in.config;
        lm.track = in.track;
        // Metadata is stamped 0 for every player (see send_cached_start), and does not set
        // the timeline of a new publisher: its first audio or video message does.
        lm.ts = in.type == media::frame_type::data ? 0 : rebase(in.ts);
        lm.len = in.len;
        lm.payload = in.payload;
        deliver(lm);
        cache(lm);
    }
    if (conf_->events) {
        for (const auto& l : conf_->events->frame) l(*this, in);
    }
}

void LiveStream::tracks(bool* audio, bool* video) const
{
    *audio = *video = false;
    for (const LiveMsg& m : seqs_) {
        if (m.type == msg_type::audio) *audio = true;
        if (m.type == msg_type::video) *video = true;
    }
    if (!*audio && !*video) *audio = *video = true;
}

bool LiveStream::frame_rtmp(LiveMsg& lm, uint32_t msid, uint32_t chunk_size, BufRef* out, size_t* size)
{
    uint32_t csid = lm.type == msg_type::video ? kCsidVideo
                  : lm.type == msg_type::audio ? (*conf_->interleave ? kCsidVideo : kCsidAudio)
                                               : kCsidData;
    rtmp::MsgHeader h{csid, lm.type, msid, lm.ts};
    BufPool& pool = loop_->pool();
    *size = rtmp::framed_size(chunk_size, csid, lm.ts, lm.len);
    return rtmp::frame_message(pool, chunk_size, h, lm.payload.get(), 0, lm.len, out) == Rc::ok;
}

void LiveStream::deliver(LiveMsg& lm)
{
    each_player([&](LivePlayer& p) {
        if (!p.wants(lm.type)) return;
        if (lm.type == msg_type::audio) {
            if (*conf_->wait_video && !p.got_media) return;
        } else if (lm.type == msg_type::video) {
            if (!lm.seq && p.waiting_key) {
                if (!lm.key) return;
                p.waiting_key = false;
            }
            if (!lm.seq) p.got_media = true;
        }
        bool droppable = lm.type == msg_type::video && !lm.key && !lm.seq;
        enqueue(p, lm, droppable);
    });
}

bool LiveStream::enqueue(LivePlayer& p, LiveMsg& lm, bool droppable)
{
    Connection& c = p.conn();
    if (c.closing()) return false;
    OutQueue& q = c.out();
    bool late = q.count() >= q.capacity() * 3 / 4 || q.bytes() >= q.max_bytes() * 3 / 4;
    BufRef ref;
    size_t size = 0;
    if (!(droppable && late)) {
        if (!p.frame(*this, lm, &ref, &size)) return false;
        if (c.send(std::move(ref), size, kTagMedia)) {
            p.stalled_since = 0;
            p.count_sent(lm.len);
            flush(p);
            return true;
        }
    }
    // Behind: lose frames up to the next keyframe; audio and sequence headers are kept
    // while there is room. A player that makes no write progress for play_timeout goes.
    p.count_dropped();
    if (lm.type == msg_type::video) p.waiting_key = true;
    uint64_t now = c.loop().now();
    if (p.stalled_since == 0) p.stalled_since = now;
    if (*conf_->play_timeout && now - c.last_write_ms() >= *conf_->play_timeout &&
        now - p.stalled_since >= *conf_->play_timeout) {
        STROM_LOG(info, p.log_id(), "player of \"%s\" stalled for %llums, closing", key_.c_str(),
                  (unsigned long long)(now - c.last_write_ms()));
        c.close("player too slow");
    }
    return false;
}

bool LiveStream::cache(LiveMsg& lm)
{
    if (lm.type == media::frame_type::data) {
        meta_ = lm;
        return true;
    }
    if (lm.seq) {
        // One slot per (type, track, header kind): a new header replaces the old one. Video
        // metadata (HDR) has a slot of its own beside the configuration.
        bool side = lm.type == msg_type::video && !lm.config;
        lm.slot = uint16_t(lm.type << 9 | (side ? 0x100 : 0) | lm.track);
        for (LiveMsg& old : seqs_) {
            if (old.slot == lm.slot) {
                old = lm;
                return true;
            }
        }
        if (seqs_.size() < kMaxSeqs) seqs_.push_back(lm);
        return true;
    }
    if (!*conf_->gop_cache) return false;
    if (lm.key) {
        gop_.clear();   // keeps its capacity: no allocation per GOP in steady state
        gop_bytes_ = 0;
        gop_overflow_ = false;
    } else if (gop_.empty() || gop_overflow_) {
        return false;   // no keyframe yet: nothing a joiner could start on
    }
    if (gop_.size() >= *conf_->gop_cache_max_frames || gop_bytes_ + lm.len > *conf_->gop_cache_max_bytes) {
        gop_.clear();
        gop_bytes_ = 0;
        gop_overflow_ = true;
        return false;
    }
    gop_.push_back(lm);
    gop_bytes_ += lm.len;
    return true;
}

}  // namespace strom::mod

namespace strom::mod {

// --- the RTMP publisher ------------------------------------------------------------------------

void RtmpPublisher::drop(const char* reason)
{
    // Ending the publish runs the close_stream hooks, which free this object.
    Session& ss = *s;
    NetStream& n = *ns;
    ss.end_stream(n, true);
    ss.conn().close_after_flush(reason);
}

// --- the RTMP player ---------------------------------------------------------------------------

bool RtmpPlayer::wants(uint8_t type) const
{
    if (ns->paused) return false;
    if (type == msg_type::audio) return ns->receive_audio;
    if (type == msg_type::video) return ns->receive_video;
    return true;
}

bool RtmpPlayer::frame(LiveStream& st, LiveMsg& m, BufRef* out, size_t* size)
{
    if (ns->msid == 1 && s->out_chunk_size() == st.chunk_size()) {
        if (!m.rtmp) {
            size_t n = 0;
            if (!st.frame_rtmp(m, 1, st.chunk_size(), &m.rtmp, &n)) return false;
            m.rtmp_size = uint32_t(n);
        }
        *out = m.rtmp;
        *size = m.rtmp_size;
        return true;
    }
    return st.frame_rtmp(m, ns->msid, s->out_chunk_size(), out, size);
}

void RtmpPlayer::publisher_started(LiveStream& st)
{
    if (*st.conf().play_restart) {
        s->send_play_start(*ns, true);
    } else if (*st.conf().publish_notify) {
        (void)s->send_status(ns->msid, Status::play_publish_notify, st.name() + " is now published.");
    }
}

void RtmpPlayer::publisher_ended(LiveStream& st)
{
    // A send that finds the out-queue full closes the session, which frees this player:
    // only the session (destroyed at the end of the iteration) is used after a send.
    Session& ss = *s;
    uint32_t msid = ns->msid;
    if (ss.internal()) {
        // Another worker pulls through this session: it ends, so that worker looks for the
        // stream's next publisher itself.
        ss.conn().close_after_flush("source unpublished");
        return;
    }
    if (*st.conf().play_restart) {
        (void)ss.send_status(msid, Status::play_stop);
    } else if (*st.conf().publish_notify) {
        (void)ss.send_status(msid, Status::play_unpublish_notify, st.name() + " is now unpublished.");
    }
    if (ss.conn().closing()) return;
    (void)ss.send_control(rtmp::Control::stream_eof(msid));
    if (!ss.conn().closing()) ss.conn().flush_soon();
}

void RtmpPlayer::fail(const std::string& why)
{
    Session& ss = *s;   // this player dies if the send closes the session
    (void)ss.send_status(ns->msid, Status::play_stream_not_found, why);
    ss.conn().close_after_flush("relay failed");
}

}  // namespace strom::mod
