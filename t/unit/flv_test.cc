// FLV container: golden header bytes, the writers (flat, chain, iovec), and the incremental
// reader over a real ffmpeg-written file fed in every possible way, truncated everywhere,
// with bad back pointers and oversized tags.
#include "rtmp/flv.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/buf.h"
#include "rtmp/codec.h"

using namespace strom;
using namespace strom::rtmp;

namespace {

using Bytes = std::vector<uint8_t>;

// `ffmpeg -f lavfi -i color=c=red:size=16x16:rate=10 -f lavfi -i anullsrc=r=8000:cl=mono
// -t 0.2 -pix_fmt yuv420p -c:v libx264 -preset ultrafast -bsf:v filter_units=remove_types=6
// -g 2 -c:a aac -b:a 8k -fflags +bitexact -flags +bitexact -f flv` (ffmpeg 5.1): onMetaData,
// AVC and AAC sequence headers, frames, AVC end of sequence. 529 bytes, 9 tags.
const Bytes kTinyFlv = {
    0x46, 0x4c, 0x56, 0x01, 0x05, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x12, 0x00, 0x01,
    0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x0a, 0x6f, 0x6e, 0x4d, 0x65, 0x74,
    0x61, 0x44, 0x61, 0x74, 0x61, 0x08, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x08, 0x64, 0x75, 0x72, 0x61,
    0x74, 0x69, 0x6f, 0x6e, 0x00, 0x3f, 0xd4, 0xfd, 0xf3, 0xb6, 0x45, 0xa1, 0xcb, 0x00, 0x05, 0x77,
    0x69, 0x64, 0x74, 0x68, 0x00, 0x40, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x68,
    0x65, 0x69, 0x67, 0x68, 0x74, 0x00, 0x40, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0d,
    0x76, 0x69, 0x64, 0x65, 0x6f, 0x64, 0x61, 0x74, 0x61, 0x72, 0x61, 0x74, 0x65, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x66, 0x72, 0x61, 0x6d, 0x65, 0x72, 0x61, 0x74,
    0x65, 0x00, 0x40, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x76, 0x69, 0x64, 0x65,
    0x6f, 0x63, 0x6f, 0x64, 0x65, 0x63, 0x69, 0x64, 0x00, 0x40, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x0d, 0x61, 0x75, 0x64, 0x69, 0x6f, 0x64, 0x61, 0x74, 0x61, 0x72, 0x61, 0x74, 0x65,
    0x00, 0x40, 0x1f, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x61, 0x75, 0x64, 0x69, 0x6f,
    0x73, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x72, 0x61, 0x74, 0x65, 0x00, 0x40, 0xbf, 0x40, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x0f, 0x61, 0x75, 0x64, 0x69, 0x6f, 0x73, 0x61, 0x6d, 0x70, 0x6c, 0x65,
    0x73, 0x69, 0x7a, 0x65, 0x00, 0x40, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x73,
    0x74, 0x65, 0x72, 0x65, 0x6f, 0x01, 0x00, 0x00, 0x0c, 0x61, 0x75, 0x64, 0x69, 0x6f, 0x63, 0x6f,
    0x64, 0x65, 0x63, 0x69, 0x64, 0x00, 0x40, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
    0x66, 0x69, 0x6c, 0x65, 0x73, 0x69, 0x7a, 0x65, 0x00, 0x40, 0x80, 0x88, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x01, 0x17, 0x09, 0x00, 0x00, 0x29, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x42, 0xc0, 0x0a, 0xff, 0xe1, 0x00, 0x15,
    0x67, 0x42, 0xc0, 0x0a, 0xda, 0x7b, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03,
    0x01, 0x40, 0xf1, 0x22, 0x6a, 0x01, 0x00, 0x04, 0x68, 0xce, 0x0f, 0xc8, 0x00, 0x00, 0x00, 0x34,
    0x08, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xaf, 0x00, 0x15, 0x88, 0x56,
    0xe5, 0x00, 0x00, 0x00, 0x00, 0x12, 0x08, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xaf, 0x01, 0x01, 0x18, 0x20, 0x07, 0x00, 0x00, 0x00, 0x11, 0x09, 0x00, 0x00, 0x1c, 0x00,
    0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x17, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x13, 0x65,
    0x88, 0x84, 0x3a, 0x11, 0x8a, 0x00, 0x02, 0x18, 0xf1, 0xc0, 0x00, 0x40, 0xf6, 0x38, 0x00, 0x08,
    0x79, 0x60, 0x00, 0x00, 0x00, 0x27, 0x08, 0x00, 0x00, 0x06, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00,
    0x00, 0xaf, 0x01, 0x01, 0x18, 0x20, 0x07, 0x00, 0x00, 0x00, 0x11, 0x09, 0x00, 0x00, 0x0e, 0x00,
    0x00, 0xe4, 0x00, 0x00, 0x00, 0x00, 0x27, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x41,
    0x9a, 0x20, 0x32, 0x94, 0x00, 0x00, 0x00, 0x19, 0x08, 0x00, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xaf, 0x01, 0x01, 0x18, 0x20, 0x07, 0x00, 0x00, 0x00, 0x11, 0x09, 0x00, 0x00,
    0x05, 0x00, 0x00, 0xe4, 0x00, 0x00, 0x00, 0x00, 0x17, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x10,
};

struct TagSeen {
    uint8_t type = 0;
    uint32_t timestamp = 0;
    uint64_t offset = 0;
    bool bad_back_pointer = false;
    Bytes data;
    bool operator==(const TagSeen&) const = default;
};

// Runs one slice through the reader, collecting every tag it gives.
Rc drain(FlvReader& r, std::span<const uint8_t> in, std::vector<TagSeen>* out)
{
    for (;;) {
        FlvTag t;
        Rc rc = r.next(in, &t);
        if (rc != Rc::ok) {
            if (rc == Rc::again) {
                EXPECT_TRUE(in.empty());
            }
            return rc;
        }
        out->push_back({t.type, t.timestamp, t.offset, t.bad_back_pointer,
                        Bytes(t.data.begin(), t.data.end())});
    }
}

std::vector<TagSeen> read_all(const Bytes& file, size_t slice)
{
    FlvReader r;
    std::vector<TagSeen> tags;
    for (size_t pos = 0; pos < file.size(); pos += slice) {
        Bytes piece(file.begin() + pos, file.begin() + std::min(file.size(), pos + slice));
        EXPECT_NE(drain(r, piece, &tags), Rc::error);
    }
    EXPECT_EQ(r.finish(), Rc::ok);
    return tags;
}

// End offsets (just past the body) of every tag in a well-formed file.
std::vector<size_t> tag_ends(const Bytes& f)
{
    std::vector<size_t> ends;
    for (size_t pos = 13; pos + 11 <= f.size();) {
        size_t size = size_t(f[pos + 1]) << 16 | size_t(f[pos + 2]) << 8 | f[pos + 3];
        ends.push_back(pos + 11 + size);
        pos += 11 + size + 4;
    }
    return ends;
}

Bytes make_file(std::initializer_list<std::pair<uint8_t, Bytes>> tags, uint32_t ts_step = 40)
{
    Bytes f(kFlvFileStartSize);
    flv_write_header(f.data(), true, true);
    uint32_t ts = 0;
    for (const auto& [type, body] : tags) {
        uint8_t h[kFlvTagHeaderSize], b[kFlvBackPointerSize];
        flv_write_tag_header(h, type, uint32_t(body.size()), ts);
        flv_write_prev_size(b, uint32_t(body.size()));
        f.insert(f.end(), h, h + sizeof h);
        f.insert(f.end(), body.begin(), body.end());
        f.insert(f.end(), b, b + sizeof b);
        ts += ts_step;
    }
    return f;
}

}  // namespace

TEST(FlvWrite, FileHeaderGolden)
{
    uint8_t out[kFlvFileStartSize];
    flv_write_header(out, true, true);
    const uint8_t want[] = {'F', 'L', 'V', 0x01, 0x05, 0, 0, 0, 0x09, 0, 0, 0, 0};
    EXPECT_EQ(0, std::memcmp(out, want, sizeof want));
    EXPECT_EQ(0, std::memcmp(out, kTinyFlv.data(), sizeof want));  // what ffmpeg writes
    flv_write_header(out, false, true);
    EXPECT_EQ(out[4], 0x01);
    flv_write_header(out, true, false);
    EXPECT_EQ(out[4], 0x04);
}

TEST(FlvWrite, TagHeaderGoldenWithExtendedTimestamp)
{
    uint8_t out[kFlvTagHeaderSize];
    flv_write_tag_header(out, 9, 0x123456, 0x89abcdef);
    // TagType, DataSize UI24, Timestamp lower 24 bits, TimestampExtended, StreamID 0.
    const uint8_t want[] = {0x09, 0x12, 0x34, 0x56, 0xab, 0xcd, 0xef, 0x89, 0x00, 0x00, 0x00};
    EXPECT_EQ(0, std::memcmp(out, want, sizeof want));
    FlvTagHeader h = flv_parse_tag_header(out);
    EXPECT_EQ(h.type, 9);
    EXPECT_EQ(h.data_size, 0x123456u);
    EXPECT_EQ(h.timestamp, 0x89abcdefu);
    EXPECT_EQ(h.stream_id, 0u);
    EXPECT_FALSE(h.filter);
    out[0] = 0x20 | 8;  // Filter bit: encrypted audio
    h = flv_parse_tag_header(out);
    EXPECT_TRUE(h.filter);
    EXPECT_EQ(h.type, 8);
    uint8_t bp[4];
    flv_write_prev_size(bp, 0x123456);
    EXPECT_EQ(0, std::memcmp(bp, "\x00\x12\x34\x61", 4));
}

TEST(FlvParse, HeaderSignatureOffsetAndShortInput)
{
    FlvHeader h;
    const char* why = nullptr;
    EXPECT_EQ(flv_parse_header(std::span<const uint8_t>(kTinyFlv.data(), 8), &h, &why), Rc::again);
    ASSERT_EQ(flv_parse_header(kTinyFlv, &h, &why), Rc::ok);
    EXPECT_TRUE(h.audio);
    EXPECT_TRUE(h.video);
    EXPECT_EQ(h.version, 1);
    EXPECT_EQ(h.data_offset, 9u);
    Bytes bad(kTinyFlv.begin(), kTinyFlv.begin() + 9);
    bad[2] = 'X';
    EXPECT_EQ(flv_parse_header(bad, &h, &why), Rc::error);
    EXPECT_STREQ(why, "not an FLV file (bad signature)");
    bad[2] = 'V';
    bad[8] = 8;  // DataOffset below the header's own size
    EXPECT_EQ(flv_parse_header(bad, &h, &why), Rc::error);
}

TEST(FlvWrite, AppendTagToChainFromSpanAndFromBlocks)
{
    BufPool pool(7, 1000);
    {
        Bytes body = {0x17, 0x01, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03};
        Bytes want = make_file({{9, body}});
        want.erase(want.begin(), want.begin() + kFlvFileStartSize);
        Chain out(pool);
        ASSERT_EQ(flv_append_tag(out, 9, 0, body), Rc::ok);
        Bytes got(out.size());
        chain_copy(out.head(), 0, got.data(), got.size());
        EXPECT_EQ(got, want);

        Chain payload(pool);
        ASSERT_EQ(payload.append(body.data(), body.size()), Rc::ok);
        BufRef p = payload.take();
        Chain out2(pool);
        ASSERT_EQ(flv_append_tag(out2, 9, 0, p.get()), Rc::ok);
        Bytes got2(out2.size());
        chain_copy(out2.head(), 0, got2.data(), got2.size());
        EXPECT_EQ(got2, want);

        Bytes huge(kFlvMaxDataSize + 1);
        EXPECT_EQ(flv_append_tag(out2, 9, 0, huge), Rc::error);
    }
    EXPECT_EQ(pool.outstanding(), 0u);
}

TEST(FlvWrite, FrameTagAsIovecWithoutCopy)
{
    BufPool pool(5, 1000);
    {
        Bytes body(23);
        for (size_t i = 0; i < body.size(); ++i) body[i] = uint8_t(i * 7);
        Chain payload(pool);
        ASSERT_EQ(payload.append(body.data(), body.size()), Rc::ok);
        BufRef p = payload.take();  // 5 blocks: 5+5+5+5+3
        FlvTagFrame frame;
        struct iovec iov[8];
        EXPECT_EQ(flv_frame_tag(&frame, 8, 0x01000002, p.get(), std::span<struct iovec>(iov, 6)),
                  0u);
        size_t n = flv_frame_tag(&frame, 8, 0x01000002, p.get(), iov);
        ASSERT_EQ(n, 7u);
        EXPECT_EQ(iov[1].iov_base, p->data() + p->start);  // by reference, not copied
        Bytes got;
        for (size_t i = 0; i < n; ++i) {
            auto* b = static_cast<const uint8_t*>(iov[i].iov_base);
            got.insert(got.end(), b, b + iov[i].iov_len);
        }
        Bytes want(kFlvTagHeaderSize);
        flv_write_tag_header(want.data(), 8, 23, 0x01000002);
        want.insert(want.end(), body.begin(), body.end());
        want.insert(want.end(), {0, 0, 0, 34});
        EXPECT_EQ(got, want);
        EXPECT_EQ(flv_frame_tag(&frame, 18, 0, nullptr, iov), 2u);  // empty body
        EXPECT_EQ(iov[0].iov_len + iov[1].iov_len, 15u);
    }
    EXPECT_EQ(pool.outstanding(), 0u);
}

TEST(FlvReader, FfmpegFileInOneSliceIsNotCopied)
{
    FlvReader r;
    std::span<const uint8_t> in(kTinyFlv);
    std::vector<FlvTag> tags;
    FlvTag t;
    while (r.next(in, &t) == Rc::ok) tags.push_back(t);
    EXPECT_EQ(r.finish(), Rc::ok);
    EXPECT_TRUE(in.empty());
    EXPECT_EQ(r.offset(), kTinyFlv.size());
    ASSERT_EQ(tags.size(), 9u);
    const uint8_t types[] = {18, 9, 8, 8, 9, 8, 9, 8, 9};
    const uint32_t times[] = {0, 0, 0, 0, 128, 128, 228, 256, 228};
    const uint64_t offsets[] = {13, 296, 352, 374, 395, 438, 459, 488, 509};
    for (size_t i = 0; i < tags.size(); ++i) {
        EXPECT_EQ(tags[i].type, types[i]) << i;
        EXPECT_EQ(tags[i].timestamp, times[i]) << i;
        EXPECT_EQ(tags[i].offset, offsets[i]) << i;
        EXPECT_FALSE(tags[i].bad_back_pointer);
        EXPECT_EQ(tags[i].data.data(), kTinyFlv.data() + offsets[i] + 11);  // zero copy
    }
    EXPECT_EQ(r.bad_back_pointers(), 0u);
    EXPECT_TRUE(r.header_done());
    EXPECT_TRUE(r.header().audio && r.header().video);
    EXPECT_EQ(r.tags(), 9u);
    VideoInfo v = parse_video(tags[1].data);
    EXPECT_TRUE(v.sequence_header);
    EXPECT_TRUE(parse_audio(tags[2].data).sequence_header);
    EXPECT_TRUE(parse_video(tags[4].data).keyframe);
    EXPECT_TRUE(parse_video(tags[8].data).sequence_end);
}

TEST(FlvReader, EverySplitPointAndByteByByte)
{
    std::vector<TagSeen> whole = read_all(kTinyFlv, kTinyFlv.size());
    ASSERT_EQ(whole.size(), 9u);
    for (size_t k = 0; k <= kTinyFlv.size(); ++k) {
        FlvReader r;
        std::vector<TagSeen> tags;
        Bytes a(kTinyFlv.begin(), kTinyFlv.begin() + k), b(kTinyFlv.begin() + k, kTinyFlv.end());
        EXPECT_NE(drain(r, a, &tags), Rc::error);
        EXPECT_NE(drain(r, b, &tags), Rc::error);
        EXPECT_EQ(r.finish(), Rc::ok);
        ASSERT_EQ(tags, whole) << "split at " << k;
    }
    EXPECT_EQ(read_all(kTinyFlv, 1), whole);
    for (size_t slice : {2, 3, 5, 11, 13, 64}) EXPECT_EQ(read_all(kTinyFlv, slice), whole) << slice;
}

TEST(FlvReader, TruncatedEverywhere)
{
    std::vector<size_t> ends = tag_ends(kTinyFlv);
    ASSERT_EQ(ends.size(), 9u);
    for (size_t k = 0; k < kTinyFlv.size(); ++k) {
        FlvReader r;
        std::vector<TagSeen> tags;
        Bytes cut(kTinyFlv.begin(), kTinyFlv.begin() + k);
        EXPECT_EQ(drain(r, cut, &tags), Rc::again) << k;
        size_t complete = 0;
        bool boundary = k >= 9 && k <= 13;  // header read, back pointer 0 in or not
        for (size_t e : ends) {
            complete += e <= k;
            boundary = boundary || (k >= e && k <= e + 4);
        }
        EXPECT_EQ(tags.size(), complete) << k;
        EXPECT_EQ(r.finish(), boundary ? Rc::ok : Rc::again) << k;
    }
}

TEST(FlvReader, BadBackPointerIsReportedAndSkipped)
{
    Bytes f = kTinyFlv;
    f[12] = 1;          // PreviousTagSize0 should be 0
    f[395 - 1] = 0x99;  // the back pointer after the third tag
    FlvReader r;
    std::vector<TagSeen> tags;
    EXPECT_EQ(drain(r, f, &tags), Rc::again);
    EXPECT_EQ(r.finish(), Rc::ok);
    ASSERT_EQ(tags.size(), 9u);
    EXPECT_EQ(r.bad_back_pointers(), 2u);
    EXPECT_TRUE(tags[0].bad_back_pointer);
    EXPECT_FALSE(tags[1].bad_back_pointer);
    EXPECT_TRUE(tags[4].bad_back_pointer);
    EXPECT_FALSE(tags[5].bad_back_pointer);
}

TEST(FlvReader, BadSignatureFailsForGood)
{
    Bytes f = kTinyFlv;
    f[0] = 'G';
    FlvReader r;
    std::span<const uint8_t> in(f);
    FlvTag t;
    EXPECT_EQ(r.next(in, &t), Rc::error);
    EXPECT_STREQ(r.reason(), "not an FLV file (bad signature)");
    EXPECT_FALSE(r.header_done());
    std::span<const uint8_t> more(kTinyFlv);
    EXPECT_EQ(r.next(more, &t), Rc::error);
    EXPECT_EQ(r.finish(), Rc::error);
}

TEST(FlvReader, TagOverTheLimitIsAnErrorBeforeAnyAllocation)
{
    Bytes f = make_file({{9, Bytes(2000, 0x17)}});
    FlvReader small(1000);
    std::vector<TagSeen> tags;
    EXPECT_EQ(drain(small, f, &tags), Rc::error);
    EXPECT_STREQ(small.reason(), "FLV tag larger than the limit");
    EXPECT_TRUE(tags.empty());

    // The largest DataSize the format allows, announced but never sent: only the bytes
    // that arrive are held, and the end of input is a truncation.
    Bytes huge(kFlvFileStartSize + kFlvTagHeaderSize);
    flv_write_header(huge.data(), false, true);
    flv_write_tag_header(huge.data() + kFlvFileStartSize, 9, kFlvMaxDataSize, 0);
    huge.push_back(0x17);
    FlvReader r;
    EXPECT_EQ(drain(r, huge, &tags), Rc::again);
    EXPECT_EQ(r.finish(), Rc::again);
}

TEST(FlvReader, DataOffsetSkipsHeaderExtensionAndTimestampExtended)
{
    Bytes f =
        make_file({{8, {0xaf, 0x01, 0x21}}, {9, {0x27, 0x01, 0, 0, 0}}, {18, {}}}, 0x00800000);
    f[8] = 12;  // DataOffset 12: three extension bytes before PreviousTagSize0
    f.insert(f.begin() + 9, {0xee, 0xee, 0xee});
    std::vector<TagSeen> tags = read_all(f, 2);
    ASSERT_EQ(tags.size(), 3u);
    EXPECT_EQ(tags[0].offset, 16u);
    EXPECT_EQ(tags[1].timestamp, 0x00800000u);
    EXPECT_EQ(tags[2].timestamp, 0x01000000u);  // needs TimestampExtended
    EXPECT_TRUE(tags[2].data.empty());
    EXPECT_EQ(tags[1].data, Bytes({0x27, 0x01, 0, 0, 0}));
}

TEST(FlvReader, ReadsWhatTheChainWriterWrote)
{
    BufPool pool(16, 1000);
    {
        Chain out(pool);
        uint8_t head[kFlvFileStartSize];
        flv_write_header(head, true, true);
        ASSERT_EQ(out.append(head, sizeof head), Rc::ok);
        for (uint32_t i = 0; i < 20; ++i) {
            Bytes body(i * 3, uint8_t(i));
            ASSERT_EQ(flv_append_tag(out, i % 2 ? 9 : 8, i * 1000, body), Rc::ok);
        }
        BufRef file = out.take();
        FlvReader r;
        std::vector<TagSeen> tags;
        for (const Block* b = file.get(); b; b = b->next)
            EXPECT_NE(drain(r, std::span<const uint8_t>(b->data() + b->start, b->size()), &tags),
                      Rc::error);
        EXPECT_EQ(r.finish(), Rc::ok);
        ASSERT_EQ(tags.size(), 20u);
        EXPECT_EQ(r.bad_back_pointers(), 0u);
        EXPECT_EQ(tags[19].timestamp, 19000u);
        EXPECT_EQ(tags[19].data, Bytes(57, 19));
    }
    EXPECT_EQ(pool.outstanding(), 0u);
}
