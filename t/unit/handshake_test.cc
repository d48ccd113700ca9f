#include "rtmp/handshake.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/sha256.h"
#include "t/unit/handshake_golden.h"

using namespace strom;
using Hs = rtmp::Handshake;
using Scheme = Hs::Scheme;
using Bytes = std::vector<uint8_t>;

namespace {

constexpr size_t kSig = 1536;
constexpr size_t kC0C1 = 1 + kSig;
constexpr size_t kAll = 1 + 2 * kSig;  // S0S1S2, or C0C1 + C2

// --- An independent model of the complex handshake checks, written from the way ffmpeg
// (libavformat/rtmpproto.c) and librtmp (handshake.h) verify a peer. ------------------

Bytes key(const char* text)
{
    static const uint8_t tail[32] = {
        0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0,
        0xd1, 0x02, 0x9e, 0x7e, 0x57, 0x6e, 0xec, 0x5d, 0x2d, 0x29, 0x80,
        0x6f, 0xab, 0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
    };
    Bytes k(text, text + std::strlen(text));
    k.insert(k.end(), tail, tail + 32);
    return k;
}
const Bytes kFp = key("Genuine Adobe Flash Player 001");         // 62, text part 30
const Bytes kFms = key("Genuine Adobe Flash Media Server 001");  // 68, text part 36

size_t ref_offset(const uint8_t* sig, Scheme s)
{
    size_t base = s == Scheme::digest0 ? 8 : 772;
    return (sig[base] + sig[base + 1] + sig[base + 2] + sig[base + 3]) % 728 + base + 4;
}

Bytes ref_sig_digest(const uint8_t* sig, size_t off, const Bytes& k, size_t text_len)
{
    Bytes msg(sig, sig + off);
    msg.insert(msg.end(), sig + off + 32, sig + kSig);
    Bytes d(32);
    HmacSha256::mac(k.data(), text_len, msg.data(), msg.size(), d.data());
    return d;
}

// Offset of a valid digest in `sig` under scheme s, or 0.
size_t ref_find(const uint8_t* sig, Scheme s, const Bytes& k, size_t text_len)
{
    size_t off = ref_offset(sig, s);
    Bytes d = ref_sig_digest(sig, off, k, text_len);
    return std::memcmp(d.data(), sig + off, 32) == 0 ? off : 0;
}

void ref_imprint(uint8_t* sig, Scheme s, const Bytes& k, size_t text_len)
{
    size_t off = ref_offset(sig, s);
    Bytes d = ref_sig_digest(sig, off, k, text_len);
    std::memcpy(sig + off, d.data(), 32);
}

// C2/S2 signature: HMAC(HMAC(full key, digest of the C1/S1 it answers), reply[0..1504)).
Bytes ref_reply_sig(const uint8_t* reply, const Bytes& full_key, const uint8_t* digest)
{
    uint8_t k[32];
    HmacSha256::mac(full_key.data(), full_key.size(), digest, 32, k);
    Bytes s(32);
    HmacSha256::mac(k, 32, reply, kSig - 32, s.data());
    return s;
}

bool ref_reply_ok(const uint8_t* reply, const Bytes& full_key, const uint8_t* digest)
{
    return std::memcmp(ref_reply_sig(reply, full_key, digest).data(), reply + kSig - 32, 32) == 0;
}

// Our echoes are byte-exact (librtmp warns on any difference, time2 included).
bool echoes(const uint8_t* reply, const uint8_t* sig)
{
    return std::memcmp(reply, sig, kSig) == 0;
}

Bytes unhex(const char* s)
{
    Bytes b;
    for (; s[0] && s[1]; s += 2) b.push_back(uint8_t(std::stoi(std::string(s, 2), nullptr, 16)));
    return b;
}

Bytes pattern(size_t n, uint8_t seed)
{
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = uint8_t(i * 31 + seed + (i >> 8));
    return b;
}

// --- Driving ---------------------------------------------------------------------------

// Moves at most `step` bytes of `from`'s output into `to`, logging them.
bool pump(Hs& from, Hs& to, size_t step, Bytes* log, Rc* rc)
{
    auto out = from.output();
    size_t n = std::min(out.size(), step);
    if (n == 0) return false;
    size_t used = 0;
    *rc = to.feed(out.data(), n, &used);
    EXPECT_EQ(used, n);
    log->insert(log->end(), out.data(), out.data() + n);
    from.sent(n);
    return true;
}

struct Exchange {
    Bytes c2s, s2c;
    Rc client_rc = Rc::again, server_rc = Rc::again;
};

Exchange run(Hs& c, Hs& s, size_t step)
{
    Exchange r;
    for (int i = 0; i < 100000; ++i) {
        bool moved = pump(c, s, step, &r.c2s, &r.server_rc);
        moved = pump(s, c, step, &r.s2c, &r.client_rc) || moved;
        if (!moved) break;
    }
    return r;
}

// Feeds `in` in two pieces cut at `cut`, as a reader handed two socket reads would.
Rc feed_split(Hs& h, const Bytes& in, size_t cut, size_t* consumed)
{
    size_t a = 0;
    Rc rc = h.feed(in.data(), cut, &a);
    if (rc != Rc::again) {
        *consumed = a;
        return rc;
    }
    EXPECT_EQ(a, cut);
    size_t b = 0;
    rc = h.feed(in.data() + cut, in.size() - cut, &b);
    *consumed = a + b;
    return rc;
}

Bytes take_output(Hs& h)
{
    auto out = h.output();
    Bytes b(out.begin(), out.end());
    h.sent(b.size());
    return b;
}

// Checks a complete exchange with the reference model: each side's digest where its
// scheme puts it, and each signed reply keyed on the digest it answers.
void expect_complex_exchange(const Exchange& r, Scheme scheme)
{
    ASSERT_EQ(r.c2s.size(), kAll);
    ASSERT_EQ(r.s2c.size(), kAll);
    const uint8_t* c1 = r.c2s.data() + 1;
    const uint8_t* c2 = r.c2s.data() + kC0C1;
    const uint8_t* s1 = r.s2c.data() + 1;
    const uint8_t* s2 = r.s2c.data() + kC0C1;
    size_t c_off = ref_find(c1, scheme, kFp, 30);
    size_t s_off = ref_find(s1, scheme, kFms, 36);
    ASSERT_NE(c_off, 0u) << "C1 digest not where scheme " << int(scheme) << " puts it";
    ASSERT_NE(s_off, 0u) << "S1 digest not where scheme " << int(scheme) << " puts it";
    EXPECT_NE(c1[4] | c1[5] | c1[6] | c1[7], 0) << "complex C1 needs a version";
    EXPECT_GE(s1[4], 3) << "ffmpeg only checks S1 when its version byte is >= 3";
    EXPECT_TRUE(ref_reply_ok(s2, kFms, c1 + c_off)) << "S2 not signed with C1's digest";
    EXPECT_TRUE(ref_reply_ok(c2, kFp, s1 + s_off)) << "C2 not signed with S1's digest";
}

}  // namespace

TEST(Handshake, SimpleClientAndServerAgreeAtAnyTransferSize)
{
    for (size_t step : {size_t(1), size_t(7), size_t(1536), size_t(1537), size_t(4000)}) {
        Hs c(Hs::Role::client, false), s(Hs::Role::server);
        Exchange r = run(c, s, step);
        ASSERT_EQ(r.client_rc, Rc::ok) << "step " << step;
        ASSERT_EQ(r.server_rc, Rc::ok) << "step " << step;
        EXPECT_FALSE(c.complex());
        EXPECT_FALSE(s.complex());
        EXPECT_EQ(s.peer_version(), 0u);
        EXPECT_TRUE(c.peer_reply_matched());
        EXPECT_TRUE(s.peer_reply_matched());
        ASSERT_EQ(r.c2s.size(), kAll);
        ASSERT_EQ(r.s2c.size(), kAll);
        EXPECT_EQ(r.c2s[0], 3);
        EXPECT_EQ(r.s2c[0], 3);
        EXPECT_EQ(load_be32(r.s2c.data() + 5), 0u);                   // RTMP 5.2.3: zero field
        EXPECT_TRUE(echoes(r.s2c.data() + kC0C1, r.c2s.data() + 1));  // S2 echoes C1
        EXPECT_TRUE(echoes(r.c2s.data() + kC0C1, r.s2c.data() + 1));  // C2 echoes S1
        EXPECT_TRUE(c.output().empty());
        EXPECT_TRUE(s.output().empty());
    }
}

TEST(Handshake, ComplexScheme0ClientAndServerAgreeAtAnyTransferSize)
{
    for (size_t step : {size_t(1), size_t(100), size_t(1537), size_t(5000)}) {
        Hs c(Hs::Role::client, true, Scheme::digest0), s(Hs::Role::server);
        Exchange r = run(c, s, step);
        ASSERT_EQ(r.client_rc, Rc::ok);
        ASSERT_EQ(r.server_rc, Rc::ok);
        EXPECT_EQ(s.peer_scheme(), Scheme::digest0);
        EXPECT_EQ(c.peer_scheme(), Scheme::digest0);
        EXPECT_EQ(s.own_scheme(), Scheme::digest0);
        EXPECT_TRUE(s.complex());
        EXPECT_TRUE(c.peer_reply_matched());
        EXPECT_TRUE(s.peer_reply_matched());
        expect_complex_exchange(r, Scheme::digest0);
    }
}

TEST(Handshake, ComplexScheme1ClientAndServerAgreeAtAnyTransferSize)
{
    for (size_t step : {size_t(1), size_t(100), size_t(1537), size_t(5000)}) {
        Hs c(Hs::Role::client, true, Scheme::digest1), s(Hs::Role::server);
        Exchange r = run(c, s, step);
        ASSERT_EQ(r.client_rc, Rc::ok);
        ASSERT_EQ(r.server_rc, Rc::ok);
        EXPECT_EQ(s.peer_scheme(), Scheme::digest1);
        EXPECT_EQ(c.peer_scheme(), Scheme::digest1);
        EXPECT_TRUE(c.peer_reply_matched());
        EXPECT_TRUE(s.peer_reply_matched());
        expect_complex_exchange(r, Scheme::digest1);
    }
}

// The server is fed the client's whole stream (C0C1, C2, then chunk-stream bytes) cut in
// two at every point: it must answer the same bytes and stop exactly after C2. Seeding
// makes the random bytes repeat (and freezes the time fields) so the answers compare.
TEST(Handshake, ServerFedAtEverySplitPointAnswersTheSameAndStopsAfterC2)
{
    for (Scheme form : {Scheme::simple, Scheme::digest0, Scheme::digest1}) {
        Hs::seed_random(1);
        Hs c(Hs::Role::client, form != Scheme::simple, form);
        Hs::seed_random(2);
        Hs s(Hs::Role::server);
        Exchange r = run(c, s, 5000);
        ASSERT_EQ(r.server_rc, Rc::ok);
        Bytes in = r.c2s;
        const Bytes extra = {0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x01};  // a chunk
        in.insert(in.end(), extra.begin(), extra.end());
        for (size_t cut = 0; cut <= in.size(); ++cut) {
            Hs::seed_random(2);
            Hs t(Hs::Role::server);
            size_t used = 0;
            ASSERT_EQ(feed_split(t, in, cut, &used), Rc::ok) << "cut " << cut;
            ASSERT_EQ(used, kAll) << "cut " << cut;
            ASSERT_EQ(take_output(t), r.s2c) << "cut " << cut;
            ASSERT_EQ(t.peer_scheme(), form);
            ASSERT_TRUE(t.peer_reply_matched()) << "cut " << cut;
        }
    }
}

TEST(Handshake, ClientFedAtEverySplitPointAnswersTheSameAndStopsAfterS2)
{
    for (Scheme form : {Scheme::simple, Scheme::digest0, Scheme::digest1}) {
        Hs::seed_random(1);
        Hs c(Hs::Role::client, form != Scheme::simple, form);
        Hs s(Hs::Role::server);
        Exchange r = run(c, s, 5000);
        ASSERT_EQ(r.client_rc, Rc::ok);
        Bytes in = r.s2c;
        in.push_back(0x02);  // the server's first chunk (Window Acknowledgement Size...)
        Bytes want_c2(r.c2s.begin() + kC0C1, r.c2s.end());
        Bytes first_c2;
        for (size_t cut = 0; cut <= in.size(); ++cut) {
            Hs::seed_random(1);
            Hs t(Hs::Role::client, form != Scheme::simple, form);
            ASSERT_EQ(take_output(t), Bytes(r.c2s.begin(), r.c2s.begin() + kC0C1));
            size_t used = 0;
            ASSERT_EQ(feed_split(t, in, cut, &used), Rc::ok) << "cut " << cut;
            ASSERT_EQ(used, kAll) << "cut " << cut;
            Bytes c2 = take_output(t);
            ASSERT_EQ(c2.size(), kSig);
            if (form == Scheme::simple) {
                ASSERT_TRUE(echoes(c2.data(), r.s2c.data() + 1));
            } else {
                // The random part depends on the generator's position; the signature must hold.
                size_t off = ref_find(r.s2c.data() + 1, form, kFms, 36);
                ASSERT_TRUE(ref_reply_ok(c2.data(), kFp, r.s2c.data() + 1 + off));
                if (first_c2.empty()) first_c2 = c2;
                ASSERT_EQ(c2, first_c2) << "cut " << cut;
            }
            ASSERT_TRUE(t.peer_reply_matched());
        }
    }
}

TEST(Handshake, ServerAnswersAHandBuiltScheme1C1InScheme1)
{
    Bytes c0c1 = pattern(kC0C1, 5);
    c0c1[0] = 3;
    store_be32(c0c1.data() + 1, 1234);
    store_be32(c0c1.data() + 5, 0x0a002d02);
    ref_imprint(c0c1.data() + 1, Scheme::digest1, kFp, 30);
    ASSERT_EQ(ref_find(c0c1.data() + 1, Scheme::digest0, kFp, 30), 0u);

    Hs s(Hs::Role::server);
    size_t used = 0;
    ASSERT_EQ(s.feed(c0c1.data(), c0c1.size(), &used), Rc::again);
    EXPECT_EQ(used, kC0C1);
    EXPECT_EQ(s.peer_scheme(), Scheme::digest1);
    EXPECT_EQ(s.peer_version(), 0x0a002d02u);
    Bytes out = take_output(s);
    ASSERT_EQ(out.size(), kAll);
    const uint8_t* s1 = out.data() + 1;
    EXPECT_NE(ref_find(s1, Scheme::digest1, kFms, 36), 0u);
    EXPECT_EQ(ref_find(s1, Scheme::digest0, kFms, 36), 0u);
    size_t c_off = ref_offset(c0c1.data() + 1, Scheme::digest1);
    EXPECT_TRUE(ref_reply_ok(out.data() + kC0C1, kFms, c0c1.data() + 1 + c_off));
}

TEST(Handshake, UnsupportedVersionIsAnErrorNamingTheByte)
{
    struct {
        uint8_t v;
        const char* text;
    } cases[] = {
        {6, "unsupported RTMP version 6 (RTMPE)"},
        {8, "unsupported RTMP version 8 (RTMPE)"},
        {0, "unsupported RTMP version 0"},
        {4, "unsupported RTMP version 4"},
        {255, "unsupported RTMP version 255"},
        {0x16, "unsupported RTMP version 22 (a TLS ClientHello: RTMPS needs a TLS proxy)"},
        {'G', "unsupported RTMP version 71 ('G': an HTTP GET?)"},
    };
    for (auto& k : cases) {
        Hs s(Hs::Role::server);
        uint8_t in[4] = {k.v, 0, 0, 0};
        size_t used = 99;
        EXPECT_EQ(s.feed(in, sizeof(in), &used), Rc::error);
        EXPECT_EQ(used, 1u);
        EXPECT_STREQ(s.reason(), k.text);
        EXPECT_TRUE(s.output().empty());
        EXPECT_EQ(s.feed(in, sizeof(in), &used), Rc::error);  // stays failed
        EXPECT_EQ(used, 0u);
    }
}

TEST(Handshake, ClientRejectsAServerAnsweringAnotherVersion)
{
    Hs c(Hs::Role::client);
    take_output(c);
    uint8_t s0 = 6;
    size_t used = 0;
    EXPECT_EQ(c.feed(&s0, 1, &used), Rc::error);
    EXPECT_STREQ(c.reason(), "unsupported RTMP version 6 (RTMPE)");
}

TEST(Handshake, ComplexClientAcceptsASimpleServer)
{
    Hs c(Hs::Role::client, true, Scheme::digest0);
    Bytes c0c1 = take_output(c);
    // A simple server (RTMP 5.2.3/5.2.4): S1 = time, zero, random; S2 = echo of C1.
    Bytes in = {3};
    Bytes s1 = pattern(kSig, 9);
    store_be32(s1.data() + 4, 0);
    in.insert(in.end(), s1.begin(), s1.end());
    in.insert(in.end(), c0c1.begin() + 1, c0c1.end());
    size_t used = 0;
    ASSERT_EQ(c.feed(in.data(), in.size(), &used), Rc::ok);
    EXPECT_EQ(used, kAll);
    EXPECT_FALSE(c.complex());
    EXPECT_TRUE(c.peer_reply_matched());
    Bytes c2 = take_output(c);
    ASSERT_EQ(c2.size(), kSig);
    EXPECT_TRUE(echoes(c2.data(), s1.data()));
}

TEST(Handshake, ComplexClientTreatsAnUnsignedS1WithAVersionAsSimple)
{
    Hs c(Hs::Role::client, true, Scheme::digest0);
    Bytes c0c1 = take_output(c);
    Bytes in = {3};
    Bytes s1 = pattern(kSig, 11);
    store_be32(s1.data() + 4, 0x0d0e0a0d);  // a version but no digest
    in.insert(in.end(), s1.begin(), s1.end());
    in.insert(in.end(), c0c1.begin() + 1, c0c1.end());
    size_t used = 0;
    ASSERT_EQ(c.feed(in.data(), in.size(), &used), Rc::ok);
    EXPECT_FALSE(c.complex());
    EXPECT_EQ(c.peer_version(), 0x0d0e0a0du);
    EXPECT_TRUE(echoes(take_output(c).data(), s1.data()));
}

TEST(Handshake, SimpleClientEchoesEvenAComplexServer)
{
    Hs c(Hs::Role::client, false);
    Bytes c0c1 = take_output(c);
    EXPECT_EQ(load_be32(c0c1.data() + 5), 0u);
    Bytes in = {3};
    Bytes s1 = pattern(kSig, 13);
    store_be32(s1.data() + 4, 0x03050101);
    ref_imprint(s1.data(), Scheme::digest1, kFms, 36);
    in.insert(in.end(), s1.begin(), s1.end());
    in.insert(in.end(), c0c1.begin() + 1, c0c1.end());
    size_t used = 0;
    ASSERT_EQ(c.feed(in.data(), in.size(), &used), Rc::ok);
    EXPECT_TRUE(c.complex());
    EXPECT_EQ(c.peer_scheme(), Scheme::digest1);
    EXPECT_TRUE(echoes(take_output(c).data(), s1.data()));
}

TEST(Handshake, ClientAcceptsABadS2SignatureButReportsIt)
{
    Hs c(Hs::Role::client, true, Scheme::digest0), s(Hs::Role::server);
    Bytes c0c1 = take_output(c);
    size_t used = 0;
    ASSERT_EQ(s.feed(c0c1.data(), c0c1.size(), &used), Rc::again);
    Bytes s012 = take_output(s);
    s012[kAll - 1] ^= 1;
    ASSERT_EQ(c.feed(s012.data(), s012.size(), &used), Rc::ok);
    EXPECT_TRUE(c.complex());
    EXPECT_FALSE(c.peer_reply_matched());
}

TEST(Handshake, ServerAcceptsAMismatchedC2ButReportsIt)
{
    for (bool complex : {false, true}) {
        Hs c(Hs::Role::client, complex), s(Hs::Role::server);
        Bytes c0c1 = take_output(c);
        size_t used = 0;
        ASSERT_EQ(s.feed(c0c1.data(), c0c1.size(), &used), Rc::again);
        Bytes c2 = pattern(kSig, 17);
        ASSERT_EQ(s.feed(c2.data(), c2.size(), &used), Rc::ok);
        EXPECT_EQ(used, kSig);
        EXPECT_FALSE(s.peer_reply_matched());
    }
}

// ffmpeg, when publishing, answers a complex S1 with a plain echo as C2.
TEST(Handshake, ServerAcceptsAnEchoC2FromAComplexClient)
{
    Hs c(Hs::Role::client, true), s(Hs::Role::server);
    Bytes c0c1 = take_output(c);
    size_t used = 0;
    ASSERT_EQ(s.feed(c0c1.data(), c0c1.size(), &used), Rc::again);
    Bytes out = take_output(s);
    Bytes c2(out.begin() + 1, out.begin() + kC0C1);
    store_be32(c2.data() + 4, 77);  // time2 is the client's own
    ASSERT_EQ(s.feed(c2.data(), c2.size(), &used), Rc::ok);
    EXPECT_TRUE(s.complex());
    EXPECT_TRUE(s.peer_reply_matched());
}

// ffmpeg's C0C1, and what ffmpeg does with our answer when it plays (rtmpproto.c,
// rtmp_handshake): S1 version byte >= 3, S1 digest at the 772-based place or else the
// 8-based one (FMS key, 36 bytes), S2's last 32 = HMAC(HMAC(68-byte FMS key, C1 digest),
// S2[0..1504)); then its C2 is signed with HMAC(62-byte FP key, S1 digest).
TEST(Handshake, GoldenFfmpegC0C1IsDigest0AndOurAnswerPassesFfmpegChecks)
{
    Bytes c0c1 = unhex(kFfmpegC0C1);
    ASSERT_EQ(c0c1.size(), kC0C1);
    Hs s(Hs::Role::server);
    size_t used = 0;
    ASSERT_EQ(s.feed(c0c1.data(), c0c1.size(), &used), Rc::again);
    EXPECT_EQ(used, kC0C1);
    EXPECT_EQ(s.peer_scheme(), Scheme::digest0);
    EXPECT_EQ(s.peer_version(), 0x09007c02u);  // 9.0.124.2
    Bytes out = take_output(s);
    ASSERT_EQ(out.size(), kAll);
    EXPECT_EQ(out[0], 3);
    const uint8_t* s1 = out.data() + 1;
    EXPECT_GE(s1[4], 3);
    size_t s_off = ref_find(s1, Scheme::digest1, kFms, 36);
    if (!s_off) s_off = ref_find(s1, Scheme::digest0, kFms, 36);
    ASSERT_NE(s_off, 0u) << "ffmpeg: Server response validating failed";
    size_t c_off = ref_offset(c0c1.data() + 1, Scheme::digest0);
    EXPECT_TRUE(ref_reply_ok(out.data() + kC0C1, kFms, c0c1.data() + 1 + c_off))
        << "ffmpeg: Signature mismatch";

    // ffmpeg playing: C2 random with the signature.
    Bytes c2 = pattern(kSig, 21);
    Bytes sig = ref_reply_sig(c2.data(), kFp, s1 + s_off);
    std::copy(sig.begin(), sig.end(), c2.end() - 32);
    ASSERT_EQ(s.feed(c2.data(), c2.size(), &used), Rc::ok);
    EXPECT_TRUE(s.peer_reply_matched());
}

TEST(Handshake, GoldenRtmpdumpSimpleC0C1GetsAnEcho)
{
    Bytes c0c1 = unhex(kRtmpdumpC0C1);
    ASSERT_EQ(c0c1.size(), kC0C1);
    Hs s(Hs::Role::server);
    size_t used = 0;
    ASSERT_EQ(s.feed(c0c1.data(), c0c1.size(), &used), Rc::again);
    EXPECT_FALSE(s.complex());
    Bytes out = take_output(s);
    EXPECT_EQ(load_be32(out.data() + 5), 0u);
    EXPECT_TRUE(echoes(out.data() + kC0C1, c0c1.data() + 1));
    // librtmp's simple C2: S1 echoed with its own time2.
    Bytes c2(out.begin() + 1, out.begin() + kC0C1);
    store_be32(c2.data() + 4, 0x1234);
    ASSERT_EQ(s.feed(c2.data(), c2.size(), &used), Rc::ok);
    EXPECT_TRUE(s.peer_reply_matched());
}

// librtmp (handshake.h, HandShake): S1 digest at the 772-based place or else the 8-based
// one, then S2 checked against HMAC(HMAC(68-byte FMS key, C1 digest), S2[0..1504)).
TEST(Handshake, GoldenRtmpdumpFp9C0C1IsDigest0AndOurAnswerPassesLibrtmpChecks)
{
    Bytes c0c1 = unhex(kRtmpdumpFp9C0C1);
    ASSERT_EQ(c0c1.size(), kC0C1);
    Hs s(Hs::Role::server);
    size_t used = 0;
    ASSERT_EQ(s.feed(c0c1.data(), c0c1.size(), &used), Rc::again);
    EXPECT_EQ(s.peer_scheme(), Scheme::digest0);
    EXPECT_EQ(s.peer_version(), 0x0a002d02u);  // 10.0.45.2
    Bytes out = take_output(s);
    const uint8_t* s1 = out.data() + 1;
    EXPECT_NE(s1[4], 0) << "librtmp falls back to the simple form on a zero version";
    size_t s_off = ref_find(s1, Scheme::digest1, kFms, 36);
    if (!s_off) s_off = ref_find(s1, Scheme::digest0, kFms, 36);
    ASSERT_NE(s_off, 0u) << "librtmp: Couldn't verify the server digest";
    size_t c_off = ref_offset(c0c1.data() + 1, Scheme::digest0);
    EXPECT_TRUE(ref_reply_ok(out.data() + kC0C1, kFms, c0c1.data() + 1 + c_off))
        << "librtmp: Server not genuine Adobe!";
}

TEST(Handshake, OutputDrainsThroughPartialSends)
{
    Hs c(Hs::Role::client);
    EXPECT_EQ(c.output().size(), kC0C1);
    Bytes whole(c.output().begin(), c.output().end());
    c.sent(100);
    EXPECT_EQ(c.output().size(), kC0C1 - 100);
    EXPECT_EQ(c.output()[0], whole[100]);
    c.sent(100000);  // more than pending: clamps
    EXPECT_TRUE(c.output().empty());
}

// S1 may arrive while C0C1 is still queued: C2 is appended after it, one contiguous span.
TEST(Handshake, ClientQueuesC2BehindUnsentC0C1)
{
    Hs c(Hs::Role::client, false), s(Hs::Role::server);
    Bytes c0c1(c.output().begin(), c.output().end());
    size_t used = 0;
    ASSERT_EQ(s.feed(c0c1.data(), c0c1.size(), &used), Rc::again);
    Bytes s012 = take_output(s);
    c.sent(10);
    ASSERT_EQ(c.feed(s012.data(), s012.size(), &used), Rc::ok);
    auto out = c.output();
    ASSERT_EQ(out.size(), kAll - 10);
    EXPECT_TRUE(std::equal(out.begin(), out.begin() + kC0C1 - 10, c0c1.begin() + 10));
    EXPECT_TRUE(echoes(out.data() + kC0C1 - 10, s012.data() + 1));
}

TEST(Handshake, FeedAfterCompletionConsumesNothing)
{
    Hs c(Hs::Role::client), s(Hs::Role::server);
    Exchange r = run(c, s, 5000);
    ASSERT_EQ(r.server_rc, Rc::ok);
    uint8_t more[3] = {1, 2, 3};
    size_t used = 9;
    EXPECT_EQ(s.feed(more, sizeof(more), &used), Rc::ok);
    EXPECT_EQ(used, 0u);
    EXPECT_EQ(s.feed(nullptr, 0, &used), Rc::ok);
    EXPECT_TRUE(s.done());
}

TEST(Handshake, EmptyFeedNeedsMore)
{
    Hs s(Hs::Role::server);
    size_t used = 9;
    EXPECT_EQ(s.feed(nullptr, 0, &used), Rc::again);
    EXPECT_EQ(used, 0u);
}

TEST(Handshake, RandomPartsDifferBetweenHandshakes)
{
    Hs a(Hs::Role::client, false), b(Hs::Role::client, false);
    Bytes x(a.output().begin() + 9, a.output().end());
    Bytes y(b.output().begin() + 9, b.output().end());
    EXPECT_NE(x, y);
}

TEST(Handshake, StaysSmall)
{
    // The session holds one per connection during the handshake only; keep it near 3 KiB.
    EXPECT_LE(sizeof(Hs), 3584u);
}
