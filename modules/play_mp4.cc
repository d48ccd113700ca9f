// MP4 files for the VOD player: the sample index (modules/mp4_reader.h) shared by every
// player of a file in this worker, the RTMP form of its headers and samples, and the
// cursor over it (Mp4Source). A sample is sent as its FLV body: the 2- to 8-byte
// audio/video tag header this file makes, then the sample bytes read with one pread.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <tuple>

#include "core/bytes.h"
#include "modules/mp4_reader.h"
#include "modules/play_vod.h"
#include "rtmp/amf.h"
#include "rtmp/amf0.h"
#include "rtmp/codec.h"
#include "rtmp/message.h"

namespace strom::mod {

namespace msg_type = rtmp::msg_type;

namespace {

// A file's identity: a rewritten or replaced file is a new entry.
using FileKey = std::tuple<dev_t, ino_t, off_t, int64_t, long>;

FileKey key_of(const struct stat& st)
{
    return FileKey(st.st_dev, st.st_ino, st.st_size, int64_t(st.st_mtim.tv_sec), st.st_mtim.tv_nsec);
}

// Per process, and a worker is one process with one thread: no locking.
std::map<FileKey, std::weak_ptr<const Mp4Index>>& index_cache()
{
    static std::map<FileKey, std::weak_ptr<const Mp4Index>> cache;
    return cache;
}

constexpr uint8_t kAacHeader = 0xaf;   // AAC, 44 kHz, 16 bit, stereo (the flags FLV always has)

// E-RTMP ExVideoTagHeader (enhanced-rtmp v1): IsExHeader, FrameType, PacketType.
constexpr uint8_t kExHeader = 0x80;
constexpr uint8_t kPacketSequenceStart = 0;
constexpr uint8_t kPacketCodedFrames = 1;
constexpr uint8_t kPacketCodedFramesX = 3;

uint8_t frame_type(bool key) { return key ? 0x10 : 0x20; }

class Mp4Source final : public VodSource {
public:
    Mp4Source(UniqueFd fd, const struct stat& st) : fd_(std::move(fd)), st_(st) {}

    Rc open(const char** why) override
    {
        idx_ = mp4_shared_index(fd_.get(), st_, why);
        if (!idx_) return Rc::error;
        headers_ = mp4_headers(*idx_);
        return Rc::ok;
    }

    const VodHeaders& headers() const override { return headers_; }

    // The video keyframe at or before the target; audio-only: the sample at or before it.
    Rc seek(uint32_t target, uint32_t* ts) override
    {
        const std::vector<Mp4Sample>& s = idx_->samples;
        i_ = 0;
        *ts = 0;
        if (target == 0) return Rc::ok;
        if (!idx_->keys.empty()) {
            auto k = std::upper_bound(idx_->keys.begin(), idx_->keys.end(), target,
                                      [&](uint32_t t, uint32_t i) { return t < s[i].dts_ms; });
            if (k != idx_->keys.begin()) i_ = *(k - 1);
        } else if (idx_->video == rtmp::VideoCodec::unknown) {
            auto it = std::upper_bound(s.begin(), s.end(), target,
                                       [](uint32_t t, const Mp4Sample& x) { return t < x.dts_ms; });
            if (it != s.begin()) i_ = size_t(it - s.begin()) - 1;
        }
        if (i_ < s.size()) *ts = s[i_].dts_ms;
        return Rc::ok;
    }

    bool peek(VodItem* it) override
    {
        if (i_ >= idx_->samples.size()) return false;
        const Mp4Sample& x = idx_->samples[i_];
        hdr_len_ = mp4_message_header(*idx_, x.type, x.key, x.cts_ms, hdr_);
        it->type = x.type;
        it->ts = x.dts_ms;
        it->size = uint32_t(hdr_len_ + x.size);
        return true;
    }

    bool read(std::vector<uint8_t>* body) override
    {
        const Mp4Sample& x = idx_->samples[i_];
        body->resize(hdr_len_ + x.size);
        memcpy(body->data(), hdr_, hdr_len_);
        size_t done = 0;
        while (done < x.size) {
            ssize_t n = ::pread(fd_.get(), body->data() + hdr_len_ + done, x.size - done, off_t(x.offset + done));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;   // the file shrank under us
            done += size_t(n);
        }
        return true;
    }

    void next() override { ++i_; }

private:
    UniqueFd fd_;
    struct stat st_;
    std::shared_ptr<const Mp4Index> idx_;
    VodHeaders headers_;
    size_t i_ = 0;
    uint8_t hdr_[8];
    size_t hdr_len_ = 0;
};

}  // namespace

std::shared_ptr<const Mp4Index> mp4_shared_index(int fd, const struct stat& st, const char** why)
{
    auto& cache = index_cache();
    FileKey key = key_of(st);
    auto it = cache.find(key);
    if (it != cache.end()) {
        if (auto idx = it->second.lock()) return idx;
    }
    auto idx = std::make_shared<Mp4Index>();
    int fdv = fd;
    Mp4ReadAt rd{&mp4_pread_fd, &fdv};
    if (mp4_read_index(rd, uint64_t(st.st_size), Mp4Limits(), idx.get(), why) != Rc::ok) return nullptr;
    // Forget the files nobody plays any more, then remember this one.
    for (auto e = cache.begin(); e != cache.end();) e = e->second.expired() ? cache.erase(e) : std::next(e);
    cache[key] = idx;
    return idx;
}

VodHeaders mp4_headers(const Mp4Index& idx)
{
    VodHeaders h;
    h.duration_s = idx.duration_s;
    bool hevc = idx.video == rtmp::VideoCodec::hevc;
    bool video = idx.video != rtmp::VideoCodec::unknown;
    rtmp::AmfValue m = rtmp::AmfValue::ecma_array();
    m.set("duration", rtmp::AmfValue(idx.duration_s));
    if (video) {
        m.set("width", rtmp::AmfValue(double(idx.width)));
        m.set("height", rtmp::AmfValue(double(idx.height)));
        // E-RTMP: a FourCC codec's id is the FourCC as a number.
        m.set("videocodecid", rtmp::AmfValue(double(hevc ? rtmp::fourcc("hvc1") : 7)));
    }
    if (idx.audio) {
        m.set("audiocodecid", rtmp::AmfValue(10.0));
        m.set("audiosamplerate", rtmp::AmfValue(double(idx.sample_rate)));
        m.set("audiochannels", rtmp::AmfValue(double(idx.channels)));
        m.set("stereo", rtmp::AmfValue(idx.channels >= 2));
    }
    rtmp::amf0_put_string(&h.meta, "onMetaData");
    rtmp::amf0_encode(m, &h.meta);

    if (video) {
        if (hevc) {
            h.video_seq.push_back(char(kExHeader | frame_type(true) | kPacketSequenceStart));
            h.video_seq.append("hvc1");
        } else {
            h.video_seq.append("\x17\x00\x00\x00\x00", 5);   // AVC sequence header, cts 0
        }
        h.video_seq.append(idx.video_config.begin(), idx.video_config.end());
    }
    if (idx.audio) {
        h.audio_seq.push_back(char(kAacHeader));
        h.audio_seq.push_back('\0');   // AAC sequence header
        h.audio_seq.append(idx.asc.begin(), idx.asc.end());
    }
    return h;
}

size_t mp4_message_header(const Mp4Index& idx, uint8_t type, bool key, int32_t cts, uint8_t out[8])
{
    if (type == msg_type::audio) {
        out[0] = kAacHeader;
        out[1] = 1;   // raw AAC frame
        return 2;
    }
    uint32_t cts24 = uint32_t(cts) & 0xffffff;   // SI24
    if (idx.video == rtmp::VideoCodec::hevc) {
        bool with_cts = cts != 0;
        out[0] = uint8_t(kExHeader | frame_type(key) | (with_cts ? kPacketCodedFrames : kPacketCodedFramesX));
        memcpy(out + 1, "hvc1", 4);
        if (!with_cts) return 5;
        store_be24(out + 5, cts24);
        return 8;
    }
    out[0] = uint8_t(frame_type(key) | 7);   // AVC
    out[1] = 1;                              // NALU
    store_be24(out + 2, cts24);
    return 5;
}

std::unique_ptr<VodSource> make_mp4_source(UniqueFd fd, const struct stat& st)
{
    return std::make_unique<Mp4Source>(std::move(fd), st);
}

}  // namespace strom::mod
