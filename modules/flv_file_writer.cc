#include "modules/flv_file_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/bytes.h"
#include "rtmp/amf0.h"
#include "rtmp/flv.h"

namespace strom::mod {

using rtmp::AmfValue;

namespace {

constexpr uint8_t kTagScript = 18;
constexpr size_t kPadOverhead = 2 + 7 + 1 + 4;   // key "padding", strict array marker, count

// Properties whose values we compute: the publisher's are dropped.
bool owned_key(std::string_view k)
{
    return k == "duration" || k == "filesize" || k == "keyframes" || k == "padding" ||
           k == "lasttimestamp" || k == "lastkeyframetimestamp" || k == "lastkeyframelocation" ||
           k == "canSeekToEnd" || k == "hasKeyframes";
}

void put_number_array(std::string* out, std::span<const double> v)
{
    out->push_back(char(0x0a));   // AMF0 2.12 strict array: U32 count, then the values
    uint8_t n[4];
    store_be32(n, uint32_t(v.size()));
    out->append(reinterpret_cast<char*>(n), 4);
    for (double d : v) rtmp::amf0_put_number(out, d);
}

// The publisher's properties, AMF0-encoded as key/value pairs, and how many there are.
size_t publisher_props(std::string_view meta, std::string* out)
{
    if (meta.empty()) return 0;
    std::vector<AmfValue> vals;
    rtmp::AmfDecodeState st;
    const char* why = nullptr;
    if (rtmp::amf0_decode_all(reinterpret_cast<const uint8_t*>(meta.data()), meta.size(), &vals, st,
                              &why) != Rc::ok) {
        return 0;
    }
    const AmfValue* obj = nullptr;
    for (const AmfValue& v : vals) {
        if (v.is_object()) {
            obj = &v;
            break;
        }
    }
    if (!obj) return 0;
    size_t n = 0;
    for (const rtmp::AmfProp& p : obj->props()) {
        if (owned_key(p.key) || p.key.size() > 65535) continue;
        rtmp::amf0_put_key(out, p.key);
        rtmp::amf0_encode(p.value, out);
        ++n;
    }
    return n;
}

}  // namespace

std::string flv_meta_body(std::string_view publisher_meta, double duration_s, double filesize,
                          std::span<const double> times, std::span<const double> positions,
                          size_t pad_to)
{
    std::string props;
    size_t count = publisher_props(publisher_meta, &props) + 3 + (pad_to ? 1 : 0);
    std::string b;
    rtmp::amf0_put_string(&b, "onMetaData");
    b.push_back(char(0x08));   // AMF0 2.10 ECMA array: U32 associative count, then pairs
    uint8_t n[4];
    store_be32(n, uint32_t(count));
    b.append(reinterpret_cast<char*>(n), 4);
    rtmp::amf0_put_key(&b, "duration");
    rtmp::amf0_put_number(&b, duration_s);
    rtmp::amf0_put_key(&b, "filesize");
    rtmp::amf0_put_number(&b, filesize);
    b += props;
    rtmp::amf0_put_key(&b, "keyframes");
    rtmp::amf0_put_object_begin(&b);
    rtmp::amf0_put_key(&b, "times");
    put_number_array(&b, times);
    rtmp::amf0_put_key(&b, "filepositions");
    put_number_array(&b, positions);
    rtmp::amf0_put_object_end(&b);
    if (pad_to) {
        // Nulls carry no metadata a player would show; one byte each pads exactly.
        size_t fill = pad_to >= b.size() + kPadOverhead + 3 ? pad_to - b.size() - kPadOverhead - 3 : 0;
        rtmp::amf0_put_key(&b, "padding");
        b.push_back(char(0x0a));
        store_be32(n, uint32_t(fill));
        b.append(reinterpret_cast<char*>(n), 4);
        b.append(fill, char(0x05));
    }
    rtmp::amf0_put_object_end(&b);
    return b;
}

size_t flv_meta_reserve(std::string_view publisher_meta, uint32_t capacity)
{
    std::string base = flv_meta_body(publisher_meta, 0, 0, {}, {}, 0);
    return base.size() + size_t(capacity) * 18 + kPadOverhead;
}

FlvFileWriter::~FlvFileWriter() = default;

Rc FlvFileWriter::open(const std::string& path, const Options& o, std::string_view publisher_meta,
                       const char** what)
{
    path_ = path;
    capacity_ = o.index_capacity ? o.index_capacity : 1;
    stride_ = 1;
    kf_seen_ = 0;
    kf_times_.clear();
    kf_pos_.clear();
    size_ = 0;
    meta_offset_ = 0;
    last_ts_ = 0;
    append_base_ = 0;
    publisher_meta_.assign(publisher_meta);
    // Not O_APPEND: Linux pwrite ignores the offset on O_APPEND files, and the final
    // metadata rewrite needs it. Writes are sequential from the current offset.
    // The open (and, appending, the read of the last tag) stays on the caller's thread:
    // once per file, and what follows depends on it.
    int flags = O_CREAT | O_CLOEXEC | (o.append ? O_RDWR : O_WRONLY | O_TRUNC);
    UniqueFd fd(::open(path.c_str(), flags, 0644));
    if (!fd) {
        *what = "open";
        return Rc::error;
    }
    if (o.append) {
        off_t end = ::lseek(fd.get(), 0, SEEK_END);
        if (end < 0) {
            *what = "seek";
            return Rc::error;
        }
        size_ = uint64_t(end);
        if (size_ > 0) {
            if (read_append_base(fd.get(), what) != Rc::ok) return Rc::error;
            sink_.open(std::move(fd), o.loop, o.max_queue, o.handler);
            return Rc::ok;
        }
    }
    sink_.open(std::move(fd), o.loop, o.max_queue, o.handler);
    uint8_t head[rtmp::kFlvFileStartSize];
    rtmp::flv_write_header(head, o.audio, o.video);
    meta_reserve_ = flv_meta_reserve(publisher_meta_, capacity_);
    std::string body = flv_meta_body(publisher_meta_, 0, 0, {}, {}, meta_reserve_);
    uint8_t th[rtmp::kFlvTagHeaderSize], bp[rtmp::kFlvBackPointerSize];
    rtmp::flv_write_tag_header(th, kTagScript, uint32_t(body.size()), 0);
    rtmp::flv_write_prev_size(bp, uint32_t(body.size()));
    std::vector<uint8_t> start(sizeof head + sizeof th + body.size() + sizeof bp);
    uint8_t* w = start.data();
    memcpy(w, head, sizeof head);
    memcpy(w += sizeof head, th, sizeof th);
    memcpy(w += sizeof th, body.data(), body.size());
    memcpy(w + body.size(), bp, sizeof bp);
    meta_offset_ = sizeof head + sizeof th;
    size_t n = start.size();
    Rc rc = sink_.append(std::move(start), what, false);
    if (rc == Rc::ok) size_ += n;
    return rc;
}

// Appending: the new tags continue after the last timestamp in the file, read from the
// last back pointer (FLV E.3) and the tag header it points to.
Rc FlvFileWriter::read_append_base(int fd, const char** what)
{
    *what = "read";
    uint8_t head[rtmp::kFlvHeaderSize];
    if (::pread(fd, head, sizeof head, 0) != ssize_t(sizeof head) || memcmp(head, "FLV", 3) != 0) {
        errno = EINVAL;   // not an FLV file: refuse rather than append to it
        return Rc::error;
    }
    uint8_t bp[4];
    if (size_ < rtmp::kFlvFileStartSize + rtmp::kFlvTagHeaderSize + 4 ||
        ::pread(fd, bp, 4, off_t(size_ - 4)) != 4) {
        return Rc::ok;   // no tag yet: timestamps start at 0
    }
    uint32_t prev = load_be32(bp);
    if (prev < rtmp::kFlvTagHeaderSize || prev > size_ - 4 - rtmp::kFlvFileStartSize) return Rc::ok;
    uint8_t th[rtmp::kFlvTagHeaderSize];
    if (::pread(fd, th, sizeof th, off_t(size_ - 4 - prev)) != ssize_t(sizeof th)) return Rc::ok;
    rtmp::FlvTagHeader h = rtmp::flv_parse_tag_header(th);
    if (h.data_size + rtmp::kFlvTagHeaderSize == prev) append_base_ = h.timestamp;
    last_ts_ = append_base_;
    return Rc::ok;
}

// One whole tag; the size counts only what the sink took.
Rc FlvFileWriter::append(std::span<const uint8_t> head, const Block* chain, std::span<const uint8_t> tail,
                         const char** what)
{
    size_t n = head.size() + tail.size();
    for (const Block* b = chain; b; b = b->next) n += b->size();
    Rc rc = sink_.append(head, chain, tail, what);
    if (rc == Rc::again) *what = "queue";
    if (rc == Rc::ok) size_ += n;
    return rc;
}

void FlvFileWriter::note_keyframe(uint32_t ts, uint64_t pos)
{
    if (kf_seen_++ % stride_ != 0) return;
    kf_times_.push_back(ts / 1000.0);
    kf_pos_.push_back(double(pos));
    if (kf_times_.size() < size_t(capacity_) * 2) return;
    // Full: keep every other entry and take every other keyframe from now on.
    size_t j = 0;
    for (size_t i = 0; i < kf_times_.size(); i += 2, ++j) {
        kf_times_[j] = kf_times_[i];
        kf_pos_[j] = kf_pos_[i];
    }
    kf_times_.resize(j);
    kf_pos_.resize(j);
    stride_ *= 2;
}

Rc FlvFileWriter::write(uint8_t type, uint32_t ts, const Block* payload, bool keyframe, const char** what)
{
    size_t size = 0;
    for (const Block* b = payload; b; b = b->next) size += b->size();
    if (size > rtmp::kFlvMaxDataSize) {
        errno = EFBIG;
        *what = "frame";
        return Rc::error;
    }
    uint8_t th[rtmp::kFlvTagHeaderSize], bp[rtmp::kFlvBackPointerSize];
    rtmp::flv_write_tag_header(th, type, uint32_t(size), ts);
    rtmp::flv_write_prev_size(bp, uint32_t(size));
    uint64_t pos = size_;
    Rc rc = append(th, payload, bp, what);
    if (rc != Rc::ok) return rc;
    if (keyframe) note_keyframe(ts, pos);
    if (int32_t(ts - last_ts_) > 0) last_ts_ = ts;
    return Rc::ok;
}

Rc FlvFileWriter::write(uint8_t type, uint32_t ts, std::span<const uint8_t> payload, bool keyframe,
                        const char** what)
{
    if (payload.size() > rtmp::kFlvMaxDataSize) {
        errno = EFBIG;
        *what = "frame";
        return Rc::error;
    }
    uint8_t th[rtmp::kFlvTagHeaderSize], bp[rtmp::kFlvBackPointerSize];
    rtmp::flv_write_tag_header(th, type, uint32_t(payload.size()), ts);
    rtmp::flv_write_prev_size(bp, uint32_t(payload.size()));
    uint64_t pos = size_;
    // Copied: a span does not outlive the call (rare: tests and small script tags).
    size_t n = sizeof th + payload.size() + sizeof bp;
    std::vector<uint8_t> tag(n);
    memcpy(tag.data(), th, sizeof th);
    if (!payload.empty()) memcpy(tag.data() + sizeof th, payload.data(), payload.size());
    memcpy(tag.data() + sizeof th + payload.size(), bp, sizeof bp);
    Rc rc = sink_.append(std::move(tag), what);
    if (rc == Rc::ok) size_ += n;
    if (rc == Rc::again) *what = "queue";
    if (rc != Rc::ok) return rc;
    if (keyframe) note_keyframe(ts, pos);
    if (int32_t(ts - last_ts_) > 0) last_ts_ = ts;
    return Rc::ok;
}

Rc FlvFileWriter::close(bool finalize, const char** what, FileSinkClosed* done)
{
    if (!sink_.is_open()) {
        if (done) done->on_sink_closed(0, nullptr);
        return Rc::ok;
    }
    Rc rc = Rc::ok;
    if (finalize && meta_offset_) {
        size_t n = kf_times_.size();
        size_t keep = n <= capacity_ ? n : capacity_;
        std::vector<double> t(keep), p(keep);
        for (size_t i = 0; i < keep; ++i) {
            size_t from = n <= capacity_ ? i : i * n / keep;   // evenly thinned
            t[i] = kf_times_[from];
            p[i] = kf_pos_[from];
        }
        std::string body = flv_meta_body(publisher_meta_, last_ts_ / 1000.0, double(size_), t, p, meta_reserve_);
        if (body.size() != meta_reserve_) {
            errno = EOVERFLOW;   // cannot happen: the reservation holds capacity_ entries
            *what = "finalize";
            rc = Rc::error;
        } else {
            // Queued after every tag: the index describes what is in the file.
            std::span<const uint8_t> b(reinterpret_cast<const uint8_t*>(body.data()), body.size());
            rc = sink_.pwrite(meta_offset_, b, what);
        }
    }
    const char* step = "close";
    Rc crc = sink_.close(done, &step);
    if (rc == Rc::ok && crc != Rc::ok) {
        *what = step;
        rc = crc;
    }
    return rc;
}

}  // namespace strom::mod
