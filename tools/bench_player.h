// One connection of the bench: a player of one of the bench's streams, or an idle
// connection (connect only, no stream) for the memory figure. The base holds what every
// kind of player measures: its state, the time to its first keyframe, and every audio and
// video frame checked against its stream's SentLog (lost, duplicated, reordered frames;
// added latency publisher -> player). A subclass speaks one protocol (RtmpBenchPlayer,
// HttpFlvBenchPlayer) and reports frames and state changes here. Owned by the Bench,
// which closes every connection before its players die.
#pragma once

#include <cstdint>

#include "rtmp/codec.h"
#include "tools/client_loop.h"
#include "tools/histogram.h"
#include "tools/sent_log.h"

namespace strom::tools {

// What all players of a bench share.
struct BenchShared {
    Histogram latency_us;    // frames sent after the player started, inside the window
    bool measuring = false;  // the measured window is open
};

class BenchPlayer {
public:
    enum class State : uint8_t { idle, connecting, playing, failed, dropped, closed };

    // log: the SentLog of the player's stream (nullptr: no continuity or latency figures).
    BenchPlayer(BenchShared& shared, const SentLog* log) : shared_(shared), log_(log) {}
    virtual ~BenchPlayer() = default;
    BenchPlayer(const BenchPlayer&) = delete;
    BenchPlayer& operator=(const BenchPlayer&) = delete;

    // Connects to play url.stream; an empty url.stream makes an idle (connect-only)
    // connection. False (state failed, error() says why) when it cannot start.
    virtual bool start(ClientLoop& cl, const Target& t, const RtmpUrl& url) = 0;
    // Closes the connection with the reason "bench done" (the player ends closed).
    virtual void close() = 0;
    virtual uint64_t bytes_in() const = 0;

    State state() const { return state_; }
    bool settled() const { return state_ != State::connecting && state_ != State::idle; }
    const char* error() const { return error_; }
    uint64_t connect_us() const { return connect_us_; }
    uint64_t ready_us() const { return ready_us_; }
    uint64_t first_key_us() const { return first_key_us_; }
    uint64_t lost() const { return lost_; }
    uint64_t duplicated() const { return dup_; }
    uint64_t reordered() const { return reordered_; }
    uint64_t unknown() const { return unknown_; }
    uint64_t frames() const { return frames_; }

protected:
    static constexpr const char* kDone = "bench done";  // our own close reason

    void begin() { connect_us_ = mono_us(); }  // before connecting
    void connecting() { state_ = State::connecting; }
    void start_failed(const char* why);
    void ready();  // the server started playing
    void rejected(const char* why);
    void closed(const char* reason);
    // Frames as they arrive (sequence headers and commands are skipped here).
    void video(const rtmp::VideoInfo& vi, uint32_t ts, uint64_t now);
    void audio(const rtmp::AudioInfo& ai, uint32_t ts, uint64_t now);

private:
    void check(int track, uint32_t ts, uint64_t now);

    BenchShared& shared_;
    const SentLog* log_;
    State state_ = State::idle;
    const char* error_ = "";
    uint64_t connect_us_ = 0;
    uint64_t ready_us_ = 0;
    uint64_t first_key_us_ = 0;
    uint64_t last_seq_[2] = {0, 0};
    uint64_t frames_ = 0;
    uint64_t lost_ = 0;
    uint64_t dup_ = 0;
    uint64_t reordered_ = 0;
    uint64_t unknown_ = 0;
};

}  // namespace strom::tools
