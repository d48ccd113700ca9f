#include "rtmp/handshake.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "core/bytes.h"

namespace strom::rtmp {

namespace {

using Scheme = Handshake::Scheme;
constexpr size_t kSig = Handshake::kSigSize;
constexpr size_t kDigest = 32;
constexpr size_t kSigned = kSig - kDigest;  // C2/S2 bytes covered by their signature

// The complex handshake's keys: a text part, which alone signs C1 (player) and S1
// (server), followed by 32 fixed bytes; the full key derives the C2/S2 signature key.
template <size_t N>
constexpr std::array<uint8_t, N - 1 + kDigest> make_key(const char (&text)[N])
{
    constexpr uint8_t tail[kDigest] = {
        0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0,
        0xd1, 0x02, 0x9e, 0x7e, 0x57, 0x6e, 0xec, 0x5d, 0x2d, 0x29, 0x80,
        0x6f, 0xab, 0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
    };
    std::array<uint8_t, N - 1 + kDigest> key{};
    for (size_t i = 0; i + 1 < N; ++i) key[i] = uint8_t(text[i]);
    for (size_t i = 0; i < kDigest; ++i) key[N - 1 + i] = tail[i];
    return key;
}

constexpr auto kPlayerKey = make_key("Genuine Adobe Flash Player 001");        // 62 bytes
constexpr auto kServerKey = make_key("Genuine Adobe Flash Media Server 001");  // 68 bytes
constexpr size_t kPlayerKeyText = 30;
constexpr size_t kServerKeyText = 36;
static_assert(kPlayerKey.size() == 62 && kServerKey.size() == 68);

// Version fields of a complex C1/S1. A player needs 9.0.115 or later to speak the complex
// form; ffmpeg only checks a server's digest when the first version byte is >= 3.
constexpr uint32_t kClientVersion = 0x0b010000;  // 11.1.0.0
constexpr uint32_t kServerVersion = 0x04050001;  // 4.5.0.1

struct KeyRef {
    const uint8_t* p;
    size_t text_len;  // signs C1/S1
    size_t full_len;  // derives the C2/S2 signature key
};

KeyRef key_of(Handshake::Role r)
{
    if (r == Handshake::Role::server) return {kServerKey.data(), kServerKeyText, kServerKey.size()};
    return {kPlayerKey.data(), kPlayerKeyText, kPlayerKey.size()};
}

Handshake::Role other(Handshake::Role r)
{
    return r == Handshake::Role::server ? Handshake::Role::client : Handshake::Role::server;
}

// A per-process splitmix64 generator. The handshake's random bytes are a formality (the
// keys are public), so a cheap generator seeded once from getrandom() is enough. Seeded
// again after fork(), so that workers do not all send the same bytes.
struct Rng {
    uint64_t state = 0;
    pid_t pid = 0;
    bool seeded = false;
    bool frozen_clock = false;  // seed_random(): time fields are 0, for reproducible bytes
};
Rng g_rng;

void rng_seed_if_needed()
{
    pid_t pid = getpid();
    if (g_rng.seeded && g_rng.pid == pid) return;
    uint64_t s = 0;
    // GRND_NONBLOCK: never wait for the entropy pool (early boot); the clock will do.
    if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != ssize_t(sizeof(s))) {
        timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s = uint64_t(ts.tv_sec) << 30 ^ uint64_t(ts.tv_nsec);
    }
    g_rng.state = s ^ uint64_t(pid) << 40;
    g_rng.pid = pid;
    g_rng.seeded = true;
}

uint64_t rng_next()
{
    uint64_t z = (g_rng.state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void fill_random(uint8_t* p, size_t n)
{
    rng_seed_if_needed();
    for (; n >= 8; p += 8, n -= 8) store_be64(p, rng_next());
    if (n > 0) {
        uint8_t last[8];
        store_be64(last, rng_next());
        std::memcpy(p, last, n);
    }
}

// RTMP 5.2.3: the time field is an epoch of our choosing; milliseconds of a monotonic
// clock, wrapping at 32 bits, as other servers send.
uint32_t now_ms()
{
    if (g_rng.frozen_clock) return 0;
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint32_t(uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000);
}

// Where the digest of a complex C1/S1 sits: the 4 bytes at `base` summed, modulo 728,
// placed just after them. digest0: 12..771, digest1: 776..1535, always inside the 1536.
size_t digest_offset(const uint8_t* sig, Scheme s)
{
    size_t base = s == Scheme::digest0 ? 8 : 772;
    uint32_t sum = uint32_t(sig[base]) + sig[base + 1] + sig[base + 2] + sig[base + 3];
    return sum % 728 + base + 4;
}

// HMAC over the whole C1/S1 except the 32 digest bytes themselves.
void sig_digest(const uint8_t* sig, size_t off, const uint8_t* key, size_t key_len,
                uint8_t out[kDigest])
{
    HmacSha256 h(key, key_len);
    h.update(sig, off);
    h.update(sig + off + kDigest, kSig - off - kDigest);
    h.final(out);
}

Scheme find_digest(const uint8_t* sig, const uint8_t* key, size_t key_len, uint8_t out[kDigest])
{
    for (Scheme s : {Scheme::digest0, Scheme::digest1}) {
        size_t off = digest_offset(sig, s);
        sig_digest(sig, off, key, key_len, out);
        if (std::memcmp(out, sig + off, kDigest) == 0) return s;
    }
    return Scheme::simple;
}

// C0/S0 carries the version; anything but 3 ends the connection. The reason names the
// byte (a static string per value, built at compile time) and guesses the usual culprits.
struct Reason {
    char text[32];
};

constexpr std::array<Reason, 256> make_version_reasons()
{
    std::array<Reason, 256> t{};
    constexpr char prefix[] = "unsupported RTMP version ";
    for (int v = 0; v < 256; ++v) {
        size_t n = 0;
        for (size_t i = 0; i + 1 < sizeof(prefix); ++i) t[v].text[n++] = prefix[i];
        char digits[3] = {};
        int k = 0;
        for (int x = v; k == 0 || x > 0; x /= 10) digits[k++] = char('0' + x % 10);
        while (k > 0) t[v].text[n++] = digits[--k];
        t[v].text[n] = '\0';
    }
    return t;
}

constexpr auto kVersionReasons = make_version_reasons();

const char* version_reason(uint8_t v)
{
    switch (v) {
        case 6:
            return "unsupported RTMP version 6 (RTMPE)";
        case 8:
            return "unsupported RTMP version 8 (RTMPE)";
        case 9:
            return "unsupported RTMP version 9 (RTMPE)";
        case 0x16:
            return "unsupported RTMP version 22 (a TLS ClientHello: RTMPS needs a TLS proxy)";
        case 'G':
            return "unsupported RTMP version 71 ('G': an HTTP GET?)";
        case 'P':
            return "unsupported RTMP version 80 ('P': an HTTP POST?)";
        default:
            return kVersionReasons[v].text;
    }
}

}  // namespace

void Handshake::seed_random(uint64_t seed)
{
    g_rng.state = seed;
    g_rng.pid = getpid();
    g_rng.seeded = true;
    g_rng.frozen_clock = true;
}

Handshake::Handshake(Role role, bool complex_client, Scheme client_scheme) : role_(role)
{
    if (role_ == Role::server) return;  // waits for C0C1
    Scheme s = complex_client ? client_scheme : Scheme::simple;
    buf_[0] = kRtmpVersion;
    write_own_sig(s, s == Scheme::simple ? 0 : kClientVersion);
    out_end_ = kOwnSig + kSigSize;
}

Rc Handshake::feed(const uint8_t* p, size_t n, size_t* consumed)
{
    size_t used = 0;
    while (used < n) {
        if (state_ == State::version) {
            read_version(p[used++]);
            continue;
        }
        if (state_ != State::sig && state_ != State::reply) break;
        size_t take = n - used < kSigSize - got_ ? n - used : kSigSize - got_;
        if (state_ == State::sig) {
            read_sig(p + used, take);
        } else {
            read_reply(p + used, take);
        }
        used += take;
    }
    *consumed = used;
    switch (state_) {
        case State::done:
            return Rc::ok;
        case State::failed:
            return Rc::error;
        default:
            return Rc::again;
    }
}

void Handshake::sent(size_t n)
{
    size_t left = out_end_ - out_pos_;
    out_pos_ = uint16_t(out_pos_ + (n < left ? n : left));
}

void Handshake::fail(const char* why)
{
    state_ = State::failed;
    reason_ = why;
}

void Handshake::read_version(uint8_t v)
{
    // RTMP 5.2.2: 3 is plain RTMP. 6/8/9 (RTMPE) would need the DH/RC4 layer we do not
    // have; a server could answer 3 and hope, but no encrypting client accepts that.
    if (v != kRtmpVersion) {
        fail(version_reason(v));
        return;
    }
    state_ = State::sig;
    got_ = 0;
}

void Handshake::read_sig(const uint8_t* p, size_t n)
{
    std::memcpy(buf_ + kPeerSig + got_, p, n);
    got_ = uint16_t(got_ + n);
    if (got_ == kSigSize) on_peer_sig();
}

// The peer's C1 (we are the server) or S1 (client) is in. Find its form, write our S1
// (server) and our S2/C2 in place of the peer's C1/S1, and start on the peer's reply.
void Handshake::on_peer_sig()
{
    const uint8_t* peer = buf_ + kPeerSig;
    peer_version_ = load_be32(peer + 4);
    KeyRef pk = key_of(other(role_));
    uint8_t peer_digest[kDigest];
    peer_scheme_ = find_digest(peer, pk.p, pk.text_len, peer_digest);
    if (role_ == Role::server) {
        // Answer in the client's form and scheme: Flash Player looks for our digest where
        // it put its own.
        buf_[0] = kRtmpVersion;
        write_own_sig(peer_scheme_, peer_scheme_ == Scheme::simple ? 0 : kServerVersion);
    }
    bool signed_reply = peer_scheme_ != Scheme::simple && own_scheme_ != Scheme::simple;
    write_reply(signed_reply ? peer_digest : nullptr);
    out_end_ = kBufSize;
    start_reading_reply();
}

// RTMP 5.2.3: time, a version (zero in the simple form) and random bytes; the complex
// form also carries our digest, placed by `scheme`.
void Handshake::write_own_sig(Scheme scheme, uint32_t version)
{
    uint8_t* sig = buf_ + kOwnSig;
    store_be32(sig, now_ms());
    store_be32(sig + 4, version);
    fill_random(sig + 8, kSigSize - 8);
    own_scheme_ = scheme;
    if (scheme == Scheme::simple) return;
    KeyRef k = key_of(role_);
    size_t off = digest_offset(sig, scheme);
    sig_digest(sig, off, k.p, k.text_len, own_digest_);
    std::memcpy(sig + off, own_digest_, kDigest);
}

// Our C2/S2, over the peer's C1/S1 in buf_. Simple: RTMP 5.2.4's echo. The spec puts our
// read time in time2 (bytes 4..7), but librtmp (rtmpdump, OBS) compares all 1536 bytes
// and warns "client signature does not match!", and nginx-rtmp and SRS echo unchanged:
// so do we. Complex: random bytes signed with HMAC(our full key, peer's digest).
void Handshake::write_reply(const uint8_t* peer_digest)
{
    if (!peer_digest) return;
    uint8_t* reply = buf_ + kPeerSig;
    fill_random(reply, kSigned);
    KeyRef k = key_of(role_);
    uint8_t key[kDigest];
    HmacSha256::mac(k.p, k.full_len, peer_digest, kDigest, key);
    HmacSha256::mac(key, sizeof(key), reply, kSigned, reply + kSigned);
}

// The peer's C2/S2 is checked as it streams in (the buffer holds our own messages), both
// as an echo of our C1/S1 and, when we sent a digest, as its signature.
void Handshake::start_reading_reply()
{
    state_ = State::reply;
    got_ = 0;
    echo_ok_ = true;
    if (own_scheme_ == Scheme::simple) return;
    KeyRef pk = key_of(other(role_));
    uint8_t key[kDigest];
    HmacSha256::mac(pk.p, pk.full_len, own_digest_, kDigest, key);
    reply_mac_.init(key, sizeof(key));
}

void Handshake::read_reply(const uint8_t* p, size_t n)
{
    const uint8_t* own = buf_ + kOwnSig;
    for (size_t k = 0; k < n; ++k) {
        size_t i = got_ + k;
        // RTMP 5.2.4: bytes 4..7 of an echo are the peer's time2, not ours.
        if ((i < 4 || i >= 8) && p[k] != own[i]) echo_ok_ = false;
        if (i >= kSigned) reply_tail_[i - kSigned] = p[k];
    }
    if (own_scheme_ != Scheme::simple && got_ < kSigned) {
        reply_mac_.update(p, n < kSigned - got_ ? n : kSigned - got_);
    }
    got_ = uint16_t(got_ + n);
    if (got_ == kSigSize) finish_reply();
}

void Handshake::finish_reply()
{
    bool digest_ok = false;
    if (own_scheme_ != Scheme::simple) {
        uint8_t want[kDigest];
        reply_mac_.final(want);
        digest_ok = std::memcmp(want, reply_tail_, kDigest) == 0;
    }
    reply_matched_ = echo_ok_ || digest_ok;
    state_ = State::done;
}

}  // namespace strom::rtmp
