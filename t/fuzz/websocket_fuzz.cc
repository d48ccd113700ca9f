// Fuzzes strom::http::ws::FrameParser with client frames. Layout: [0] feed size (0: all at
// once), [1] limits (small, so 1009 is reached), then the client's bytes. Checks:
// consumed <= offered, Rc::again consumes everything, a close code and a reason on
// Rc::error, data pieces within their frame's length (and kUnmaskChunk when copied),
// control frames <= 125 bytes, and the same events (data merged) and outcome whether the
// input is fed whole or in pieces, through the copying or the in-place overload.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "http/websocket.h"

using strom::Rc;
using namespace strom::http::ws;

#define CHECK(x)                \
    do {                        \
        if (!(x)) std::abort(); \
    } while (0)

namespace {

struct Outcome {
    std::vector<std::string> events;
    Rc rc = Rc::again;
    uint16_t code = 0;
    bool operator==(const Outcome&) const = default;
};

struct Tracker {
    bool in_frame = false;
    uint64_t frame_len = 0, frame_got = 0;
};

void record(Outcome* o, Tracker* t, const FrameEvent& ev, bool in_place)
{
    std::string head(1, char('0' + int(ev.kind)));
    head += char(ev.opcode);
    head += ev.fin ? 'F' : '-';
    switch (ev.kind) {
        case FrameEvent::Kind::frame_start:
            CHECK(!t->in_frame);
            CHECK(ev.opcode <= kBinary);
            *t = {true, ev.length, 0};
            o->events.push_back(head + std::to_string(ev.length));
            return;
        case FrameEvent::Kind::data:
            CHECK(t->in_frame && !ev.data.empty());
            CHECK(in_place || ev.data.size() <= FrameParser::kUnmaskChunk);
            t->frame_got += ev.data.size();
            CHECK(t->frame_got <= t->frame_len);
            if (o->events.empty() || o->events.back()[0] != head[0]) o->events.push_back(head);
            o->events.back().append(ev.data);
            return;
        case FrameEvent::Kind::frame_end:
            CHECK(t->in_frame && t->frame_got == t->frame_len);
            t->in_frame = false;
            o->events.push_back(head);
            return;
        case FrameEvent::Kind::control:
            CHECK(!t->in_frame);
            CHECK(ev.data.size() <= kMaxControlPayload && ev.length == ev.data.size());
            CHECK(ev.opcode == kPing || ev.opcode == kPong || ev.opcode == kClose);
            if (ev.opcode == kClose) CHECK(ev.close_code >= 1000 && ev.close_code < 5000);
            o->events.push_back(head + std::string(ev.data) + "/" + std::to_string(ev.close_code));
            return;
    }
    CHECK(false);
}

Outcome run(const uint8_t* data, size_t n, size_t step, bool in_place, const FrameLimits& l)
{
    std::vector<uint8_t> in(data, data + n);  // the in-place overload writes to it
    FrameParser p(l);
    Outcome o;
    Tracker t;
    size_t off = 0;
    for (;;) {
        size_t end = step && step < n - off ? off + step : n;
        for (;;) {
            size_t used = 0;
            FrameEvent ev;
            o.rc = in_place ? p.feed(in.data() + off, end - off, &used, &ev)
                            : p.feed(static_cast<const uint8_t*>(in.data()) + off, end - off, &used,
                                     &ev);
            CHECK(used <= end - off);
            off += used;
            if (o.rc == Rc::ok) {
                record(&o, &t, ev, in_place);
                continue;
            }
            if (o.rc == Rc::again) CHECK(off == end);
            if (o.rc == Rc::done) CHECK(used == 0);
            if (o.rc == Rc::error) {
                CHECK(p.reason()[0] != '\0');
                CHECK(p.close_code() == kCloseProtocolError || p.close_code() == kCloseTooBig ||
                      p.close_code() == kCloseInvalidData);
            }
            break;
        }
        if (o.rc != Rc::again || off == n) break;
    }
    o.code = p.close_code();
    return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 2) return 0;
    size_t step = data[0];
    FrameLimits l;
    l.max_frame = 8 + uint64_t(data[1] & 15) * 64;
    l.max_message = l.max_frame + uint64_t(data[1] >> 4) * 256;
    Outcome whole = run(data + 2, size - 2, 0, false, l);
    CHECK(run(data + 2, size - 2, step, false, l) == whole);
    CHECK(run(data + 2, size - 2, 0, true, l) == whole);
    CHECK(run(data + 2, size - 2, step, true, l) == whole);
    return 0;
}
