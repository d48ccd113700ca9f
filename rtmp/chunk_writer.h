// Frames an RTMP message into chunks, once, for every connection that shares an outgoing
// chunk size ("chunk once, send to many"). The result is a chain of pooled blocks headed by
// one BufRef; out-queues hold copies of that BufRef and must never modify the blocks.
//
// Every message starts with a full fmt 0 header and continues with fmt 3 headers: no
// per-connection header compression on output, so all players share the same bytes. When
// the timestamp is >= 0xFFFFFF the extended timestamp follows the fmt 0 header and is
// repeated after every fmt 3 header of the message (RTMP spec 5.3.1.3, as FMS, librtmp and
// ffmpeg expect).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/buf.h"
#include "core/rc.h"
#include "rtmp/message.h"

namespace strom::rtmp {

// Frames `len` payload bytes that start `payload_off` bytes into the chain headed by
// `payload`. Rc::error when chunk_size is 0 or > 0x7FFFFFFF, csid is outside 2..65599, len
// is over 0xFFFFFF, the chain holds fewer bytes, or the pool is exhausted; *out is left
// untouched on error. The payload bytes are copied once into the framed blocks.
Rc frame_message(BufPool& pool, uint32_t chunk_size, const MsgHeader& h, const Block* payload,
                 size_t payload_off, size_t len, BufRef* out);

// The same from contiguous bytes (commands encoded into a local buffer, control messages).
Rc frame_message(BufPool& pool, uint32_t chunk_size, const MsgHeader& h, const void* data,
                 size_t len, BufRef* out);

// Relays a received message as it is (its header, its whole payload).
inline Rc frame_message(BufPool& pool, uint32_t chunk_size, const Message& m, BufRef* out)
{
    return frame_message(pool, chunk_size, m.header(), m.payload.get(), 0, m.length, out);
}

// Bytes frame_message() produces for a message: headers plus payload.
size_t framed_size(uint32_t chunk_size, uint32_t csid, uint32_t timestamp, size_t len);

}  // namespace strom::rtmp
