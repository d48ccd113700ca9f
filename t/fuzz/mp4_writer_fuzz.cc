// Fuzzes the fragmented-MP4 writer with a script of operations taken from the input:
// track setup with arbitrary configuration records (publishers choose them), samples with
// arbitrary timestamps (going back, jumping), sizes and keyframe flags, small fragment
// limits. Whatever the script, the output must be a sequence of boxes that tile exactly,
// bytes() must count them, and the duration patches must lie inside the init segment.
//
// Script: records of [op:1][len:1][dts step:2 BE][len bytes of data].
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "modules/mp4_writer.h"
#include "t/lib/mp4_boxes.h"

using namespace strom;
using namespace strom::mod;

#define CHECK(c)                                                        \
    do {                                                                \
        if (!(c)) {                                                     \
            fprintf(stderr, "mp4_writer_fuzz: check failed: %s\n", #c); \
            abort();                                                    \
        }                                                               \
    } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1) return 0;
    Mp4Writer::Options o;
    o.fragment_ms = data[0] & 0x0f ? 0 : 500;
    o.audio_fragment_ms = 50 + (data[0] >> 4) * 20;
    o.max_fragment_ms = 300 + (data[0] & 0x0f) * 100;
    o.max_fragment_bytes = 64 + (data[0] & 0x0f) * 512;
    Mp4Writer w(o);
    Mp4Writer::Out out;
    size_t init_size = 0;
    uint64_t dts = 0;
    size_t p = 1;
    while (p + 4 <= size) {
        uint8_t op = data[p];
        size_t len = data[p + 1];
        uint16_t step = uint16_t(data[p + 2] << 8 | data[p + 3]);
        p += 4;
        if (len > size - p) len = size - p;
        std::span<const uint8_t> body(data + p, len);
        p += len;
        // a step above 0xf000 goes back in time
        dts = step >= 0xf000 ? (dts > (step & 0xfff) ? dts - (step & 0xfff) : 0) : dts + step;
        switch (op % 8) {
            case 0:
                (void)w.set_video(rtmp::VideoCodec::avc, body);
                break;
            case 1:
                (void)w.set_video(rtmp::VideoCodec::hevc, body);
                break;
            case 2:
                (void)w.set_audio_aac(body);
                break;
            case 3:
                if (w.init_segment(&out) == Rc::ok) init_size = out.size();
                break;
            case 4:
                w.add_video(dts, int32_t(int8_t(op)) * 10, true, body, &out);
                break;
            case 5:
                w.add_video(dts, 0, false, body, &out);
                break;
            case 6:
                w.add_audio(dts, body, &out);
                break;
            case 7:
                w.finish(&out);
                break;
        }
    }
    w.finish(&out);
    CHECK(w.bytes() == out.size());
    std::vector<test::Mp4Box> boxes;
    CHECK(test::mp4_walk(out, &boxes));
    if (!out.empty()) {
        size_t moofs = test::mp4_find(boxes, "moof").size();
        CHECK(moofs == w.fragments());
        CHECK(test::mp4_find(boxes, "mdat").size() == moofs);
    }
    if (w.final_moov()) {
        // Every patch retypes a moof, the last the init moov; then no moof is left.
        for (const Mp4Writer::Patch& pt : w.close_patches()) {
            CHECK(pt.size == 4 && pt.offset >= 4 && pt.offset + 4 <= out.size());
            bool moof = memcmp(&out[pt.offset], "moof", 4) == 0;
            CHECK(moof || (memcmp(&out[pt.offset], "moov", 4) == 0 && pt.offset + 4 <= init_size));
            memcpy(&out[pt.offset], "free", 4);
        }
        boxes.clear();
        CHECK(test::mp4_walk(out, &boxes));
        CHECK(test::mp4_find(boxes, "moof").empty());
        CHECK(test::mp4_find(boxes, "moov").size() == 1);
        CHECK(test::mp4_find(boxes, "moov/mvex").empty());
    } else {
        for (const Mp4Writer::Patch& pt : w.close_patches()) CHECK(pt.offset + pt.size <= init_size);
    }
    return 0;
}
