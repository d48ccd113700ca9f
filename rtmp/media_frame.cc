#include "rtmp/media_frame.h"

#include "rtmp/message.h"

namespace strom::rtmp {

media::Frame frame_of(const MediaMsg& m)
{
    media::Frame f;
    // onMetaData is script data whatever message type carried it (AMF0 after the session
    // stripped @setDataFrame or an AMF3 format byte).
    f.type = m.is_meta ? media::frame_type::data : m.msg->type;
    f.ts = m.msg->timestamp;
    f.len = m.msg->length;
    f.payload = m.msg->payload;
    if (m.is_video) {
        f.key = m.video.keyframe;
        f.config = m.video.sequence_header;
        f.seq = m.video.sequence_header || m.video.metadata;
        f.track = m.video.track_id;
    } else if (m.is_audio) {
        f.config = m.audio.sequence_header;
        f.seq = m.audio.sequence_header || m.audio.multichannel_config;
        f.track = m.audio.track_id;
    }
    return f;
}

}  // namespace strom::rtmp
