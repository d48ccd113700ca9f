// Fuzzes the chunk reader with a differential oracle: the input fed all at once, in
// fuzzer-chosen piece sizes, and with a sink that keeps stopping the reader must all give
// the same messages and the same outcome. Each message then goes through the writer and a
// fresh reader and must come back unchanged; aggregates and control messages are decoded.
//
// Input: byte 0 = options (low 4 bits: number of piece-size bytes k; bits 4-5: pool block
// size; bits 6-7: chunk size for the round trip), then k piece sizes (each + 1), then the
// chunk stream.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/buf.h"
#include "rtmp/aggregate.h"
#include "rtmp/chunk_reader.h"
#include "rtmp/chunk_writer.h"
#include "rtmp/message.h"

using namespace strom;
using namespace strom::rtmp;

#define CHECK(c)                                                   \
    do {                                                           \
        if (!(c)) {                                                \
            fprintf(stderr, "chunk_fuzz: check failed: %s\n", #c); \
            abort();                                               \
        }                                                          \
    } while (0)

namespace {

struct Rec {
    uint8_t type;
    uint32_t csid, msid, ts, length;
    std::vector<uint8_t> data;
    bool operator==(const Rec&) const = default;
};

Rec record(const Message& m)
{
    CHECK(chain_size(m.payload.get()) == m.length);
    Rec r{m.type, m.csid, m.msid, m.timestamp, m.length, std::vector<uint8_t>(m.length)};
    if (m.length) chain_copy(m.payload.get(), 0, r.data.data(), m.length);
    return r;
}

// Records every message; when stop_every > 0 it returns Rc::done after every such many.
class Recorder : public MessageSink {
public:
    explicit Recorder(size_t stop_every = 0) : stop_every_(stop_every) {}
    std::vector<Rec> msgs;
    Rc on_message(Message& m) override
    {
        msgs.push_back(record(m));
        return stop_every_ && msgs.size() % stop_every_ == 0 ? Rc::done : Rc::ok;
    }

private:
    size_t stop_every_;
};

struct Outcome {
    std::vector<Rec> msgs;
    Rc rc;
    std::string reason;
};

const ChunkLimits kLimits{1u << 16, 8, 1u << 17, 1};

// Feeds `in` in pieces of the given sizes (cycled; empty = all at once), re-feeding after a
// sink stop from where the reader says it stopped.
Outcome run(BufPool& pool, const uint8_t* in, size_t n, const uint8_t* sizes, size_t k,
            size_t stop_every)
{
    Recorder rec(stop_every);
    ChunkReader r(pool, kLimits);
    Outcome out{{}, Rc::again, ""};
    size_t pos = 0, piece = 0;
    while (pos < n) {
        size_t len = k ? size_t(sizes[piece++ % k]) + 1 : n;
        if (len > n - pos) len = n - pos;
        size_t end = pos + len;
        while (pos < end) {
            size_t used = 0;
            out.rc = r.feed(in + pos, end - pos, &used, rec);
            CHECK(used <= end - pos);
            pos += used;
            if (out.rc != Rc::done) break;
            out.rc = Rc::again;  // the sink stopped the reader: go on from where it stopped
        }
        if (out.rc == Rc::error) break;
        CHECK(out.rc == Rc::again && pos == end);
    }
    out.reason = r.reason();
    out.msgs = std::move(rec.msgs);
    return out;
}

class Count : public MessageSink {
public:
    size_t n = 0;
    Rc on_message(Message& m) override
    {
        CHECK(chain_size(m.payload.get()) == m.length);
        ++n;
        return Rc::ok;
    }
};

// Frames m and reads it back with a fresh reader told the chunk size first.
void round_trip(BufPool& pool, const Rec& m, uint32_t chunk_size)
{
    BufRef set, framed;
    CHECK(frame_control(pool, kDefaultChunkSize, Control::set_chunk_size(chunk_size), &set) ==
          Rc::ok);
    MsgHeader h{m.csid, m.type, m.msid, m.ts};
    CHECK(frame_message(pool, chunk_size, h, m.data.data(), m.data.size(), &framed) == Rc::ok);
    CHECK(chain_size(framed.get()) == framed_size(chunk_size, m.csid, m.ts, m.length));
    std::vector<uint8_t> bytes(chain_size(set.get()) + chain_size(framed.get()));
    size_t s = chain_copy(set.get(), 0, bytes.data(), bytes.size());
    chain_copy(framed.get(), 0, bytes.data() + s, bytes.size() - s);
    set.reset();
    framed.reset();
    Outcome back = run(pool, bytes.data(), bytes.size(), nullptr, 0, 0);
    CHECK(back.rc == Rc::again);
    CHECK(back.msgs.size() == 2 && back.msgs[1] == m);
}

void decode(BufPool& pool, const Rec& r)
{
    Message m;
    m.type = r.type;
    m.csid = r.csid;
    m.msid = r.msid;
    m.timestamp = r.ts;
    m.length = r.length;
    strom::Chain c(pool);
    CHECK(c.append(r.data.data(), r.data.size()) == Rc::ok);
    m.payload = c.take();
    const char* why = "";
    if (r.type == msg_type::aggregate) {
        Count sink;
        (void)split_aggregate(pool, m, sink, &why);
    }
    Control ctl;
    (void)parse_control(m, &ctl, &why);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1) return 0;
    size_t k = data[0] & 15;
    if (size < 1 + k) return 0;
    static const uint32_t kBlockSizes[4] = {64, 128, 1000, 16384};
    static const uint32_t kChunkSizes[4] = {1, 7, 128, 4096};
    uint32_t chunk_size = kChunkSizes[data[0] >> 6];
    const uint8_t* sizes = data + 1;
    const uint8_t* in = data + 1 + k;
    size_t n = size - 1 - k;

    BufPool pool(kBlockSizes[(data[0] >> 4) & 3], 1u << 16);
    {
        Outcome whole = run(pool, in, n, nullptr, 0, 0);
        Outcome split = run(pool, in, n, sizes, k, 0);
        Outcome stopping = run(pool, in, n, sizes, k, 1 + (k ? sizes[0] % 3 : 0));
        CHECK(whole.rc == split.rc && whole.reason == split.reason && whole.msgs == split.msgs);
        CHECK(whole.rc == stopping.rc && whole.reason == stopping.reason &&
              whole.msgs == stopping.msgs);
        CHECK(whole.rc == Rc::error || whole.reason.empty());
        CHECK(pool.outstanding() == 0);
        size_t i = 0;
        for (const Rec& m : whole.msgs) {
            if (i++ < 32) round_trip(pool, m, chunk_size);
            decode(pool, m);
        }
    }
    CHECK(pool.outstanding() == 0);
    return 0;
}
