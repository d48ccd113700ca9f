// One publishing connection fed from an FlvFile: connects through the rtmp/ client
// session, then sends the tags paced by their timestamps against the loop clock (or as
// fast as the out-queue takes them), looping if asked. Used by `publish` (one) and by
// `bench` (S of them, each with a SentLog for its players). Owned by its command; the
// command closes every connection (ClientLoop::close_all) before a Publisher dies.
#pragma once

#include <cstdint>
#include <string>

#include "core/timer.h"
#include "rtmp/session.h"
#include "tools/client_loop.h"
#include "tools/flv_file.h"
#include "tools/sent_log.h"

namespace strom::tools {

class Publisher final : public rtmp::ClientObserver {
public:
    enum class State : uint8_t { idle, connecting, publishing, finishing, done, failed };

    struct Options {
        double speed = 1.0;  // 0 = as fast as possible
        bool loop = false;
        uint64_t duration_ms = 0;  // stop after this much wall time publishing (0 = no limit)
        uint64_t timeout_ms = 10000;
        uint32_t chunk_size = 4096;
        SentLog* log = nullptr;  // bench: record every frame sent
    };

    Publisher(ClientLoop& cl, const FlvFile& file, const Target& target, const RtmpUrl& url,
              const Options& o);
    ~Publisher();

    // Starts the connection. False with error() set when no connection could be started.
    bool start();
    // Ends publishing: what is queued is flushed, then the connection closes.
    void stop();

    State state() const { return state_; }
    bool finished() const { return state_ == State::done || state_ == State::failed; }
    const std::string& error() const { return error_; }
    uint64_t frames(int track) const { return frames_[track]; }  // 0 audio, 1 video
    uint64_t bytes() const { return bytes_; }                    // media payload bytes
    uint64_t wire_bytes() const;                                 // bytes written so far
    uint64_t publishing_ms() const;
    uint32_t media_ms() const { return cursor_.position_ms() - first_ts_; }
    uint64_t loops() const { return cursor_.loops(); }
    uint64_t queue_full_waits() const { return waits_; }
    uint64_t ready_ms() const { return ready_ms_; }  // connect start -> Publish.Start

private:
    void on_ready(rtmp::Session& s) override;
    void on_status(rtmp::Session& s, std::string_view level, std::string_view code,
                   std::string_view description) override;
    void on_media(rtmp::Session&, rtmp::Message&) override {}
    void on_close(rtmp::Session& s, const char* reason) override;

    static void on_timer(Timer& t);
    void send_due();
    void finish();
    void fail(std::string why);

    ClientLoop& cl_;
    const FlvFile& file_;
    Target target_;
    RtmpUrl url_;
    Options opt_;
    FlvCursor cursor_;
    rtmp::Session* s_ = nullptr;
    State state_ = State::idle;
    std::string error_;
    Timer timer_;
    uint64_t connect_ms_ = 0;
    uint64_t start_ms_ = 0;  // Publish.Start received
    uint64_t ready_ms_ = 0;
    uint64_t end_ms_ = 0;
    uint32_t first_ts_ = 0;
    bool have_first_ = false;
    uint64_t frames_[2] = {0, 0};
    uint64_t bytes_ = 0;
    uint64_t waits_ = 0;
    uint64_t wire_final_ = 0;
};

}  // namespace strom::tools
