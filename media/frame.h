// One media message of a live stream as every consumer sees it, whatever protocol brought
// it in and whatever protocol takes it out: what it is (type, timestamp, keyframe,
// sequence header), the payload as received (shared pool blocks, never copied per
// consumer), and each output format's framing, built once by the first consumer of that
// format and shared by reference with the others. A source hands the stream one (its
// input form: source timestamps, no framing yet) per message; the stream keeps its own
// copy, with player timestamps, in its GOP cache or on the stack of one delivery.
#pragma once

#include <cstdint>

#include "core/buf.h"

namespace strom::media {

// Message types, with RTMP's and FLV's numbers (FLV TagType = RTMP message type).
namespace frame_type {
inline constexpr uint8_t audio = 8;
inline constexpr uint8_t video = 9;
inline constexpr uint8_t data = 18;  // onMetaData (AMF0 script data), the only data relayed
}  // namespace frame_type

struct Frame {
    uint8_t type = 0;
    bool key = false;   // video keyframe (a GOP starts here)
    bool seq = false;   // a header a joiner needs: codec configuration, E-RTMP video
                        // metadata (HDR), audio multichannel configuration
    bool config = false;  // of those, the codec configuration (AVC/HEVC/AV1 record, AAC ASC)
    uint8_t track = 0;    // E-RTMP multitrack: the (first) track's id
    uint16_t slot = 0;    // which header a sequence header replaces (set by the stream)
    uint32_t ts = 0;    // ms, monotonic across publishers, as players see it
    uint32_t len = 0;   // payload bytes
    BufRef payload;     // the FLV tag body / RTMP message payload

    // Framings per output format, made on first use (see the sinks).
    BufRef rtmp;             // RTMP chunks at the stream's chunk size, message stream 1
    BufRef flv;              // FLV tag: header, payload, PreviousTagSize
    BufRef ws_flv;           // the same FLV tag as one WebSocket binary message
    uint32_t rtmp_size = 0;  // their sizes, so a queue never walks a chain to learn them
    uint32_t flv_size = 0;
    uint32_t ws_flv_size = 0;
};

}  // namespace strom::media
