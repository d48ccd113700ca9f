// The RTMP side of the media layer's input: one classified RTMP media message (a
// publisher's, or a pulled stream's) as the protocol-neutral frame a live stream takes
// from any source. The payload is shared, not copied; the frame has no framing yet.
#pragma once

#include "media/frame.h"
#include "rtmp/session.h"

namespace strom::rtmp {

media::Frame frame_of(const MediaMsg& m);

}  // namespace strom::rtmp
