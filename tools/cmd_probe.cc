// strom-client probe URL: plays for a few seconds and reports what the stream carries:
// codecs and profiles (from the sequence headers), resolution, frame rate, audio rate and
// channels, bitrates, keyframe interval, metadata and the time to the first frame.
#include <cmath>
#include <cstdio>

#include "rtmp/amf0.h"
#include "rtmp/codec_info.h"
#include "tools/client_args.h"
#include "tools/client_loop.h"
#include "tools/commands.h"
#include "tools/json_text.h"
#include "tools/media_stats.h"
#include "tools/play_client.h"

namespace strom::tools {

namespace {

class ProbeSink final : public MediaHandler {
public:
    void on_media(rtmp::Message& m, uint64_t now_us) override { stats.add(m, now_us); }
    MediaStats stats;
};

struct ProbeReport {
    double connect_ms = -1, first_frame_ms = -1, first_media_ms = -1, secs = 0;
    std::string video, audio;  // one-line codec descriptions
    rtmp::VideoConfig vc;
    rtmp::AudioConfig ac;
    std::vector<std::pair<std::string, std::string>> meta;
};

std::string meta_value(const rtmp::AmfValue& v)
{
    char buf[64];
    if (v.is_number()) {
        double d = v.num();
        if (std::fabs(d - std::round(d)) < 1e-9 && std::fabs(d) < 1e15) {
            snprintf(buf, sizeof(buf), "%.0f", d);
        } else {
            snprintf(buf, sizeof(buf), "%.3f", d);
        }
        return buf;
    }
    if (v.is_boolean()) return v.as_bool() ? "true" : "false";
    if (v.is_string()) return std::string(v.str());
    return v.dump();
}

void describe_video(const MediaStats& s, ProbeReport* r)
{
    if (!s.video.frames && s.video_header.empty()) return;
    const rtmp::VideoInfo& vi = s.video_info;
    char line[160];
    if (!s.video_header.empty() && vi.body_offset + vi.body_size <= s.video_header.size() &&
        parse_video_config(vi.codec, {s.video_header.data() + vi.body_offset, vi.body_size},
                           &r->vc) == Rc::ok) {
        format_video_config(r->vc, line, sizeof(line));
        r->video = line;
    } else {
        r->vc.codec = vi.codec;
        r->video = std::string(rtmp::video_codec_name(vi.codec)) +
                   (s.video_header.empty() ? " (no sequence header seen)"
                                           : " (sequence header not understood)");
    }
}

void describe_audio(const MediaStats& s, ProbeReport* r)
{
    if (!s.audio.frames && s.audio_header.empty()) return;
    const rtmp::AudioInfo& ai = s.audio_info;
    char line[160];
    if (!s.audio_header.empty() && ai.body_offset + ai.body_size <= s.audio_header.size() &&
        parse_audio_config(ai.codec, {s.audio_header.data() + ai.body_offset, ai.body_size},
                           &r->ac) == Rc::ok) {
        format_audio_config(r->ac, line, sizeof(line));
        r->audio = line;
        return;
    }
    r->ac.codec = ai.codec;
    r->ac.sample_rate = ai.rate_hz;
    r->ac.channels = ai.channels;
    r->ac.bits = ai.bits;
    snprintf(line, sizeof(line), "%s %uHz %uch", rtmp::audio_codec_name(ai.codec), ai.rate_hz,
             ai.channels);
    r->audio = line;
}

void describe_metadata(const MediaStats& s, ProbeReport* r)
{
    if (s.metadata.empty()) return;
    std::vector<rtmp::AmfValue> vals;
    rtmp::AmfDecodeState st;
    const char* why = nullptr;
    if (amf0_decode_all(s.metadata.data(), s.metadata.size(), &vals, st, &why) != Rc::ok) return;
    for (const rtmp::AmfValue& v : vals) {
        if (!v.is_object()) continue;
        for (const rtmp::AmfProp& p : v.props()) r->meta.emplace_back(p.key, meta_value(p.value));
    }
}

void print_text(const ProbeReport& r, const MediaStats& s, const RtmpUrl& url)
{
    printf("stream        %s\n", url.text().c_str());
    printf("connect       %.1f ms (handshake, connect, createStream, play)\n", r.connect_ms);
    if (r.first_frame_ms >= 0) {
        printf("first frame   %.1f ms (first video keyframe after connecting)\n", r.first_frame_ms);
    } else if (r.first_media_ms >= 0) {
        printf("first frame   none (first media after %.1f ms, no video keyframe)\n",
               r.first_media_ms);
    } else {
        printf("first frame   none: no media arrived in %.1fs\n", r.secs);
    }
    if (!r.video.empty()) {
        printf("video         %s\n", r.video.c_str());
        printf("  frame rate  %.2f fps (measured)\n", s.video.rate());
        if (s.video.keyframes >= 2) {
            printf("  keyframes   every %.2f s\n", s.video.key_interval_ms() / 1000.0);
        } else {
            printf("  keyframes   %llu seen (probe longer for the interval)\n",
                   (unsigned long long)s.video.keyframes);
        }
        printf("  bitrate     %.0f kbit/s\n",
               r.secs > 0 ? double(s.video.bytes) * 8 / 1000 / r.secs : 0.0);
    } else {
        printf("video         none\n");
    }
    if (!r.audio.empty()) {
        printf("audio         %s\n", r.audio.c_str());
        printf("  bitrate     %.0f kbit/s (%.1f frames/s)\n",
               r.secs > 0 ? double(s.audio.bytes) * 8 / 1000 / r.secs : 0.0, s.audio.rate());
    } else {
        printf("audio         none\n");
    }
    printf("total         %.0f kbit/s over %.1fs\n",
           r.secs > 0 ? double(s.bytes) * 8 / 1000 / r.secs : 0.0, r.secs);
    if (r.meta.empty()) {
        printf("metadata      none\n");
    } else {
        printf("metadata\n");
        for (const auto& [k, v] : r.meta) printf("  %-16s %s\n", k.c_str(), v.c_str());
    }
}

void print_json(const ProbeReport& r, const MediaStats& s, const RtmpUrl& url)
{
    double vbr = r.secs > 0 ? double(s.video.bytes) * 8 / 1000 / r.secs : 0;
    double abr = r.secs > 0 ? double(s.audio.bytes) * 8 / 1000 / r.secs : 0;
    printf("{\"stream\":%s,\"connect_ms\":%.1f,\"first_frame_ms\":%.1f,\"seconds\":%.2f,\n",
           json_str(url.text()).c_str(), r.connect_ms, r.first_frame_ms, r.secs);
    printf(
        " \"video\":{\"description\":%s,\"codec\":%s,\"width\":%u,\"height\":%u,\"profile\":%u,"
        "\"level\":%u,\"fps\":%.2f,\"keyframe_interval_s\":%.2f,\"kbps\":%.0f,\"frames\":%llu},\n",
        json_str(r.video).c_str(),
        json_str(r.video.empty() ? "" : rtmp::video_codec_name(r.vc.codec)).c_str(), r.vc.width,
        r.vc.height, r.vc.profile, r.vc.level, s.video.rate(), s.video.key_interval_ms() / 1000,
        vbr, (unsigned long long)s.video.frames);
    printf(
        " \"audio\":{\"description\":%s,\"codec\":%s,\"sample_rate\":%u,\"channels\":%u,\"kbps\":%."
        "0f,"
        "\"frames\":%llu},\n",
        json_str(r.audio).c_str(),
        json_str(r.audio.empty() ? "" : rtmp::audio_codec_name(r.ac.codec)).c_str(),
        r.ac.sample_rate, r.ac.channels, abr, (unsigned long long)s.audio.frames);
    printf(" \"kbps\":%.0f,\"metadata\":{", r.secs > 0 ? double(s.bytes) * 8 / 1000 / r.secs : 0.0);
    for (size_t i = 0; i < r.meta.size(); ++i) {
        printf("%s%s:%s", i ? "," : "", json_str(r.meta[i].first).c_str(),
               json_str(r.meta[i].second).c_str());
    }
    printf("}}\n");
}

}  // namespace

int cmd_probe(const Args& args)
{
    if (wants_help(args, "probe")) return kExitOk;
    ProbeArgs a;
    std::string err;
    if (!parse_probe_args(args, &a, &err)) {
        print_error(err);
        fputs(client_usage("probe"), stderr);
        return kExitUsage;
    }
    Target target;
    if (!resolve_target(a.url, &target, &err)) {
        print_error(err);
        return kExitFailed;
    }
    ClientLoop cl(16, a.common.verbose);
    if (!cl.ok()) {
        print_error("cannot set up the event loop");
        return kExitFailed;
    }
    ProbeSink sink;
    PlayClient c(cl, target, a.url, a.common.timeout_ms, &sink);
    if (!c.start()) {
        print_error(c.error());
        return kExitFailed;
    }
    uint64_t play_start = 0;
    while (!c.finished() && !cl.interrupted()) {
        cl.turn(50);
        uint64_t now = cl.loop().now();
        if (c.state() == PlayClient::State::playing && !play_start) play_start = now;
        if (play_start && now - play_start >= a.duration_ms) c.stop();
    }
    uint64_t end = cl.loop().now();
    cl.close_all("exiting");
    if (c.state() == PlayClient::State::failed) {
        print_error(c.error());
        return kExitFailed;
    }
    const MediaStats& s = sink.stats;
    ProbeReport r;
    r.secs = play_start ? double(end - play_start) / 1000.0 : 0;
    if (c.ready_us()) r.connect_ms = double(c.ready_us() - c.connect_start_us()) / 1000.0;
    if (s.first_key_us) r.first_frame_ms = double(s.first_key_us - c.connect_start_us()) / 1000.0;
    if (s.first_media_us)
        r.first_media_ms = double(s.first_media_us - c.connect_start_us()) / 1000.0;
    describe_video(s, &r);
    describe_audio(s, &r);
    describe_metadata(s, &r);
    if (a.json) {
        print_json(r, s, a.url);
    } else {
        print_text(r, s, a.url);
    }
    return s.bytes ? kExitOk : kExitFailed;
}

}  // namespace strom::tools
