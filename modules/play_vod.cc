#include "modules/play_vod.h"

#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <cstring>

#include "core/bytes.h"
#include "core/log.h"
#include "rtmp/amf0.h"
#include "rtmp/chunk_writer.h"
#include "rtmp/codec.h"
#include "rtmp/flv.h"

namespace strom::mod {

using rtmp::AmfValue;
using rtmp::Status;
namespace msg_type = rtmp::msg_type;

namespace {

constexpr uint32_t kMaxTag = 16u << 20;
constexpr size_t kBytesPerTurn = 256 * 1024;   // read budget of one loop iteration
constexpr int kTagsPerTurn = 128;              // messages per iteration
constexpr int kScanPerTurn = 2000;             // tag headers per iteration when seeking
constexpr uint8_t kTagMedia = 1;

uint32_t csid_of(uint8_t type) { return type == msg_type::video ? 7 : type == msg_type::audio ? 6 : 5; }

bool is_on_metadata(std::span<const uint8_t> d)
{
    static constexpr uint8_t kName[] = {0x02, 0x00, 0x0a, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a'};
    return d.size() >= sizeof kName && memcmp(d.data(), kName, sizeof kName) == 0;
}

// duration and keyframes {times, filepositions} (as our recorder, yamdi and ffmpeg's
// add_keyframe_index write them).
void read_meta_index(const std::string& meta, uint64_t file_size, FlvFileInfo* out)
{
    std::vector<AmfValue> vals;
    rtmp::AmfLimits lim;
    lim.max_nodes = 1 << 18;   // an index of many keyframes, and our null padding
    rtmp::AmfDecodeState st(lim);
    const char* why = nullptr;
    if (rtmp::amf0_decode_all(reinterpret_cast<const uint8_t*>(meta.data()), meta.size(), &vals, st, &why) != Rc::ok ||
        vals.size() < 2 || !vals[1].is_object()) {
        return;
    }
    const AmfValue& m = vals[1];
    double d = m.get_num("duration", 0);
    out->duration_s = d > 0 && d < 1e9 ? d : 0;
    const AmfValue* kf = m.get("keyframes");
    const AmfValue* t = kf ? kf->get("times") : nullptr;
    const AmfValue* p = kf ? kf->get("filepositions") : nullptr;
    if (!t || !p) return;
    size_t n = std::min(t->items().size(), p->items().size());
    for (size_t i = 0; i < n; ++i) {
        double ts = t->items()[i].num(-1), pos = p->items()[i].num(-1);
        if (!(ts >= 0 && ts < 4e6 && pos >= 0 && pos < double(file_size))) continue;
        auto e = std::make_pair(uint32_t(ts * 1000 + 0.5), uint64_t(pos));
        if (!out->index.empty() && e.first < out->index.back().first) continue;   // keep it sorted
        out->index.push_back(e);
    }
}

}  // namespace

Rc flv_probe_head(std::span<const uint8_t> head, uint64_t file_size, FlvFileInfo* out, const char** why)
{
    rtmp::FlvReader r(kMaxTag);
    std::span<const uint8_t> in = head;
    rtmp::FlvTag tag;
    bool have_first = false;
    uint64_t end_of_last = 0;
    for (;;) {
        Rc rc = r.next(in, &tag);
        if (rc == Rc::error) {
            *why = r.reason();
            return Rc::error;
        }
        if (rc != Rc::ok) break;
        if (!have_first) {
            out->first_tag = tag.offset;
            have_first = true;
        }
        end_of_last = tag.offset + rtmp::kFlvTagHeaderSize + tag.data.size() + rtmp::kFlvBackPointerSize;
        if (tag.type == msg_type::data_amf0) {
            if (is_on_metadata(tag.data) && out->meta.empty()) out->meta.assign(tag.data.begin(), tag.data.end());
            continue;
        }
        if (tag.type == msg_type::video) {
            rtmp::VideoInfo v = rtmp::parse_video(tag.data);
            if (v.sequence_header) {
                out->video_seq.assign(tag.data.begin(), tag.data.end());
                continue;
            }
        } else if (tag.type == msg_type::audio) {
            rtmp::AudioInfo a = rtmp::parse_audio(tag.data);
            if (a.sequence_header) {
                out->audio_seq.assign(tag.data.begin(), tag.data.end());
                continue;
            }
        } else {
            continue;
        }
        out->media_start = tag.offset;
        break;
    }
    if (!r.header_done()) {
        *why = "not an FLV file";
        return Rc::error;
    }
    if (!out->media_start) {
        // No media in the head: play on from after the last complete tag read.
        out->media_start = end_of_last ? end_of_last : rtmp::kFlvFileStartSize;
        if (out->media_start > file_size) out->media_start = file_size;   // a header-only file
        if (!have_first) out->first_tag = out->media_start;
    }
    if (!out->meta.empty()) read_meta_index(out->meta, file_size, out);
    return Rc::ok;
}

// --- FLV -----------------------------------------------------------------------------------

namespace {

// An FLV file: tags read one header at a time; seeks by the onMetaData keyframe index,
// else by scanning tag headers (kScanPerTurn per call).
class FlvSource final : public VodSource {
public:
    FlvSource(UniqueFd fd, uint64_t size) : file_(std::move(fd), size) {}

    void attach(EventLoop* loop, VodFileWaiter* w) override { file_.attach(loop, w); }
    bool waiting() const override { return file_.waiting(); }

    Rc open(const char** why) override
    {
        uint64_t size = file_.size();
        std::vector<uint8_t> head(size_t(std::min<uint64_t>(size, kHeadProbe)));
        Rc rc = file_.read(0, head.data(), head.size());
        if (rc == Rc::again) return rc;
        if (rc != Rc::ok) {
            *why = "read error";
            return Rc::error;
        }
        if (flv_probe_head(head, size, &info_, why) != Rc::ok) return Rc::error;
        headers_.meta = info_.meta;
        headers_.video_seq = info_.video_seq;
        headers_.audio_seq = info_.audio_seq;
        headers_.duration_s = info_.duration_s;
        pos_ = info_.media_start;
        return Rc::ok;
    }

    const VodHeaders& headers() const override { return headers_; }

    Rc seek(uint32_t target, uint32_t* ts) override
    {
        if (!scanning_ || target != scan_target_) {
            scanning_ = false;
            *ts = 0;
            pos_ = info_.media_start;
            if (target == 0) return Rc::ok;
            if (!info_.index.empty()) {
                auto it = std::upper_bound(info_.index.begin(), info_.index.end(), std::make_pair(target, UINT64_MAX));
                if (it == info_.index.begin()) return Rc::ok;
                --it;
                TagHead h;
                Rc rc = read_head(it->second, &h);
                if (rc == Rc::again) return rc;   // the same target again: this again
                if (rc == Rc::ok && is_key(h)) {
                    pos_ = it->second;
                    *ts = h.ts;
                    return Rc::ok;
                }
            }
            scanning_ = true;
            scan_target_ = target;
            scan_ = info_.media_start;
            best_key_ = info_.media_start;
            best_ts_ = 0;
        }
        for (int i = 0; i < kScanPerTurn; ++i) {
            TagHead h;
            Rc rc = read_head(scan_, &h);
            if (rc == Rc::again) return rc;
            if (rc != Rc::ok || (is_key(h) && int32_t(h.ts - target) > 0)) {
                scanning_ = false;
                pos_ = best_key_;
                *ts = best_ts_;
                return Rc::ok;
            }
            if (is_key(h)) {
                best_key_ = scan_;
                best_ts_ = h.ts;
            }
            scan_ += rtmp::kFlvTagHeaderSize + h.size + rtmp::kFlvBackPointerSize;
        }
        return Rc::again;
    }

    Rc peek(VodItem* it) override
    {
        // The header is kept: a body that misses memory is read from its own offset, and
        // reading the header again then would miss again (a tag larger than the window
        // would never be sent).
        if (cur_at_ != pos_) {
            Rc rc = read_head(pos_, &cur_);
            if (rc == Rc::again) return rc;
            if (rc != Rc::ok) return Rc::done;
            cur_at_ = pos_;
        }
        it->type = cur_.type;
        it->ts = cur_.ts;
        it->size = cur_.size;
        return Rc::ok;
    }

    Rc read(std::vector<uint8_t>* buf) override
    {
        if (buf->size() < cur_.size) buf->resize(cur_.size);
        return file_.read(pos_ + rtmp::kFlvTagHeaderSize, buf->data(), cur_.size);
    }

    void next() override { pos_ += rtmp::kFlvTagHeaderSize + cur_.size + rtmp::kFlvBackPointerSize; }

private:
    static constexpr size_t kHeadProbe = 256 * 1024;   // metadata, sequence headers, index

    struct TagHead {
        uint8_t type = 0;
        uint32_t size = 0;
        uint32_t ts = 0;
        uint8_t first = 0;   // first body byte (video: frame type and codec)
    };
    static bool is_key(const TagHead& h) { return h.type == msg_type::video && (h.first >> 4) == 1; }

    // Rc::done: no complete tag there (the end, or a cut-off last tag of a recording that
    // was killed).
    Rc read_head(uint64_t off, TagHead* h)
    {
        uint8_t b[rtmp::kFlvTagHeaderSize + 1];
        uint64_t size = file_.size();
        if (off + rtmp::kFlvTagHeaderSize > size) return Rc::done;
        size_t n = size_t(std::min<uint64_t>(sizeof b, size - off));
        Rc rc = file_.read(off, b, n);
        if (rc != Rc::ok) return rc == Rc::again ? rc : Rc::done;
        rtmp::FlvTagHeader th = rtmp::flv_parse_tag_header(b);
        if (th.data_size > kMaxTag || off + rtmp::kFlvTagHeaderSize + th.data_size > size) return Rc::done;
        h->type = th.type;
        h->size = th.data_size;
        h->ts = th.timestamp;
        h->first = n > rtmp::kFlvTagHeaderSize && th.data_size ? b[rtmp::kFlvTagHeaderSize] : 0;
        return Rc::ok;
    }

    VodFile file_;
    FlvFileInfo info_;
    VodHeaders headers_;
    uint64_t pos_ = 0;        // the tag at the cursor
    TagHead cur_;             // the header of the tag at cur_at_ (peek)
    uint64_t cur_at_ = UINT64_MAX;
    bool scanning_ = false;
    uint32_t scan_target_ = 0;
    uint64_t scan_ = 0;
    uint64_t best_key_ = 0;   // last keyframe at or before the target so far
    uint32_t best_ts_ = 0;
};

}  // namespace

std::unique_ptr<VodSource> make_vod_source(VodFormat f, UniqueFd fd, const struct stat& st,
                                           std::shared_ptr<const Mp4Index> idx)
{
    if (f == VodFormat::mp4) return make_mp4_source(std::move(fd), st, std::move(idx));
    return std::make_unique<FlvSource>(std::move(fd), uint64_t(st.st_size));
}

// --- the player ------------------------------------------------------------------------------

VodPlayer::VodPlayer(rtmp::Session& s, rtmp::NetStream& ns, std::unique_ptr<VodSource> src, uint64_t lead_ms)
    : s_(s), ns_(ns), src_(std::move(src)), lead_ms_(lead_ms)
{
    timer_.fn = &VodPlayer::on_timer;
    timer_.arg = this;
    src_->attach(&s.loop(), this);
}

VodPlayer::~VodPlayer() { s_.loop().cancel_timer(timer_); }

void VodPlayer::start(double start_ms, double duration_ms)
{
    (void)s_.send_control(rtmp::Control::stream_is_recorded(ns_.msid));
    if (start_ms < 0) start_ms = 0;
    end_ms_ = duration_ms >= 0 ? start_ms + duration_ms : -1;
    const VodHeaders& h = src_->headers();
    if (!h.meta.empty()) send_string(msg_type::data_amf0, 0, h.meta);
    go_to(uint32_t(std::min(start_ms, 4e9)));
}

// Seek: the keyframe at or before target; the source may need several iterations.
void VodPlayer::go_to(uint32_t target)
{
    state_ = State::seeking;
    target_ = target;
    uint32_t ts = 0;
    if (src_->seek(target, &ts) == Rc::ok) return begin_at(ts);
    if (!src_->waiting()) arm(0);   // else file_ready() comes
}

void VodPlayer::begin_at(uint32_t ts)
{
    const VodHeaders& h = src_->headers();
    if (!h.video_seq.empty()) send_string(msg_type::video, ts, h.video_seq);
    if (!h.audio_seq.empty()) send_string(msg_type::audio, ts, h.audio_seq);
    clock_ts_ = ts;
    clock_ms_ = s_.loop().now();
    last_ts_ = ts;
    state_ = State::playing;
    arm(0);
}

bool VodPlayer::send(uint8_t type, uint32_t ts, const uint8_t* p, size_t n)
{
    rtmp::MsgHeader h{csid_of(type), type, ns_.msid, ts};
    BufRef out;
    if (rtmp::frame_message(s_.pool(), s_.out_chunk_size(), h, p, n, &out) != Rc::ok) return false;
    if (!s_.send_framed(std::move(out), kTagMedia)) return false;
    bytes_ += n;
    ns_.bytes += n;
    s_.conn().flush_soon();
    return true;
}

bool VodPlayer::send_string(uint8_t type, uint32_t ts, const std::string& body)
{
    return send(type, ts, reinterpret_cast<const uint8_t*>(body.data()), body.size());
}

void VodPlayer::pump()
{
    if (state_ == State::seeking) {
        uint32_t ts = 0;
        if (src_->seek(target_, &ts) == Rc::ok) return begin_at(ts);
        return src_->waiting() ? void() : arm(0);
    }
    if (state_ != State::playing || paused_ || s_.conn().closing()) return;
    uint64_t now = s_.loop().now();
    uint64_t allowed = uint64_t(clock_ts_) + (now - clock_ms_) + lead_ms_;
    size_t spent = 0;
    for (int i = 0; i < kTagsPerTurn && spent < kBytesPerTurn; ++i) {
        OutQueue& q = s_.conn().out();
        if (q.count() >= q.capacity() * 3 / 4 || q.bytes() >= q.max_bytes() * 3 / 4) return arm(20);
        VodItem it;
        Rc rc = src_->peek(&it);
        if (rc == Rc::again) return;   // file_ready() comes
        if (rc != Rc::ok) return finish();
        if (end_ms_ >= 0 && double(it.ts) > end_ms_) return finish();
        // Ahead by the whole lead: sleep until half of it is played, then send that half in
        // one go (a writev and a timer per half lead per player, not per frame).
        if (it.ts > allowed) return arm(std::max<uint64_t>(it.ts - allowed, lead_ms_ / 2));
        bool wanted = (it.type == msg_type::video && ns_.receive_video) ||
                      (it.type == msg_type::audio && ns_.receive_audio) || it.type == msg_type::data_amf0;
        if (wanted) {
            rc = src_->read(&buf_);
            if (rc == Rc::again) return;
            if (rc != Rc::ok) return finish();
            if (!send(it.type, it.ts, buf_.data(), it.size)) return arm(20);
            last_ts_ = it.ts;
            spent += it.size;
        }
        src_->next();
    }
    arm(0);   // budget used up: go on next iteration
}

// End of file (or of the requested duration): onPlayStatus Play.Complete, StreamEOF,
// Play.Stop, as Flash Media Server sends them for recorded streams.
void VodPlayer::finish()
{
    state_ = State::done;
    AmfValue name("onPlayStatus");
    AmfValue info = rtmp::status_object(Status::play_complete);
    info.set("duration", AmfValue(last_ts_ / 1000.0));
    info.set("bytes", AmfValue(double(bytes_)));
    if (s_.send_amf(msg_type::data_amf0, ns_.msid, {&name, &info}) != Rc::ok) return;
    if (s_.send_control(rtmp::Control::stream_eof(ns_.msid)) != Rc::ok) return;
    (void)s_.send_status(ns_.msid, Status::play_stop);
    STROM_LOG(info, s_.id(), "vod \"%s\" complete: %llu bytes to %s", ns_.name.c_str(), (unsigned long long)bytes_,
              s_.peer());
}

void VodPlayer::pause(rtmp::Session&, rtmp::NetStream&, bool paused, double)
{
    paused_ = paused;
    if (paused) {
        s_.loop().cancel_timer(timer_);
        return;
    }
    clock_ts_ = last_ts_;
    clock_ms_ = s_.loop().now();
    arm(0);
}

Rc VodPlayer::seek(rtmp::Session&, rtmp::NetStream&, double ms)
{
    if (s_.send_status(ns_.msid, Status::seek_notify) != Rc::ok) return Rc::ok;
    if (s_.send_status(ns_.msid, Status::play_start) != Rc::ok) return Rc::ok;
    end_ms_ = -1;
    go_to(uint32_t(std::min(ms, 4e9)));
    return Rc::ok;
}

void VodPlayer::arm(uint64_t ms)
{
    // Never 0: a timer armed for `now` inside the timer pass would run again at once.
    s_.loop().add_timer(timer_, ms ? ms : 1);
}

void VodPlayer::on_timer(Timer& t) { static_cast<VodPlayer*>(t.arg)->pump(); }

}  // namespace strom::mod
