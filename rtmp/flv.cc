#include "rtmp/flv.h"

#include <cstring>

#include "core/buf.h"
#include "core/bytes.h"

namespace strom::rtmp {

namespace {

// A DataOffset beyond this is garbage, not a header extension anyone writes.
constexpr uint32_t kMaxDataOffset = 1u << 20;
// After a big tag was gathered, give the memory back rather than keep it per reader.
constexpr size_t kKeepCapacity = 1u << 20;

}  // namespace

Rc flv_parse_header(std::span<const uint8_t> in, FlvHeader* out, const char** reason)
{
    if (in.size() < kFlvHeaderSize) return Rc::again;
    if (in[0] != 'F' || in[1] != 'L' || in[2] != 'V') {
        if (reason) *reason = "not an FLV file (bad signature)";
        return Rc::error;
    }
    // E.2: version 1; TypeFlags: bit 2 audio, bit 0 video; the other bits reserved (ignored,
    // as ffmpeg does). DataOffset: the header's own size, 9 for version 1.
    out->version = in[3];
    out->audio = in[4] & 4;
    out->video = in[4] & 1;
    out->data_offset = load_be32(&in[5]);
    if (out->data_offset < kFlvHeaderSize || out->data_offset > kMaxDataOffset) {
        if (reason) *reason = "bad FLV DataOffset";
        return Rc::error;
    }
    return Rc::ok;
}

FlvTagHeader flv_parse_tag_header(const uint8_t* p)
{
    // E.4.1: Reserved(2) Filter(1) TagType(5), DataSize UI24, Timestamp UI24,
    // TimestampExtended UI8 (the upper 8 bits), StreamID UI24.
    FlvTagHeader h;
    h.type = p[0] & 0x1f;
    h.filter = p[0] & 0x20;
    h.data_size = load_be24(p + 1);
    h.timestamp = uint32_t(p[7]) << 24 | load_be24(p + 4);
    h.stream_id = load_be24(p + 8);
    return h;
}

void flv_write_header(uint8_t out[kFlvFileStartSize], bool audio, bool video)
{
    out[0] = 'F';
    out[1] = 'L';
    out[2] = 'V';
    out[3] = 1;
    out[4] = uint8_t((audio ? 4 : 0) | (video ? 1 : 0));
    store_be32(out + 5, kFlvHeaderSize);
    store_be32(out + 9, 0);  // PreviousTagSize0
}

void flv_write_tag_header(uint8_t out[kFlvTagHeaderSize], uint8_t type, uint32_t size, uint32_t ts)
{
    out[0] = type & 0x1f;
    store_be24(out + 1, size);
    store_be24(out + 4, ts & 0xffffff);
    out[7] = uint8_t(ts >> 24);
    store_be24(out + 8, 0);
}

void flv_write_prev_size(uint8_t out[kFlvBackPointerSize], uint32_t data_size)
{
    store_be32(out, uint32_t(kFlvTagHeaderSize) + data_size);
}

Rc flv_append_tag(Chain& out, uint8_t type, uint32_t ts, std::span<const uint8_t> payload)
{
    if (payload.size() > kFlvMaxDataSize) return Rc::error;
    uint8_t head[kFlvTagHeaderSize], tail[kFlvBackPointerSize];
    flv_write_tag_header(head, type, uint32_t(payload.size()), ts);
    flv_write_prev_size(tail, uint32_t(payload.size()));
    if (out.append(head, sizeof head) != Rc::ok) return Rc::error;
    if (out.append(payload.data(), payload.size()) != Rc::ok) return Rc::error;
    return out.append(tail, sizeof tail);
}

Rc flv_append_tag(Chain& out, uint8_t type, uint32_t ts, const Block* payload)
{
    size_t size = chain_size(payload);
    if (size > kFlvMaxDataSize) return Rc::error;
    uint8_t head[kFlvTagHeaderSize], tail[kFlvBackPointerSize];
    flv_write_tag_header(head, type, uint32_t(size), ts);
    flv_write_prev_size(tail, uint32_t(size));
    if (out.append(head, sizeof head) != Rc::ok) return Rc::error;
    for (const Block* b = payload; b; b = b->next) {
        if (out.append(b->data() + b->start, b->size()) != Rc::ok) return Rc::error;
    }
    return out.append(tail, sizeof tail);
}

size_t flv_frame_tag(FlvTagFrame* frame, uint8_t type, uint32_t ts, const Block* payload,
                     std::span<struct iovec> iov)
{
    size_t size = 0, used = 1;
    for (const Block* b = payload; b; b = b->next) {
        size += b->size();
        used += b->size() ? 1 : 0;
    }
    if (size > kFlvMaxDataSize || used + 1 > iov.size()) return 0;
    flv_write_tag_header(frame->header, type, uint32_t(size), ts);
    flv_write_prev_size(frame->back_pointer, uint32_t(size));
    iov[0] = {frame->header, kFlvTagHeaderSize};
    size_t i = 1;
    for (const Block* b = payload; b; b = b->next) {
        // writev only reads: the const_cast is the iovec API's, not a write.
        if (b->size()) iov[i++] = {const_cast<uint8_t*>(b->data() + b->start), b->size()};
    }
    iov[i++] = {frame->back_pointer, kFlvBackPointerSize};
    return i;
}

Rc FlvReader::fail(const char* why)
{
    reason_ = why;
    state_ = State::failed;
    return Rc::error;
}

// Makes `want` bytes available: straight from `in` when they are all there and nothing was
// gathered, else by gathering into buf_ across calls. Returns true once buf_ or the front
// of `in` (see take()) holds them.
bool FlvReader::gather(std::span<const uint8_t>& in, size_t want)
{
    if (buf_.empty() && in.size() >= want) return true;
    size_t k = want - buf_.size() < in.size() ? want - buf_.size() : in.size();
    buf_.insert(buf_.end(), in.begin(), in.begin() + k);
    in = in.subspan(k);
    offset_ += k;
    return buf_.size() == want;
}

namespace {

// After gather() returned true: the bytes, from buf_ when it was used, else from `in`
// (which is advanced past them).
const uint8_t* take(std::vector<uint8_t>& buf, std::span<const uint8_t>& in, size_t want,
                    uint64_t* offset)
{
    if (!buf.empty()) return buf.data();
    const uint8_t* p = in.data();
    in = in.subspan(want);
    *offset += want;
    return p;
}

}  // namespace

Rc FlvReader::step_header(std::span<const uint8_t>& in)
{
    if (!gather(in, kFlvHeaderSize)) return Rc::again;
    const uint8_t* p = take(buf_, in, kFlvHeaderSize, &offset_);
    const char* why = nullptr;
    Rc rc = flv_parse_header(std::span<const uint8_t>(p, kFlvHeaderSize), &header_, &why);
    buf_.clear();
    if (rc != Rc::ok) return fail(why);
    header_done_ = true;
    skip_left_ = header_.data_offset - uint32_t(kFlvHeaderSize);
    expect_back_pointer_ = 0;  // PreviousTagSize0
    state_ = skip_left_ ? State::skip : State::back_pointer;
    return Rc::ok;
}

Rc FlvReader::step_back_pointer(std::span<const uint8_t>& in)
{
    if (!gather(in, kFlvBackPointerSize)) return Rc::again;
    uint32_t v = load_be32(take(buf_, in, kFlvBackPointerSize, &offset_));
    buf_.clear();
    // E.3: PreviousTagSize = 11 + DataSize of the tag before. Writers get it wrong often
    // enough (old muxers, appended files) that it is reported, not fatal.
    if (v != expect_back_pointer_) {
        ++bad_back_pointers_;
        bad_back_pointer_ = true;
    }
    state_ = State::tag_header;
    return Rc::ok;
}

Rc FlvReader::step_tag_header(std::span<const uint8_t>& in)
{
    if (buf_.empty()) tag_offset_ = offset_;
    if (!gather(in, kFlvTagHeaderSize)) return Rc::again;
    cur_ = flv_parse_tag_header(take(buf_, in, kFlvTagHeaderSize, &offset_));
    buf_.clear();
    if (cur_.data_size > max_tag_) return fail("FLV tag larger than the limit");
    state_ = State::body;
    return Rc::ok;
}

Rc FlvReader::step_body(std::span<const uint8_t>& in, FlvTag* tag)
{
    // No reserve(size) up front: a peer announcing 16 MiB and sending 10 bytes costs 10.
    size_t size = cur_.data_size;
    if (!gather(in, size)) return Rc::again;
    const uint8_t* p = size ? take(buf_, in, size, &offset_) : nullptr;
    release_ = !buf_.empty();
    tag->type = cur_.type;
    tag->filter = cur_.filter;
    tag->timestamp = cur_.timestamp;
    tag->stream_id = cur_.stream_id;
    tag->offset = tag_offset_;
    tag->bad_back_pointer = bad_back_pointer_;
    tag->data = std::span<const uint8_t>(p, size);
    bad_back_pointer_ = false;
    expect_back_pointer_ = uint32_t(kFlvTagHeaderSize) + cur_.data_size;
    ++tags_;
    state_ = State::back_pointer;
    return Rc::ok;
}

Rc FlvReader::next(std::span<const uint8_t>& in, FlvTag* tag)
{
    if (release_) {  // the previous tag's data lived in buf_: it is the caller's no longer
        buf_.clear();
        if (buf_.capacity() > kKeepCapacity) buf_.shrink_to_fit();
        release_ = false;
    }
    for (;;) {
        Rc rc = Rc::ok;
        switch (state_) {
            case State::header:
                rc = step_header(in);
                break;
            case State::skip: {
                size_t k = skip_left_ < in.size() ? skip_left_ : in.size();
                in = in.subspan(k);
                offset_ += k;
                skip_left_ -= uint32_t(k);
                if (skip_left_) return Rc::again;
                state_ = State::back_pointer;
                break;
            }
            case State::back_pointer:
                rc = step_back_pointer(in);
                break;
            case State::tag_header:
                rc = step_tag_header(in);
                break;
            case State::body:
                return step_body(in, tag);
            case State::failed:
                return Rc::error;
        }
        if (rc != Rc::ok) return rc;
    }
}

Rc FlvReader::finish() const
{
    switch (state_) {
        case State::back_pointer:
            return Rc::ok;  // after a tag, final back pointer or not
        case State::tag_header:
            return buf_.empty() ? Rc::ok : Rc::again;
        case State::failed:
            return Rc::error;
        default:
            return Rc::again;  // inside the header or a tag
    }
}

}  // namespace strom::rtmp
