// The RTMP handshake (RTMP spec 5.2) for either side of a connection, including the
// Flash "complex" form in which C1/S1 carry an HMAC-SHA256 digest and C2/S2 a signature
// derived from the peer's digest (Flash Player, FMS, ffmpeg, librtmp/OBS send it).
// A pure state machine: bytes in through feed(), bytes out through output()/sent(); no
// sockets, no clock beyond the 4-byte time field. The session owns one while the
// handshake runs (about 3.4 KiB, mostly the 3073-byte S0S1S2 / C0C1+C2 buffer) and frees
// it once feed() has returned Rc::ok and output() is empty.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/rc.h"
#include "core/sha256.h"

namespace strom::rtmp {

class Handshake {
public:
    enum class Role : uint8_t { server, client };
    // Form of a C1/S1. digest0 and digest1 are the two digest placements of the complex
    // handshake: the digest offset is (sum of the 4 bytes at 8) % 728 + 12 for digest0,
    // (sum of the 4 bytes at 772) % 728 + 776 for digest1. ffmpeg and librtmp send digest0.
    enum class Scheme : uint8_t { simple, digest0, digest1 };

    static constexpr size_t kSigSize = 1536;    // RTMP 5.2.3: C1, S1, C2, S2
    static constexpr uint8_t kRtmpVersion = 3;  // RTMP 5.2.2: C0/S0, plain RTMP

    // complex_client / client_scheme: the C1 a client sends (ignored for a server, which
    // answers in the form and scheme its client used).
    explicit Handshake(Role role, bool complex_client = true,
                       Scheme client_scheme = Scheme::digest0);
    Handshake(const Handshake&) = delete;
    Handshake& operator=(const Handshake&) = delete;

    // Reads peer bytes. *consumed is what was used: bytes after S2 (client) or C2 (server)
    // belong to the chunk stream and are left alone. Rc::again: need more input;
    // Rc::ok: complete (output() may still hold bytes to flush); Rc::error: reason() says
    // why, and every later call returns Rc::error.
    Rc feed(const uint8_t* p, size_t n, size_t* consumed);

    // Bytes to send now: C0C1 from construction and C2 once S1 is in (client); S0S1S2
    // once C1 is in (server). sent(n) drops the first n of them.
    std::span<const uint8_t> output() const
    {
        return {buf_ + out_pos_, size_t(out_end_ - out_pos_)};
    }
    void sent(size_t n);

    Role role() const { return role_; }
    bool done() const { return state_ == State::done; }
    bool complex() const { return peer_scheme_ != Scheme::simple; }  // the peer's C1/S1 form
    Scheme peer_scheme() const { return peer_scheme_; }
    Scheme own_scheme() const { return own_scheme_; }
    // Whether the peer's C2 (server) / S2 (client) answered our C1/S1: an echo (RTMP 5.2.4,
    // the time2 field aside) or, when we sent a digest, the complex signature. Real
    // servers accept a mismatch and so do we; it is worth a log line, nothing more.
    bool peer_reply_matched() const { return reply_matched_; }
    uint32_t peer_version() const { return peer_version_; }  // C1/S1 bytes 4..7
    const char* reason() const { return reason_; }

    // Tests and fuzzing: makes later handshakes in this process reproducible (random bytes
    // from `seed`, time fields 0). Otherwise the generator is seeded from getrandom() on
    // first use in each process and the time fields come from the monotonic clock.
    static void seed_random(uint64_t seed);

private:
    enum class State : uint8_t { version, sig, reply, done, failed };
    static constexpr size_t kOwnSig = 1;                  // our C1/S1 follows C0/S0
    static constexpr size_t kPeerSig = 1 + kSigSize;      // where the peer's C1/S1 lands
    static constexpr size_t kBufSize = 1 + 2 * kSigSize;  // S0S1S2, or C0C1 + C2

    void fail(const char* why);
    void read_version(uint8_t v);
    void read_sig(const uint8_t* p, size_t n);
    void read_reply(const uint8_t* p, size_t n);
    void on_peer_sig();
    void write_own_sig(Scheme scheme, uint32_t version);
    void write_reply(const uint8_t* peer_digest);
    void start_reading_reply();
    void finish_reply();

    Role role_;
    State state_ = State::version;
    Scheme own_scheme_ = Scheme::simple;
    Scheme peer_scheme_ = Scheme::simple;
    bool echo_ok_ = true;  // the reply so far equals our C1/S1 (time2 aside)
    bool reply_matched_ = false;
    uint16_t got_ = 0;  // bytes of the current peer message read so far
    uint16_t out_pos_ = 0;
    uint16_t out_end_ = 0;
    uint32_t peer_version_ = 0;
    const char* reason_ = "";
    uint8_t own_digest_[32];  // digest in our C1/S1 when complex
    uint8_t reply_tail_[32];  // the last 32 bytes of the peer's reply (its signature)
    HmacSha256 reply_mac_;    // over the first 1504 bytes of the peer's reply
    uint8_t buf_[kBufSize];
};

}  // namespace strom::rtmp
