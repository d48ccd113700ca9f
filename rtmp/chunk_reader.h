// Incremental RTMP chunk stream parser (RTMP spec 5.3): bytes in, complete messages out to a
// MessageSink. One per connection and direction, owned by the session; pure (no I/O).
// Payload bytes are copied once, as they arrive, into pooled blocks (never sized from a
// declared length); a finished message hands its chain to the sink. Set Chunk Size and
// Abort are applied by the reader itself as soon as they complete, then delivered too.
//
// Peer data is untrusted: limits bound the message size, the number of chunk streams and
// the bytes held in unfinished messages, and the first error is final (no resync: after a
// framing error the rest of the stream is garbage; the caller closes the connection).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/buf.h"
#include "core/rc.h"
#include "rtmp/message.h"

namespace strom::rtmp {

struct ChunkLimits {
    // A header declaring a longer message is an error before anything is allocated.
    uint32_t max_message = 8u << 20;
    // Distinct chunk stream ids one connection may use (state is kept per id).
    uint32_t max_csids = 64;
    // Bytes held in incomplete messages over all chunk streams together.
    size_t max_partial_bytes = size_t(32) << 20;
    // Set Chunk Size below this is an error. Tiny chunks cost a header per byte (Red5
    // #475); the protocol allows 1, so that is the default and a directive may raise it.
    uint32_t min_chunk_size = 1;
};

class ChunkReader {
public:
    explicit ChunkReader(BufPool& pool, const ChunkLimits& limits = {});
    ~ChunkReader();
    ChunkReader(const ChunkReader&) = delete;
    ChunkReader& operator=(const ChunkReader&) = delete;

    // Parses n bytes, calling sink.on_message() for each message completed.
    //   Rc::again  all n bytes consumed (a partial chunk is kept inside); feed more later.
    //   Rc::error  the stream is malformed or over a limit: reason() says why; every later
    //              call returns Rc::error too.
    //   other      what the sink returned when it did not return Rc::ok: parsing stopped
    //              right after that message; *consumed tells where, and the rest of the
    //              input must be fed again later.
    // *consumed is always set to the bytes of `p` used.
    Rc feed(const uint8_t* p, size_t n, size_t* consumed, MessageSink& sink);

    // Why the stream was rejected ("message too big (9000000 > max_message 8388608)"); ""
    // before any error. Valid until the reader dies.
    const char* reason() const { return reason_; }
    uint32_t chunk_size() const { return chunk_size_; }      // incoming, as set by the peer
    size_t partial_bytes() const { return partial_bytes_; }  // held in unfinished messages
    size_t chunk_streams() const { return streams_.size(); }

private:
    struct Stream;
    struct Input {
        const uint8_t* p;
        const uint8_t* end;
    };
    enum class State : uint8_t { basic, header, ext, payload, failed };

    Rc run(Input& in, MessageSink& sink);
    size_t take(Input& in, size_t max, const uint8_t** out);
    bool fill(Input& in);
    Rc on_basic_header();
    Rc on_message_header();
    Rc on_extended_timestamp();
    Rc start_chunk(bool has_ext, uint32_t ext_value);
    Rc read_payload(Input& in, MessageSink& sink);
    Rc deliver(Stream& s, MessageSink& sink);
    Rc apply_control(const Message& m);
    Rc push_back(const uint8_t* p, size_t n);
    Stream* find(uint32_t csid);
    Rc fail(const char* fmt, ...) __attribute__((format(printf, 2, 3)));

    BufPool& pool_;
    ChunkLimits limits_;
    uint32_t chunk_size_ = kDefaultChunkSize;
    size_t partial_bytes_ = 0;
    std::vector<std::unique_ptr<Stream>> streams_;
    uint32_t small_[64] = {};  // csid < 64 (1-byte basic header) -> index + 1 in streams_

    // The chunk being parsed.
    State state_ = State::basic;
    uint8_t hdr_[3 + 11 + 4];  // basic header, message header, extended timestamp
    uint32_t have_ = 0;        // bytes in hdr_
    uint32_t need_ = 1;        // bytes hdr_ must hold before the next step
    uint32_t bh_size_ = 1;
    uint8_t fmt_ = 0;
    bool hdr_ext_ = false;  // the header's timestamp field is the 0xFFFFFF marker
    uint32_t field_ = 0;    // its timestamp (delta) field
    uint32_t len_ = 0;
    uint32_t msid_ = 0;
    uint8_t type_ = 0;
    Stream* cur_ = nullptr;
    uint32_t chunk_left_ = 0;  // payload bytes of the current chunk still to come

    // Bytes taken as a possible extended timestamp that turned out to be data: they are
    // parsed again before any new input.
    uint8_t pend_[8];
    uint32_t pend_pos_ = 0;
    uint32_t pend_len_ = 0;

    const char* reason_ = "";
    char reason_buf_[112];
};

}  // namespace strom::rtmp
