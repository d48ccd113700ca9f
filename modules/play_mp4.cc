// MP4 files for the VOD player: the sample index (modules/mp4_reader.h) shared by every
// player of a file in this worker and read on a helper thread (Mp4Loader), the RTMP form
// of its headers and samples, and the cursor over it (Mp4Source). A sample is sent as its FLV body: the 2- to 8-byte
// audio/video tag header this file makes, then the sample bytes (modules/vod_file.h).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <tuple>

#include "core/bytes.h"
#include "core/helper_thread.h"
#include "core/log.h"
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

// Reads MP4 indexes on the worker's helper thread (core/helper_thread.h), so that a large
// moov or thousands of moofs on a slow disk never stall the event loop. The players of a
// file that arrive while its index is being read wait for that one read. Loop thread only.
class Mp4Loader {
public:
    static Mp4Loader& get()
    {
        static Mp4Loader* loader = new Mp4Loader;
        return *loader;
    }

    // Rc::again: w is told later. Rc::declined: no helper (read synchronously instead).
    Rc start(EventLoop& loop, int fd, const struct stat& st, Mp4IndexWaiter* w)
    {
        FileKey key = key_of(st);
        auto it = pending_.find(key);
        if (it != pending_.end()) {
            it->second->waiters.push_back(w);
            return Rc::again;
        }
        auto job = std::make_unique<Job>();
        job->fd.reset(fcntl(fd, F_DUPFD_CLOEXEC, 0));
        if (!job->fd) return Rc::declined;
        job->key = key;
        job->size = uint64_t(st.st_size);
        job->waiters.push_back(w);
        if (helper_submit(loop, job.get()) != Rc::ok) return Rc::declined;
        pending_.emplace(key, std::move(job));
        return Rc::again;
    }

    void cancel(Mp4IndexWaiter* w)
    {
        for (auto& [key, job] : pending_) std::erase(job->waiters, w);
        if (finishing_) std::erase(finishing_->waiters, w);
    }

    static void remember(const FileKey& key, const std::shared_ptr<const Mp4Index>& idx)
    {
        auto& cache = index_cache();
        for (auto e = cache.begin(); e != cache.end();) e = e->second.expired() ? cache.erase(e) : std::next(e);
        cache[key] = idx;
    }

private:
    struct Job final : HelperJob {
        FileKey key;
        UniqueFd fd;   // a dup of the player's fd, read by the helper
        uint64_t size = 0;
        std::shared_ptr<Mp4Index> idx;
        const char* why = "";
        Rc rc = Rc::error;
        std::vector<Mp4IndexWaiter*> waiters;

        void run() override
        {
            auto x = std::make_shared<Mp4Index>();
            int fdv = fd.get();
            Mp4ReadAt rd{&mp4_pread_fd, &fdv};
            rc = mp4_read_index(rd, size, Mp4Limits(), x.get(), &why);
            if (rc == Rc::ok) idx = std::move(x);
        }

        void done() override { Mp4Loader::get().finish(key); }
    };

    void finish(const FileKey& key)
    {
        auto it = pending_.find(key);
        std::unique_ptr<Job> job = std::move(it->second);
        pending_.erase(it);
        std::shared_ptr<const Mp4Index> idx;
        if (job->rc == Rc::ok) {
            idx = std::move(job->idx);
            remember(job->key, idx);
        }
        // A waiter may cancel another (or itself) from its callback: take them one by one.
        finishing_ = job.get();
        while (!job->waiters.empty()) {
            Mp4IndexWaiter* w = job->waiters.back();
            job->waiters.pop_back();
            w->index_ready(idx, job->why);
        }
        finishing_ = nullptr;
    }

    std::map<FileKey, std::unique_ptr<Job>> pending_;
    Job* finishing_ = nullptr;   // out of pending_, telling its waiters
};

constexpr uint8_t kAacHeader = 0xaf;   // AAC, 44 kHz, 16 bit, stereo (the flags FLV always has)

// E-RTMP ExVideoTagHeader (enhanced-rtmp v1): IsExHeader, FrameType, PacketType.
constexpr uint8_t kExHeader = 0x80;
constexpr uint8_t kPacketSequenceStart = 0;
constexpr uint8_t kPacketCodedFrames = 1;
constexpr uint8_t kPacketCodedFramesX = 3;

uint8_t frame_type(bool key) { return key ? 0x10 : 0x20; }

class Mp4Source final : public VodSource {
public:
    Mp4Source(UniqueFd fd, const struct stat& st, std::shared_ptr<const Mp4Index> idx)
        : fd_(fd.get()), file_(std::move(fd), uint64_t(st.st_size)), st_(st), idx_(std::move(idx))
    {
    }

    void attach(EventLoop* loop, VodFileWaiter* w) override { file_.attach(loop, w); }
    bool waiting() const override { return file_.waiting(); }

    Rc open(const char** why) override
    {
        if (!idx_) idx_ = mp4_shared_index(fd_, st_, why);
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

    Rc peek(VodItem* it) override
    {
        if (i_ >= idx_->samples.size()) return Rc::done;
        const Mp4Sample& x = idx_->samples[i_];
        hdr_len_ = mp4_message_header(*idx_, x.type, x.key, x.cts_ms, hdr_);
        it->type = x.type;
        it->ts = x.dts_ms;
        it->size = uint32_t(hdr_len_ + x.size);
        return Rc::ok;
    }

    Rc read(std::vector<uint8_t>* body) override
    {
        const Mp4Sample& x = idx_->samples[i_];
        if (body->size() < hdr_len_ + x.size) body->resize(hdr_len_ + x.size);
        memcpy(body->data(), hdr_, hdr_len_);
        return file_.read(x.offset, body->data() + hdr_len_, x.size);   // error: the file shrank
    }

    void next() override { ++i_; }

private:
    int fd_;   // file_'s, for the synchronous index read when none was given
    VodFile file_;
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
    if (auto idx = mp4_cached_index(st)) return idx;
    FileKey key = key_of(st);
    auto idx = std::make_shared<Mp4Index>();
    int fdv = fd;
    Mp4ReadAt rd{&mp4_pread_fd, &fdv};
    if (mp4_read_index(rd, uint64_t(st.st_size), Mp4Limits(), idx.get(), why) != Rc::ok) return nullptr;
    Mp4Loader::remember(key, idx);
    return idx;
}

std::shared_ptr<const Mp4Index> mp4_cached_index(const struct stat& st)
{
    auto& cache = index_cache();
    auto it = cache.find(key_of(st));
    return it != cache.end() ? it->second.lock() : nullptr;
}

Rc mp4_index_async(EventLoop& loop, int fd, const struct stat& st, Mp4IndexWaiter* w,
                   std::shared_ptr<const Mp4Index>* out, const char** why)
{
    if ((*out = mp4_cached_index(st))) return Rc::ok;
    if (Mp4Loader::get().start(loop, fd, st, w) == Rc::again) return Rc::again;
    *out = mp4_shared_index(fd, st, why);
    return *out ? Rc::ok : Rc::error;
}

void mp4_index_cancel(Mp4IndexWaiter* w)
{
    Mp4Loader::get().cancel(w);
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

std::unique_ptr<VodSource> make_mp4_source(UniqueFd fd, const struct stat& st,
                                           std::shared_ptr<const Mp4Index> idx)
{
    return std::make_unique<Mp4Source>(std::move(fd), st, std::move(idx));
}

}  // namespace strom::mod
