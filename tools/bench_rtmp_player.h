// A bench player over RTMP: the server's own rtmp/ client session (handshake, connect,
// createStream, play) with this object as its observer. Play.Start makes it playing;
// an error status before that, failed. The session belongs to its connection; the
// player only points to it until on_close.
#pragma once

#include "rtmp/session.h"
#include "tools/bench_player.h"

namespace strom::tools {

class RtmpBenchPlayer final : public BenchPlayer, public rtmp::ClientObserver {
public:
    using BenchPlayer::BenchPlayer;

    bool start(ClientLoop& cl, const Target& t, const RtmpUrl& url) override;
    void close() override;
    uint64_t bytes_in() const override;

private:
    void on_ready(rtmp::Session& s) override;
    void on_status(rtmp::Session& s, std::string_view level, std::string_view code,
                   std::string_view description) override;
    void on_media(rtmp::Session& s, rtmp::Message& m) override;
    void on_close(rtmp::Session& s, const char* reason) override;

    rtmp::Session* s_ = nullptr;
    uint64_t bytes_final_ = 0;
};

}  // namespace strom::tools
