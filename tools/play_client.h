// One playing connection for `play` and `probe`: connects through the rtmp/ client
// session, reports a clear error for every way that can fail (refused, timed out,
// StreamNotFound and other error statuses, connection lost), and hands every received
// audio/video/data message to a MediaHandler with its arrival time. Owned by its
// command, which closes the connections (ClientLoop::close_all) before it dies.
#pragma once

#include <cstdint>
#include <string>

#include "core/timer.h"
#include "rtmp/session.h"
#include "tools/client_loop.h"

namespace strom::tools {

class MediaHandler {
public:
    virtual void on_media(rtmp::Message& m, uint64_t now_us) = 0;

protected:
    ~MediaHandler() = default;
};

class PlayClient final : public rtmp::ClientObserver {
public:
    enum class State : uint8_t { idle, connecting, playing, done, failed };

    PlayClient(ClientLoop& cl, const Target& target, const RtmpUrl& url, uint64_t timeout_ms,
               MediaHandler* handler);
    ~PlayClient();

    bool start();
    // Closes the connection; state() becomes done (not failed).
    void stop();

    State state() const { return state_; }
    bool finished() const { return state_ == State::done || state_ == State::failed; }
    const std::string& error() const { return error_; }
    uint64_t connect_start_us() const { return connect_us_; }
    uint64_t ready_us() const { return ready_us_; }  // Play.Start received
    uint64_t bytes_in() const;
    uint64_t last_media_ms() const { return last_media_ms_; }
    // Set when the server said the stream ended (Play.Stop, UnpublishNotify, Play.Complete).
    bool stream_ended() const { return ended_; }

private:
    void on_ready(rtmp::Session& s) override;
    void on_status(rtmp::Session& s, std::string_view level, std::string_view code,
                   std::string_view description) override;
    void on_media(rtmp::Session& s, rtmp::Message& m) override;
    void on_close(rtmp::Session& s, const char* reason) override;
    static void on_timeout(Timer& t);
    void fail(std::string why);

    ClientLoop& cl_;
    Target target_;
    RtmpUrl url_;
    uint64_t timeout_ms_;
    MediaHandler* handler_;
    rtmp::Session* s_ = nullptr;
    State state_ = State::idle;
    std::string error_;
    Timer timer_;
    uint64_t connect_us_ = 0;
    uint64_t ready_us_ = 0;
    uint64_t last_media_ms_ = 0;
    uint64_t bytes_final_ = 0;
    bool ended_ = false;
};

}  // namespace strom::tools
