#include "modules/stats_board.h"

#include <signal.h>
#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <type_traits>

namespace strom::mod {

bool pid_alive(pid_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

int64_t unix_ms()
{
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

StatsBoard* StatsBoard::create()
{
    void* p = mmap(nullptr, sizeof(StatsBoard), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED) abort();           // at start-up only
    auto* b = static_cast<StatsBoard*>(p);  // zero-filled by the kernel
    b->started_ms_ = unix_ms();
    return b;
}

StatsBoard* StatsBoard::get()
{
    static StatsBoard* board = create();
    return board;
}

template <class T>
void StatsBoard::write(Slot<T>& s, const T& v)
{
    // A seqlock writer: odd while the copy is in progress. A writer that died mid-write
    // left it odd; the next owner starts from the even value after it.
    uint32_t q = __atomic_load_n(&s.seq, __ATOMIC_RELAXED);
    if (q & 1) ++q;
    __atomic_store_n(&s.seq, q + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memcpy(static_cast<void*>(&s.data), &v, sizeof v);
    __atomic_store_n(&s.seq, q + 2, __ATOMIC_RELEASE);
}

template <class T>
bool StatsBoard::read(const Slot<T>& s, T* out)
{
    for (int tries = 0; tries < 1000; ++tries) {
        uint32_t a = __atomic_load_n(&s.seq, __ATOMIC_ACQUIRE);
        if (a & 1) continue;
        memcpy(static_cast<void*>(out), &s.data, sizeof *out);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&s.seq, __ATOMIC_RELAXED) == a) return true;
    }
    return false;  // a writer died mid-write (its pid is dead) or keeps writing: skip it
}

void StatsBoard::fold(const WorkerFigures& f)
{
    __atomic_fetch_add(&retired_in_, f.bytes_in, __ATOMIC_RELAXED);
    __atomic_fetch_add(&retired_out_, f.bytes_out, __ATOMIC_RELAXED);
    __atomic_fetch_add(&exited_, 1u, __ATOMIC_RELAXED);
}

template <class T, size_t N>
int StatsBoard::claim(Slot<T> (&slots)[N], pid_t pid, bool fold_dead)
{
    for (size_t i = 0; i < N; ++i) {
        int32_t expected = 0;
        if (__atomic_load_n(&slots[i].owner, __ATOMIC_RELAXED) == 0 &&
            __atomic_compare_exchange_n(&slots[i].owner, &expected, pid, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            return int(i);
        }
    }
    // No free slot: take over one whose owner died (its figures are stale).
    for (size_t i = 0; i < N; ++i) {
        int32_t owner = __atomic_load_n(&slots[i].owner, __ATOMIC_RELAXED);
        if (owner == 0 || pid_alive(owner)) continue;
        if (__atomic_compare_exchange_n(&slots[i].owner, &owner, pid, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            if constexpr (std::is_same_v<T, WorkerFigures>) {
                T old;
                if (fold_dead && read(slots[i], &old) && old.pid == owner) fold(old);
            }
            T blank{};
            write(slots[i], blank);
            return int(i);
        }
    }
    return -1;
}

int StatsBoard::claim_worker(pid_t pid)
{
    // A worker that died since the last start: its totals survive in the retired ones, and
    // its slot is free again. The compare-and-swap makes one claimer do it.
    for (auto& s : workers_) {
        int32_t owner = __atomic_load_n(&s.owner, __ATOMIC_RELAXED);
        if (owner == 0 || pid_alive(owner)) continue;
        if (__atomic_compare_exchange_n(&s.owner, &owner, pid, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            WorkerFigures old;
            if (read(s, &old) && old.pid == owner) fold(old);
            WorkerFigures blank{};
            write(s, blank);
            __atomic_store_n(&s.owner, 0, __ATOMIC_RELEASE);
        }
    }
    return claim(workers_, pid, true);
}

int StatsBoard::claim_stream(pid_t pid)
{
    return claim(streams_, pid, false);
}
int StatsBoard::claim_client(pid_t pid)
{
    return claim(clients_, pid, false);
}

void StatsBoard::write_worker(int i, const WorkerFigures& f)
{
    write(workers_[i], f);
}
void StatsBoard::write_stream(int i, const StreamFigures& f)
{
    write(streams_[i], f);
}
void StatsBoard::write_client(int i, const ClientFigures& f)
{
    write(clients_[i], f);
}

template <class T>
void StatsBoard::release(Slot<T>& s, pid_t pid)
{
    if (__atomic_load_n(&s.owner, __ATOMIC_RELAXED) != pid) return;
    T blank{};
    write(s, blank);
    __atomic_store_n(&s.owner, 0, __ATOMIC_RELEASE);
}

void StatsBoard::release_worker(int i, pid_t pid, bool fold_totals)
{
    if (i < 0 || size_t(i) >= kWorkers) return;
    WorkerFigures old;
    if (fold_totals && __atomic_load_n(&workers_[i].owner, __ATOMIC_RELAXED) == pid &&
        read(workers_[i], &old) && old.pid == pid) {
        fold(old);
    }
    release(workers_[i], pid);
}

void StatsBoard::release_stream(int i, pid_t pid)
{
    if (i >= 0 && size_t(i) < kStreams) release(streams_[i], pid);
}

void StatsBoard::release_client(int i, pid_t pid)
{
    if (i >= 0 && size_t(i) < kClients) release(clients_[i], pid);
}

void StatsBoard::snapshot(Snapshot* out, bool clients)
{
    out->started_ms = started_ms_;
    out->retired_bytes_in = __atomic_load_n(&retired_in_, __ATOMIC_RELAXED);
    out->retired_bytes_out = __atomic_load_n(&retired_out_, __ATOMIC_RELAXED);
    out->workers_exited = __atomic_load_n(&exited_, __ATOMIC_RELAXED);
    out->workers.clear();
    out->streams.clear();
    out->clients.clear();
    // Liveness is asked once per worker; stream and client slots of a pid that is not a
    // live worker's are left out (dead, or mid-claim).
    std::vector<int32_t> live;
    for (auto& s : workers_) {
        if (__atomic_load_n(&s.owner, __ATOMIC_ACQUIRE) == 0) continue;
        WorkerFigures f;
        if (!read(s, &f) || f.pid == 0 || !pid_alive(f.pid)) continue;
        out->workers.push_back(f);
        live.push_back(f.pid);
    }
    auto is_live = [&](int32_t pid) {
        return pid != 0 && std::find(live.begin(), live.end(), pid) != live.end();
    };
    for (auto& s : streams_) {
        if (__atomic_load_n(&s.owner, __ATOMIC_ACQUIRE) == 0) continue;
        StreamFigures f;
        if (read(s, &f) && is_live(f.pid)) out->streams.push_back(f);
    }
    if (!clients) return;
    for (auto& s : clients_) {
        if (__atomic_load_n(&s.owner, __ATOMIC_ACQUIRE) == 0) continue;
        ClientFigures f;
        if (read(s, &f) && is_live(f.pid)) out->clients.push_back(f);
    }
}

std::vector<StreamView> group_streams(const StatsBoard::Snapshot& snap)
{
    std::map<std::string_view, StreamView> by_key;
    for (const StreamFigures& f : snap.streams) {
        StreamView& v = by_key[f.key_view()];
        v.key = f.key_view();
        v.parts.push_back(&f);
        if (f.source == SourceKind::local || f.source == SourceKind::relay_pull) v.owner = &f;
    }
    std::vector<StreamView> out;
    for (auto& [k, v] : by_key) out.push_back(std::move(v));
    return out;
}

}  // namespace strom::mod
