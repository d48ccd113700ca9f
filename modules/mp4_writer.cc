#include "modules/mp4_writer.h"

#include <algorithm>
#include <cstring>

#include "core/buf.h"
#include "core/bytes.h"
#include "rtmp/codec_info.h"

namespace strom::mod {

namespace {

using Out = Mp4Writer::Out;

constexpr uint32_t kTimescale = 1000;  // ms, as RTMP
constexpr uint32_t kIndexCapacity = 65536;

// Big-endian appenders. A box is opened with its size unknown and closed by patching it.
void u8(Out& b, uint8_t v)
{
    b.push_back(v);
}
void u16(Out& b, uint16_t v)
{
    uint8_t x[2];
    store_be16(x, v);
    b.insert(b.end(), x, x + 2);
}
void u24(Out& b, uint32_t v)
{
    uint8_t x[3];
    store_be24(x, v);
    b.insert(b.end(), x, x + 3);
}
void u32(Out& b, uint32_t v)
{
    uint8_t x[4];
    store_be32(x, v);
    b.insert(b.end(), x, x + 4);
}
void u64(Out& b, uint64_t v)
{
    uint8_t x[8];
    store_be64(x, v);
    b.insert(b.end(), x, x + 8);
}
void zeros(Out& b, size_t n)
{
    b.insert(b.end(), n, 0);
}
void put_bytes(Out& b, std::span<const uint8_t> s)
{
    b.insert(b.end(), s.begin(), s.end());
}
void type(Out& b, const char (&t)[5])
{
    b.insert(b.end(), t, t + 4);
}

size_t open_box(Out& b, const char (&t)[5])
{
    size_t at = b.size();
    u32(b, 0);
    type(b, t);
    return at;
}
// FullBox (ISO/IEC 14496-12 4.2): version and 24-bit flags after the type.
size_t open_full(Out& b, const char (&t)[5], uint8_t version, uint32_t flags)
{
    size_t at = open_box(b, t);
    u8(b, version);
    u24(b, flags);
    return at;
}
void close_box(Out& b, size_t at)
{
    store_be32(b.data() + at, uint32_t(b.size() - at));
}

// The unity matrix of mvhd/tkhd (14496-12 8.2.2, 8.3.2).
void matrix(Out& b)
{
    static constexpr uint32_t m[9] = {0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000};
    for (uint32_t v : m) u32(b, v);
}

// ES descriptors (ISO/IEC 14496-1 7.2.2.3): tag, then the size in 4 bytes of 7 bits with
// continuation flags, the form every demuxer accepts.
void descr(Out& b, uint8_t tag, size_t len)
{
    u8(b, tag);
    u8(b, uint8_t(0x80 | ((len >> 21) & 0x7f)));
    u8(b, uint8_t(0x80 | ((len >> 14) & 0x7f)));
    u8(b, uint8_t(0x80 | ((len >> 7) & 0x7f)));
    u8(b, uint8_t(len & 0x7f));
}

void write_esds(Out& b, std::span<const uint8_t> asc, uint32_t track_id)
{
    size_t at = open_full(b, "esds", 0, 0);
    size_t dsi = 5 + asc.size();
    size_t dcd = 13 + dsi;
    size_t sl = 5 + 1;
    descr(b, 0x03, 3 + 5 + dcd + sl);  // ES_DescrTag
    u16(b, uint16_t(track_id));        // ES_ID
    u8(b, 0);                          // no dependsOn, URL, OCR stream
    descr(b, 0x04, dcd);               // DecoderConfigDescrTag
    u8(b, 0x40);                       // objectTypeIndication: Audio ISO/IEC 14496-3
    u8(b, 0x15);                       // streamType 5 (audio) << 2 | reserved 1
    u24(b, 0);                         // bufferSizeDB
    u32(b, 0);                         // maxBitrate
    u32(b, 0);                         // avgBitrate
    descr(b, 0x05, asc.size());        // DecSpecificInfoTag: the AudioSpecificConfig
    put_bytes(b, asc);
    descr(b, 0x06, 1);  // SLConfigDescrTag
    u8(b, 0x02);        // predefined: reserved for MP4 files
    close_box(b, at);
}

// mvhd (14496-12 8.2.2) in ms; returns where its duration is in b.
size_t write_mvhd(Out& b, uint32_t duration, uint32_t next_id)
{
    size_t at = open_full(b, "mvhd", 0, 0);
    u32(b, 0);  // creation_time
    u32(b, 0);  // modification_time
    u32(b, kTimescale);
    size_t duration_at = b.size();
    u32(b, duration);
    u32(b, 0x00010000);  // rate 1.0
    u16(b, 0x0100);      // volume 1.0
    zeros(b, 10);
    matrix(b);
    zeros(b, 24);  // pre_defined
    u32(b, next_id);
    close_box(b, at);
    return duration_at;
}

uint32_t clamp32(uint64_t v)
{
    return uint32_t(std::min<uint64_t>(v, 0xffffffffu));
}

// tfhd/trun sample_flags (14496-12 8.8.3.1): sync samples depend on nothing; others
// depend on earlier samples and are non-sync.
constexpr uint32_t kSyncFlags = 0x02000000;
constexpr uint32_t kNonSyncFlags = 0x01010000;

}  // namespace

Rc Mp4Writer::set_video(rtmp::VideoCodec codec, std::span<const uint8_t> record)
{
    if (started_) return Rc::error;
    if (codec != rtmp::VideoCodec::avc && codec != rtmp::VideoCodec::hevc) return Rc::declined;
    rtmp::VideoConfig vc;
    if (record.empty() || rtmp::parse_video_config(codec, record, &vc) != Rc::ok) return Rc::error;
    bool avc = codec == rtmp::VideoCodec::avc;
    video_.present = true;
    video_.fourcc = rtmp::fourcc(avc ? "avc1" : "hvc1");
    video_.config_box = rtmp::fourcc(avc ? "avcC" : "hvcC");
    video_.config.assign(record.begin(), record.end());
    video_.width = std::min<uint32_t>(vc.width, 0xffff);
    video_.height = std::min<uint32_t>(vc.height, 0xffff);
    return Rc::ok;
}

Rc Mp4Writer::set_audio_aac(std::span<const uint8_t> asc)
{
    if (started_) return Rc::error;
    rtmp::AudioConfig ac;
    if (asc.empty() || asc.size() > 64 || rtmp::parse_aac_config(asc, &ac) != Rc::ok)
        return Rc::error;
    audio_.present = true;
    audio_.fourcc = rtmp::fourcc("mp4a");
    audio_.config_box = rtmp::fourcc("esds");
    audio_.config.assign(asc.begin(), asc.end());
    audio_.sample_rate = ac.core_sample_rate ? ac.core_sample_rate : ac.sample_rate;
    audio_.channels = ac.channels ? ac.channels : 2;
    return Rc::ok;
}

Rc Mp4Writer::init_segment(Out* out)
{
    if (started_ || (!video_.present && !audio_.present)) return Rc::error;
    started_ = true;
    uint32_t next_id = 1;
    if (video_.present) video_.id = next_id++;
    if (audio_.present) audio_.id = next_id++;

    Out b;
    size_t at = open_box(b, "ftyp");
    type(b, "isom");
    u32(b, 0x200);
    type(b, "isom");
    type(b, "iso6");  // movie fragments with tfdt
    type(b, "mp41");
    if (video_.present && video_.fourcc == rtmp::fourcc("avc1")) type(b, "avc1");
    close_box(b, at);

    size_t moov = open_box(b, "moov");
    moov_at_ = bytes_ + moov;
    mvhd_duration_at_ = bytes_ + write_mvhd(b, 0, next_id);  // unknown until a clean close

    // 14496-12 8.8.1: mvex announces fragments; mehd carries the whole length.
    size_t mvex = open_box(b, "mvex");
    at = open_full(b, "mehd", 0, 0);
    mehd_duration_at_ = bytes_ + b.size();
    u32(b, 0);
    close_box(b, at);
    for (const Track* t : {&video_, &audio_}) {
        if (!t->present) continue;
        at = open_full(b, "trex", 0, 0);
        u32(b, t->id);
        u32(b, 1);  // default_sample_description_index
        u32(b, 0);  // default_sample_duration
        u32(b, 0);  // default_sample_size
        u32(b, 0);  // default_sample_flags
        close_box(b, at);
    }
    close_box(b, mvex);
    if (video_.present) write_trak(b, video_, false);
    if (audio_.present) write_trak(b, audio_, false);
    close_box(b, moov);
    tables_ = o_.finalize_moov;
    emit(out, b);
    return Rc::ok;
}

void Mp4Writer::write_trak(Out& b, const Track& t, bool final) const
{
    bool video = &t == &video_;
    size_t trak = open_box(b, "trak");
    size_t at = open_full(b, "tkhd", 0, 3);  // enabled, in movie
    u32(b, 0);
    u32(b, 0);
    u32(b, t.id);
    u32(b, 0);
    u32(b, final ? clamp32(t.end) : 0);  // fragmented: the fragments tell
    zeros(b, 8);
    u16(b, 0);              // layer
    u16(b, video ? 0 : 1);  // alternate_group
    u16(b, video ? 0 : 0x0100);
    u16(b, 0);
    matrix(b);
    u32(b, t.width << 16);
    u32(b, t.height << 16);
    close_box(b, at);

    if (final && t.first_dts > 0) {
        // A track that starts after the file: an empty edit first (14496-12 8.6.6).
        size_t edts = open_box(b, "edts");
        at = open_full(b, "elst", 0, 0);
        u32(b, 2);
        u32(b, clamp32(t.first_dts));
        u32(b, 0xffffffffu);  // media_time -1: empty
        u32(b, 0x00010000);   // rate 1.0
        u32(b, clamp32(t.end - t.first_dts));
        u32(b, 0);
        u32(b, 0x00010000);
        close_box(b, at);
        close_box(b, edts);
    }

    size_t mdia = open_box(b, "mdia");
    at = open_full(b, "mdhd", 0, 0);
    u32(b, 0);
    u32(b, 0);
    u32(b, kTimescale);
    u32(b, final ? clamp32(t.end - t.first_dts) : 0);
    u16(b, 0x55c4);  // language "und", packed ISO-639-2/T
    u16(b, 0);
    close_box(b, at);
    at = open_full(b, "hdlr", 0, 0);
    u32(b, 0);
    type(b, video ? "vide" : "soun");
    zeros(b, 12);
    static constexpr uint8_t kVideoName[] = "VideoHandler";
    static constexpr uint8_t kSoundName[] = "SoundHandler";
    put_bytes(b,
              video ? std::span<const uint8_t>(kVideoName) : std::span<const uint8_t>(kSoundName));
    close_box(b, at);

    write_minf(b, t, final);
    close_box(b, mdia);
    close_box(b, trak);
}

void Mp4Writer::write_minf(Out& b, const Track& t, bool final) const
{
    bool video = &t == &video_;
    size_t at;
    size_t minf = open_box(b, "minf");
    if (video) {
        at = open_full(b, "vmhd", 0, 1);
        zeros(b, 8);
    } else {
        at = open_full(b, "smhd", 0, 0);
        zeros(b, 4);
    }
    close_box(b, at);
    size_t dinf = open_box(b, "dinf");
    at = open_full(b, "dref", 0, 0);
    u32(b, 1);
    close_box(b, open_full(b, "url ", 0, 1));  // media in this file
    close_box(b, at);
    close_box(b, dinf);

    size_t stbl = open_box(b, "stbl");
    write_stsd(b, t);
    if (final) {
        write_tables(b, t);
        close_box(b, stbl);
        close_box(b, minf);
        return;
    }
    // Empty sample tables: every sample is in a fragment (14496-12 8.8.1).
    at = open_full(b, "stts", 0, 0);
    u32(b, 0);
    close_box(b, at);
    at = open_full(b, "stsc", 0, 0);
    u32(b, 0);
    close_box(b, at);
    at = open_full(b, "stsz", 0, 0);
    u32(b, 0);
    u32(b, 0);
    close_box(b, at);
    at = open_full(b, "stco", 0, 0);
    u32(b, 0);
    close_box(b, at);
    close_box(b, stbl);
    close_box(b, minf);
}

void Mp4Writer::write_stsd(Out& b, const Track& t) const
{
    size_t stsd = open_full(b, "stsd", 0, 0);
    u32(b, 1);
    size_t entry = b.size();
    u32(b, 0);
    u32(b, t.fourcc);
    zeros(b, 6);
    u16(b, 1);  // data_reference_index
    if (&t == &video_) {
        // VisualSampleEntry (14496-12 12.1.3)
        zeros(b, 16);
        u16(b, uint16_t(t.width));
        u16(b, uint16_t(t.height));
        u32(b, 0x00480000);  // 72 dpi
        u32(b, 0x00480000);
        u32(b, 0);
        u16(b, 1);     // frame_count
        zeros(b, 32);  // compressorname
        u16(b, 0x0018);
        u16(b, 0xffff);
        size_t at = b.size();
        u32(b, 0);
        u32(b, t.config_box);
        put_bytes(b, t.config);
        close_box(b, at);
    } else {
        // AudioSampleEntry (14496-12 12.2.3); the real rate and channels are in the ASC.
        zeros(b, 8);
        u16(b, t.channels);
        u16(b, 16);
        zeros(b, 4);
        u32(b, t.sample_rate <= 0xffff ? t.sample_rate << 16 : 0);
        write_esds(b, t.config, t.id);
    }
    close_box(b, entry);
    close_box(b, stsd);
}

// --- samples and fragments ----------------------------------------------------------------

bool Mp4Writer::fragment_due(const Track& t, uint64_t dts, bool key) const
{
    const Track& lead = video_.present ? video_ : audio_;
    if (lead.samples.empty() && t.samples.empty()) return false;
    uint64_t start = !lead.samples.empty() ? lead.base_dts : t.base_dts;
    uint64_t age = dts > start ? dts - start : 0;
    if (age >= o_.max_fragment_ms) return true;
    if (video_.data.size() + audio_.data.size() >= o_.max_fragment_bytes) return true;
    if (&t != &lead || lead.samples.empty()) return false;
    if (video_.present) return key && age >= o_.fragment_ms;
    return age >= o_.audio_fragment_ms;
}

uint8_t* Mp4Writer::add_sample(Track& t, uint64_t dts, int32_t cts, bool key, size_t n, Out* out)
{
    if (!started_ || finished_ || !t.present || n == 0 || n > o_.max_fragment_bytes) return nullptr;
    if (t.any && dts < t.last_dts) dts = t.last_dts;  // timestamps never go back in MP4
    if (t.any && !t.samples.empty()) {
        uint64_t d = dts - t.last_dts;
        t.samples.back().duration = uint32_t(std::min<uint64_t>(d, 0xffffffffu));
        t.last_duration = t.samples.back().duration;
    }
    if (fragment_due(t, dts, key)) flush(out);
    if (t.samples.empty()) {
        t.base_dts = dts;
        if (t.any && dts < t.end) t.base_dts = t.end;  // the estimated last duration ran over
    }
    t.samples.push_back(Sample{uint32_t(n), t.last_duration, cts, key});
    t.last_dts = dts;
    t.any = true;
    size_t at = t.data.size();
    t.data.resize(at + n);
    return t.data.data() + at;
}

void Mp4Writer::add_video(uint64_t dts, int32_t cts, bool key, std::span<const uint8_t> data,
                          Out* out)
{
    uint8_t* p = add_sample(video_, dts, cts, key, data.size(), out);
    if (p) memcpy(p, data.data(), data.size());
}

void Mp4Writer::add_audio(uint64_t dts, std::span<const uint8_t> data, Out* out)
{
    uint8_t* p = add_sample(audio_, dts, 0, true, data.size(), out);
    if (p) memcpy(p, data.data(), data.size());
}

void Mp4Writer::add_video(uint64_t dts, int32_t cts, bool key, const Block* chain, size_t off,
                          size_t n, Out* out)
{
    uint8_t* p = add_sample(video_, dts, cts, key, n, out);
    if (p && chain_copy(chain, off, p, n) != n) memset(p, 0, n);
}

void Mp4Writer::add_audio(uint64_t dts, const Block* chain, size_t off, size_t n, Out* out)
{
    uint8_t* p = add_sample(audio_, dts, 0, true, n, out);
    if (p && chain_copy(chain, off, p, n) != n) memset(p, 0, n);
}

void Mp4Writer::write_traf(Out& b, Track& t, std::vector<size_t>* offset_at) const
{
    size_t traf = open_box(b, "traf");
    size_t at = open_full(b, "tfhd", 0, 0x020000);  // default-base-is-moof (8.8.7.1)
    u32(b, t.id);
    close_box(b, at);
    at = open_full(b, "tfdt", 1, 0);
    u64(b, t.base_dts);
    close_box(b, at);
    bool video = &t == &video_;
    // data-offset, duration, size; video adds flags and signed composition offsets (v1).
    uint32_t flags = 0x000001 | 0x000100 | 0x000200 | (video ? 0x000400 | 0x000800 : 0);
    at = open_full(b, "trun", video ? 1 : 0, flags);
    u32(b, uint32_t(t.samples.size()));
    offset_at->push_back(b.size());
    u32(b, 0);  // data_offset, patched once the moof size is known
    for (const Sample& s : t.samples) {
        u32(b, s.duration);
        u32(b, s.size);
        if (video) {
            u32(b, s.key ? kSyncFlags : kNonSyncFlags);
            u32(b, uint32_t(s.cts));
        }
    }
    close_box(b, at);
    close_box(b, traf);
}

void Mp4Writer::flush(Out* out)
{
    if (video_.samples.empty() && audio_.samples.empty()) return;
    // Built straight into the caller's buffer: the media is copied once, from the tracks.
    Out& b = *out;
    size_t moof = open_box(b, "moof");
    size_t at = open_full(b, "mfhd", 0, 0);
    u32(b, ++seq_);
    close_box(b, at);
    std::vector<size_t> offset_at;
    Track* tracks[2] = {&video_, &audio_};
    for (Track* t : tracks) {
        if (!t->samples.empty()) write_traf(b, *t, &offset_at);
    }
    close_box(b, moof);
    size_t data_off = b.size() - moof + 8;  // trun data_offset is from the moof start
    size_t k = 0;
    size_t total = 0;
    for (Track* t : tracks) {
        if (t->samples.empty()) continue;
        store_be32(b.data() + offset_at[k++], uint32_t(data_off + total));
        total += t->data.size();
    }
    u32(b, uint32_t(8 + total));
    type(b, "mdat");
    if (tables_ && video_.table.size() + audio_.table.size() + video_.samples.size() +
                           audio_.samples.size() > o_.max_table_samples) {
        drop_tables();
    }
    if (tables_) {
        moofs_.push_back(bytes_);
        uint64_t at = bytes_ + data_off;
        for (Track* t : tracks) {
            if (t->samples.empty()) continue;
            if (t->table.empty()) {
                t->first_dts = t->base_dts;
            } else if (t->base_dts > t->end) {
                // The last sample before took an estimated duration: the gap is its.
                t->table.back().duration += uint32_t(std::min<uint64_t>(t->base_dts - t->end, 0x7fffffff));
            }
            t->chunks.push_back(Chunk{at, uint32_t(t->table.size())});
            t->table.insert(t->table.end(), t->samples.begin(), t->samples.end());
            at += t->data.size();
        }
    }
    const Track& lead = video_.present ? video_ : audio_;
    bool sync = !lead.samples.empty() && lead.samples.front().key;
    if (sync && ++index_seen_ % index_stride_ == 0) {
        if (index_.size() >= kIndexCapacity) {
            // Keep every other entry: the index stays bounded for any recording length.
            for (size_t i = 0; i < index_.size() / 2; ++i) index_[i] = index_[2 * i];
            index_.resize(index_.size() / 2);
            index_stride_ *= 2;
        }
        index_.push_back(RandomAccess{lead.base_dts, bytes_});
    }
    for (Track* t : tracks) {
        if (t->samples.empty()) continue;
        put_bytes(b, t->data);
        t->end = t->last_dts + t->samples.back().duration;
        t->samples.clear();
        t->data.clear();
    }
    bytes_ += b.size() - moof;
}

void Mp4Writer::write_mfra(Out* out) const
{
    const Track& lead = video_.present ? video_ : audio_;
    Out b;
    size_t mfra = open_box(b, "mfra");
    // tfra v1 (14496-12 8.8.10): 64-bit time and offset, 1-byte traf/trun/sample numbers.
    size_t at = open_full(b, "tfra", 1, 0);
    u32(b, lead.id);
    u32(b, 0);
    u32(b, uint32_t(index_.size()));
    for (const RandomAccess& r : index_) {
        u64(b, r.time);
        u64(b, r.moof_offset);
        u8(b, 1);  // traf_number: an indexed fragment has lead samples, so its traf is first
        u8(b, 1);
        u8(b, 1);
    }
    close_box(b, at);
    at = open_full(b, "mfro", 0, 0);
    u32(b, uint32_t(b.size() + 4));  // the size of the whole mfra
    close_box(b, at);
    close_box(b, mfra);
    out->insert(out->end(), b.begin(), b.end());
}

void Mp4Writer::drop_tables()
{
    tables_ = false;
    for (Track* t : {&video_, &audio_}) {
        std::vector<Sample>().swap(t->table);
        std::vector<Chunk>().swap(t->chunks);
    }
    std::vector<uint64_t>().swap(moofs_);
}

// stts, ctts, stss, stsz, stsc, stco/co64 (14496-12 8.6.1.2, 8.6.1.3, 8.6.2, 8.7.3-8.7.5)
// of every sample the fragments hold; a chunk is one fragment's run of a track.
void Mp4Writer::write_tables(Out& b, const Track& t) const
{
    const std::vector<Sample>& s = t.table;
    size_t at = open_full(b, "stts", 0, 0);
    size_t count_at = b.size();
    u32(b, 0);
    uint32_t runs = 0;
    for (size_t i = 0, j; i < s.size(); i = j, ++runs) {
        for (j = i + 1; j < s.size() && s[j].duration == s[i].duration;) ++j;
        u32(b, uint32_t(j - i));
        u32(b, s[i].duration);
    }
    store_be32(b.data() + count_at, runs);
    close_box(b, at);

    bool any_cts = false, negative = false, all_key = true;
    for (const Sample& x : s) {
        any_cts |= x.cts != 0;
        negative |= x.cts < 0;
        all_key &= x.key;
    }
    if (any_cts) {
        at = open_full(b, "ctts", negative ? 1 : 0, 0);  // v1: signed offsets
        count_at = b.size();
        u32(b, 0);
        runs = 0;
        for (size_t i = 0, j; i < s.size(); i = j, ++runs) {
            for (j = i + 1; j < s.size() && s[j].cts == s[i].cts;) ++j;
            u32(b, uint32_t(j - i));
            u32(b, uint32_t(s[i].cts));
        }
        store_be32(b.data() + count_at, runs);
        close_box(b, at);
    }
    if (!all_key) {  // no stss: every sample is a sync sample
        at = open_full(b, "stss", 0, 0);
        count_at = b.size();
        u32(b, 0);
        uint32_t n = 0;
        for (size_t i = 0; i < s.size(); ++i) {
            if (!s[i].key) continue;
            u32(b, uint32_t(i + 1));
            ++n;
        }
        store_be32(b.data() + count_at, n);
        close_box(b, at);
    }
    at = open_full(b, "stsz", 0, 0);
    u32(b, 0);  // sizes differ
    u32(b, uint32_t(s.size()));
    for (const Sample& x : s) u32(b, x.size);
    close_box(b, at);

    auto samples_in = [&](size_t c) {
        size_t end = c + 1 < t.chunks.size() ? t.chunks[c + 1].first : s.size();
        return uint32_t(end - t.chunks[c].first);
    };
    at = open_full(b, "stsc", 0, 0);
    count_at = b.size();
    u32(b, 0);
    runs = 0;
    for (size_t c = 0; c < t.chunks.size(); ++c) {
        if (c > 0 && samples_in(c) == samples_in(c - 1)) continue;
        u32(b, uint32_t(c + 1));  // first_chunk
        u32(b, samples_in(c));
        u32(b, 1);  // sample_description_index
        ++runs;
    }
    store_be32(b.data() + count_at, runs);
    close_box(b, at);

    bool wide = !t.chunks.empty() && t.chunks.back().offset > 0xffffffffu;
    at = open_full(b, wide ? "co64" : "stco", 0, 0);
    u32(b, uint32_t(t.chunks.size()));
    for (const Chunk& c : t.chunks) {
        if (wide)
            u64(b, c.offset);
        else
            u32(b, uint32_t(c.offset));
    }
    close_box(b, at);
}

void Mp4Writer::write_final_moov(Out* out)
{
    Out& b = *out;
    size_t moov = open_box(b, "moov");
    write_mvhd(b, clamp32(duration_ms()), uint32_t(video_.present + audio_.present + 1));
    for (const Track* t : {&video_, &audio_}) {
        if (t->present && !t->table.empty()) write_trak(b, *t, true);
    }
    close_box(b, moov);
}

void Mp4Writer::finish(Out* out)
{
    if (!started_ || finished_) return;
    flush(out);
    finished_ = true;
    size_t before = out->size();
    if (tables_) {
        write_final_moov(out);
        final_moov_ = true;
    } else {
        write_mfra(out);
    }
    bytes_ += out->size() - before;
}

std::vector<Mp4Writer::Patch> Mp4Writer::close_patches() const
{
    if (!started_) return {};
    if (final_moov_) {
        constexpr uint32_t kFree = rtmp::fourcc("free");
        std::vector<Patch> p;
        p.reserve(moofs_.size() + 1);
        for (uint64_t m : moofs_) p.push_back(Patch{m + 4, 4, kFree});
        p.push_back(Patch{moov_at_ + 4, 4, kFree});
        return p;
    }
    uint64_t d = clamp32(duration_ms());
    return {Patch{mvhd_duration_at_, 4, d}, Patch{mehd_duration_at_, 4, d}};
}

uint64_t Mp4Writer::duration_ms() const
{
    uint64_t d = 0;
    for (const Track* t : {&video_, &audio_}) {
        uint64_t e = t->end;
        if (!t->samples.empty()) e = std::max(e, t->last_dts + t->samples.back().duration);
        d = std::max(d, e);
    }
    return d;
}

void Mp4Writer::emit(Out* out, const Out& b)
{
    out->insert(out->end(), b.begin(), b.end());
    bytes_ += b.size();
}

}  // namespace strom::mod
