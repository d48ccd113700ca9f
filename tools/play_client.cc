#include "tools/play_client.h"

#include "core/log.h"

namespace strom::tools {

PlayClient::PlayClient(ClientLoop& cl, const Target& target, const RtmpUrl& url,
                       uint64_t timeout_ms, MediaHandler* handler)
    : cl_(cl), target_(target), url_(url), timeout_ms_(timeout_ms), handler_(handler)
{
    timer_.fn = &PlayClient::on_timeout;
    timer_.arg = this;
}

PlayClient::~PlayClient()
{
    cl_.loop().cancel_timer(timer_);
}

bool PlayClient::start()
{
    connect_us_ = mono_us();
    s_ = cl_.connect(target_, client_params(url_, false), this, &error_);
    if (!s_) {
        state_ = State::failed;
        return false;
    }
    state_ = State::connecting;
    cl_.loop().add_timer(timer_, timeout_ms_);
    return true;
}

void PlayClient::fail(std::string why)
{
    if (state_ == State::failed || state_ == State::done) return;
    state_ = State::failed;
    error_ = std::move(why);
    cl_.loop().cancel_timer(timer_);
    if (s_) s_->close("client failed");
}

void PlayClient::stop()
{
    if (finished()) return;
    state_ = State::done;
    cl_.loop().cancel_timer(timer_);
    if (s_) s_->close("stopped by the client");
}

void PlayClient::on_timeout(Timer& t)
{
    auto* p = static_cast<PlayClient*>(t.arg);
    if (p->state_ == State::connecting) {
        p->fail("timed out after " + format_secs(p->timeout_ms_) +
                " waiting for the server to start playing");
    }
}

void PlayClient::on_ready(rtmp::Session&)
{
    if (state_ != State::connecting) return;
    state_ = State::playing;
    ready_us_ = mono_us();
    cl_.loop().cancel_timer(timer_);
}

void PlayClient::on_status(rtmp::Session& s, std::string_view level, std::string_view code,
                           std::string_view description)
{
    STROM_LOG(debug, s.id(), "status %.*s %.*s", int(level.size()), level.data(), int(code.size()),
              code.data());
    if (code == "NetStream.Play.Stop" || code == "NetStream.Play.UnpublishNotify" ||
        code == "NetStream.Play.Complete") {
        ended_ = true;
        return;
    }
    if (level != "error") return;
    std::string what =
        state_ == State::connecting ? "play rejected by the server: " : "server error: ";
    what += std::string(code);
    if (!description.empty()) what += " (" + std::string(description) + ")";
    fail(what);
}

void PlayClient::on_media(rtmp::Session&, rtmp::Message& m)
{
    if (state_ != State::playing && state_ != State::connecting) return;
    last_media_ms_ = cl_.loop().now();
    if (handler_) handler_->on_media(m, mono_us());
}

void PlayClient::on_close(rtmp::Session& s, const char* reason)
{
    bytes_final_ = s.conn().bytes_in();
    s_ = nullptr;
    cl_.loop().cancel_timer(timer_);
    if (state_ == State::failed || state_ == State::done) return;
    std::string r = reason;
    if (state_ == State::connecting) {
        if (r == "connect failed") {
            fail("cannot connect to " + target_.text + ": connection refused or unreachable");
        } else {
            fail("connection to " + target_.text + " closed before playing started: " + r);
        }
        return;
    }
    if (r == "closed by peer" || ended_) {
        state_ = State::done;  // the server ended the session: a normal end of stream
        ended_ = true;
        return;
    }
    fail("connection lost: " + r);
}

uint64_t PlayClient::bytes_in() const
{
    return s_ ? s_->conn().bytes_in() : bytes_final_;
}

}  // namespace strom::tools
