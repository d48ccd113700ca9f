// The FLV file `strom-client play -o` writes: the 13-byte file start, then one tag per
// received audio/video/metadata message, its timestamp made relative to the first one
// so the file starts at 0. Buffered (one write(2) per 64 KiB); the header's audio/video
// flags are patched at close when the output is seekable, so ffprobe sees exactly the
// tracks that arrived. Owned by the play command; close() before it dies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace strom {
struct Block;
}

namespace strom::tools {

class FlvOut {
public:
    FlvOut() = default;
    ~FlvOut();
    FlvOut(const FlvOut&) = delete;
    FlvOut& operator=(const FlvOut&) = delete;

    // "-" writes to standard output. False with *err when the file cannot be created.
    bool open(const std::string& path, std::string* err);
    // Writes one tag; the payload is `len` bytes of the chain headed by `payload`.
    // False (and *err) when the write failed or the payload exceeds the FLV 24-bit size.
    bool write_tag(uint8_t type, uint32_t ts, const Block* payload, size_t len, std::string* err);
    bool write_tag(uint8_t type, uint32_t ts, const uint8_t* data, size_t len, std::string* err);
    // Flushes, patches the header flags (seekable outputs) and closes.
    bool close(std::string* err);

    bool is_open() const { return fd_ >= 0; }
    uint64_t tags() const { return tags_; }
    uint64_t bytes() const { return bytes_; }

private:
    bool begin_tag(uint8_t type, uint32_t ts, size_t len, std::string* err);
    bool flush(std::string* err);
    bool fail(const char* what, std::string* err);

    int fd_ = -1;
    bool own_fd_ = false;
    std::string path_;
    std::vector<uint8_t> buf_;
    bool have_ts0_ = false;
    uint32_t ts0_ = 0;
    bool saw_audio_ = false;
    bool saw_video_ = false;
    uint64_t tags_ = 0;
    uint64_t bytes_ = 0;
};

}  // namespace strom::tools
