#include "tools/publisher.h"

#include <cmath>

#include "core/log.h"

namespace strom::tools {

namespace {
constexpr uint64_t kQueueFullRetryMs = 2;
constexpr int kMaxBurst = 512;  // tags per turn at --speed max, so timers and Ctrl-C run
}  // namespace

Publisher::Publisher(ClientLoop& cl, const FlvFile& file, const Target& target, const RtmpUrl& url,
                     const Options& o)
    : cl_(cl), file_(file), target_(target), url_(url), opt_(o), cursor_(file, o.loop)
{
    timer_.fn = &Publisher::on_timer;
    timer_.arg = this;
}

Publisher::~Publisher()
{
    cl_.loop().cancel_timer(timer_);
}

bool Publisher::start()
{
    rtmp::ClientParams p = client_params(url_, true);
    p.chunk_size = opt_.chunk_size;
    connect_ms_ = cl_.loop().now();
    s_ = cl_.connect(target_, p, this, &error_);
    if (!s_) {
        state_ = State::failed;
        return false;
    }
    state_ = State::connecting;
    cl_.loop().add_timer(timer_, opt_.timeout_ms);
    return true;
}

void Publisher::fail(std::string why)
{
    if (state_ == State::failed || state_ == State::done) return;
    state_ = State::failed;
    error_ = std::move(why);
    cl_.loop().cancel_timer(timer_);
    if (s_) s_->close("client failed");
}

void Publisher::on_ready(rtmp::Session&)
{
    state_ = State::publishing;
    start_ms_ = cl_.loop().now();
    ready_ms_ = start_ms_ - connect_ms_;
    cl_.loop().cancel_timer(timer_);
    send_due();
}

void Publisher::on_status(rtmp::Session&, std::string_view level, std::string_view code,
                          std::string_view description)
{
    STROM_LOG(debug, s_ ? s_->id() : 0, "status %.*s %.*s", int(level.size()), level.data(),
              int(code.size()), code.data());
    if (level != "error") return;
    std::string what =
        state_ == State::connecting ? "publish rejected by the server: " : "server error: ";
    what += std::string(code);
    if (!description.empty()) what += " (" + std::string(description) + ")";
    fail(what);
}

void Publisher::on_close(rtmp::Session& s, const char* reason)
{
    wire_final_ = s.conn().bytes_out();
    end_ms_ = cl_.loop().now();
    s_ = nullptr;
    cl_.loop().cancel_timer(timer_);
    if (state_ == State::finishing) {
        state_ = State::done;
        return;
    }
    if (state_ == State::failed || state_ == State::done) return;
    if (state_ == State::connecting) {
        std::string r = reason;
        if (r == "connect failed") {
            fail("cannot connect to " + target_.text + ": connection refused or unreachable");
        } else {
            fail("connection to " + target_.text + " closed before publishing started: " + r);
        }
        return;
    }
    fail(std::string("connection lost: ") + reason);
}

void Publisher::on_timer(Timer& t)
{
    auto* p = static_cast<Publisher*>(t.arg);
    if (p->state_ == State::connecting) {
        p->fail("timed out after " + format_secs(p->opt_.timeout_ms) +
                " waiting for the server to accept the publish");
        return;
    }
    if (p->state_ == State::publishing) p->send_due();
}

void Publisher::send_due()
{
    EventLoop& loop = cl_.loop();
    for (int burst = 0; state_ == State::publishing && s_; ++burst) {
        uint64_t now = loop.now();
        if (opt_.duration_ms && now - start_ms_ >= opt_.duration_ms) return finish();
        const FlvFileTag* t = nullptr;
        uint32_t ts = 0;
        if (!cursor_.peek(&t, &ts)) return finish();
        if (!have_first_) {
            have_first_ = true;
            first_ts_ = ts;
        }
        if (opt_.speed > 0) {
            uint64_t due = start_ms_ + uint64_t(double(ts - first_ts_) / opt_.speed);
            if (due > now) {
                loop.add_timer(timer_, due - now);
                return;
            }
        } else if (burst >= kMaxBurst) {
            loop.add_timer(timer_, 0);
            return;
        }
        auto data = file_.payload(*t);
        Rc rc = s_->publish_media(t->type, ts, data.data(), data.size());
        if (rc == Rc::again) {  // out-queue full: the socket is behind, try shortly
            ++waits_;
            loop.add_timer(timer_, kQueueFullRetryMs);
            return;
        }
        if (rc != Rc::ok) return fail("cannot send media (out of buffers)");
        if (!t->config && t->type != 18) {
            int track = t->type == 9 ? 1 : 0;
            ++frames_[track];
            if (opt_.log) opt_.log->record(track, ts, mono_us());
        }
        bytes_ += data.size();
        cursor_.advance();
    }
}

void Publisher::finish()
{
    if (state_ != State::publishing) return;
    state_ = State::finishing;
    cl_.loop().cancel_timer(timer_);
    if (s_) s_->conn().close_after_flush("end of file");
}

void Publisher::stop()
{
    if (state_ == State::publishing) return finish();
    if (state_ == State::connecting) {
        state_ = State::finishing;
        cl_.loop().cancel_timer(timer_);
        if (s_) s_->close("stopped");
        return;
    }
}

uint64_t Publisher::wire_bytes() const
{
    return s_ ? s_->conn().bytes_out() : wire_final_;
}

uint64_t Publisher::publishing_ms() const
{
    if (!start_ms_) return 0;
    return (end_ms_ ? end_ms_ : cl_.loop().now()) - start_ms_;
}

}  // namespace strom::tools
