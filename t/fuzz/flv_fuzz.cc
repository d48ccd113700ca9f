// Fuzzes rtmp::FlvReader with a differential oracle: the input read in one slice, one byte
// at a time, and in pseudo-random pieces (seeded from the input) must give the same tags,
// the same outcome and the same finish(). Every tag body then goes through the codec
// recognisers and, for sequence headers, the configuration record parsers.
// Input: an FLV file as is, so real files are seeds (t/fuzz/corpus/flv/).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "rtmp/codec.h"
#include "rtmp/codec_info.h"
#include "rtmp/flv.h"

using namespace strom;
using namespace strom::rtmp;

#define CHECK(c)                                                 \
    do {                                                         \
        if (!(c)) {                                              \
            fprintf(stderr, "flv_fuzz: check failed: %s\n", #c); \
            abort();                                             \
        }                                                        \
    } while (0)

namespace {

constexpr uint32_t kMaxTag = 64 * 1024;  // small, so the limit path is reachable

struct Outcome {
    uint64_t hash = 1469598103934665603ull;  // FNV-1a over every tag seen
    uint64_t tags = 0;
    uint64_t bad_back_pointers = 0;
    Rc last = Rc::again;
    Rc finish = Rc::again;
    bool operator==(const Outcome&) const = default;
};

void mix(Outcome* o, const void* p, size_t n)
{
    auto* b = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < n; ++i) o->hash = (o->hash ^ b[i]) * 1099511628211ull;
}

void inspect(const FlvTag& t)
{
    char line[160];
    if (t.type == 9) {
        VideoInfo v = parse_video(t.data);
        CHECK(v.malformed || size_t(v.body_offset) + v.body_size <= t.data.size());
        if (!v.malformed && v.sequence_header) {
            VideoConfig c;
            (void)parse_video_config(v.codec, t.data.subspan(v.body_offset, v.body_size), &c);
            CHECK(format_video_config(c, line, sizeof line) > 0);
        }
    } else if (t.type == 8) {
        AudioInfo a = parse_audio(t.data);
        CHECK(a.malformed || size_t(a.body_offset) + a.body_size <= t.data.size());
        if (!a.malformed && a.sequence_header) {
            AudioConfig c;
            (void)parse_audio_config(a.codec, t.data.subspan(a.body_offset, a.body_size), &c);
            CHECK(format_audio_config(c, line, sizeof line) > 0);
        }
    }
}

// Feeds the pieces that next_size() hands out until the input is used up or the reader fails.
template <class NextSize>
Outcome run(std::span<const uint8_t> all, NextSize next_size, bool deep)
{
    FlvReader r(kMaxTag);
    Outcome o;
    uint64_t last_offset = 0;
    size_t pos = 0;
    while (pos < all.size() && o.last != Rc::error) {
        size_t n = std::min(next_size(), all.size() - pos);
        std::span<const uint8_t> in = all.subspan(pos, n);
        pos += n;
        for (;;) {
            FlvTag t;
            o.last = r.next(in, &t);
            if (o.last != Rc::ok) break;
            CHECK(t.data.size() <= kMaxTag);
            CHECK(t.offset >= last_offset && t.offset + 11 + t.data.size() <= pos);
            last_offset = t.offset;
            mix(&o, &t.type, 1);
            mix(&o, &t.timestamp, 4);
            mix(&o, &t.offset, 8);
            mix(&o, &t.bad_back_pointer, 1);
            if (!t.data.empty()) mix(&o, t.data.data(), t.data.size());
            if (deep) inspect(t);
        }
        CHECK(o.last == Rc::error || in.empty());
    }
    o.tags = r.tags();
    o.bad_back_pointers = r.bad_back_pointers();
    o.finish = r.finish();
    CHECK(r.offset() <= all.size());
    CHECK(o.last != Rc::error || (r.reason() && o.finish == Rc::error));
    return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::span<const uint8_t> all(data, size);
    Outcome whole = run(
        all, [&] { return size ? size : 1; }, true);
    if (size <= 4096) {
        Outcome bytes = run(
            all, [] { return size_t(1); }, false);
        CHECK(bytes == whole);
    }
    uint32_t seed = uint32_t(size) * 2654435761u + (size ? data[size - 1] : 0);
    Outcome pieces = run(
        all,
        [&] {
            seed = seed * 1103515245u + 12345u;
            return size_t(1 + (seed >> 16) % 300);
        },
        false);
    CHECK(pieces == whole);
    return 0;
}
