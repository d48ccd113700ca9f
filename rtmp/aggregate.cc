#include "rtmp/aggregate.h"

#include "core/bytes.h"

namespace strom::rtmp {

namespace {

constexpr size_t kTagHeader = 11;
constexpr size_t kBackPointer = 4;

// Reads a block chain front to back, never past `left` bytes.
struct Cursor {
    const Block* b;
    size_t off;   // into b's used bytes
    size_t left;  // bytes of the message still ahead

    // Calls f(p, k) over the next n bytes; false when the chain is shorter.
    template <typename F>
    bool walk(size_t n, F&& f)
    {
        if (n > left) return false;
        left -= n;
        while (n > 0) {
            if (!b) return false;
            size_t avail = b->size() - off;
            if (avail == 0) {
                b = b->next;
                off = 0;
                continue;
            }
            size_t k = avail < n ? avail : n;
            if (!f(b->data() + b->start + off, k)) return false;
            off += k;
            n -= k;
        }
        return true;
    }
    bool read(uint8_t* out, size_t n)
    {
        return walk(n, [&out](const uint8_t* p, size_t k) {
            for (size_t i = 0; i < k; ++i) *out++ = p[i];
            return true;
        });
    }
    bool skip(size_t n)
    {
        return walk(n, [](const uint8_t*, size_t) { return true; });
    }
};

struct SubHeader {
    uint8_t type;
    uint32_t size;
    uint32_t timestamp;
};

SubHeader decode_header(const uint8_t* h)
{
    // FLV tag header: the fourth timestamp byte holds bits 31-24.
    return SubHeader{h[0], load_be24(h + 1), load_be24(h + 4) | uint32_t(h[7]) << 24};
}

bool delivered_type(uint8_t t)
{
    return t == msg_type::audio || t == msg_type::video || t == msg_type::data_amf0 ||
           t == msg_type::data_amf3;
}

// One pass over the sub-messages without delivering anything; Rc::error with *reason at
// the first inconsistency.
Rc validate(const Message& agg, const char** reason)
{
    Cursor c{agg.payload.get(), 0, agg.length};
    while (c.left > 0) {
        uint8_t h[kTagHeader];
        if (c.left < kTagHeader || !c.read(h, kTagHeader)) {
            *reason = "aggregate: truncated sub-message header";
            return Rc::error;
        }
        SubHeader sub = decode_header(h);
        if (sub.type == msg_type::aggregate) {
            *reason = "aggregate: nested aggregate";
            return Rc::error;
        }
        if (sub.size > c.left || !c.skip(sub.size)) {
            *reason = "aggregate: sub-message larger than the aggregate";
            return Rc::error;
        }
        if (c.left == 0) break;  // some writers omit the last back pointer
        if (c.left < kBackPointer || !c.skip(kBackPointer)) {
            *reason = "aggregate: truncated back pointer";
            return Rc::error;
        }
    }
    return Rc::ok;
}

}  // namespace

Rc split_aggregate(BufPool& pool, const Message& agg, MessageSink& sink, const char** reason)
{
    if (validate(agg, reason) != Rc::ok) return Rc::error;
    Cursor c{agg.payload.get(), 0, agg.length};
    bool first = true;
    uint32_t first_ts = 0;
    while (c.left > 0) {
        uint8_t h[kTagHeader];
        if (!c.read(h, kTagHeader)) break;  // validated: cannot happen
        SubHeader sub = decode_header(h);
        if (first) {
            first_ts = sub.timestamp;
            first = false;
        }
        if (!delivered_type(sub.type)) {
            c.skip(sub.size);
        } else {
            ::strom::Chain data(pool);
            bool ok = c.walk(sub.size, [&data](const uint8_t* p, size_t k) {
                return data.append(p, k) == Rc::ok;
            });
            if (!ok) {
                *reason = "aggregate: buffer pool exhausted";
                return Rc::error;
            }
            Message m;
            m.type = sub.type;
            m.csid = agg.csid;
            m.msid = agg.msid;  // RTMP spec 7.1.6: the aggregate's stream id overrides
            m.timestamp = sub.timestamp - first_ts + agg.timestamp;
            m.length = sub.size;
            m.payload = data.take();
            Rc rc = sink.on_message(m);
            if (rc != Rc::ok) return rc;
        }
        if (c.left >= kBackPointer) c.skip(kBackPointer);
    }
    return Rc::ok;
}

}  // namespace strom::rtmp
