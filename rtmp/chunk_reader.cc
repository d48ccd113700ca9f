#include "rtmp/chunk_reader.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "core/bytes.h"

namespace strom::rtmp {

namespace {

constexpr uint32_t kExtMarker = 0xFFFFFF;
constexpr uint32_t kMsgHeaderSize[4] = {11, 7, 3, 0};  // RTMP spec 5.3.1.2, by fmt

}  // namespace

// Per chunk stream state: the latest header fields (fmt 1/2/3 chunks inherit them, RTMP
// spec 5.3.1.2) and the message being reassembled. Allocated once per csid.
struct ChunkReader::Stream {
    Stream(BufPool& pool, uint32_t id) : csid(id), payload(pool) {}

    uint32_t csid;
    uint32_t timestamp = 0;  // of the message in progress, or of the last one
    uint32_t delta = 0;      // what a fmt 3 chunk starting a message adds
    uint32_t length = 0;
    uint32_t msid = 0;
    uint8_t type = 0;
    bool ext = false;          // the latest fmt 0/1/2 header carried an extended timestamp
    uint32_t ext_value = 0;    // the last extended timestamp read
    bool in_progress = false;  // a message has started and is not complete
    uint32_t received = 0;     // its payload bytes so far
    ::strom::Chain payload;
};

ChunkReader::ChunkReader(BufPool& pool, const ChunkLimits& limits) : pool_(pool), limits_(limits) {}

ChunkReader::~ChunkReader() = default;

Rc ChunkReader::fail(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason_buf_, sizeof(reason_buf_), fmt, ap);
    va_end(ap);
    reason_ = reason_buf_;
    state_ = State::failed;
    return Rc::error;
}

Rc ChunkReader::feed(const uint8_t* p, size_t n, size_t* consumed, MessageSink& sink)
{
    Input in{p, p + n};
    Rc rc = run(in, sink);
    *consumed = size_t(in.p - p);
    return rc;
}

Rc ChunkReader::run(Input& in, MessageSink& sink)
{
    for (;;) {
        Rc rc;
        switch (state_) {
            case State::failed:
                return Rc::error;
            case State::payload:
                rc = read_payload(in, sink);
                break;
            default:
                if (!fill(in)) return Rc::again;
                rc = state_ == State::basic    ? on_basic_header()
                     : state_ == State::header ? on_message_header()
                                               : on_extended_timestamp();
                break;
        }
        if (rc != Rc::ok) return rc;
    }
}

// Up to `max` contiguous input bytes: pushed-back bytes first, then the caller's.
size_t ChunkReader::take(Input& in, size_t max, const uint8_t** out)
{
    size_t k;
    if (pend_pos_ < pend_len_) {
        k = pend_len_ - pend_pos_;
        if (k > max) k = max;
        *out = pend_ + pend_pos_;
        pend_pos_ += uint32_t(k);
        return k;
    }
    k = size_t(in.end - in.p);
    if (k > max) k = max;
    *out = in.p;
    in.p += k;
    return k;
}

// Collects header bytes until hdr_ holds need_; false when the input ran out first.
bool ChunkReader::fill(Input& in)
{
    while (have_ < need_) {
        const uint8_t* p;
        size_t k = take(in, need_ - have_, &p);
        if (k == 0) return false;
        std::memcpy(hdr_ + have_, p, k);
        have_ += uint32_t(k);
    }
    return true;
}

ChunkReader::Stream* ChunkReader::find(uint32_t csid)
{
    if (csid < 64) return small_[csid] ? streams_[small_[csid] - 1].get() : nullptr;
    for (auto& s : streams_) {
        if (s->csid == csid) return s.get();
    }
    return nullptr;
}

Rc ChunkReader::on_basic_header()
{
    // RTMP spec 5.3.1.1: csid 0 in the low 6 bits means one more byte, 1 means two more.
    if (have_ == 1) {
        fmt_ = hdr_[0] >> 6;
        uint8_t low = hdr_[0] & 0x3f;
        bh_size_ = low == 0 ? 2 : low == 1 ? 3 : 1;
        if (bh_size_ > 1) {
            need_ = bh_size_;
            return Rc::ok;
        }
    }
    uint32_t csid = hdr_[0] & 0x3f;
    if (bh_size_ == 2) csid = 64 + hdr_[1];
    if (bh_size_ == 3) csid = 64 + hdr_[1] + 256 * uint32_t(hdr_[2]);

    Stream* s = find(csid);
    if (!s) {
        // A fresh chunk stream has no header to inherit: fmt 0 only. librtmp starts csid 2
        // with fmt 1 (a ping, SRS #98), which carries all but the stream id: allowed.
        if (fmt_ != 0 && !(fmt_ == 1 && csid == kControlCsid)) {
            return fail("fmt %u chunk on new csid %u", unsigned(fmt_), csid);
        }
        if (streams_.size() >= limits_.max_csids) {
            return fail("too many chunk streams (csid %u, max_csids %u)", csid, limits_.max_csids);
        }
        streams_.push_back(std::make_unique<Stream>(pool_, csid));
        s = streams_.back().get();
        if (csid < 64) small_[csid] = uint32_t(streams_.size());
    } else if (fmt_ == 0 && s->in_progress) {
        // fmt 0 always starts a message; restarting a half-read one is what SRS and the
        // CVE-2016-10191 fix refuse.
        return fail("new header in the middle of a message (fmt 0 on csid %u)", csid);
    }
    cur_ = s;
    need_ = bh_size_ + kMsgHeaderSize[fmt_];
    state_ = State::header;
    return Rc::ok;
}

Rc ChunkReader::on_message_header()
{
    const uint8_t* h = hdr_ + bh_size_;
    Stream& s = *cur_;
    hdr_ext_ = false;
    field_ = 0;
    len_ = s.length;
    type_ = s.type;
    msid_ = s.msid;
    if (fmt_ <= 2) {
        field_ = load_be24(h);
        hdr_ext_ = field_ == kExtMarker;
    }
    if (fmt_ <= 1) {
        len_ = load_be24(h + 3);
        type_ = h[6];
    }
    if (fmt_ == 0) msid_ = load_le32(h + 7);  // RTMP spec 5.3.1.2.1: little-endian

    if (s.in_progress) {
        // A fmt 1/2 header inside a message: ffmpeg, librtmp and SRS carry on with the
        // message as first announced, but a different length is the CVE-2016-10191 case.
        if (len_ != s.length) {
            return fail("message length changed mid-message (csid %u: %u -> %u)", s.csid, s.length,
                        len_);
        }
    } else if (len_ > limits_.max_message) {
        return fail("message too big (%u > max_message %u)", len_, limits_.max_message);
    }
    // RTMP spec 5.3.1.3: 4 more bytes when the field is 0xFFFFFF, and on fmt 3 chunks of a
    // stream whose latest header had them.
    if (fmt_ <= 2 ? hdr_ext_ : s.ext) {
        need_ += 4;
        state_ = State::ext;
        return Rc::ok;
    }
    return start_chunk(false, 0);
}

Rc ChunkReader::on_extended_timestamp()
{
    uint32_t v = load_be32(hdr_ + need_ - 4);
    Stream& s = *cur_;
    if (fmt_ == 3 && s.in_progress && v != s.ext_value && v != s.timestamp) {
        // A fmt 3 continuation: FMLE, OBS and we repeat the extended timestamp, some
        // librtmp/ffmpeg versions do not. Peek and compare, as SRS does: these 4 bytes do
        // not repeat it, so they are payload (or, after a short chunk, the next header).
        hdr_ext_ = false;
        if (push_back(hdr_ + need_ - 4, 4) != Rc::ok) return Rc::error;
        return start_chunk(false, 0);
    }
    return start_chunk(true, v);
}

Rc ChunkReader::push_back(const uint8_t* p, size_t n)
{
    // Unread pushed-back bytes would come after these; none are left in practice (since the
    // last push-back came a payload byte, a basic header and these 4), but stay general.
    size_t rest = pend_len_ - pend_pos_;
    if (n + rest > sizeof(pend_)) return fail("internal: push-back overflow");
    uint8_t tmp[sizeof(pend_)];
    std::memcpy(tmp, p, n);
    std::memcpy(tmp + n, pend_ + pend_pos_, rest);
    std::memcpy(pend_, tmp, n + rest);
    pend_pos_ = 0;
    pend_len_ = uint32_t(n + rest);
    return Rc::ok;
}

Rc ChunkReader::start_chunk(bool has_ext, uint32_t ext_value)
{
    Stream& s = *cur_;
    if (!s.in_progress) {
        uint32_t field = has_ext ? ext_value : field_;
        if (fmt_ == 0) {
            // The fmt 0 timestamp is absolute; a following fmt 3 message adds it again, as
            // ffmpeg, librtmp and SRS all do (the spec leaves that delta undefined).
            s.timestamp = field;
            s.delta = field;
        } else {
            // fmt 1/2 deltas and a fmt 3 message's inherited delta (re-read when extended,
            // RTMP spec 5.3.1.2.4) accumulate with 32-bit wraparound.
            if (fmt_ <= 2 || has_ext) s.delta = field;
            s.timestamp += s.delta;
        }
        if (fmt_ <= 2) s.ext = hdr_ext_;
        if (has_ext) s.ext_value = ext_value;
        s.length = len_;
        s.type = type_;
        s.msid = msid_;
        s.in_progress = true;
        s.received = 0;
    }
    uint32_t left = s.length - s.received;
    chunk_left_ = left < chunk_size_ ? left : chunk_size_;
    state_ = State::payload;
    return Rc::ok;
}

Rc ChunkReader::read_payload(Input& in, MessageSink& sink)
{
    Stream& s = *cur_;
    while (chunk_left_ > 0) {
        const uint8_t* p;
        size_t k = take(in, chunk_left_, &p);
        if (k == 0) return Rc::again;
        if (partial_bytes_ + k > limits_.max_partial_bytes) {
            return fail("unfinished messages over max_partial_bytes %zu (csid %u)",
                        limits_.max_partial_bytes, s.csid);
        }
        if (s.payload.append(p, k) != Rc::ok) {
            return fail("buffer pool exhausted (csid %u, %u of %u bytes)", s.csid, s.received,
                        s.length);
        }
        s.received += uint32_t(k);
        partial_bytes_ += k;
        chunk_left_ -= uint32_t(k);
    }
    state_ = State::basic;
    have_ = 0;
    need_ = 1;
    if (s.received < s.length) return Rc::ok;
    return deliver(s, sink);
}

Rc ChunkReader::deliver(Stream& s, MessageSink& sink)
{
    Message m;
    m.type = s.type;
    m.csid = s.csid;
    m.msid = s.msid;
    m.timestamp = s.timestamp;
    m.length = s.length;
    m.payload = s.payload.take();
    partial_bytes_ -= s.received;
    s.received = 0;
    s.in_progress = false;
    if (m.type == msg_type::set_chunk_size || m.type == msg_type::abort) {
        if (apply_control(m) != Rc::ok) return Rc::error;
    }
    return sink.on_message(m);
}

// Set Chunk Size and Abort act on the chunk layer itself, before the next chunk is parsed.
Rc ChunkReader::apply_control(const Message& m)
{
    uint8_t b[4];
    if (m.length < 4 || chain_copy(m.payload.get(), 0, b, 4) != 4) {
        return fail("%s message too short (%u bytes)", msg_type_name(m.type), m.length);
    }
    uint32_t v = load_be32(b);
    if (m.type == msg_type::set_chunk_size) {
        // RTMP spec 5.4.1: bit 31 must be zero; mask it off. The value never sizes a buffer.
        v &= 0x7FFFFFFF;
        if (v == 0 || v < limits_.min_chunk_size) {
            return fail("bad chunk size %u (min %u)", v, limits_.min_chunk_size);
        }
        chunk_size_ = v;
        return Rc::ok;
    }
    // RTMP spec 5.4.2: discard the partly received message on that chunk stream.
    Stream* s = v <= kMaxCsid ? find(v) : nullptr;
    if (s && s->in_progress) {
        partial_bytes_ -= s->received;
        s->payload.clear();
        s->received = 0;
        s->in_progress = false;
    }
    return Rc::ok;
}

}  // namespace strom::rtmp
