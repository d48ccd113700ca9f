// One connection of the bench: a player of one of the bench's streams, or an idle
// connection (connect only, no stream) for the memory figure. A player checks every
// audio and video frame against its stream's SentLog: continuity (lost, duplicated,
// reordered frames) and added latency publisher -> player. Owned by the Bench, which
// closes every connection before its players die.
#pragma once

#include <cstdint>

#include "rtmp/session.h"
#include "tools/client_loop.h"
#include "tools/histogram.h"
#include "tools/sent_log.h"

namespace strom::tools {

// What all players of a bench share.
struct BenchShared {
    Histogram latency_us;    // frames sent after the player started, inside the window
    bool measuring = false;  // the measured window is open
};

class BenchPlayer final : public rtmp::ClientObserver {
public:
    enum class State : uint8_t { idle, connecting, playing, failed, dropped, closed };

    // log: the SentLog of the player's stream (nullptr: no continuity or latency figures).
    BenchPlayer(BenchShared& shared, const SentLog* log) : shared_(shared), log_(log) {}

    // Connects; an empty url.stream makes an idle (connect-only) connection.
    bool start(ClientLoop& cl, const Target& t, const RtmpUrl& url);
    void close();

    State state() const { return state_; }
    bool settled() const { return state_ != State::connecting && state_ != State::idle; }
    const char* error() const { return error_; }
    uint64_t connect_us() const { return connect_us_; }
    uint64_t ready_us() const { return ready_us_; }
    uint64_t first_key_us() const { return first_key_us_; }
    uint64_t bytes_in() const;
    uint64_t lost() const { return lost_; }
    uint64_t duplicated() const { return dup_; }
    uint64_t reordered() const { return reordered_; }
    uint64_t unknown() const { return unknown_; }
    uint64_t frames() const { return frames_; }

private:
    void on_ready(rtmp::Session& s) override;
    void on_status(rtmp::Session& s, std::string_view level, std::string_view code,
                   std::string_view description) override;
    void on_media(rtmp::Session& s, rtmp::Message& m) override;
    void on_close(rtmp::Session& s, const char* reason) override;
    void check(int track, uint32_t ts, uint64_t now);

    BenchShared& shared_;
    const SentLog* log_;
    rtmp::Session* s_ = nullptr;
    State state_ = State::idle;
    const char* error_ = "";
    uint64_t connect_us_ = 0;
    uint64_t ready_us_ = 0;
    uint64_t first_key_us_ = 0;
    uint64_t bytes_final_ = 0;
    uint64_t last_seq_[2] = {0, 0};
    uint64_t frames_ = 0;
    uint64_t lost_ = 0;
    uint64_t dup_ = 0;
    uint64_t reordered_ = 0;
    uint64_t unknown_ = 0;
};

}  // namespace strom::tools
