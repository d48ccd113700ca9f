// The whole server's figures: a fixed table in anonymous shared memory, mapped by the
// master before it forks (like the StreamDirectory), so every worker of every generation
// writes its own slots and any worker's API answer reads all of them. Three kinds of slot:
// one per worker process, one per stream a worker has (source or players), one per client
// (publisher or player). A slot is claimed by compare-and-swap of its owner pid, written
// only by that process, under a per-slot sequence lock (a reader retries a torn copy, never
// blocks the writer); a slot whose pid is dead is ignored by readers and reclaimed by the
// next claim, and a dead worker's byte totals are folded into the board's retired totals.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>
#include <vector>

namespace strom::mod {

// Copies s into a fixed NUL-terminated field, cut at a UTF-8 character boundary.
template <size_t N>
void set_text(char (&dst)[N], std::string_view s)
{
    size_t n = s.size() < N - 1 ? s.size() : N - 1;
    if (n < s.size()) {
        while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
    }
    for (size_t i = 0; i < n; ++i) dst[i] = s[i];
    dst[n] = 0;
}

enum class SourceKind : uint8_t { none, local, worker_pull, relay_pull };
enum class ClientRole : uint8_t { publisher, player };

struct WorkerFigures {
    int32_t pid;
    uint32_t generation;
    int32_t index;
    uint8_t draining;
    int64_t started_ms;  // unix ms
    int64_t updated_ms;
    uint32_t conns_rtmp;  // accepted RTMP connections, internal ones left out
    uint32_t conns_http;
    uint32_t conns_internal;  // other workers pulling from this one
    uint32_t conns_outgoing;  // pulls, pushes, callbacks this worker opened
    uint64_t bytes_in;        // every connection of the process, open and closed
    uint64_t bytes_out;
    uint64_t rate_in;  // bytes/s over the last second
    uint64_t rate_out;
    uint64_t cpu_ms;  // user + system
    uint64_t rss_bytes;
    uint32_t streams_left_out;  // streams / clients of this worker the board had no slot for
    uint32_t clients_left_out;
};

struct StreamFigures {
    static constexpr size_t kKeyMax = 600;  // "app/name", as the stream directory's
    int32_t pid;
    uint16_t key_len;
    char key[kKeyMax];
    SourceKind source;
    char publisher_addr[64];
    char publisher_proto[16];
    uint64_t publisher_id;
    char encoder[64];
    char video_codec[16];
    char video_profile[24];
    char video_level[8];
    uint32_t width, height;
    uint32_t fps_milli;  // frame rate declared (SPS timing, else onMetaData), x1000
    char audio_codec[16];
    char audio_profile[16];
    uint32_t sample_rate;
    uint32_t channels;
    uint64_t bytes_in;
    uint64_t bitrate;    // bits/s over the last kRateWindow seconds
    int64_t started_ms;  // unix ms the source attached, 0 without source
    uint32_t players_rtmp, players_http_flv, players_ws_flv;
    uint32_t worker_pulls;  // other workers of this server pulling it from here
    uint32_t relay_pushes;
    uint64_t dropped;  // frames dropped for slow local players, summed

    std::string_view key_view() const { return std::string_view(key, key_len); }
};

struct ClientFigures {
    int32_t pid;
    uint64_t id;
    char addr[64];
    char protocol[12];
    ClientRole role;
    uint16_t key_len;
    char key[StreamFigures::kKeyMax];
    uint64_t bytes_in, bytes_out;
    int64_t started_ms;
    uint64_t dropped;

    // --- for the nginx-rtmp /stat XML (stat_xml_module) ---
    char flashver[64];  // the RTMP connect's flashVer, empty for HTTP clients

    std::string_view key_view() const { return std::string_view(key, key_len); }
};

class StatsBoard {
public:
    static constexpr size_t kWorkers = 64;
    static constexpr size_t kStreams = 1024;
    static constexpr size_t kClients = 8192;

    // The process's board, mapped on first use (call it in the master before fork).
    static StatsBoard* get();
    // A separate board (unit tests); never unmapped.
    static StatsBoard* create();

    // Slots: an index, or -1 when every slot is taken by a live process.
    int claim_worker(pid_t pid);
    int claim_stream(pid_t pid);
    int claim_client(pid_t pid);
    void write_worker(int i, const WorkerFigures& f);
    void write_stream(int i, const StreamFigures& f);
    void write_client(int i, const ClientFigures& f);
    // fold: the worker's byte totals join the retired totals (a clean exit).
    void release_worker(int i, pid_t pid, bool fold);
    void release_stream(int i, pid_t pid);
    void release_client(int i, pid_t pid);

    struct Snapshot {
        int64_t started_ms = 0;  // the board's (the master's start)
        uint64_t retired_bytes_in = 0, retired_bytes_out = 0;
        uint32_t workers_exited = 0;
        std::vector<WorkerFigures> workers;  // live processes only
        std::vector<StreamFigures> streams;
        std::vector<ClientFigures> clients;
    };
    // Copies every slot of a live process; clients only when asked (they are many).
    void snapshot(Snapshot* out, bool clients);

private:
    template <class T>
    struct Slot {
        uint32_t seq;   // odd while its owner writes
        int32_t owner;  // claiming pid, 0: free
        T data;
    };
    template <class T, size_t N>
    int claim(Slot<T> (&slots)[N], pid_t pid, bool fold);
    template <class T>
    static void write(Slot<T>& s, const T& v);
    template <class T>
    static bool read(const Slot<T>& s, T* out);
    template <class T>
    void release(Slot<T>& s, pid_t pid);
    void fold(const WorkerFigures& f);

    int64_t started_ms_;
    uint64_t retired_in_, retired_out_;
    uint32_t exited_;
    Slot<WorkerFigures> workers_[kWorkers];
    Slot<StreamFigures> streams_[kStreams];
    Slot<ClientFigures> clients_[kClients];
};

bool pid_alive(pid_t pid);
int64_t unix_ms();

// One stream of the whole server: its slots on every worker that has it.
struct StreamView {
    std::string_view key;
    std::vector<const StreamFigures*> parts;
    const StreamFigures* owner = nullptr;  // the part with a local publisher or relay pull
};

// The snapshot's stream slots grouped by key, in key order (the views point into snap).
std::vector<StreamView> group_streams(const StatsBoard::Snapshot& snap);

}  // namespace strom::mod
