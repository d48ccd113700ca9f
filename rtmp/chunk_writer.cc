#include "rtmp/chunk_writer.h"

#include "core/bytes.h"

namespace strom::rtmp {

namespace {

constexpr uint32_t kExtMarker = 0xFFFFFF;
constexpr uint32_t kMaxChunkSize = 0x7FFFFFFF;  // RTMP spec 5.4.1: 31 bits

// Basic header (RTMP spec 5.3.1.1): ids 2-63 in one byte, 64-319 in two, up to 65599 in
// three, the last two bytes little-endian (id - 64).
size_t put_basic_header(uint8_t* p, uint8_t fmt, uint32_t csid)
{
    uint8_t f = uint8_t(fmt << 6);
    if (csid < 64) {
        p[0] = uint8_t(f | csid);
        return 1;
    }
    uint32_t v = csid - 64;
    if (v < 256) {
        p[0] = f;
        p[1] = uint8_t(v);
        return 2;
    }
    p[0] = uint8_t(f | 1);
    p[1] = uint8_t(v);
    p[2] = uint8_t(v >> 8);
    return 3;
}

size_t basic_header_size(uint32_t csid)
{
    return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

// The payload being framed: either a block chain (walked once, front to back) or a flat
// buffer. take() appends the next n bytes to `out`.
struct Source {
    const Block* b;
    size_t off;  // into b's used bytes
    const uint8_t* flat;

    Rc take(::strom::Chain& out, size_t n)
    {
        if (flat) {
            Rc rc = out.append(flat, n);
            flat += n;
            return rc;
        }
        while (n > 0) {
            if (!b) return Rc::error;
            size_t avail = b->size() - off;
            if (avail == 0) {
                b = b->next;
                off = 0;
                continue;
            }
            size_t k = avail < n ? avail : n;
            if (out.append(b->data() + b->start + off, k) != Rc::ok) return Rc::error;
            off += k;
            n -= k;
        }
        return Rc::ok;
    }
};

Rc frame(BufPool& pool, uint32_t chunk_size, const MsgHeader& h, Source src, size_t len,
         BufRef* out)
{
    if (chunk_size == 0 || chunk_size > kMaxChunkSize || h.csid < kMinCsid || h.csid > kMaxCsid ||
        len > kMaxMessageLength) {
        return Rc::error;
    }
    bool ext = h.timestamp >= kExtMarker;
    uint8_t first[3 + 11 + 4];
    size_t n = put_basic_header(first, 0, h.csid);
    store_be24(first + n, ext ? kExtMarker : h.timestamp);
    store_be24(first + n + 3, uint32_t(len));
    first[n + 6] = h.type;
    store_le32(first + n + 7, h.msid);  // RTMP spec 5.3.1.2.1: stream id is little-endian
    n += 11;
    if (ext) {
        store_be32(first + n, h.timestamp);
        n += 4;
    }
    uint8_t cont[3 + 4];
    size_t cn = put_basic_header(cont, 3, h.csid);
    if (ext) {
        // RTMP spec 5.3.1.3: the extended timestamp is repeated on type 3 continuations.
        store_be32(cont + cn, h.timestamp);
        cn += 4;
    }

    ::strom::Chain c(pool);
    if (c.append(first, n) != Rc::ok) return Rc::error;
    size_t left = len;
    for (bool head = true; head || left > 0; head = false) {
        if (!head && c.append(cont, cn) != Rc::ok) return Rc::error;
        size_t k = left < chunk_size ? left : chunk_size;
        if (src.take(c, k) != Rc::ok) return Rc::error;
        left -= k;
    }
    *out = c.take();
    return Rc::ok;
}

}  // namespace

Rc frame_message(BufPool& pool, uint32_t chunk_size, const MsgHeader& h, const Block* payload,
                 size_t payload_off, size_t len, BufRef* out)
{
    // Skip whole blocks up to the offset so take() starts inside the right one.
    const Block* b = payload;
    while (b && payload_off >= b->size() && payload_off > 0) {
        payload_off -= b->size();
        b = b->next;
    }
    if (len > 0 && !b) return Rc::error;
    return frame(pool, chunk_size, h, Source{b, payload_off, nullptr}, len, out);
}

Rc frame_message(BufPool& pool, uint32_t chunk_size, const MsgHeader& h, const void* data,
                 size_t len, BufRef* out)
{
    if (len > 0 && !data) return Rc::error;
    static const uint8_t kNone = 0;
    const uint8_t* p = data ? static_cast<const uint8_t*>(data) : &kNone;
    return frame(pool, chunk_size, h, Source{nullptr, 0, p}, len, out);
}

size_t framed_size(uint32_t chunk_size, uint32_t csid, uint32_t timestamp, size_t len)
{
    if (chunk_size == 0) return 0;
    size_t ext = timestamp >= kExtMarker ? 4 : 0;
    size_t chunks = len == 0 ? 1 : (len + chunk_size - 1) / chunk_size;
    size_t bh = basic_header_size(csid);
    return bh + 11 + ext + (chunks - 1) * (bh + ext) + len;
}

}  // namespace strom::rtmp
