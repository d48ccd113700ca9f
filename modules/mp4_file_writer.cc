#include "modules/mp4_file_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "core/bytes.h"
#include "rtmp/codec.h"
#include "rtmp/message.h"

namespace strom::mod {

namespace msg_type = rtmp::msg_type;

Mp4FileWriter::~Mp4FileWriter()
{
    const char* ignored = "";
    if (sink_.is_open()) (void)close(false, &ignored);
}

Rc Mp4FileWriter::open(const std::string& path, const Options& o, const char** what)
{
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) {
        *what = "open";
        return Rc::error;
    }
    sink_.open(std::move(fd), o.loop, o.max_queue, o.handler);
    path_ = path;
    o_ = o;
    mux_ = Mp4Writer();
    out_.clear();
    failed_start_ = false;
    finished_ = false;
    last_ts_ = 0;
    return Rc::ok;
}

// Copies a sequence header's configuration record out of the message (small, once).
Rc Mp4FileWriter::set_config(uint8_t type, const Block* payload)
{
    std::vector<uint8_t> body;
    if (type == msg_type::video) {
        rtmp::VideoInfo vi = rtmp::parse_video(payload);
        if (vi.malformed || vi.multitrack) return Rc::declined;
        body.resize(vi.body_size);
        chain_copy(payload, vi.body_offset, body.data(), body.size());
        return mux_.set_video(vi.codec, body);
    }
    rtmp::AudioInfo ai = rtmp::parse_audio(payload);
    if (ai.malformed || ai.multitrack || ai.codec != rtmp::AudioCodec::aac) return Rc::declined;
    body.resize(ai.body_size);
    chain_copy(payload, ai.body_offset, body.data(), body.size());
    return mux_.set_audio_aac(body);
}

Rc Mp4FileWriter::start(const char** what)
{
    if (mux_.init_segment(&out_) != Rc::ok) {
        // No sequence header of a codec MP4 takes here: say so once, write nothing.
        failed_start_ = true;
        errno = ENOTSUP;
        *what = "mp4 (needs an H.264, HEVC or AAC sequence header)";
        return Rc::error;
    }
    return put(what);
}

Rc Mp4FileWriter::write(uint8_t type, uint32_t ts, const Block* payload, bool keyframe,
                        const char** what)
{
    (void)keyframe;  // the video header says it, and sequence headers must be told apart
    if (!sink_.is_open() || failed_start_ || (type != msg_type::video && type != msg_type::audio))
        return Rc::ok;
    bool video = type == msg_type::video;
    if ((video && !o_.video) || (!video && !o_.audio)) return Rc::ok;
    if (video) {
        rtmp::VideoInfo vi = rtmp::parse_video(payload);
        if (vi.malformed || vi.multitrack || vi.command || vi.metadata || vi.sequence_end)
            return Rc::ok;
        if (vi.sequence_header) {
            // A codec change inside a file cannot be described by one init segment.
            if (!mux_.started()) (void)set_config(type, payload);
            return Rc::ok;
        }
        if (vi.packet_type != rtmp::VideoPacketType::coded_frames &&
            vi.packet_type != rtmp::VideoPacketType::coded_frames_x) {
            return Rc::ok;
        }
        if (full(payload, what)) return Rc::again;
        if (!mux_.started() && start(what) != Rc::ok) return Rc::error;
        mux_.add_video(ts, vi.composition_time, vi.keyframe, payload, vi.body_offset, vi.body_size,
                       &out_);
    } else {
        rtmp::AudioInfo ai = rtmp::parse_audio(payload);
        if (ai.malformed || ai.multitrack || ai.codec != rtmp::AudioCodec::aac) return Rc::ok;
        if (ai.sequence_header) {
            if (!mux_.started()) (void)set_config(type, payload);
            return Rc::ok;
        }
        if (ai.packet_type != rtmp::AudioPacketType::coded_frames) return Rc::ok;
        if (full(payload, what)) return Rc::again;
        if (!mux_.started() && start(what) != Rc::ok) return Rc::error;
        mux_.add_audio(ts, payload, ai.body_offset, ai.body_size, &out_);
    }
    last_ts_ = ts;
    return out_.empty() ? Rc::ok : put(what);
}

// Would this sample overflow the queue? Asked before the muxer counts it, so that a
// refused sample is in neither the file nor its index.
bool Mp4FileWriter::full(const Block* payload, const char** what) const
{
    size_t n = mux_.pending_bytes();   // a fragment may be flushed with this sample
    for (const Block* b = payload; b; b = b->next) n += b->size();
    if (!sink_.full(n)) return false;
    *what = "queue";
    return true;
}

// One piece (init segment, fragment, final moov or mfra) in one append, never refused:
// the muxer has counted it already.
Rc Mp4FileWriter::put(const char** what)
{
    Rc rc = sink_.append(std::move(out_), what, false);
    out_.clear();
    return rc;
}

Rc Mp4FileWriter::finish(const char** what)
{
    if (!sink_.is_open() || finished_ || !mux_.started()) return Rc::ok;
    finished_ = true;
    mux_.finish(&out_);
    Rc rc = put(what);
    // In place, in order, after every fragment: moof and init moov types (a plain MP4
    // with the final moov), or the durations in mvhd/mehd (a fragmented file with mfra).
    for (const Mp4Writer::Patch& p : mux_.close_patches()) {
        if (rc != Rc::ok) break;
        uint8_t b[8];
        if (p.size == 8)
            store_be64(b, p.value);
        else
            store_be32(b, uint32_t(p.value));
        rc = sink_.pwrite(p.offset, std::span<const uint8_t>(b, p.size), what);
    }
    return rc;
}

Rc Mp4FileWriter::close(bool finalize, const char** what, FileSinkClosed* done)
{
    if (!sink_.is_open()) {
        if (done) done->on_sink_closed(0, nullptr);
        return Rc::ok;
    }
    Rc rc = finalize ? finish(what) : Rc::ok;
    const char* step = "close";
    Rc crc = sink_.close(done, &step);
    if (rc == Rc::ok && crc != Rc::ok) {
        *what = step;
        rc = crc;
    }
    return rc;
}

}  // namespace strom::mod
