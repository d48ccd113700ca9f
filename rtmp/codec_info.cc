#include "rtmp/codec_info.h"

#include <cstdio>
#include <cstring>

#include "core/bytes.h"

namespace strom::rtmp {

namespace {

// MSB-first bit reader over a byte span. Every read is checked: past the end it returns 0
// and sets a sticky error, so a parser reads a group of fields and checks ok() once before
// it uses them. In NAL mode it drops emulation prevention bytes (H.264 7.4.1, H.265
// 7.4.2: a 0x03 after two zero bytes) as it goes, so no unescaped copy is needed.
class BitReader {
public:
    BitReader(std::span<const uint8_t> data, bool nal) : p_(data.data()), n_(data.size()), nal_(nal)
    {
    }

    uint32_t u(int bits)  // bits = 0..32
    {
        uint32_t v = 0;
        for (int i = 0; i < bits; ++i) v = v << 1 | bit();
        return v;
    }
    bool flag() { return bit() != 0; }
    void skip(int bits)
    {
        for (int i = 0; i < bits && !err_; ++i) bit();
    }
    // ue(v), H.264 9.1: up to 31 leading zeros (a 32-bit value); more is an error.
    uint32_t ue()
    {
        int zeros = 0;
        while (!err_ && bit() == 0) {
            if (++zeros > 31) {
                err_ = true;
                return 0;
            }
        }
        if (err_) return 0;
        return uint32_t((uint64_t(1) << zeros) - 1 + u(zeros));
    }
    int32_t se()
    {
        uint32_t k = ue();
        return k & 1 ? int32_t((k >> 1) + 1) : -int32_t(k >> 1);
    }
    // AV1 uvlc() (AV1 4.10.3): 32 or more leading zeros mean UINT32_MAX.
    uint32_t uvlc()
    {
        int zeros = 0;
        while (!err_ && bit() == 0) ++zeros;
        if (err_) return 0;
        if (zeros >= 32) return 0xffffffff;
        return uint32_t((uint64_t(1) << zeros) - 1 + u(zeros));
    }
    void fail() { err_ = true; }
    bool ok() const { return !err_; }
    size_t bits_left() const { return err_ || byte_ >= n_ ? 0 : (n_ - byte_) * 8 - bit_; }

private:
    int bit()
    {
        if (bit_ == 0) {
            if (nal_ && zeros_ >= 2 && byte_ < n_ && p_[byte_] == 3) {
                ++byte_;
                zeros_ = 0;
            }
            if (byte_ >= n_) {
                err_ = true;
                return 0;
            }
        }
        int b = (p_[byte_] >> (7 - bit_)) & 1;
        if (++bit_ == 8) {
            bit_ = 0;
            zeros_ = p_[byte_] == 0 ? zeros_ + 1 : 0;
            ++byte_;
        }
        return b;
    }

    const uint8_t* p_;
    size_t n_;
    bool nal_;
    size_t byte_ = 0;
    int bit_ = 0;
    int zeros_ = 0;
    bool err_ = false;
};

// Picture sizes beyond this are treated as garbage rather than computed with overflow.
constexpr uint32_t kMaxDimension = 1u << 16;

// H.264 7.3.2.1.1.1: a scaling list is only skipped; delta_scale is se(v).
void skip_scaling_list(BitReader& br, int size)
{
    int last = 8, next = 8;
    for (int j = 0; j < size && br.ok(); ++j) {
        if (next != 0) {
            int32_t delta = br.se();
            if (delta < -128 || delta > 127) {
                br.fail();
                return;
            }
            next = (last + delta + 256) % 256;
        }
        last = next == 0 ? last : next;
    }
}

bool avc_high_profile(uint8_t p)
{
    switch (p) {
        case 100:
        case 110:
        case 122:
        case 244:
        case 44:
        case 83:
        case 86:
        case 118:
        case 128:
        case 138:
        case 139:
        case 134:
        case 135:
            return true;
        default:
            return false;
    }
}

// H.264 7.3.2.1.1 from chroma_format_idc to seq_scaling_matrix; false when out of range.
bool avc_chroma_fields(BitReader& br, VideoConfig* out, bool* separate_planes)
{
    uint32_t chroma = br.ue();
    if (chroma > 3) return false;
    if (chroma == 3) *separate_planes = br.flag();
    uint32_t depth_luma = br.ue();
    uint32_t depth_chroma = br.ue();
    if (depth_luma > 6 || depth_chroma > 6) return false;
    br.skip(1);       // qpprime_y_zero_transform_bypass_flag
    if (br.flag()) {  // seq_scaling_matrix_present_flag
        int lists = chroma != 3 ? 8 : 12;
        for (int i = 0; i < lists && br.ok(); ++i) {
            if (br.flag()) skip_scaling_list(br, i < 6 ? 16 : 64);
        }
    }
    out->chroma_format = uint8_t(chroma);
    out->bit_depth = uint8_t(8 + depth_luma);
    return br.ok();
}

// H.264 7.3.2.1.1 from log2_max_frame_num_minus4 to max_num_ref_frames.
bool avc_poc_fields(BitReader& br)
{
    if (br.ue() > 12) return false;  // log2_max_frame_num_minus4
    uint32_t poc_type = br.ue();
    if (poc_type == 0) {
        if (br.ue() > 12) return false;
    } else if (poc_type == 1) {
        br.skip(1);  // delta_pic_order_always_zero_flag
        br.se();
        br.se();
        uint32_t cycle = br.ue();
        if (cycle > 255) return false;
        for (uint32_t i = 0; i < cycle && br.ok(); ++i) br.se();
    } else if (poc_type != 2) {
        return false;
    }
    br.ue();     // max_num_ref_frames
    br.skip(1);  // gaps_in_frame_num_value_allowed_flag
    return br.ok();
}

// H.264 E.1.1 up to timing_info: only the frame rate is kept.
void avc_vui_timing(BitReader& br, VideoConfig* out)
{
    if (br.flag() && br.u(8) == 255) br.skip(32);  // aspect_ratio_idc, Extended_SAR
    if (br.flag()) br.skip(1);                     // overscan_appropriate_flag
    if (br.flag()) {                               // video_signal_type_present_flag
        br.skip(4);
        if (br.flag()) br.skip(24);  // colour description
    }
    if (br.flag()) {  // chroma_loc_info_present_flag
        br.ue();
        br.ue();
    }
    if (!br.flag()) return;  // timing_info_present_flag
    uint32_t units = br.u(32);
    uint32_t scale = br.u(32);
    // A frame is two field ticks: fps = time_scale / (2 * num_units_in_tick).
    if (br.ok() && units != 0 && scale != 0 && units < 0x80000000u) {
        out->fps_num = scale;
        out->fps_den = 2 * units;
    }
}

// Width/height from picture size in units, minus a crop window in chroma-sample units.
bool apply_crop(uint64_t w, uint64_t h, const uint32_t crop[4], uint32_t unit_x, uint32_t unit_y,
                VideoConfig* out)
{
    uint64_t cx = (uint64_t(crop[0]) + crop[1]) * unit_x;
    uint64_t cy = (uint64_t(crop[2]) + crop[3]) * unit_y;
    if (w == 0 || h == 0 || w > kMaxDimension || h > kMaxDimension || cx >= w || cy >= h)
        return false;
    out->width = uint32_t(w - cx);
    out->height = uint32_t(h - cy);
    return true;
}

uint32_t gcd(uint32_t a, uint32_t b)
{
    while (b) {
        uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

uint32_t aac_rate(uint32_t index)
{
    static constexpr uint32_t kRates[13] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                            22050, 16000, 12000, 11025, 8000,  7350};
    return index < 13 ? kRates[index] : 0;
}

}  // namespace

Rc parse_avc_sps(std::span<const uint8_t> nal, VideoConfig* out)
{
    BitReader r(nal, true);
    uint32_t header = r.u(8);
    if (!r.ok() || (header & 0x1f) != 7 || (header & 0x80)) return Rc::error;
    out->codec = VideoCodec::avc;
    out->profile = uint8_t(r.u(8));
    out->constraints = uint8_t(r.u(8));
    out->level = uint8_t(r.u(8));
    if (r.ue() > 31) return Rc::error;  // seq_parameter_set_id
    out->chroma_format = 1;             // inferred when absent (7.4.2.1.1)
    out->bit_depth = 8;
    bool separate_planes = false;
    if (avc_high_profile(out->profile) && !avc_chroma_fields(r, out, &separate_planes))
        return Rc::error;
    if (!avc_poc_fields(r)) return Rc::error;
    uint32_t w_mbs = r.ue();
    uint32_t h_units = r.ue();
    bool frame_mbs_only = r.flag();
    if (!frame_mbs_only) r.skip(1);  // mb_adaptive_frame_field_flag
    r.skip(1);                       // direct_8x8_inference_flag
    uint32_t crop[4] = {0, 0, 0, 0};
    if (r.flag()) {
        for (auto& c : crop) c = r.ue();
    }
    bool vui = r.flag();
    if (!r.ok()) return Rc::error;
    out->interlaced = !frame_mbs_only;
    // 7.4.2.1.1: crop units depend on ChromaArrayType and field coding.
    uint32_t chroma_array = separate_planes ? 0 : out->chroma_format;
    uint32_t unit_x = chroma_array == 0 || chroma_array == 3 ? 1 : 2;
    uint32_t unit_y = (chroma_array == 1 ? 2 : 1) * (frame_mbs_only ? 1 : 2);
    uint64_t w = (uint64_t(w_mbs) + 1) * 16;
    uint64_t h = (uint64_t(h_units) + 1) * 16 * (frame_mbs_only ? 1 : 2);
    if (!apply_crop(w, h, crop, unit_x, unit_y, out)) return Rc::error;
    if (vui) avc_vui_timing(r, out);  // best effort: the size is already known
    return Rc::ok;
}

Rc parse_avc_config(std::span<const uint8_t> rec, VideoConfig* out)
{
    // 14496-15 5.3.3.1: version, profile, compatibility, level, 6 reserved bits +
    // lengthSizeMinusOne, 3 reserved bits + numOfSequenceParameterSets.
    if (rec.size() < 7 || rec[0] != 1) return Rc::error;
    out->codec = VideoCodec::avc;
    out->profile = rec[1];
    out->constraints = rec[2];
    out->level = rec[3];
    out->nal_length_size = uint8_t((rec[4] & 3) + 1);
    size_t count = rec[5] & 31;
    size_t pos = 6;
    std::span<const uint8_t> first;
    for (size_t i = 0; i < count; ++i) {
        if (rec.size() - pos < 2) return Rc::error;
        size_t len = load_be16(&rec[pos]);
        pos += 2;
        if (rec.size() - pos < len) return Rc::error;
        if (i == 0) first = rec.subspan(pos, len);
        pos += len;
    }
    if (rec.size() - pos < 1) return Rc::error;  // numOfPictureParameterSets
    if (first.empty()) return Rc::ok;
    return parse_avc_sps(first, out);
}

namespace {

// H.265 7.3.3 profile_tier_level(1, max_sub_layers_minus1).
bool hevc_profile_tier_level(BitReader& r, uint32_t max_sub_layers_minus1, VideoConfig* out)
{
    r.skip(2);  // general_profile_space
    out->high_tier = r.flag();
    out->profile = uint8_t(r.u(5));
    uint32_t compat = r.u(32);
    r.skip(48);  // progressive/interlaced/non-packed/frame-only + 43 constraint bits + 1
    out->level = uint8_t(r.u(8));
    // Profile 0 is only in the compatibility flags (A.3: flag j set means profile j).
    if (out->profile == 0) {
        for (int j = 1; j < 32; ++j) {
            if (compat & (1u << (31 - j))) {
                out->profile = uint8_t(j);
                break;
            }
        }
    }
    bool profile_present[8] = {}, level_present[8] = {};
    for (uint32_t i = 0; i < max_sub_layers_minus1; ++i) {
        profile_present[i] = r.flag();
        level_present[i] = r.flag();
    }
    if (max_sub_layers_minus1 > 0) r.skip(2 * int(8 - max_sub_layers_minus1));
    for (uint32_t i = 0; i < max_sub_layers_minus1; ++i) {
        if (profile_present[i]) r.skip(88);
        if (level_present[i]) r.skip(8);
    }
    return r.ok();
}

}  // namespace

Rc parse_hevc_sps(std::span<const uint8_t> nal, VideoConfig* out)
{
    BitReader r(nal, true);
    uint32_t header = r.u(16);
    if (!r.ok() || ((header >> 9) & 0x3f) != 33 || (header & 0x8000)) return Rc::error;
    out->codec = VideoCodec::hevc;
    r.skip(4);  // sps_video_parameter_set_id
    uint32_t max_sub_layers_minus1 = r.u(3);
    r.skip(1);  // sps_temporal_id_nesting_flag
    if (max_sub_layers_minus1 > 6 || !hevc_profile_tier_level(r, max_sub_layers_minus1, out))
        return Rc::error;
    if (r.ue() > 15) return Rc::error;  // sps_seq_parameter_set_id
    uint32_t chroma = r.ue();
    if (chroma > 3) return Rc::error;
    bool separate_planes = chroma == 3 && r.flag();
    uint32_t w = r.ue();
    uint32_t h = r.ue();
    uint32_t crop[4] = {0, 0, 0, 0};
    if (r.flag()) {  // conformance_window_flag
        for (auto& c : crop) c = r.ue();
    }
    uint32_t depth = r.ue();
    if (!r.ok() || depth > 8) return Rc::error;
    out->chroma_format = uint8_t(chroma);
    out->bit_depth = uint8_t(8 + depth);
    // 7.4.3.2.1: the conformance window is in SubWidthC/SubHeightC units (Table 6-1).
    uint32_t chroma_array = separate_planes ? 0 : chroma;
    uint32_t unit_x = chroma_array == 1 || chroma_array == 2 ? 2 : 1;
    uint32_t unit_y = chroma_array == 1 ? 2 : 1;
    return apply_crop(w, h, crop, unit_x, unit_y, out) ? Rc::ok : Rc::error;
}

Rc parse_hevc_config(std::span<const uint8_t> rec, VideoConfig* out)
{
    // 14496-15 8.3.3.1.2: 22 bytes of general fields, then numOfArrays.
    if (rec.size() < 23) return Rc::error;
    out->codec = VideoCodec::hevc;
    out->high_tier = (rec[1] >> 5) & 1;
    out->profile = rec[1] & 31;
    out->level = rec[12];
    out->chroma_format = rec[16] & 3;
    out->bit_depth = uint8_t((rec[17] & 7) + 8);
    out->nal_length_size = uint8_t((rec[21] & 3) + 1);
    size_t arrays = rec[22];
    size_t pos = 23;
    std::span<const uint8_t> sps;
    for (size_t a = 0; a < arrays; ++a) {
        if (rec.size() - pos < 3) return Rc::error;
        uint8_t type = rec[pos] & 0x3f;
        size_t nalus = load_be16(&rec[pos + 1]);
        pos += 3;
        for (size_t i = 0; i < nalus; ++i) {
            if (rec.size() - pos < 2) return Rc::error;
            size_t len = load_be16(&rec[pos]);
            pos += 2;
            if (rec.size() - pos < len) return Rc::error;
            if (type == 33 && sps.empty()) sps = rec.subspan(pos, len);
            pos += len;
        }
    }
    if (sps.empty()) return Rc::ok;
    return parse_hevc_sps(sps, out);
}

namespace {

// AV1 5.5.1 sequence_header_obu() up to max_frame_height_minus_1.
bool av1_sequence_header(BitReader& r, VideoConfig* out)
{
    out->profile = uint8_t(r.u(3));
    r.skip(1);       // still_picture
    if (r.flag()) {  // reduced_still_picture_header
        out->level = uint8_t(r.u(5));
    } else {
        bool decoder_model = false;
        uint32_t delay_bits = 0;
        if (r.flag()) {  // timing_info_present_flag
            uint32_t units = r.u(32);
            uint32_t scale = r.u(32);
            if (r.flag()) r.uvlc();  // equal_picture_interval, num_ticks_per_picture_minus_1
            if (r.ok() && units != 0 && scale != 0) {
                out->fps_num = scale;
                out->fps_den = units;
            }
            decoder_model = r.flag();
            if (decoder_model) {
                delay_bits = r.u(5) + 1;
                r.skip(32 + 5 + 5);
            }
        }
        bool initial_delay = r.flag();
        uint32_t points = r.u(5) + 1;
        for (uint32_t i = 0; i < points && r.ok(); ++i) {
            r.skip(12);  // operating_point_idc
            uint32_t level = r.u(5);
            bool tier = level > 7 && r.flag();
            if (i == 0) {
                out->level = uint8_t(level);
                out->high_tier = tier;
            }
            if (decoder_model && r.flag()) r.skip(int(2 * delay_bits + 1));
            if (initial_delay && r.flag()) r.skip(4);
        }
    }
    int wbits = int(r.u(4)) + 1;
    int hbits = int(r.u(4)) + 1;
    uint64_t w = uint64_t(r.u(wbits)) + 1;
    uint64_t h = uint64_t(r.u(hbits)) + 1;
    if (!r.ok() || w > kMaxDimension || h > kMaxDimension) return false;
    out->width = uint32_t(w);
    out->height = uint32_t(h);
    return true;
}

// leb128() (AV1 4.10.5), at most 8 bytes, value checked by the caller.
bool read_leb128(std::span<const uint8_t> d, size_t* pos, uint64_t* value)
{
    *value = 0;
    for (int i = 0; i < 8; ++i) {
        if (*pos >= d.size()) return false;
        uint8_t b = d[(*pos)++];
        *value |= uint64_t(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) return true;
    }
    return false;
}

}  // namespace

Rc parse_av1_config(std::span<const uint8_t> rec, VideoConfig* out)
{
    // marker(1) = 1, version(7) = 1; seq_profile(3) seq_level_idx_0(5); seq_tier_0,
    // high_bitdepth, twelve_bit, monochrome, chroma_subsampling_x/y, position(2); 1 more.
    if (rec.size() < 4 || rec[0] != 0x81) return Rc::error;
    out->codec = VideoCodec::av1;
    out->profile = rec[1] >> 5;
    out->level = rec[1] & 31;
    out->high_tier = rec[2] >> 7;
    bool high = (rec[2] >> 6) & 1, twelve = (rec[2] >> 5) & 1, mono = (rec[2] >> 4) & 1;
    bool sub_x = (rec[2] >> 3) & 1, sub_y = (rec[2] >> 2) & 1;
    out->bit_depth = high ? (twelve ? 12 : 10) : 8;
    out->chroma_format = mono ? 0 : sub_x && sub_y ? 1 : sub_x ? 2 : 3;
    size_t pos = 4;
    while (pos < rec.size()) {  // configOBUs
        uint8_t h = rec[pos++];
        if (h & 0x80) return Rc::error;  // obu_forbidden_bit
        uint8_t type = (h >> 3) & 15;
        if (h & 4) {  // obu_extension_flag: one more header byte
            if (pos >= rec.size()) return Rc::error;
            ++pos;
        }
        uint64_t size = rec.size() - pos;  // no obu_size: the OBU runs to the end
        if ((h & 2) && !read_leb128(rec, &pos, &size)) return Rc::error;
        if (size > rec.size() - pos) return Rc::error;
        if (type == 1) {  // OBU_SEQUENCE_HEADER
            BitReader r(rec.subspan(pos, size_t(size)), false);
            return av1_sequence_header(r, out) ? Rc::ok : Rc::error;
        }
        pos += size_t(size);
    }
    return Rc::ok;
}

Rc parse_vp_config(std::span<const uint8_t> rec, VideoConfig* out)
{
    // profile(8) level(8) bitDepth(4) chromaSubsampling(3) videoFullRangeFlag(1)
    // colourPrimaries(8) transferCharacteristics(8) matrixCoefficients(8)
    // codecInitializationDataSize(16) codecInitializationData. The size field tells the
    // bare record from one behind the FullBox version(8)=1 + flags(24)=0.
    if (rec.size() >= 12 && rec[0] == 1 && rec[1] == 0 && rec[2] == 0 && rec[3] == 0 &&
        12u + load_be16(&rec[10]) == rec.size())
        rec = rec.subspan(4);
    if (rec.size() < 8 || 8u + load_be16(&rec[6]) != rec.size()) return Rc::error;
    out->profile = rec[0];
    out->level = rec[1];
    out->bit_depth = rec[2] >> 4;
    uint8_t sub = (rec[2] >> 1) & 7;  // 0, 1: 4:2:0; 2: 4:2:2; 3: 4:4:4
    if (sub > 3) return Rc::error;
    out->chroma_format = sub <= 1 ? 1 : sub;
    return Rc::ok;
}

Rc parse_video_config(VideoCodec codec, std::span<const uint8_t> body, VideoConfig* out)
{
    switch (codec) {
        case VideoCodec::avc:
            return parse_avc_config(body, out);
        case VideoCodec::hevc:
            return parse_hevc_config(body, out);
        case VideoCodec::av1:
            return parse_av1_config(body, out);
        case VideoCodec::vp8:
        case VideoCodec::vp9:
            out->codec = codec;
            return parse_vp_config(body, out);
        default:
            return Rc::declined;
    }
}

namespace {

uint32_t aac_object_type(BitReader& r)
{
    uint32_t t = r.u(5);
    return t == 31 ? 32 + r.u(6) : t;
}

uint32_t aac_frequency(BitReader& r)
{
    uint32_t index = r.u(4);
    return index == 15 ? r.u(24) : aac_rate(index);  // 15: explicit 24-bit frequency
}

uint8_t aac_channels(uint32_t config)
{
    // 14496-3 Table 1.19: 1..6 as is, 7 is 7.1; 0 means a program config element.
    static constexpr uint8_t kChannels[16] = {0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 24, 8, 0};
    return kChannels[config & 15];
}

// Backward-compatible SBR/PS signalling after the GASpecificConfig (14496-3 1.6.5.2).
void aac_sync_extension(BitReader& r, AudioConfig* out)
{
    if (r.bits_left() < 16 || r.u(11) != 0x2b7) return;
    if (aac_object_type(r) != 5) return;
    out->sbr = r.flag();
    if (!out->sbr) return;
    uint32_t ext = aac_frequency(r);
    if (r.ok() && ext) out->sample_rate = ext;
    if (r.bits_left() >= 12 && r.u(11) == 0x548) out->ps = r.flag();
}

}  // namespace

Rc parse_aac_config(std::span<const uint8_t> asc, AudioConfig* out)
{
    BitReader r(asc, false);
    out->codec = AudioCodec::aac;
    uint32_t aot = aac_object_type(r);
    uint32_t rate = aac_frequency(r);
    uint32_t config = r.u(4);
    if (!r.ok() || aot == 0 || rate == 0) return Rc::error;
    out->object_type = uint8_t(aot);
    out->core_sample_rate = out->sample_rate = rate;
    out->channels = aac_channels(config);
    if (aot == 5 || aot == 29) {  // explicit hierarchical signalling: HE-AAC (v2)
        out->sbr = true;
        out->ps = aot == 29;
        uint32_t ext = aac_frequency(r);
        aot = aac_object_type(r);
        if (aot == 22) r.skip(4);  // extensionChannelConfiguration (ER BSAC)
        if (!r.ok() || ext == 0) return Rc::error;
        out->sample_rate = ext;
        if (out->ps && out->channels == 1) out->channels = 2;  // PS decodes to stereo
    }
    out->core_object_type = uint8_t(aot);
    // GASpecificConfig for the plain AAC object types, then look for a sync extension.
    bool ga = aot == 1 || aot == 2 || aot == 3 || aot == 4;
    if (ga && config != 0 && !out->sbr) {
        r.skip(1);                 // frameLengthFlag
        if (r.flag()) r.skip(14);  // dependsOnCoreCoder: coreCoderDelay
        r.skip(1);                 // extensionFlag (0 for these object types)
        if (r.ok()) aac_sync_extension(r, out);
    }
    return Rc::ok;
}

Rc parse_opus_head(std::span<const uint8_t> d, AudioConfig* out)
{
    // "OpusHead", version, channel count, pre-skip (LE16), input sample rate (LE32), ...
    if (d.size() < 19 || std::memcmp(d.data(), "OpusHead", 8) != 0 || (d[8] >> 4) != 0)
        return Rc::error;
    out->codec = AudioCodec::opus;
    out->channels = d[9];
    out->sample_rate = 48000;  // RFC 7845 5.1: Opus always decodes at 48 kHz
    out->core_sample_rate = load_le32(&d[12]);
    return out->channels ? Rc::ok : Rc::error;
}

Rc parse_flac_streaminfo(std::span<const uint8_t> d, AudioConfig* out)
{
    if (d.size() >= 4 && std::memcmp(d.data(), "fLaC", 4) == 0) d = d.subspan(4);
    // METADATA_BLOCK_HEADER: last-block flag + type 0 (STREAMINFO), UI24 length 34.
    if (d.size() >= 38 && (d[0] & 0x7f) == 0 && load_be24(&d[1]) == 34) d = d.subspan(4);
    if (d.size() < 34) return Rc::error;
    // After min/max block size (2x16) and min/max frame size (2x24): sample rate (20),
    // channels - 1 (3), bits per sample - 1 (5).
    uint32_t v = load_be32(&d[10]);
    out->codec = AudioCodec::flac;
    out->sample_rate = out->core_sample_rate = v >> 12;
    out->channels = uint8_t(((v >> 9) & 7) + 1);
    out->bits = uint8_t(((v >> 4) & 31) + 1);
    return out->sample_rate ? Rc::ok : Rc::error;
}

Rc parse_audio_config(AudioCodec codec, std::span<const uint8_t> body, AudioConfig* out)
{
    switch (codec) {
        case AudioCodec::aac:
            return parse_aac_config(body, out);
        case AudioCodec::opus:
            return parse_opus_head(body, out);
        case AudioCodec::flac:
            return parse_flac_streaminfo(body, out);
        default:
            return Rc::declined;
    }
}

namespace {

struct Named {
    uint8_t id;
    const char* name;
};

const char* lookup(std::span<const Named> table, uint8_t id, const char* missing = "unknown")
{
    for (const Named& n : table) {
        if (n.id == id) return n.name;
    }
    return missing;
}

}  // namespace

const char* avc_profile_name(uint8_t p, uint8_t constraints)
{
    // A.2: constraint_set1 on Baseline is Constrained Baseline; constraint_set3 on the
    // High 10/4:2:2/4:4:4 profiles means their Intra variants.
    static constexpr Named kIntra[] = {
        {110, "High 10 Intra"}, {122, "High 4:2:2 Intra"}, {244, "High 4:4:4 Intra"}};
    static constexpr Named kNames[] = {{66, "Baseline"},
                                       {77, "Main"},
                                       {88, "Extended"},
                                       {100, "High"},
                                       {110, "High 10"},
                                       {122, "High 4:2:2"},
                                       {244, "High 4:4:4 Predictive"},
                                       {44, "CAVLC 4:4:4 Intra"},
                                       {118, "Multiview High"},
                                       {128, "Stereo High"}};
    if (p == 66 && (constraints & 0x40)) return "Constrained Baseline";
    const char* intra = constraints & 0x10 ? lookup(kIntra, p, nullptr) : nullptr;
    return intra ? intra : lookup(kNames, p);
}

const char* hevc_profile_name(uint8_t p)
{
    static constexpr Named kNames[] = {
        {1, "Main"}, {2, "Main 10"},         {3, "Main Still Picture"},
        {4, "Rext"}, {5, "High Throughput"}, {9, "Screen Content"}};
    return lookup(kNames, p);
}

const char* av1_profile_name(uint8_t p)
{
    static constexpr Named kNames[] = {{0, "Main"}, {1, "High"}, {2, "Professional"}};
    return lookup(kNames, p);
}

const char* aac_object_name(uint8_t t)
{
    static constexpr Named kNames[] = {{1, "Main"},  {2, "LC"},   {3, "SSR"},
                                       {4, "LTP"},   {5, "HE"},   {23, "LD"},
                                       {29, "HEv2"}, {39, "ELD"}, {42, "USAC"}};
    return lookup(kNames, t);
}

const char* video_level_str(const VideoConfig& c, char out[8])
{
    unsigned l = c.level;
    switch (c.codec) {
        case VideoCodec::avc:
            // A.3.1: level 1b is level_idc 11 + constraint_set3 (Baseline/Main/Extended) or 9.
            if (l == 9 || (l == 11 && (c.constraints & 0x10) &&
                           (c.profile == 66 || c.profile == 77 || c.profile == 88)))
                snprintf(out, 8, "1b");
            else
                snprintf(out, 8, "%u.%u", l / 10, l % 10);
            break;
        case VideoCodec::hevc:  // general_level_idc = 30 x level
            snprintf(out, 8, l % 30 ? "%u.%u" : "%u", l / 30, (l % 30) / 3);
            break;
        case VideoCodec::av1:  // seq_level_idx: level X.Y = (2 + idx / 4).(idx % 4)
            if (l == 31)
                snprintf(out, 8, "max");
            else
                snprintf(out, 8, "%u.%u", 2 + l / 4, l % 4);
            break;
        case VideoCodec::vp8:
        case VideoCodec::vp9:
            snprintf(out, 8, "%u.%u", l / 10, l % 10);
            break;
        default:
            snprintf(out, 8, "?");
    }
    return out;
}

int format_video_config(const VideoConfig& c, char* out, size_t n)
{
    static const char* const kChroma[4] = {"4:0:0", "4:2:0", "4:2:2", "4:4:4"};
    const char* profile = "";
    char vp_profile[16];
    switch (c.codec) {
        case VideoCodec::avc:
            profile = avc_profile_name(c.profile, c.constraints);
            break;
        case VideoCodec::hevc:
            profile = hevc_profile_name(c.profile);
            break;
        case VideoCodec::av1:
            profile = av1_profile_name(c.profile);
            break;
        default:
            snprintf(vp_profile, sizeof vp_profile, "Profile %u", unsigned(c.profile));
            profile = vp_profile;
    }
    char level[8], size[32] = "", fps[32] = "";
    if (c.width && c.height)
        snprintf(size, sizeof size, " %ux%u%s", c.width, c.height, c.interlaced ? "i" : "");
    if (c.fps_num && c.fps_den) {
        uint32_t g = gcd(c.fps_num, c.fps_den);
        uint32_t num = c.fps_num / g, den = c.fps_den / g;
        if (den == 1)
            snprintf(fps, sizeof fps, " %ufps", num);
        else
            snprintf(fps, sizeof fps, " %.3ffps", double(num) / den);
    }
    return snprintf(out, n, "%s %s%s %s%s%s %s %ubit", video_codec_name(c.codec), profile,
                    c.high_tier ? " High tier" : "", video_level_str(c, level), size, fps,
                    kChroma[c.chroma_format & 3], unsigned(c.bit_depth));
}

int format_audio_config(const AudioConfig& c, char* out, size_t n)
{
    if (c.codec == AudioCodec::aac) {
        const char* name = c.ps ? "HEv2" : c.sbr ? "HE" : aac_object_name(c.object_type);
        return snprintf(out, n, "AAC %s %uHz %uch", name, c.sample_rate, unsigned(c.channels));
    }
    if (c.bits)
        return snprintf(out, n, "%s %uHz %uch %ubit", audio_codec_name(c.codec), c.sample_rate,
                        unsigned(c.channels), unsigned(c.bits));
    return snprintf(out, n, "%s %uHz %uch", audio_codec_name(c.codec), c.sample_rate,
                    unsigned(c.channels));
}

}  // namespace strom::rtmp
