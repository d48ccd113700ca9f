// A socket address as configuration and logs know it: the sockaddr to bind or connect
// to, and its text form (`127.0.0.1:1935`, `[::1]:1935`, `unix:/path`). Plain value,
// copied freely; parse_listen_address resolves a host name once, at parse time.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace strom {

struct NetAddr {
    sockaddr_storage ss{};
    socklen_t len = 0;
    std::string text;

    const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss); }
    int family() const { return ss.ss_family; }
    int port() const;  // -1 for unix sockets
};

// Accepts `1935`, `*:1935`, `0.0.0.0:1935`, `127.0.0.1:1935`, `[::1]:1935`, `[::]:1935`,
// `localhost:1935` (numeric first; a host name is resolved once, IPv4 preferred) and
// `unix:/path/sock`. A bare host takes `default_port` when it is 0..65535, else it is
// an error. On error returns false and sets *err (e.g. `invalid port in "x:99999"`).
bool parse_listen_address(std::string_view s, NetAddr* out, std::string* err,
                          int default_port = -1);

// `127.0.0.1:50312`, `[::1]:50312`, `unix:/p` (`unix:` for an unnamed socket).
std::string format_addr(const sockaddr* sa, socklen_t len);

// Same family, address and port (or path): two listeners would collide.
bool same_addr(const NetAddr& a, const NetAddr& b);

}  // namespace strom
