// The PROXY protocol (HAProxy, "The PROXY protocol" versions 1 and 2): a TLS terminator
// or load balancer in front of us writes one header naming the real client before the
// RTMP bytes. A pure parser: bytes in, addresses out; it never reads past the header and
// bounds what it waits for (107 bytes for v1, 16 + kMaxV2Body for v2).
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include "core/rc.h"

namespace strom::rtmp {

struct ProxyHeader {
    // v2 LOCAL (the proxy's own health check) or v1 UNKNOWN / v2 UNSPEC: no client
    // address is given, the socket's peer stands.
    bool local = false;
    sockaddr_storage src{};
    socklen_t src_len = 0;
    sockaddr_storage dst{};
    socklen_t dst_len = 0;
};

inline constexpr size_t kProxyV1Max = 107;       // spec 2.1: the longest v1 line, CRLF included
inline constexpr size_t kProxyV2MaxBody = 2048;  // TLVs beyond this are refused, not awaited

// Rc::again: a header may still come but is not complete (call again with more bytes);
// Rc::ok: *used bytes were the header; Rc::error: not a valid header (*why).
Rc parse_proxy_header(const uint8_t* p, size_t n, ProxyHeader* out, size_t* used, const char** why);

}  // namespace strom::rtmp
