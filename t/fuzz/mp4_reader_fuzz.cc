// Fuzz target: the MP4 reader's index (modules/mp4_reader.h) of a file a user supplied.
// Any bytes must give an index or an error with a reason, never a crash, an over-read,
// a sample outside the file, samples out of dts order or a key list that disagrees with
// the samples; and the mvhd-only duration (getStreamLength) a sane number or an error.
// Limits are small so that each input runs fast.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

#include "modules/mp4_reader.h"

using namespace strom;
using namespace strom::mod;

#define CHECK(c)                                                        \
    do {                                                                \
        if (!(c)) {                                                     \
            fprintf(stderr, "mp4_reader_fuzz: check failed: %s\n", #c); \
            abort();                                                    \
        }                                                               \
    } while (0)

namespace {

int64_t read_span(void* ctx, uint64_t off, uint8_t* p, size_t n)
{
    auto& file = *static_cast<std::span<const uint8_t>*>(ctx);
    if (off >= file.size()) return 0;
    size_t k = n < file.size() - off ? n : size_t(file.size() - off);
    memcpy(p, file.data() + off, k);
    return int64_t(k);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    Mp4Limits lim;
    lim.max_moov = 1u << 20;
    lim.max_moof = 1u << 20;
    lim.max_samples = 1u << 16;
    lim.max_boxes = 1u << 14;
    std::span<const uint8_t> file(data, size);
    Mp4ReadAt rd{read_span, &file};
    double seconds = -1;
    Rc drc = mp4_read_duration(rd, size, lim, &seconds);
    CHECK(drc == Rc::ok ? seconds >= 0 && seconds < 1e7 : drc == Rc::error);

    Mp4Index x;
    const char* why = nullptr;
    Rc rc = mp4_read_index(std::span<const uint8_t>(data, size), lim, &x, &why);
    if (rc != Rc::ok) {
        CHECK(rc == Rc::error && why != nullptr);
        return 0;
    }
    CHECK(!x.samples.empty() && x.samples.size() <= lim.max_samples);
    CHECK(x.video == rtmp::VideoCodec::unknown || !x.video_config.empty());
    CHECK(!x.audio || !x.asc.empty());
    size_t k = 0;
    for (size_t i = 0; i < x.samples.size(); ++i) {
        const Mp4Sample& s = x.samples[i];
        CHECK(s.size > 0 && s.offset <= size && s.size <= size - s.offset);
        CHECK(s.type == 8 || s.type == 9);
        CHECK(s.type == 9 ? x.video != rtmp::VideoCodec::unknown : x.audio);
        if (i > 0) CHECK(s.dts_ms >= x.samples[i - 1].dts_ms);
        if (s.type == 9 && s.key) {
            CHECK(k < x.keys.size() && x.keys[k] == i);
            ++k;
        }
    }
    CHECK(k == x.keys.size());
    CHECK(x.duration_s >= 0);
    return 0;
}
