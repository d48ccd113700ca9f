#include "tools/bench_rtmp_player.h"

namespace strom::tools {

bool RtmpBenchPlayer::start(ClientLoop& cl, const Target& t, const RtmpUrl& url)
{
    begin();
    // Not ClientLoop::connect: a player keeps a static reason, not a string of its own.
    const char* err = nullptr;
    s_ =
        rtmp::Session::connect_to(cl.table(), t.sa(), t.len, client_params(url, false), this, &err);
    if (!s_) {
        start_failed(err);
        return false;
    }
    connecting();
    return true;
}

void RtmpBenchPlayer::close()
{
    if (s_) s_->close(kDone);
}

uint64_t RtmpBenchPlayer::bytes_in() const
{
    return s_ ? s_->conn().bytes_in() : bytes_final_;
}

void RtmpBenchPlayer::on_ready(rtmp::Session&)
{
    ready();
}

void RtmpBenchPlayer::on_status(rtmp::Session& s, std::string_view level, std::string_view,
                                std::string_view)
{
    if (level != "error" || state() != State::connecting) return;
    rejected("rejected");
    s.close("rejected");
}

void RtmpBenchPlayer::on_close(rtmp::Session& s, const char* reason)
{
    bytes_final_ = s.conn().bytes_in();
    s_ = nullptr;
    closed(reason);
}

void RtmpBenchPlayer::on_media(rtmp::Session&, rtmp::Message& m)
{
    uint64_t now = mono_us();
    if (m.type == rtmp::msg_type::video) {
        video(rtmp::parse_video(m.payload.get()), m.timestamp, now);
    } else if (m.type == rtmp::msg_type::audio) {
        audio(rtmp::parse_audio(m.payload.get()), m.timestamp, now);
    }
}

}  // namespace strom::tools
