// An FLV file loaded for publishing: the file is mapped read-only and indexed once (one
// small entry per tag, classified by the rtmp/ codec layer), so many publishers of the
// bench can share one copy and a publisher never reads from disk on its send path.
// Owned by the command that loaded it; outlives every FlvCursor over it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace strom::tools {

struct FlvFileTag {
    uint8_t type = 0;     // 8 audio, 9 video, 18 script data
    bool key = false;     // video key picture (a GOP starts here)
    bool config = false;  // codec sequence header / configuration, or metadata
    uint32_t ts = 0;      // as in the file
    uint64_t offset = 0;  // payload offset in the file
    uint32_t size = 0;
};

class FlvFile {
public:
    FlvFile() = default;
    ~FlvFile();
    FlvFile(const FlvFile&) = delete;
    FlvFile& operator=(const FlvFile&) = delete;

    // Maps and indexes `path`. False with *err ("cannot open ...: No such file", "not an
    // FLV file: bad signature", "no audio or video tags") on failure.
    bool load(const std::string& path, std::string* err);
    // The same over bytes the caller keeps alive (tests).
    bool load_bytes(std::span<const uint8_t> bytes, std::string* err);

    const std::vector<FlvFileTag>& tags() const { return tags_; }
    std::span<const uint8_t> payload(const FlvFileTag& t) const
    {
        return {base_ + t.offset, t.size};
    }
    uint32_t first_ts() const { return first_ts_; }
    // Timestamp span of the file plus one frame interval: what a loop adds.
    uint32_t loop_span_ms() const { return loop_span_; }
    uint64_t media_bytes() const { return media_bytes_; }
    uint32_t video_frames() const { return video_frames_; }
    uint32_t audio_frames() const { return audio_frames_; }
    bool truncated() const { return truncated_; }  // ended inside a tag (the rest is used)

private:
    bool index(std::string* err);

    const uint8_t* base_ = nullptr;
    size_t size_ = 0;
    void* map_ = nullptr;
    std::vector<FlvFileTag> tags_;
    uint32_t first_ts_ = 0;
    uint32_t loop_span_ = 0;
    uint64_t media_bytes_ = 0;
    uint32_t video_frames_ = 0;
    uint32_t audio_frames_ = 0;
    bool truncated_ = false;
};

// A publisher's position in an FlvFile: the next tag and the timestamp to send it with.
// Looping rebases timestamps so they keep increasing across the seam (players and the
// server's GOP logic never see time go back).
class FlvCursor {
public:
    FlvCursor(const FlvFile& f, bool loop) : file_(&f), loop_(loop) {}

    // False at the end of the file (never when looping).
    bool peek(const FlvFileTag** tag, uint32_t* out_ts) const;
    void advance();
    uint64_t loops() const { return loops_; }
    // Media time sent so far, in ms of stream time (for the status line).
    uint32_t position_ms() const { return last_ts_; }

private:
    const FlvFile* file_;
    bool loop_;
    size_t next_ = 0;
    uint32_t base_ = 0;  // added to (tag.ts - first_ts)
    uint32_t last_ts_ = 0;
    uint64_t loops_ = 0;
};

}  // namespace strom::tools
