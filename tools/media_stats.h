// What `play` and `probe` count about a received stream: frames, bytes, keyframes and
// timestamps per track, arrival times of the first frames, and a copy of the latest
// sequence headers and onMetaData (small, rare) for probe's codec details. Fed one
// message at a time; pure apart from the arrival time the caller passes in.
#pragma once

#include <cstdint>
#include <vector>

#include "rtmp/codec.h"
#include "rtmp/message.h"

namespace strom::tools {

struct TrackStats {
    uint64_t frames = 0;  // coded frames (sequence headers not counted)
    uint64_t bytes = 0;   // payload bytes, sequence headers included
    uint64_t keyframes = 0;
    bool any = false;
    uint32_t first_ts = 0;
    uint32_t last_ts = 0;
    uint32_t first_key_ts = 0;
    uint32_t last_key_ts = 0;
    uint64_t backwards = 0;  // frames whose timestamp went back

    // Frames per second of stream time (0 with fewer than two frames).
    double rate() const;
    // Mean keyframe interval in ms of stream time (0 with fewer than two keyframes).
    double key_interval_ms() const;
};

class MediaStats {
public:
    // Counts one audio, video or data message that arrived at now_us.
    void add(const rtmp::Message& m, uint64_t now_us);

    TrackStats audio;
    TrackStats video;
    uint64_t data_messages = 0;
    uint64_t bytes = 0;  // all media payload bytes
    uint64_t first_media_us = 0;
    uint64_t first_video_us = 0;
    uint64_t first_key_us = 0;   // first video key picture: the first decodable frame
    rtmp::VideoInfo video_info;  // of the last video sequence header (or first frame)
    rtmp::AudioInfo audio_info;
    std::vector<uint8_t> video_header;  // the last video sequence header message
    std::vector<uint8_t> audio_header;
    std::vector<uint8_t> metadata;  // the last onMetaData message (AMF0)

private:
    void add_video(const rtmp::Message& m, uint64_t now_us);
    void add_audio(const rtmp::Message& m);
};

// True when an AMF0 data message body starts with the string "onMetaData" (or
// "@setDataFrame", "onMetaData"), the only data message written to FLV or shown.
bool is_metadata(const Block* payload, uint32_t length);

}  // namespace strom::tools
