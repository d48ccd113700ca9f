#include "tools/media_stats.h"

#include <cstring>

#include "core/buf.h"

namespace strom::tools {

namespace {

void note_ts(TrackStats& t, uint32_t ts)
{
    if (!t.any) {
        t.any = true;
        t.first_ts = t.last_ts = ts;
        return;
    }
    if (int32_t(ts - t.last_ts) < 0) {
        ++t.backwards;
        return;
    }
    t.last_ts = ts;
}

std::vector<uint8_t> copy_payload(const rtmp::Message& m)
{
    std::vector<uint8_t> v(m.length);
    if (m.length) chain_copy(m.payload.get(), 0, v.data(), v.size());
    return v;
}

}  // namespace

double TrackStats::rate() const
{
    if (frames < 2 || last_ts == first_ts) return 0;
    return double(frames - 1) * 1000.0 / double(last_ts - first_ts);
}

double TrackStats::key_interval_ms() const
{
    if (keyframes < 2) return 0;
    return double(last_key_ts - first_key_ts) / double(keyframes - 1);
}

bool is_metadata(const Block* payload, uint32_t length)
{
    static constexpr char kOnMeta[] = "\x02\x00\x0aonMetaData";
    static constexpr char kSetDataFrame[] = "\x02\x00\x0d@setDataFrame";
    uint8_t head[32];
    size_t n = chain_copy(payload, 0, head, length < sizeof(head) ? length : sizeof(head));
    if (n >= 13 && memcmp(head, kOnMeta, 13) == 0) return true;
    return n >= 29 && memcmp(head, kSetDataFrame, 16) == 0 && memcmp(head + 16, kOnMeta, 13) == 0;
}

void MediaStats::add(const rtmp::Message& m, uint64_t now_us)
{
    if (m.type == rtmp::msg_type::video) {
        add_video(m, now_us);
    } else if (m.type == rtmp::msg_type::audio) {
        add_audio(m);
    } else {
        ++data_messages;
        if (m.type == rtmp::msg_type::data_amf0 && is_metadata(m.payload.get(), m.length)) {
            metadata = copy_payload(m);
        }
        return;
    }
    bytes += m.length;
    if (!first_media_us) first_media_us = now_us;
}

void MediaStats::add_video(const rtmp::Message& m, uint64_t now_us)
{
    rtmp::VideoInfo vi = rtmp::parse_video(m.payload.get());
    video.bytes += m.length;
    if (vi.sequence_header) {
        video_info = vi;
        video_header = copy_payload(m);
        return;
    }
    if (vi.command || vi.metadata || vi.sequence_end) return;
    if (video_info.codec == rtmp::VideoCodec::unknown) video_info = vi;
    ++video.frames;
    note_ts(video, m.timestamp);
    if (!first_video_us) first_video_us = now_us;
    if (vi.keyframe) {
        if (!first_key_us) first_key_us = now_us;
        if (video.keyframes == 0) video.first_key_ts = m.timestamp;
        video.last_key_ts = m.timestamp;
        ++video.keyframes;
    }
}

void MediaStats::add_audio(const rtmp::Message& m)
{
    rtmp::AudioInfo ai = rtmp::parse_audio(m.payload.get());
    audio.bytes += m.length;
    if (ai.sequence_header) {
        audio_info = ai;
        audio_header = copy_payload(m);
        return;
    }
    if (audio_info.codec == rtmp::AudioCodec::unknown) audio_info = ai;
    ++audio.frames;
    note_ts(audio, m.timestamp);
}

}  // namespace strom::tools
