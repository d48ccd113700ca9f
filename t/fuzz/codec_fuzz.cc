// Fuzzes the codec recognisers and the configuration record parsers. The whole input is
// taken as a video message, an audio message, and as every kind of configuration record;
// the block-chain overloads must agree with the span ones for a chain cut in blocks of a
// size taken from the input, and every reported body must lie inside the input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "core/buf.h"
#include "rtmp/codec.h"
#include "rtmp/codec_info.h"

using namespace strom;
using namespace strom::rtmp;

#define CHECK(c)                                                   \
    do {                                                           \
        if (!(c)) {                                                \
            fprintf(stderr, "codec_fuzz: check failed: %s\n", #c); \
            abort();                                               \
        }                                                          \
    } while (0)

namespace {

bool same(const VideoInfo& a, const VideoInfo& b)
{
    return a.codec == b.codec && a.frame_type == b.frame_type && a.packet_type == b.packet_type &&
           a.malformed == b.malformed && a.keyframe == b.keyframe &&
           a.sequence_header == b.sequence_header && a.sequence_end == b.sequence_end &&
           a.metadata == b.metadata && a.command == b.command && a.multitrack == b.multitrack &&
           a.track_count == b.track_count && a.track_id == b.track_id && a.fourcc == b.fourcc &&
           a.composition_time == b.composition_time &&
           a.timestamp_nano_offset == b.timestamp_nano_offset && a.body_offset == b.body_offset &&
           a.body_size == b.body_size;
}

bool same(const AudioInfo& a, const AudioInfo& b)
{
    return a.codec == b.codec && a.packet_type == b.packet_type && a.malformed == b.malformed &&
           a.sequence_header == b.sequence_header && a.multitrack == b.multitrack &&
           a.track_count == b.track_count && a.fourcc == b.fourcc &&
           a.timestamp_nano_offset == b.timestamp_nano_offset && a.body_offset == b.body_offset &&
           a.body_size == b.body_size && a.rate_hz == b.rate_hz;
}

void check_video(std::span<const uint8_t> in, const VideoInfo& v)
{
    if (v.malformed) {
        CHECK(v.codec == VideoCodec::unknown && !v.keyframe && !v.sequence_header);
        return;
    }
    CHECK(size_t(v.body_offset) + v.body_size <= in.size());
    VideoTrack tracks[4];
    int n = parse_video_tracks(in, tracks);
    CHECK(v.command ? n == 0 : n == v.track_count || (n > 0xffff && v.track_count == 0xffff));
    for (int i = 0; i < n && i < 4; ++i)
        CHECK(size_t(tracks[i].body_offset) + tracks[i].body_size <= in.size());
    if (v.sequence_header) {
        VideoConfig c;
        (void)parse_video_config(v.codec, in.subspan(v.body_offset, v.body_size), &c);
    }
}

void parse_records(std::span<const uint8_t> in)
{
    char line[160];
    VideoConfig v[8];
    (void)parse_avc_config(in, &v[0]);
    (void)parse_avc_sps(in, &v[1]);
    (void)parse_hevc_config(in, &v[2]);
    (void)parse_hevc_sps(in, &v[3]);
    (void)parse_av1_config(in, &v[4]);
    (void)parse_vp_config(in, &v[5]);
    for (const VideoConfig& c : v) {
        CHECK(format_video_config(c, line, sizeof line) > 0);
        CHECK(c.width <= 65536 && c.height <= 65536);
    }
    AudioConfig a[3];
    (void)parse_aac_config(in, &a[0]);
    (void)parse_opus_head(in, &a[1]);
    (void)parse_flac_streaminfo(in, &a[2]);
    for (const AudioConfig& c : a) CHECK(format_audio_config(c, line, sizeof line) > 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::span<const uint8_t> in(data, size);
    VideoInfo v = parse_video(in);
    AudioInfo a = parse_audio(in);
    check_video(in, v);
    CHECK(a.malformed || size_t(a.body_offset) + a.body_size <= size);
    if (!a.malformed && a.sequence_header) {
        AudioConfig c;
        (void)parse_audio_config(a.codec, in.subspan(a.body_offset, a.body_size), &c);
    }
    parse_records(in);

    BufPool pool(1 + (size ? data[0] % 17 : 0), 1u << 20);
    {
        Chain ch(pool);
        CHECK(ch.append(data, size) == Rc::ok);
        BufRef ref = ch.take();
        CHECK(same(parse_video(ref.get()), v));
        CHECK(same(parse_audio(ref.get()), a));
    }
    CHECK(pool.outstanding() == 0);
    return 0;
}
