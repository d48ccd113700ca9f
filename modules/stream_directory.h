// The whole server's stream directory: app/stream -> the worker process that has its
// publisher. A fixed table in anonymous shared memory, mapped once by the master before
// it forks (so every worker of every generation shares it); a worker that publishes
// registers, one whose player finds no local publisher looks the owner up and pulls the
// stream from it. Entries of a dead process are ignored and cleared on lookup, so a
// crashed worker leaves nothing stale behind.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>

namespace strom::mod {

struct StreamOwner {
    pid_t pid = 0;
    uint32_t server = 0;   // index of the server block the publisher is on
};

class StreamDirectory {
public:
    static constexpr size_t kEntries = 4096;
    static constexpr size_t kKeyMax = 600;   // "app/stream": 2 x max_name and more

    // The process's directory, mapped on first use (call it in the master before fork).
    static StreamDirectory* get();

    // Registers this process as the owner of key; false when another live process
    // already owns it (*other set) or the table is full.
    bool claim(std::string_view key, pid_t pid, uint32_t server, StreamOwner* other);
    void release(std::string_view key, pid_t pid);
    bool lookup(std::string_view key, StreamOwner* out);
    size_t count();

private:
    struct Entry {
        pid_t pid;         // 0: free
        uint32_t server;
        uint32_t key_len;
        char key[kKeyMax];
    };
    void lock();
    void unlock();
    Entry* find(std::string_view key);
    static size_t slot_of(std::string_view key);

    volatile pid_t lock_;
    Entry entries_[kEntries];
};

}  // namespace strom::mod
