#include "tools/bench_player.h"

#include "rtmp/codec.h"

namespace strom::tools {

bool BenchPlayer::start(ClientLoop& cl, const Target& t, const RtmpUrl& url)
{
    connect_us_ = mono_us();
    // Not ClientLoop::connect: a player keeps a static reason, not a string of its own.
    const char* err = nullptr;
    s_ = rtmp::Session::connect_to(cl.table(), t.sa(), t.len, client_params(url, false), this, &err);
    if (!s_) {
        state_ = State::failed;
        error_ = err ? err : "connect failed";
        return false;
    }
    state_ = State::connecting;
    return true;
}

void BenchPlayer::close()
{
    if (s_) s_->close("bench done");
}

uint64_t BenchPlayer::bytes_in() const
{
    return s_ ? s_->conn().bytes_in() : bytes_final_;
}

void BenchPlayer::on_ready(rtmp::Session&)
{
    state_ = State::playing;
    ready_us_ = mono_us();
}

void BenchPlayer::on_status(rtmp::Session& s, std::string_view level, std::string_view,
                            std::string_view)
{
    if (level != "error" || state_ != State::connecting) return;
    state_ = State::failed;
    error_ = "rejected";
    s.close("rejected");
}

void BenchPlayer::on_close(rtmp::Session& s, const char* reason)
{
    bytes_final_ = s.conn().bytes_in();
    s_ = nullptr;
    if (state_ == State::connecting) {
        state_ = State::failed;
        error_ = reason;
    } else if (state_ == State::playing) {
        // Closed by the server (or the network) while playing, not by us.
        state_ = std::string_view(reason) == "bench done" ? State::closed : State::dropped;
        error_ = reason;
    }
}

void BenchPlayer::on_media(rtmp::Session&, rtmp::Message& m)
{
    uint64_t now = mono_us();
    if (m.type == rtmp::msg_type::video) {
        rtmp::VideoInfo vi = rtmp::parse_video(m.payload.get());
        if (vi.sequence_header || vi.command || vi.metadata || vi.sequence_end) return;
        if (vi.keyframe && !first_key_us_) first_key_us_ = now;
        if (!first_key_us_) return;  // frames before the first keyframe are undecodable
        check(1, m.timestamp, now);
    } else if (m.type == rtmp::msg_type::audio) {
        rtmp::AudioInfo ai = rtmp::parse_audio(m.payload.get());
        if (ai.sequence_header || ai.multichannel_config) return;
        check(0, m.timestamp, now);
    }
}

void BenchPlayer::check(int track, uint32_t ts, uint64_t now)
{
    ++frames_;
    if (!log_) return;
    const SentLog::Entry* e = log_->find(track, ts);
    if (!e) {
        ++unknown_;
        return;
    }
    uint64_t last = last_seq_[track];
    if (last != 0) {
        if (e->seq == last) {
            ++dup_;
            return;
        }
        if (e->seq < last) {
            ++reordered_;
            return;
        }
        lost_ += e->seq - last - 1;
    }
    last_seq_[track] = e->seq;
    // Frames sent before this player started (the GOP cache's burst) measure the cache's
    // age, not the server's added latency.
    if (shared_.measuring && e->sent_us >= ready_us_ && now >= e->sent_us) {
        shared_.latency_us.record(now - e->sent_us);
    }
}

}  // namespace strom::tools
