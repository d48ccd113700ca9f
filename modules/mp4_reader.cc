#include "modules/mp4_reader.h"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include "core/bytes.h"
#include "rtmp/codec_info.h"
#include "rtmp/message.h"

namespace strom::mod {

namespace {

using Bytes = std::span<const uint8_t>;
using rtmp::fourcc;

// Decode times past this (97 days) end a track: dts_ms must fit 32 bits, and every tick
// count then stays below 2^55 for any timescale, far from overflow.
constexpr uint64_t kMaxSeconds = 1u << 23;
constexpr size_t kMaxAsc = 64;

// ISO/IEC 14496-12 8.8.3.1 sample_flags: sample_is_non_sync_sample.
constexpr uint32_t kNonSync = 0x10000;

// The children of a container box (14496-12 4.2): 32-bit size, 1 = 64-bit largesize
// after the type, 0 = to the end of the parent. A header that does not fit stops the
// iteration; a tail of fewer than 8 bytes is padding. There is no generic recursion:
// each caller descends one known level, so nesting depth is fixed by the code.
class Boxes {
public:
    explicit Boxes(Bytes b) : rest_(b) {}
    bool next(uint32_t* type, Bytes* body)
    {
        if (rest_.size() < 8) return false;
        uint64_t size = load_be32(rest_.data());
        size_t head = 8;
        if (size == 1) {
            if (rest_.size() < 16) return false;
            size = load_be64(rest_.data() + 8);
            head = 16;
        } else if (size == 0) {
            size = rest_.size();
        }
        if (size < head || size > rest_.size()) return false;
        *type = load_be32(rest_.data() + 4);
        *body = rest_.subspan(head, size_t(size) - head);
        rest_ = rest_.subspan(size_t(size));
        return true;
    }

private:
    Bytes rest_;
};

Rc fail(const char** why, const char* reason)
{
    *why = reason;
    return Rc::error;
}

bool child(Bytes parent, uint32_t want, Bytes* body)
{
    Boxes it(parent);
    uint32_t type;
    while (it.next(&type, body)) {
        if (type == want) return true;
    }
    return false;
}

// Big-endian fields of a box body; a read past the end sets `bad` and yields 0.
struct Cursor {
    Bytes b;
    size_t at = 0;
    bool bad = false;

    size_t left() const { return b.size() - at; }
    const uint8_t* take(size_t n)
    {
        if (bad || left() < n) {
            bad = true;
            return nullptr;
        }
        at += n;
        return b.data() + at - n;
    }
    uint64_t be(size_t n)  // an n-byte big-endian field
    {
        const uint8_t* p = take(n);
        uint64_t v = 0;
        for (size_t i = 0; p && i < n; ++i) v = v << 8 | p[i];
        return v;
    }
    uint8_t u8() { return uint8_t(be(1)); }
    uint32_t u32() { return uint32_t(be(4)); }
    uint64_t u64() { return be(8); }
};

// Ticks to ms, truncating; |t / ts| stays far below 2^53 / 1000 for callers' values.
int64_t ticks_to_ms(int64_t t, uint32_t ts)
{
    int64_t q = t / ts, r = t % ts;
    return q * 1000 + r * 1000 / int64_t(ts);
}

struct Track {
    uint8_t type = 0;  // msg_type::video / audio; 0: none
    uint32_t id = 0;
    uint32_t timescale = 0;
    rtmp::VideoCodec codec = rtmp::VideoCodec::unknown;
    std::vector<uint8_t> config;  // avcC / hvcC body, or the ASC
    uint32_t width = 0, height = 0, sample_rate = 0;
    uint8_t channels = 0;
    int64_t shift_ms = 0;  // edit list: subtracted from every time
    Bytes stbl;
    uint32_t def_duration = 0, def_size = 0, def_flags = 0;  // trex

    // The index being built: dts_ms relative to base_ms, the first sample's time.
    std::vector<Mp4Sample> samples;
    bool any = false;
    int64_t base_ms = 0;
    int64_t last_rel = 0;
    uint64_t next_dts = 0;   // decode time after the last sample, in ticks
    uint64_t end_ticks = 0;  // decode time after the last indexed sample
};

struct Ctx {
    Mp4ReadAt rd;
    uint64_t file_size;
    const Mp4Limits& lim;
    size_t total = 0;  // samples of both tracks
    uint32_t movie_ts = 0;
    uint64_t movie_duration = 0;
    bool mvex = false;
    bool fragmented = false;
    Track v, a;
};

bool read_exact(Ctx& c, uint64_t off, uint8_t* p, size_t n)
{
    while (n > 0) {
        int64_t r = c.rd.read(c.rd.ctx, off, p, n);
        if (r <= 0 || uint64_t(r) > n) return false;
        off += uint64_t(r);
        p += r;
        n -= size_t(r);
    }
    return true;
}

enum class Push { ok, stop, full };

// Appends one sample at decode time `dts` (ticks) to t. stop: the time is out of range
// (the track ends here); full: max_samples reached.
Push push(Ctx& c, Track& t, uint64_t off, uint32_t size, uint64_t dts, int32_t cto, bool key,
          uint32_t duration)
{
    if (dts / t.timescale >= kMaxSeconds) return Push::stop;
    // Empty samples count too: the limit bounds the work, not only the index.
    if (c.total >= c.lim.max_samples) return Push::full;
    ++c.total;
    if (size == 0) return Push::ok;
    int64_t ms = ticks_to_ms(int64_t(dts), t.timescale);
    if (!t.any) {
        t.any = true;
        t.base_ms = ms;
    }
    int64_t rel = std::max(ms - t.base_ms, t.last_rel);
    if (rel > int64_t(UINT32_MAX)) return Push::stop;
    int64_t cts = ticks_to_ms(int64_t(dts) + cto, t.timescale) - ms;
    cts = std::clamp<int64_t>(cts, INT32_MIN, INT32_MAX);
    t.last_rel = rel;
    t.end_ticks = dts + duration;
    bool video = t.type == rtmp::msg_type::video;
    t.samples.push_back(Mp4Sample{off, size, uint32_t(rel), int32_t(cts), t.type, !video || key});
    return Push::ok;
}

// --- sample description ----------------------------------------------------------------

// ES_Descriptor (ISO/IEC 14496-1 7.2.6.5): tag, then a length of 1-4 bytes, 7 bits each,
// high bit = more follow. A length past the parent is clamped to it.
bool descriptor(Cursor& c, uint8_t* tag, Cursor* body)
{
    *tag = c.u8();
    uint32_t len = 0;
    for (int i = 0; i < 4; ++i) {
        uint8_t b = c.u8();
        len = len << 7 | (b & 0x7f);
        if (!(b & 0x80)) break;
    }
    if (c.bad) return false;
    len = uint32_t(std::min<size_t>(len, c.left()));
    *body = Cursor{c.b.subspan(c.at, len)};
    c.at += len;
    return true;
}

// An AudioSpecificConfig from a sample entry's rate and channels, for MPEG-2 AAC
// (objectTypeIndication 0x66-0x68) written without DecoderSpecificInfo.
bool make_asc(uint8_t object_type, uint32_t rate, uint8_t channels, std::vector<uint8_t>* asc)
{
    static constexpr uint32_t kRates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                          22050, 16000, 12000, 11025, 8000,  7350};
    const uint32_t* r = std::find(std::begin(kRates), std::end(kRates), rate);
    if (r == std::end(kRates) || channels == 0 || channels > 7) return false;
    uint8_t idx = uint8_t(r - kRates);
    *asc = {uint8_t(object_type << 3 | idx >> 1), uint8_t((idx & 1) << 7 | channels << 3)};
    return true;
}

// esds (ISO/IEC 14496-14 5.6): ES_Descriptor > DecoderConfigDescriptor > DecSpecificInfo.
bool read_esds(Bytes esds, Track* t)
{
    Cursor c{esds};
    c.take(4);  // FullBox version, flags
    uint8_t tag;
    Cursor es;
    if (!descriptor(c, &tag, &es) || tag != 0x03) return false;
    es.take(2);  // ES_ID
    uint8_t flags = es.u8();
    if (flags & 0x80) es.take(2);        // dependsOn_ES_ID
    if (flags & 0x40) es.take(es.u8());  // URL
    if (flags & 0x20) es.take(2);        // OCR_ES_Id
    Cursor dcd;
    while (descriptor(es, &tag, &dcd) && tag != 0x04) {
    }
    if (es.bad || tag != 0x04) return false;
    uint8_t oti = dcd.u8();
    dcd.take(12);  // streamType, bufferSizeDB, maxBitrate, avgBitrate
    if (dcd.bad || (oti != 0x40 && (oti < 0x66 || oti > 0x68))) return false;
    Cursor dsi;
    while (descriptor(dcd, &tag, &dsi) && tag != 0x05) {
    }
    if (!dcd.bad && tag == 0x05 && dsi.left() > 0) {
        if (dsi.left() > kMaxAsc) return false;
        t->config.assign(dsi.b.begin(), dsi.b.end());
    } else if (oti == 0x40 ||
               !make_asc(uint8_t(oti - 0x65), t->sample_rate, t->channels, &t->config)) {
        return false;
    }
    rtmp::AudioConfig ac;
    if (rtmp::parse_aac_config(t->config, &ac) == Rc::ok) {
        if (ac.sample_rate) t->sample_rate = ac.sample_rate;
        if (ac.channels) t->channels = ac.channels;
    }
    return true;
}

// The first sample entry of stsd (14496-12 8.5.2): VisualSampleEntry with avcC/hvcC
// (14496-15 5.4, 8.4) or AudioSampleEntry mp4a with esds; QuickTime sound entry
// versions 1 and 2 and a 'wave' box around esds are accepted too.
bool read_stsd(Bytes stsd, Track* t)
{
    if (stsd.size() < 8 || load_be32(stsd.data() + 4) == 0) return false;
    uint32_t type;
    Bytes e;
    if (!Boxes(stsd.subspan(8)).next(&type, &e)) return false;
    if (type == fourcc("mp4a")) {
        if (e.size() < 28) return false;
        uint16_t version = load_be16(e.data() + 8);
        t->channels = uint8_t(std::min<uint16_t>(load_be16(e.data() + 16), 255));
        t->sample_rate = load_be32(e.data() + 24) >> 16;
        size_t at = 28 + (version == 1 ? 16 : version == 2 ? 36 : 0);
        if (e.size() < at) return false;
        Bytes kids = e.subspan(at), esds, wave;
        if (!child(kids, fourcc("esds"), &esds) &&
            !(child(kids, fourcc("wave"), &wave) && child(wave, fourcc("esds"), &esds)))
            return false;
        t->type = rtmp::msg_type::audio;
        return read_esds(esds, t);
    }
    uint32_t config_box;
    size_t min_config;
    if (type == fourcc("avc1") || type == fourcc("avc3")) {
        t->codec = rtmp::VideoCodec::avc;
        config_box = fourcc("avcC");
        min_config = 7;
    } else if (type == fourcc("hvc1") || type == fourcc("hev1")) {
        t->codec = rtmp::VideoCodec::hevc;
        config_box = fourcc("hvcC");
        min_config = 23;
    } else {
        return false;
    }
    Bytes config;
    if (e.size() < 78 || !child(e.subspan(78), config_box, &config)) return false;
    if (config.size() < min_config || config[0] != 1) return false;  // configurationVersion
    t->type = rtmp::msg_type::video;
    t->config.assign(config.begin(), config.end());
    uint32_t w = load_be16(e.data() + 24), h = load_be16(e.data() + 26);
    if (w && h) {
        t->width = w;
        t->height = h;
    }
    return true;
}

// elst (14496-12 8.6.6): leading empty edits delay the track, the first other edit's
// media_time is presented then. See Mp4Index for the timeline.
void read_edits(const Ctx& c, Bytes edts, Track* t)
{
    Bytes elst;
    if (!child(edts, fourcc("elst"), &elst) || elst.size() < 8) return;
    uint8_t version = elst[0];
    uint64_t count = load_be32(elst.data() + 4);
    size_t entry = version == 1 ? 20 : 12;
    if (count > (elst.size() - 8) / entry) return;
    Cursor cur{elst.subspan(8)};
    uint64_t empty = 0;
    int64_t media_time = 0;
    for (uint64_t i = 0; i < count; ++i) {
        uint64_t duration = version == 1 ? cur.u64() : cur.u32();
        int64_t mt = version == 1 ? int64_t(cur.u64()) : int32_t(cur.u32());
        cur.take(4);  // media_rate
        if (mt == -1) {
            empty = std::min(empty + std::min(duration, uint64_t(1) << 62), uint64_t(1) << 62);
            continue;
        }
        if (mt > 0 && uint64_t(mt) / t->timescale < kMaxSeconds) media_time = mt;
        break;
    }
    int64_t delay = 0;
    if (c.movie_ts && empty / c.movie_ts < kMaxSeconds)
        delay = ticks_to_ms(int64_t(empty), c.movie_ts);
    t->shift_ms = ticks_to_ms(media_time, t->timescale) - delay;
}

// One trak: true when it is an H.264/HEVC/AAC track with a timescale and sample tables.
bool read_trak(const Ctx& c, Bytes trak, Track* t)
{
    Bytes tkhd, mdia, mdhd, hdlr, minf, stsd, edts;
    if (!child(trak, fourcc("tkhd"), &tkhd) || !child(trak, fourcc("mdia"), &mdia)) return false;
    Cursor k{tkhd};
    uint8_t version = k.u8();
    k.take(3 + (version == 1 ? 16 : 8));
    t->id = k.u32();
    if (k.bad || tkhd.size() < 84) return false;
    t->width = load_be32(tkhd.data() + tkhd.size() - 8) >> 16;
    t->height = load_be32(tkhd.data() + tkhd.size() - 4) >> 16;

    if (!child(mdia, fourcc("mdhd"), &mdhd) || !child(mdia, fourcc("minf"), &minf)) return false;
    Cursor m{mdhd};
    version = m.u8();
    m.take(3 + (version == 1 ? 16 : 8));
    t->timescale = m.u32();
    if (m.bad || t->timescale == 0) return false;
    if (child(mdia, fourcc("hdlr"), &hdlr) && hdlr.size() >= 12) {
        uint32_t handler = load_be32(hdlr.data() + 8);
        if (handler != fourcc("vide") && handler != fourcc("soun")) return false;
    }
    if (!child(minf, fourcc("stbl"), &t->stbl) || !child(t->stbl, fourcc("stsd"), &stsd))
        return false;
    if (!read_stsd(stsd, t)) return false;
    if (child(trak, fourcc("edts"), &edts)) read_edits(c, edts, t);
    return true;
}

// --- sample tables ---------------------------------------------------------------------

// A table's entries after its FullBox header and `head` more bytes; false when the
// entry count does not fit the box.
bool entries(Bytes box, size_t head, size_t entry, uint64_t count_at, Bytes* out, uint32_t* count)
{
    if (box.size() < 4 + head) return false;
    *count = load_be32(box.data() + count_at);
    Bytes e = box.subspan(4 + head);
    if (uint64_t(*count) * entry > e.size()) return false;
    *out = e.first(size_t(*count) * entry);
    return true;
}

// stts / ctts: runs of (sample_count, value).
struct Runs {
    Bytes e;
    uint32_t n = 0, i = 0, left = 0, value = 0;
    bool next(uint32_t* v)
    {
        while (left == 0) {
            if (i >= n) return false;
            left = load_be32(e.data() + 8 * i);
            value = load_be32(e.data() + 8 * i + 4);
            ++i;
        }
        --left;
        *v = value;
        return true;
    }
};

// stsz / stz2 (14496-12 8.7.3): a constant size or one field per sample.
struct Sizes {
    Bytes e;
    uint32_t constant = 0, count = 0;
    uint8_t bits = 32;
    uint32_t at(uint32_t i) const
    {
        if (constant) return constant;
        switch (bits) {
            case 4:
                return i & 1 ? e[i / 2] & 0x0f : e[i / 2] >> 4;
            case 8:
                return e[i];
            case 16:
                return load_be16(e.data() + 2 * size_t(i));
            default:
                return load_be32(e.data() + 4 * size_t(i));
        }
    }
};

// nullptr, or why the sizes cannot be read.
const char* read_sizes(Bytes stbl, Sizes* s)
{
    Bytes box;
    bool stsz = child(stbl, fourcc("stsz"), &box);
    if (!stsz && !child(stbl, fourcc("stz2"), &box)) return "no stsz box";
    if (box.size() < 12) return "stsz truncated";
    s->count = load_be32(box.data() + 8);
    if (stsz) {
        s->constant = load_be32(box.data() + 4);
        bool ok = s->constant || entries(box, 8, 4, 8, &s->e, &s->count);
        return ok ? nullptr : "stsz truncated";
    }
    s->bits = box[7];  // stz2: reserved(24), field_size(8)
    uint64_t bytes = (uint64_t(s->count) * s->bits + 7) / 8;
    if ((s->bits != 4 && s->bits != 8 && s->bits != 16) || bytes > box.size() - 12)
        return "stsz truncated";
    s->e = box.subspan(12, size_t(bytes));
    return nullptr;
}

struct Tables {
    Runs stts, ctts;
    Bytes stss;
    uint32_t syncs = 0;
    bool has_stss = false;
    Sizes sizes;
    Bytes stsc;
    uint32_t stsc_n = 0;
    Bytes chunks;
    uint32_t chunk_n = 0;
    bool co64 = false;
};

Rc read_tables(Bytes stbl, Tables* t, const char** why)
{
    Bytes box;
    if (!child(stbl, fourcc("stts"), &box)) return fail(why, "no stts box");
    if (!entries(box, 4, 8, 4, &t->stts.e, &t->stts.n)) return fail(why, "stts truncated");
    if (child(stbl, fourcc("ctts"), &box) && !entries(box, 4, 8, 4, &t->ctts.e, &t->ctts.n))
        return fail(why, "ctts truncated");
    t->has_stss = child(stbl, fourcc("stss"), &box);
    if (t->has_stss && !entries(box, 4, 4, 4, &t->stss, &t->syncs))
        return fail(why, "stss truncated");
    if (const char* bad = read_sizes(stbl, &t->sizes)) return fail(why, bad);
    if (!child(stbl, fourcc("stsc"), &box)) return fail(why, "no stsc box");
    if (!entries(box, 4, 12, 4, &t->stsc, &t->stsc_n)) return fail(why, "stsc truncated");
    for (uint32_t i = 0; i < t->stsc_n; ++i) {
        uint32_t first = load_be32(t->stsc.data() + 12 * size_t(i));
        if (first == 0 || (i > 0 && first <= load_be32(t->stsc.data() + 12 * size_t(i - 1))))
            return fail(why, "stsc first_chunk invalid");
    }
    t->co64 = !child(stbl, fourcc("stco"), &box);
    if (t->co64 && !child(stbl, fourcc("co64"), &box)) return fail(why, "no stco/co64 box");
    if (!entries(box, 4, t->co64 ? 8 : 4, 4, &t->chunks, &t->chunk_n))
        return fail(why, "stco/co64 truncated");
    return Rc::ok;
}

// Walks chunks (stco/co64, sizes from stsc) and samples (stsz, stts, ctts, stss) in
// step. A chunk starting past the end of the file ends the track; a sample running
// past it is dropped.
Rc index_tables(Ctx& c, Track& t, const char** why)
{
    Tables tb;
    if (read_tables(t.stbl, &tb, why) != Rc::ok) return Rc::error;
    uint32_t n = tb.sizes.count;
    if (n > c.lim.max_samples - c.total) return fail(why, "too many samples");
    if (!tb.sizes.constant) t.samples.reserve(t.samples.size() + n);
    uint64_t dts = 0;
    uint32_t i = 0, run = 0, sync = 0;
    for (uint32_t chunk = 0; chunk < tb.chunk_n && i < n; ++chunk) {
        uint64_t off = tb.co64 ? load_be64(tb.chunks.data() + 8 * size_t(chunk))
                               : load_be32(tb.chunks.data() + 4 * size_t(chunk));
        if (off > c.file_size) break;
        while (run + 1 < tb.stsc_n && load_be32(tb.stsc.data() + 12 * size_t(run + 1)) <= chunk + 1)
            ++run;
        uint32_t per_chunk = tb.stsc_n ? load_be32(tb.stsc.data() + 12 * size_t(run) + 4) : 0;
        for (uint32_t k = 0; k < per_chunk && i < n; ++k, ++i) {
            uint32_t delta, cto = 0;
            if (!tb.stts.next(&delta)) goto end;
            tb.ctts.next(&cto);  // v0 is unsigned, but negative values are meant (as ffmpeg)
            while (sync < tb.syncs && load_be32(tb.stss.data() + 4 * size_t(sync)) < i + 1) ++sync;
            bool key = !tb.has_stss ||
                       (sync < tb.syncs && load_be32(tb.stss.data() + 4 * size_t(sync)) == i + 1);
            uint32_t size = tb.sizes.at(i);
            if (off <= c.file_size && size <= c.file_size - off) {
                Push r = push(c, t, off, size, dts, int32_t(cto), key, delta);
                if (r == Push::full) return fail(why, "too many samples");
                if (r == Push::stop) goto end;
            }
            dts += delta;
            off += size;
        }
    }
end:
    t.next_dts = dts;
    return Rc::ok;
}

// --- movie fragments -------------------------------------------------------------------

// One traf (14496-12 8.8.6-8.8.8, 8.8.12). Rc::done: the fragment is cut short or points
// past the end of the file (the walk ends before it); *data_end: where the next traf's
// data starts by default.
Rc read_traf(Ctx& c, Bytes traf, uint64_t moof_off, uint64_t* data_end)
{
    Bytes tfhd, box;
    if (!child(traf, fourcc("tfhd"), &tfhd)) return Rc::done;
    Cursor h{tfhd};
    uint32_t flags = h.u32() & 0xffffff;
    uint32_t id = h.u32();
    Track* t = c.v.type && id == c.v.id ? &c.v : c.a.type && id == c.a.id ? &c.a : nullptr;
    if (!t) {
        *data_end = UINT64_MAX;  // unknown: its samples are not parsed
        return Rc::ok;
    }
    if (!(flags & 0x01) && !(flags & 0x020000) && *data_end == UINT64_MAX) return Rc::done;
    uint64_t base = flags & 0x01 ? h.u64() : flags & 0x020000 ? moof_off : *data_end;
    if (flags & 0x02) h.take(4);  // sample_description_index
    uint32_t def_duration = flags & 0x08 ? h.u32() : t->def_duration;
    uint32_t def_size = flags & 0x10 ? h.u32() : t->def_size;
    uint32_t def_flags = flags & 0x20 ? h.u32() : t->def_flags;
    if (h.bad || base > c.file_size) return Rc::done;
    if (child(traf, fourcc("tfdt"), &box)) {
        Cursor d{box};
        uint8_t version = d.u8();
        d.take(3);
        uint64_t time = version == 1 ? d.u64() : d.u32();
        if (d.bad) return Rc::done;
        t->next_dts = time;
    }
    uint64_t pos = base;
    Boxes it(traf);
    uint32_t type;
    while (it.next(&type, &box)) {
        if (type != fourcc("trun")) continue;
        Cursor r{box};
        uint32_t rf = r.u32() & 0xffffff;
        uint32_t count = r.u32();
        if (rf & 0x01) {
            int64_t p = int64_t(base) + int32_t(r.u32());
            if (p < 0) return Rc::done;
            pos = uint64_t(p);
        }
        uint32_t first_flags = rf & 0x04 ? r.u32() : def_flags;
        size_t per = 4 * std::popcount(rf & 0xf00);
        if (r.bad || uint64_t(count) * per > r.left()) return Rc::done;
        for (uint32_t i = 0; i < count; ++i) {
            uint32_t duration = rf & 0x100 ? r.u32() : def_duration;
            uint32_t size = rf & 0x200 ? r.u32() : def_size;
            uint32_t sflags = rf & 0x400 ? r.u32() : def_flags;
            int32_t cto = rf & 0x800 ? int32_t(r.u32()) : 0;  // signed in v1; v0 as ffmpeg
            if (i == 0 && (rf & 0x04)) sflags = first_flags;
            if (pos > c.file_size || size > c.file_size - pos) return Rc::done;
            Push p = push(c, *t, pos, size, t->next_dts, cto, !(sflags & kNonSync), duration);
            if (p == Push::full) return Rc::error;
            if (p == Push::stop) return Rc::done;
            t->next_dts += duration;
            pos += size;
        }
    }
    *data_end = pos;
    return Rc::ok;
}

struct TrackMark {
    size_t samples;
    bool any;
    int64_t base_ms, last_rel;
    uint64_t next_dts, end_ticks;
};

TrackMark mark(const Track& t)
{
    return {t.samples.size(), t.any, t.base_ms, t.last_rel, t.next_dts, t.end_ticks};
}

void roll_back(Track& t, const TrackMark& m)
{
    t.samples.resize(m.samples);
    t.any = m.any;
    t.base_ms = m.base_ms;
    t.last_rel = m.last_rel;
    t.next_dts = m.next_dts;
    t.end_ticks = m.end_ticks;
}

// A moof whole or not at all: Rc::done ends the walk with the samples before it.
Rc read_moof(Ctx& c, Bytes moof, uint64_t moof_off, const char** why)
{
    TrackMark mv = mark(c.v), ma = mark(c.a);
    size_t total = c.total;
    uint64_t data_end = moof_off;  // 8.8.7.1: the first traf's default base is the moof
    Boxes it(moof);
    uint32_t type;
    Bytes traf;
    while (it.next(&type, &traf)) {
        if (type != fourcc("traf")) continue;
        Rc rc = read_traf(c, traf, moof_off, &data_end);
        if (rc == Rc::error) return fail(why, "too many samples");
        if (rc == Rc::done) {
            roll_back(c.v, mv);
            roll_back(c.a, ma);
            c.total = total;
            return Rc::done;
        }
    }
    if (c.v.samples.size() > mv.samples || c.a.samples.size() > ma.samples) c.fragmented = true;
    return Rc::ok;
}

// --- the file --------------------------------------------------------------------------

struct Head {
    uint32_t type = 0;
    uint64_t size = 0;  // whole box
    uint64_t head = 0;
};

// A top-level box header at off; false at the end of the file or on a bad header. The
// box may run past the end (a cut recording): callers check.
bool read_head(Ctx& c, uint64_t off, Head* h)
{
    uint8_t b[16];
    if (off >= c.file_size || c.file_size - off < 8 || !read_exact(c, off, b, 8)) return false;
    h->type = load_be32(b + 4);
    h->size = load_be32(b);
    h->head = 8;
    if (h->size == 1) {
        if (c.file_size - off < 16 || !read_exact(c, off + 8, b + 8, 8)) return false;
        h->size = load_be64(b + 8);
        h->head = 16;
    } else if (h->size == 0) {
        h->size = c.file_size - off;
    }
    return h->size >= h->head;
}

Rc read_moov(Ctx& c, Bytes moov, const char** why)
{
    Bytes box;
    if (child(moov, fourcc("mvhd"), &box)) {
        Cursor m{box};
        uint8_t version = m.u8();
        m.take(3 + (version == 1 ? 16 : 8));
        c.movie_ts = m.u32();
        c.movie_duration = version == 1 ? m.u64() : m.u32();
        if (m.bad) c.movie_ts = 0;
    }
    Boxes it(moov);
    uint32_t type;
    while (it.next(&type, &box)) {
        if (type == fourcc("mvex")) c.mvex = true;
        if (type != fourcc("trak")) continue;
        Track t;
        if (!read_trak(c, box, &t)) continue;
        Track& slot = t.type == rtmp::msg_type::video ? c.v : c.a;
        if (!slot.type) slot = std::move(t);
    }
    if (!c.v.type && !c.a.type) return fail(why, "no H.264, HEVC or AAC track");
    Bytes mvex;
    if (child(moov, fourcc("mvex"), &mvex)) {
        Boxes trex(mvex);
        while (trex.next(&type, &box)) {
            if (type != fourcc("trex") || box.size() < 24) continue;
            uint32_t id = load_be32(box.data() + 4);
            for (Track* t : {&c.v, &c.a}) {
                if (!t->type || t->id != id) continue;
                t->def_duration = load_be32(box.data() + 12);
                t->def_size = load_be32(box.data() + 16);
                t->def_flags = load_be32(box.data() + 20);
            }
        }
    }
    for (Track* t : {&c.v, &c.a}) {
        if (t->type && index_tables(c, *t, why) != Rc::ok) return Rc::error;
    }
    return Rc::ok;
}

// Every moof from `off` on. Stops quietly at the first one that is cut short, too large
// or points past the end of the file.
Rc read_fragments(Ctx& c, uint64_t off, size_t boxes, const char** why)
{
    Head h;
    std::vector<uint8_t> buf;
    while (boxes++ < c.lim.max_boxes && read_head(c, off, &h)) {
        if (h.size > c.file_size - off) break;
        if (h.type == fourcc("moof")) {
            if (h.size - h.head > c.lim.max_moof) break;
            buf.resize(size_t(h.size - h.head));
            if (!read_exact(c, off + h.head, buf.data(), buf.size())) break;
            Rc rc = read_moof(c, buf, off, why);
            if (rc == Rc::error) return rc;
            if (rc == Rc::done) break;
        }
        off += h.size;
    }
    return Rc::ok;
}

// Normalises both tracks to the common timeline (see Mp4Index) and merges them.
void finish(Ctx& c, Mp4Index* out)
{
    int64_t lowest = INT64_MAX;
    for (Track* t : {&c.v, &c.a}) {
        if (t->any) lowest = std::min(lowest, t->base_ms - t->shift_ms);
    }
    int64_t end_ms = 0;
    for (Track* t : {&c.v, &c.a}) {
        if (!t->any) continue;
        int64_t start = t->base_ms - t->shift_ms - lowest;
        for (size_t i = 0; i < t->samples.size(); ++i) {
            int64_t d = t->samples[i].dts_ms + start;
            if (d > int64_t(UINT32_MAX)) {
                t->samples.resize(i);
                break;
            }
            t->samples[i].dts_ms = uint32_t(d);
        }
        int64_t end = ticks_to_ms(int64_t(t->end_ticks), t->timescale) - t->base_ms + start;
        end_ms = std::max(end_ms, end);
    }
    const std::vector<Mp4Sample>& v = c.v.samples;
    const std::vector<Mp4Sample>& a = c.a.samples;
    out->samples.reserve(v.size() + a.size());
    size_t i = 0, j = 0;
    while (i < v.size() || j < a.size()) {
        bool take_v = j == a.size() ||
                      (i < v.size() && (v[i].dts_ms < a[j].dts_ms || (v[i].dts_ms == a[j].dts_ms &&
                                                                      v[i].offset <= a[j].offset)));
        if (take_v && v[i].key) out->keys.push_back(uint32_t(out->samples.size()));
        out->samples.push_back(take_v ? v[i++] : a[j++]);
    }
    out->duration_s = double(end_ms) / 1000;
    if (end_ms == 0 && c.movie_ts && c.movie_duration / c.movie_ts < kMaxSeconds)
        out->duration_s = double(c.movie_duration) / c.movie_ts;
}

}  // namespace

int64_t mp4_pread_fd(void* ctx, uint64_t off, uint8_t* p, size_t n)
{
    int fd = *static_cast<const int*>(ctx);
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, p + got, n - got, off_t(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;
        got += size_t(r);
    }
    return int64_t(got);
}

Rc mp4_read_index(Mp4ReadAt read, uint64_t file_size, const Mp4Limits& lim, Mp4Index* out,
                  const char** why)
{
    *out = Mp4Index{};
    Ctx c{read, file_size, lim};
    // The first moov; the top-level walk reads box headers only.
    Head h;
    uint64_t off = 0, first_moof = UINT64_MAX;
    size_t boxes = 0;
    std::vector<uint8_t> moov;
    while (true) {
        if (boxes++ >= lim.max_boxes || !read_head(c, off, &h)) return fail(why, "no moov box");
        if (h.type == fourcc("moov")) break;
        if (h.type == fourcc("moof") && first_moof == UINT64_MAX) first_moof = off;
        if (h.size > file_size - off) return fail(why, "no moov box");
        off += h.size;
    }
    if (h.size - h.head > lim.max_moov) return fail(why, "moov larger than max_moov");
    if (h.size > file_size - off) return fail(why, "moov truncated");
    moov.resize(size_t(h.size - h.head));
    if (!read_exact(c, off + h.head, moov.data(), moov.size())) return fail(why, "read error");
    if (read_moov(c, moov, why) != Rc::ok) return Rc::error;
    std::vector<uint8_t>().swap(moov);
    if (c.mvex) {
        uint64_t from = first_moof != UINT64_MAX ? first_moof : off + h.size;
        if (read_fragments(c, from, boxes, why) != Rc::ok) return Rc::error;
    }
    if (c.v.samples.empty() && c.a.samples.empty()) return fail(why, "no samples");

    if (c.v.type) {
        out->video = c.v.codec;
        out->video_config = std::move(c.v.config);
        out->width = c.v.width;
        out->height = c.v.height;
    }
    if (c.a.type) {
        out->audio = true;
        out->asc = std::move(c.a.config);
        out->sample_rate = c.a.sample_rate;
        out->channels = c.a.channels;
    }
    out->fragmented = c.fragmented;
    finish(c, out);
    return Rc::ok;
}

Rc mp4_read_duration(Mp4ReadAt read, uint64_t file_size, const Mp4Limits& lim, double* seconds)
{
    *seconds = 0;
    Ctx c{read, file_size, lim};
    Head h;
    uint64_t off = 0;
    for (size_t boxes = 0;; ++boxes) {
        if (boxes >= lim.max_boxes || !read_head(c, off, &h) || h.size > file_size - off) return Rc::error;
        if (h.type == fourcc("moov")) break;
        off += h.size;
    }
    std::vector<uint8_t> head(size_t(std::min<uint64_t>(h.size - h.head, 4096)));
    if (!read_exact(c, off + h.head, head.data(), head.size())) return Rc::error;
    // The moov's first boxes, whole ones only (a 4 KiB prefix cuts the rest).
    Bytes prefix(head.data(), head.size());
    size_t p = 0;
    while (p + 8 <= prefix.size()) {
        uint32_t size = load_be32(prefix.data() + p);
        if (size < 8 || size > prefix.size() - p) return Rc::error;
        if (load_be32(prefix.data() + p + 4) == fourcc("mvhd")) {
            Cursor m{prefix.subspan(p + 8, size - 8)};
            uint8_t version = m.u8();
            m.take(3 + (version == 1 ? 16 : 8));
            uint32_t timescale = m.u32();
            uint64_t duration = version == 1 ? m.u64() : m.u32();
            if (m.bad) return Rc::error;
            if (timescale && duration != UINT64_MAX && duration / timescale < kMaxSeconds)
                *seconds = double(duration) / timescale;
            return Rc::ok;
        }
        p += size;
    }
    return Rc::error;
}

namespace {

int64_t read_memory(void* ctx, uint64_t off, uint8_t* p, size_t n)
{
    Bytes& file = *static_cast<Bytes*>(ctx);
    if (off >= file.size()) return 0;
    size_t k = std::min<uint64_t>(n, file.size() - off);
    memcpy(p, file.data() + off, k);
    return int64_t(k);
}

}  // namespace

Rc mp4_read_index(std::span<const uint8_t> file, const Mp4Limits& lim, Mp4Index* out,
                  const char** why)
{
    Mp4ReadAt rd{read_memory, &file};
    return mp4_read_index(rd, file.size(), lim, out, why);
}

}  // namespace strom::mod
