#include "tools/bench_player.h"

#include <string_view>

namespace strom::tools {

void BenchPlayer::start_failed(const char* why)
{
    state_ = State::failed;
    error_ = why ? why : "connect failed";
}

void BenchPlayer::ready()
{
    state_ = State::playing;
    ready_us_ = mono_us();
}

void BenchPlayer::rejected(const char* why)
{
    if (state_ != State::connecting) return;
    state_ = State::failed;
    error_ = why;
}

void BenchPlayer::closed(const char* reason)
{
    if (state_ == State::connecting) {
        state_ = State::failed;
        error_ = reason;
    } else if (state_ == State::playing) {
        // Closed by the server (or the network) while playing, not by us.
        state_ = std::string_view(reason) == kDone ? State::closed : State::dropped;
        error_ = reason;
    }
}

void BenchPlayer::video(const rtmp::VideoInfo& vi, uint32_t ts, uint64_t now)
{
    if (vi.sequence_header || vi.command || vi.metadata || vi.sequence_end) return;
    if (vi.keyframe && !first_key_us_) first_key_us_ = now;
    if (!first_key_us_) return;  // frames before the first keyframe are undecodable
    check(1, ts, now);
}

void BenchPlayer::audio(const rtmp::AudioInfo& ai, uint32_t ts, uint64_t now)
{
    if (ai.sequence_header || ai.multichannel_config) return;
    check(0, ts, now);
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
