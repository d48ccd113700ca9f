// RTMP messages as the chunk layer delivers and frames them: the message type numbers, the
// reassembled Message (header fields plus a pooled payload chain that it owns one reference
// to), the sink the chunk reader and the aggregate splitter deliver into, and the protocol
// control / user control messages (RTMP spec 5.4, 6.2, 7.1.7) as one value type with a
// builder (framed, ready to queue) and a parser.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/buf.h"
#include "core/rc.h"

namespace strom::rtmp {

// RTMP message type ids (RTMP spec 5.4 and 7.1). Message::type keeps the raw byte because
// unknown types are passed on to the session, which decides; so these are plain constants.
namespace msg_type {
inline constexpr uint8_t set_chunk_size = 1;
inline constexpr uint8_t abort = 2;
inline constexpr uint8_t ack = 3;
inline constexpr uint8_t user_control = 4;
inline constexpr uint8_t window_ack_size = 5;
inline constexpr uint8_t set_peer_bandwidth = 6;
inline constexpr uint8_t audio = 8;
inline constexpr uint8_t video = 9;
inline constexpr uint8_t data_amf3 = 15;
inline constexpr uint8_t shared_object_amf3 = 16;
inline constexpr uint8_t command_amf3 = 17;
inline constexpr uint8_t data_amf0 = 18;
inline constexpr uint8_t shared_object_amf0 = 19;
inline constexpr uint8_t command_amf0 = 20;
inline constexpr uint8_t aggregate = 22;
}  // namespace msg_type

// User Control Message event types (RTMP spec 7.1.7).
namespace uc_event {
inline constexpr uint16_t stream_begin = 0;
inline constexpr uint16_t stream_eof = 1;
inline constexpr uint16_t stream_dry = 2;
inline constexpr uint16_t set_buffer_length = 3;
inline constexpr uint16_t stream_is_recorded = 4;
inline constexpr uint16_t ping_request = 6;
inline constexpr uint16_t ping_response = 7;
}  // namespace uc_event

// Chunk stream ids: 2 is reserved for protocol control messages (RTMP spec 5.3.1.1); the
// largest id the 3-byte basic header can carry is 65599.
inline constexpr uint32_t kControlCsid = 2;
inline constexpr uint32_t kMinCsid = 2;
inline constexpr uint32_t kMaxCsid = 65599;
inline constexpr uint32_t kDefaultChunkSize = 128;       // RTMP spec 5.4.1
inline constexpr uint32_t kMaxMessageLength = 0xFFFFFF;  // 24-bit length field

// What the chunk writer needs to frame one message.
struct MsgHeader {
    uint32_t csid = 0;
    uint8_t type = 0;
    uint32_t msid = 0;
    uint32_t timestamp = 0;
};

// One complete message. `payload` heads a chain holding exactly `length` bytes (empty when
// length is 0); the Message owns one reference, so a sink may keep it (move or copy the
// BufRef) past on_message().
struct Message {
    uint8_t type = 0;
    uint32_t csid = 0;
    uint32_t msid = 0;
    uint32_t timestamp = 0;  // absolute, accumulated from deltas, wraps mod 2^32
    uint32_t length = 0;
    BufRef payload;

    MsgHeader header() const { return MsgHeader{csid, type, msid, timestamp}; }
};

// Receives messages from the chunk reader and the aggregate splitter. Anything but Rc::ok
// stops the producer, which returns that Rc to its caller.
class MessageSink {
public:
    virtual Rc on_message(Message& m) = 0;

protected:
    ~MessageSink() = default;
};

// A protocol control message (types 1-6) or a user control event, decoded or to be sent.
// `value` and `value2` by type:
//   set_chunk_size: value = chunk size      abort: value = csid
//   ack: value = sequence number            window_ack_size: value = window
//   set_peer_bandwidth: value = window, value2 = limit type (0 hard, 1 soft, 2 dynamic)
//   user_control: event; value = stream id (stream begin/eof/dry/is recorded, set buffer
//   length) or timestamp (ping request/response); value2 = buffer ms (set buffer length).
struct Control {
    uint8_t type = 0;
    uint16_t event = 0;
    uint32_t value = 0;
    uint32_t value2 = 0;

    static Control set_chunk_size(uint32_t n) { return {msg_type::set_chunk_size, 0, n, 0}; }
    static Control abort(uint32_t csid) { return {msg_type::abort, 0, csid, 0}; }
    static Control ack(uint32_t sequence) { return {msg_type::ack, 0, sequence, 0}; }
    static Control window_ack_size(uint32_t w) { return {msg_type::window_ack_size, 0, w, 0}; }
    static Control set_peer_bandwidth(uint32_t w, uint8_t limit)
    {
        return {msg_type::set_peer_bandwidth, 0, w, limit};
    }
    static Control user(uint16_t event, uint32_t value, uint32_t value2 = 0)
    {
        return {msg_type::user_control, event, value, value2};
    }
    static Control stream_begin(uint32_t msid) { return user(uc_event::stream_begin, msid); }
    static Control stream_eof(uint32_t msid) { return user(uc_event::stream_eof, msid); }
    static Control stream_dry(uint32_t msid) { return user(uc_event::stream_dry, msid); }
    static Control set_buffer_length(uint32_t msid, uint32_t ms)
    {
        return user(uc_event::set_buffer_length, msid, ms);
    }
    static Control stream_is_recorded(uint32_t msid)
    {
        return user(uc_event::stream_is_recorded, msid);
    }
    static Control ping_request(uint32_t ts) { return user(uc_event::ping_request, ts); }
    static Control ping_response(uint32_t ts) { return user(uc_event::ping_response, ts); }
};

// Frames `c` as one message on csid 2, msid 0, timestamp 0 at the sender's current chunk
// size (a Set Chunk Size goes out at the size in force before it). Rc::error for a type
// that is not 1-6 or a pool that is exhausted; *out is untouched then.
Rc frame_control(BufPool& pool, uint32_t chunk_size, const Control& c, BufRef* out);

// Decodes a message of type 1-6. Rc::declined when m.type is not a control type; Rc::error
// with *reason set when the payload is too short for its type (for user control: 2 bytes
// of event type, then the event's fixed data; unknown events need only the event type, and
// value carries their first 4 data bytes when present). Extra trailing bytes are ignored.
Rc parse_control(const Message& m, Control* out, const char** reason);

const char* msg_type_name(uint8_t type);  // "audio", "command_amf0", ..., "unknown"

}  // namespace strom::rtmp
