#include "modules/stream_directory.h"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace strom::mod {

namespace {

bool process_alive(pid_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

}  // namespace

StreamDirectory* StreamDirectory::get()
{
    static StreamDirectory* dir = [] {
        void* p = mmap(nullptr, sizeof(StreamDirectory), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                       -1, 0);
        if (p == MAP_FAILED) abort();   // at start-up only: no directory, no server
        return static_cast<StreamDirectory*>(p);   // zero-filled by the kernel
    }();
    return dir;
}

void StreamDirectory::lock()
{
    // A spin lock held for a few hundred instructions; a holder that died is detected
    // (its pid is gone) and the lock taken over, so a crash cannot wedge the directory.
    pid_t self = getpid();
    for (unsigned spins = 0;; ++spins) {
        pid_t expected = 0;
        if (__atomic_compare_exchange_n(&lock_, &expected, self, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            return;
        }
        if (spins > 1000) {
            if (!process_alive(expected) &&
                __atomic_compare_exchange_n(&lock_, &expected, self, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
                return;
            }
            sched_yield();
        }
    }
}

void StreamDirectory::unlock()
{
    __atomic_store_n(&lock_, 0, __ATOMIC_RELEASE);
}

size_t StreamDirectory::slot_of(std::string_view key)
{
    uint64_t h = 1469598103934665603ull;   // FNV-1a
    for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
    return size_t(h % kEntries);
}

StreamDirectory::Entry* StreamDirectory::find(std::string_view key)
{
    size_t i = slot_of(key);
    for (size_t n = 0; n < kEntries; ++n, i = (i + 1) % kEntries) {
        Entry& e = entries_[i];
        if (e.pid == 0 && e.key_len == 0) return nullptr;   // never used: end of the probe chain
        if (e.pid != 0 && e.key_len == key.size() && memcmp(e.key, key.data(), key.size()) == 0) return &e;
    }
    return nullptr;
}

bool StreamDirectory::claim(std::string_view key, pid_t pid, uint32_t server, StreamOwner* other)
{
    if (key.size() > kKeyMax) return false;
    lock();
    Entry* e = find(key);
    if (e && e->pid != pid && process_alive(e->pid)) {
        if (other) *other = StreamOwner{e->pid, e->server};
        unlock();
        return false;
    }
    if (!e) {
        // Free slots keep key_len (tombstones) so probe chains stay intact.
        size_t i = slot_of(key);
        for (size_t n = 0; n < kEntries && !e; ++n, i = (i + 1) % kEntries) {
            if (entries_[i].pid == 0 || !process_alive(entries_[i].pid)) e = &entries_[i];
        }
    }
    bool ok = e != nullptr;
    if (e) {
        e->pid = pid;
        e->server = server;
        e->key_len = uint32_t(key.size());
        memcpy(e->key, key.data(), key.size());
    }
    unlock();
    return ok;
}

void StreamDirectory::release(std::string_view key, pid_t pid)
{
    lock();
    Entry* e = find(key);
    if (e && e->pid == pid) e->pid = 0;
    unlock();
}

bool StreamDirectory::lookup(std::string_view key, StreamOwner* out)
{
    lock();
    Entry* e = find(key);
    bool ok = false;
    if (e) {
        if (process_alive(e->pid)) {
            *out = StreamOwner{e->pid, e->server};
            ok = true;
        } else {
            e->pid = 0;   // its worker died: the master respawned or will
        }
    }
    unlock();
    return ok;
}

size_t StreamDirectory::count()
{
    lock();
    size_t n = 0;
    for (const Entry& e : entries_) n += e.pid != 0;
    unlock();
    return n;
}

}  // namespace strom::mod
