// Splits an Aggregate message (type 22, RTMP spec 7.1.6) into the audio, video and data
// messages it carries. Each sub-message is laid out as an FLV tag: type (1), data size
// (3), timestamp (3) + timestamp extended (1, the upper 8 bits), stream id (3), data, and
// a 4-byte back pointer, as FMS, Wowza and ffmpeg write them. Sub-payloads are copied into
// new pooled chains, so they outlive the aggregate.
#pragma once

#include "core/buf.h"
#include "core/rc.h"
#include "rtmp/message.h"

namespace strom::rtmp {

// Validates the whole aggregate first (every sub-message must fit in the parent; the last
// back pointer may be missing; no nested aggregate), then delivers each audio, video and
// data sub-message to `sink` in order, with the aggregate's csid and msid and timestamps
// rebased: sub_ts - first_sub_ts + aggregate_ts (mod 2^32). Other sub-message types are
// skipped. Rc::ok when all were delivered; Rc::error with *reason for a malformed aggregate
// (nothing delivered) or an exhausted pool; otherwise the first non-ok Rc of the sink.
Rc split_aggregate(BufPool& pool, const Message& agg, MessageSink& sink, const char** reason);

}  // namespace strom::rtmp
