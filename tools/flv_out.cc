#include "tools/flv_out.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/buf.h"
#include "rtmp/flv.h"

namespace strom::tools {

namespace {
constexpr size_t kFlushAt = 64 * 1024;
constexpr size_t kFlagsOffset = 4;  // FLV header byte 4: TypeFlagsAudio (4) | TypeFlagsVideo (1)
}  // namespace

FlvOut::~FlvOut()
{
    std::string ignored;
    if (fd_ >= 0) close(&ignored);
}

bool FlvOut::fail(const char* what, std::string* err)
{
    *err = std::string(what) + " \"" + path_ + "\": " + strerror(errno);
    return false;
}

bool FlvOut::open(const std::string& path, std::string* err)
{
    path_ = path;
    if (path == "-") {
        fd_ = STDOUT_FILENO;
        own_fd_ = false;
    } else {
        fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd_ < 0) return fail("cannot create", err);
        own_fd_ = true;
    }
    // Both flags until we know better: a reader that trusts them looks for both tracks.
    buf_.resize(rtmp::kFlvFileStartSize);
    rtmp::flv_write_header(buf_.data(), true, true);
    return true;
}

bool FlvOut::begin_tag(uint8_t type, uint32_t ts, size_t len, std::string* err)
{
    if (fd_ < 0) {
        *err = "output is not open";
        return false;
    }
    if (len > rtmp::kFlvMaxDataSize) {
        *err = "message too large for an FLV tag";
        return false;
    }
    if (!have_ts0_) {
        have_ts0_ = true;
        ts0_ = ts;
    }
    // Relative to the first tag; a message stamped before it (sequence headers sent
    // with the GOP's time by some servers) is clamped to 0 rather than wrapping.
    int32_t rel = int32_t(ts - ts0_);
    uint32_t out_ts = rel < 0 ? 0 : uint32_t(rel);
    size_t at = buf_.size();
    buf_.resize(at + rtmp::kFlvTagHeaderSize);
    rtmp::flv_write_tag_header(buf_.data() + at, type, uint32_t(len), out_ts);
    if (type == 8) saw_audio_ = true;
    if (type == 9) saw_video_ = true;
    return true;
}

bool FlvOut::write_tag(uint8_t type, uint32_t ts, const uint8_t* data, size_t len, std::string* err)
{
    if (!begin_tag(type, ts, len, err)) return false;
    buf_.insert(buf_.end(), data, data + len);
    size_t at = buf_.size();
    buf_.resize(at + rtmp::kFlvBackPointerSize);
    rtmp::flv_write_prev_size(buf_.data() + at, uint32_t(len));
    ++tags_;
    return buf_.size() < kFlushAt || flush(err);
}

bool FlvOut::write_tag(uint8_t type, uint32_t ts, const Block* payload, size_t len,
                       std::string* err)
{
    if (!begin_tag(type, ts, len, err)) return false;
    size_t at = buf_.size();
    buf_.resize(at + len);
    if (chain_copy(payload, 0, buf_.data() + at, len) != len) {
        *err = "message shorter than its header says";
        buf_.resize(at - rtmp::kFlvTagHeaderSize);
        return false;
    }
    at = buf_.size();
    buf_.resize(at + rtmp::kFlvBackPointerSize);
    rtmp::flv_write_prev_size(buf_.data() + at, uint32_t(len));
    ++tags_;
    return buf_.size() < kFlushAt || flush(err);
}

bool FlvOut::flush(std::string* err)
{
    size_t off = 0;
    while (off < buf_.size()) {
        ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            buf_.clear();
            return fail("cannot write", err);
        }
        off += size_t(n);
        bytes_ += uint64_t(n);
    }
    buf_.clear();
    return true;
}

bool FlvOut::close(std::string* err)
{
    if (fd_ < 0) return true;
    bool ok = flush(err);
    if (ok && own_fd_ && (saw_audio_ != saw_video_)) {
        uint8_t flags = uint8_t((saw_audio_ ? 4 : 0) | (saw_video_ ? 1 : 0));
        if (pwrite(fd_, &flags, 1, kFlagsOffset) != 1) ok = fail("cannot write", err);
    }
    if (own_fd_ && ::close(fd_) != 0 && ok) ok = fail("cannot close", err);
    fd_ = -1;
    return ok;
}

}  // namespace strom::tools
