// Fuzz target: the VOD reader's probe of an FLV file's head (modules/play_vod.h) — what
// `play NAME` does first with a file a user supplied: header, onMetaData (duration, the
// keyframe index), sequence headers. Any bytes and any declared file size must give a
// result or an error, never a crash, an over-read or an index that points outside the
// file or goes backwards in time.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "modules/play_vod.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 4) return 0;
    // The first 4 bytes pick the declared file size (the probe may see only a prefix).
    uint32_t extra;
    memcpy(&extra, data, 4);
    data += 4;
    size -= 4;
    uint64_t file_size = uint64_t(size) + (extra & 0xFFFFF);
    strom::mod::FlvFileInfo info;
    const char* why = "";
    strom::Rc rc = strom::mod::flv_probe_head(std::span<const uint8_t>(data, size), file_size, &info, &why);
    if (rc == strom::Rc::ok) {
        if (info.first_tag > file_size || info.media_start > file_size) abort();
        for (size_t i = 0; i < info.index.size(); ++i) {
            if (info.index[i].second >= file_size) abort();
            if (i > 0 && info.index[i].first < info.index[i - 1].first) abort();
        }
    } else if (why == nullptr) {
        abort();   // every refusal says why
    }
    return 0;
}
