// The FLV container (Adobe FLV 10.1 Annex E): file header, tag header, back pointers
// (PreviousTagSize), an incremental reader fed arbitrary slices, and writers for flat
// buffers, block chains and iovecs. An FLV tag body is exactly an RTMP audio/video/data
// message payload, so recording and HTTP-FLV write RTMP payloads behind these headers.
// Pure: bytes in, values out. The reader owns one buffer, for tags split across slices;
// a returned tag points into the caller's slice or into that buffer, valid until the next
// call on the reader.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/rc.h"

namespace strom {
struct Block;
class Chain;
}  // namespace strom

namespace strom::rtmp {

inline constexpr size_t kFlvHeaderSize = 9;      // "FLV", version, flags, DataOffset
inline constexpr size_t kFlvFileStartSize = 13;  // header + PreviousTagSize0
inline constexpr size_t kFlvTagHeaderSize = 11;
inline constexpr size_t kFlvBackPointerSize = 4;       // PreviousTagSize after every tag
inline constexpr uint32_t kFlvMaxDataSize = 0xffffff;  // UI24 DataSize
inline constexpr uint32_t kFlvDefaultMaxTag = 16u << 20;

// TagType: the low 5 bits of the first tag header byte (E.4.1).
enum class FlvTagType : uint8_t { audio = 8, video = 9, script = 18 };

struct FlvHeader {
    uint8_t version = 1;
    bool audio = false;        // TypeFlagsAudio
    bool video = false;        // TypeFlagsVideo
    uint32_t data_offset = 9;  // bytes from the file start to PreviousTagSize0
};

struct FlvTagHeader {
    uint8_t type = 0;        // 8 audio, 9 video, 18 script data
    bool filter = false;     // E.4.1 Filter bit: the body is encrypted
    uint32_t data_size = 0;  // UI24
    uint32_t timestamp = 0;  // UI24 + TimestampExtended as the upper 8 bits
    uint32_t stream_id = 0;  // UI24, always 0 in conforming files
};

// Parses the 9-byte header. Rc::again when fewer than 9 bytes; Rc::error with *reason on a
// bad signature or a DataOffset below 9 or over 1 MiB (reason may be null).
Rc flv_parse_header(std::span<const uint8_t> in, FlvHeader* out, const char** reason);
// Parses an 11-byte tag header (the caller checks there are 11 bytes).
FlvTagHeader flv_parse_tag_header(const uint8_t* p);

// "FLV", version 1, flags, DataOffset 9, PreviousTagSize0 = 0.
void flv_write_header(uint8_t out[kFlvFileStartSize], bool audio, bool video);
// size must be <= kFlvMaxDataSize (checked by the callers that take payloads).
void flv_write_tag_header(uint8_t out[kFlvTagHeaderSize], uint8_t type, uint32_t size, uint32_t ts);
// The back pointer after a tag of `data_size` body bytes: 11 + data_size.
void flv_write_prev_size(uint8_t out[kFlvBackPointerSize], uint32_t data_size);

// Appends header + payload + back pointer to `out` (copying the payload). Rc::error when the
// payload exceeds kFlvMaxDataSize or the pool runs out (`out` may then hold a partial tag).
Rc flv_append_tag(Chain& out, uint8_t type, uint32_t ts, std::span<const uint8_t> payload);
Rc flv_append_tag(Chain& out, uint8_t type, uint32_t ts, const Block* payload);

// Storage for the bytes written around a payload that is sent by reference.
struct FlvTagFrame {
    uint8_t header[kFlvTagHeaderSize];
    uint8_t back_pointer[kFlvBackPointerSize];
};

// Frames one tag for writev without copying: iov[0] = frame->header, then one entry per
// non-empty block of `payload`, then frame->back_pointer. Returns the entries used, or 0
// when `iov` is too small or the payload exceeds kFlvMaxDataSize. The iovecs point into
// `frame` and the blocks: both must live until the write completes.
size_t flv_frame_tag(FlvTagFrame* frame, uint8_t type, uint32_t ts, const Block* payload,
                     std::span<struct iovec> iov);

struct FlvTag {
    uint8_t type = 0;
    bool filter = false;
    uint32_t timestamp = 0;
    uint32_t stream_id = 0;
    uint64_t offset = 0;  // file offset of the tag header
    // The back pointer before this tag did not equal 11 + the previous tag's size (or
    // PreviousTagSize0 was not 0). Reported, not fatal: ffmpeg also reads on.
    bool bad_back_pointer = false;
    std::span<const uint8_t> data;  // valid until the next call on the reader
};

// Incremental reader of an FLV file or HTTP-FLV stream. Feed slices of any size; each
// next() call returns at most one tag:
//   for (;;) { rc = r.next(slice, &tag); if (rc != Rc::ok) break; use(tag); }
// Rc::again: the slice is used up, feed more. Rc::error: reason() says why, and the reader
// stays failed (bad signature, tag over the size limit).
class FlvReader {
public:
    explicit FlvReader(uint32_t max_tag_size = kFlvDefaultMaxTag) : max_tag_(max_tag_size) {}

    // Consumes bytes from the front of `in` (advancing it). A whole tag lying in `in` is
    // returned without a copy; a tag split across slices is gathered in the reader.
    Rc next(std::span<const uint8_t>& in, FlvTag* tag);
    // At the end of input: Rc::ok when it ended on a tag boundary (a missing final back
    // pointer is tolerated), Rc::again when a header or tag was cut short.
    Rc finish() const;

    const FlvHeader& header() const { return header_; }
    bool header_done() const { return header_done_; }
    uint64_t offset() const { return offset_; }  // bytes consumed so far
    uint64_t tags() const { return tags_; }
    uint64_t bad_back_pointers() const { return bad_back_pointers_; }
    const char* reason() const { return reason_; }

private:
    enum class State : uint8_t { header, skip, back_pointer, tag_header, body, failed };

    Rc fail(const char* why);
    bool gather(std::span<const uint8_t>& in, size_t want);
    Rc step_header(std::span<const uint8_t>& in);
    Rc step_back_pointer(std::span<const uint8_t>& in);
    Rc step_tag_header(std::span<const uint8_t>& in);
    Rc step_body(std::span<const uint8_t>& in, FlvTag* tag);

    uint32_t max_tag_;
    State state_ = State::header;
    FlvHeader header_;
    FlvTagHeader cur_;
    uint64_t offset_ = 0;
    uint64_t tag_offset_ = 0;
    uint64_t tags_ = 0;
    uint64_t bad_back_pointers_ = 0;
    uint32_t expect_back_pointer_ = 0;
    uint32_t skip_left_ = 0;
    bool bad_back_pointer_ = false;
    bool header_done_ = false;
    bool release_ = false;  // buf_ holds the body of the tag returned last
    const char* reason_ = nullptr;
    std::vector<uint8_t> buf_;  // partial header or tag body split across slices
};

}  // namespace strom::rtmp
