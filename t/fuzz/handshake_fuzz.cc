// Fuzzes rtmp::Handshake as a server and as a client with peer bytes cut at sizes taken
// from the input. Layout of an input:
//   [0]     flags: 1 client role, 2 give the peer's C1/S1 a valid digest, 4 use digest1
//           (for that digest and for our client's C1), 8 our client sends a complex C1,
//           16 make the peer's C2/S2 an echo of our C1/S1 (reaches the matched paths)
//   [1..4]  feed sizes, cycled (255: all that is left)
//   [5]     how much output to drop with sent() after each feed
//   [6..]   the peer's bytes
// Checks the contract: consumed <= n, all of it on Rc::again, exactly 3073 bytes at
// Rc::ok, a reason on Rc::error, output never beyond the 3073-byte buffer.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/sha256.h"
#include "rtmp/handshake.h"

using strom::Rc;
using Hs = strom::rtmp::Handshake;

namespace {

constexpr size_t kSig = 1536;
constexpr size_t kAll = 1 + 2 * kSig;

#define CHECK(x)                \
    do {                        \
        if (!(x)) std::abort(); \
    } while (0)

// Writes a valid complex-handshake digest into a C1/S1 (text part of the signer's key).
void imprint(uint8_t* sig, bool scheme1, bool server_key)
{
    static const char player[] = "Genuine Adobe Flash Player 001";
    static const char server[] = "Genuine Adobe Flash Media Server 001";
    const char* key = server_key ? server : player;
    size_t key_len = server_key ? sizeof(server) - 1 : sizeof(player) - 1;
    size_t base = scheme1 ? 772 : 8;
    size_t off = (sig[base] + sig[base + 1] + sig[base + 2] + sig[base + 3]) % 728 + base + 4;
    strom::HmacSha256 h(key, key_len);
    h.update(sig, off);
    h.update(sig + off + 32, kSig - off - 32);
    h.final(sig + off);
}

struct Input {
    uint8_t flags;
    uint8_t sizes[4];
    uint8_t drop;
    std::vector<uint8_t> peer;
};

void run(Input& in)
{
    Hs::seed_random(0x5eed);
    bool client = in.flags & 1;
    Hs h(client ? Hs::Role::client : Hs::Role::server, in.flags & 8,
         in.flags & 4 ? Hs::Scheme::digest1 : Hs::Scheme::digest0);
    if ((in.flags & 2) && in.peer.size() >= 1 + kSig) {
        imprint(in.peer.data() + 1, in.flags & 4, client);
    }
    bool echoed = false;
    size_t pos = 0, total = 0, step = 0;
    // Once our C1/S1 is out (and before sent() drops any of it), make the unread rest of
    // the peer's reply echo it.
    auto maybe_echo = [&] {
        auto out = h.output();
        CHECK(out.size() <= kAll);
        if (echoed || !(in.flags & 16) || out.size() < 1 + kSig) return;
        for (size_t i = std::max(pos, 1 + kSig); i < kAll && i < in.peer.size(); ++i) {
            in.peer[i] = out[i - kSig];
        }
        echoed = true;
    };
    maybe_echo();
    for (;;) {
        size_t left = in.peer.size() - pos;
        uint8_t s = in.sizes[step++ % 4];
        size_t want = size_t(s) + 1;
        size_t n = s == 255 || want > left ? left : want;
        size_t used = 12345;
        Rc rc = h.feed(in.peer.data() + pos, n, &used);
        CHECK(used <= n);
        pos += used;
        total += used;
        maybe_echo();
        h.sent(in.drop == 255 ? kAll : size_t(in.drop) * 13);
        if (rc == Rc::ok) {
            CHECK(total == kAll && h.done());
            return;
        }
        if (rc == Rc::error) {
            CHECK(h.reason() && h.reason()[0] != '\0' && !h.done());
            return;
        }
        CHECK(rc == Rc::again && used == n);
        if (pos == in.peer.size()) return;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 6) return 0;
    Input in;
    in.flags = data[0];
    std::memcpy(in.sizes, data + 1, 4);
    in.drop = data[5];
    in.peer.assign(data + 6, data + size);
    run(in);
    return 0;
}
