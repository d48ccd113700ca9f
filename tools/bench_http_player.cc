#include "tools/bench_http_player.h"

#include "core/buf.h"

namespace strom::tools {

// Owned by the connection (deleted by the loop after on_close); the player outlives it.
class HttpFlvBenchPlayer::Handler final : public ConnHandler {
public:
    explicit Handler(HttpFlvBenchPlayer& p) : p_(p) {}
    void on_connected(Connection& c, bool ok) override { p_.on_connected(c, ok); }
    void on_read(Connection& c) override { p_.on_read(c); }
    void on_close(Connection& c, const char* reason) override { p_.on_close(c, reason); }

private:
    HttpFlvBenchPlayer& p_;
};

bool HttpFlvBenchPlayer::start(ClientLoop& cl, const Target& t, const RtmpUrl& url)
{
    begin();
    if (url.stream.empty()) {
        start_failed("an HTTP-FLV player needs a stream");
        return false;
    }
    request_ = http_flv_request(url, http_port_);
    const char* err = nullptr;
    auto* h = new Handler(*this);
    c_ = cl.table().connect(t.sa(), t.len, h, &err);
    if (!c_) {
        delete h;  // never reached the connection
        start_failed(err);
        return false;
    }
    connecting();
    return true;
}

void HttpFlvBenchPlayer::close()
{
    if (c_) c_->close(kDone);
}

uint64_t HttpFlvBenchPlayer::bytes_in() const
{
    return c_ ? c_->bytes_in() : bytes_final_;
}

void HttpFlvBenchPlayer::on_connected(Connection& c, bool ok)
{
    if (!ok) return;  // on_close follows with "connect failed"
    Chain ch(c.loop().small_pool());
    if (ch.append(request_.data(), request_.size()) != Rc::ok || !c.send(ch.take())) {
        c.close("out of buffers");
        return;
    }
    request_.clear();
    request_.shrink_to_fit();
    c.flush_soon();
}

void HttpFlvBenchPlayer::on_read(Connection& c)
{
    std::span<const uint8_t> all = c.input(), in = all;
    rtmp::FlvTag tag;
    Rc rc;
    for (;;) {
        rc = reader_.next(in, &tag);
        // The 200 head is this protocol's Play.Start.
        if (reader_.head_done() && state() == State::connecting) ready();
        if (rc != Rc::ok) break;
        on_tag(tag);
    }
    // The reader gathers what it needs of a split tag: the input can always go.
    c.consume(all.size() - in.size());
    if (rc == Rc::error) {
        rejected(reader_.reason());
        c.close(reader_.reason());
    }
}

void HttpFlvBenchPlayer::on_tag(const rtmp::FlvTag& tag)
{
    uint64_t now = mono_us();
    if (tag.type == uint8_t(rtmp::FlvTagType::video)) {
        video(rtmp::parse_video(tag.data), tag.timestamp, now);
    } else if (tag.type == uint8_t(rtmp::FlvTagType::audio)) {
        audio(rtmp::parse_audio(tag.data), tag.timestamp, now);
    }
}

void HttpFlvBenchPlayer::on_close(Connection& c, const char* reason)
{
    bytes_final_ = c.bytes_in();
    c_ = nullptr;
    closed(reason);
}

}  // namespace strom::tools
