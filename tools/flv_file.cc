#include "tools/flv_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "rtmp/codec.h"
#include "rtmp/flv.h"

namespace strom::tools {

namespace {
constexpr uint32_t kDefaultFrameMs = 40;  // seam gap when the file has a single frame
}

FlvFile::~FlvFile()
{
    if (map_) munmap(map_, size_);
}

bool FlvFile::load(const std::string& path, std::string* err)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *err = "cannot open \"" + path + "\": " + strerror(errno);
        return false;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        *err = "\"" + path + "\" is not a regular file";
        return false;
    }
    if (st.st_size < off_t(rtmp::kFlvFileStartSize)) {
        ::close(fd);
        *err = "\"" + path + "\" is not an FLV file (too short)";
        return false;
    }
    void* m = mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    int map_errno = errno;
    ::close(fd);
    if (m == MAP_FAILED) {
        *err = "cannot read \"" + path + "\": " + strerror(map_errno);
        return false;
    }
    map_ = m;
    base_ = static_cast<const uint8_t*>(m);
    size_ = size_t(st.st_size);
    if (!index(err)) {
        *err = "\"" + path + "\": " + *err;
        return false;
    }
    return true;
}

bool FlvFile::load_bytes(std::span<const uint8_t> bytes, std::string* err)
{
    base_ = bytes.data();
    size_ = bytes.size();
    return index(err);
}

bool FlvFile::index(std::string* err)
{
    rtmp::FlvReader r;
    std::span<const uint8_t> in(base_, size_);
    rtmp::FlvTag t;
    Rc rc;
    uint32_t last_ts = 0, last_video_ts = 0, first_video_ts = 0;
    bool any = false;
    while ((rc = r.next(in, &t)) == Rc::ok) {
        if (t.filter || (t.type != 8 && t.type != 9 && t.type != 18))
            continue;  // encrypted / unknown
        if (t.data.data() < base_ || t.data.data() + t.data.size() > base_ + size_) continue;
        FlvFileTag ft;
        ft.type = t.type;
        ft.ts = t.timestamp;
        ft.offset = uint64_t(t.data.data() - base_);
        ft.size = uint32_t(t.data.size());
        if (t.type == 9) {
            rtmp::VideoInfo vi = rtmp::parse_video(t.data);
            ft.key = vi.keyframe;
            ft.config = vi.sequence_header || vi.metadata;
            if (!ft.config && !vi.command) {
                if (video_frames_ == 0) first_video_ts = t.timestamp;
                last_video_ts = t.timestamp;
                ++video_frames_;
            }
        } else if (t.type == 8) {
            rtmp::AudioInfo ai = rtmp::parse_audio(t.data);
            ft.config = ai.sequence_header || ai.multichannel_config;
            if (!ft.config) ++audio_frames_;
        } else {
            ft.config = true;
        }
        if (!any || int32_t(t.timestamp - first_ts_) < 0) first_ts_ = t.timestamp;
        any = true;
        if (int32_t(t.timestamp - last_ts) > 0) last_ts = t.timestamp;
        media_bytes_ += t.data.size();
        tags_.push_back(ft);
    }
    if (rc == Rc::error) {
        *err = std::string("not a valid FLV file: ") + (r.reason() ? r.reason() : "parse error");
        if (tags_.empty()) return false;
        truncated_ = true;  // keep what came before the damage
    } else if (r.finish() != Rc::ok) {
        truncated_ = true;
    }
    if (!r.header_done()) {
        *err = "not an FLV file";
        return false;
    }
    if (video_frames_ == 0 && audio_frames_ == 0) {
        *err = "no audio or video frames in the file";
        return false;
    }
    uint32_t frame = kDefaultFrameMs;
    if (video_frames_ > 1 && last_video_ts > first_video_ts) {
        frame = (last_video_ts - first_video_ts) / (video_frames_ - 1);
        if (frame == 0) frame = 1;
    }
    loop_span_ = (last_ts - first_ts_) + frame;
    return true;
}

bool FlvCursor::peek(const FlvFileTag** tag, uint32_t* out_ts) const
{
    const auto& tags = file_->tags();
    if (next_ >= tags.size()) return false;  // end (a looping cursor wraps in advance())
    const FlvFileTag& t = tags[next_];
    *tag = &t;
    *out_ts = base_ + (t.ts - file_->first_ts());
    return true;
}

void FlvCursor::advance()
{
    const auto& tags = file_->tags();
    if (next_ >= tags.size()) return;
    last_ts_ = base_ + (tags[next_].ts - file_->first_ts());
    if (++next_ == tags.size() && loop_) {
        next_ = 0;
        base_ += file_->loop_span_ms();
        ++loops_;
    }
}

}  // namespace strom::tools
