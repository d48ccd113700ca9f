// Who asks to publish or play what, whatever the protocol: the subject of the access
// decisions (access rules, secure_token, ...) that every protocol's players and
// publishers pass through, so an HTTP-FLV player meets the rules an RTMP player meets.
// Built on the stack by the protocol side for one decision.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace strom {
struct AppBlock;
}

namespace strom::media {

enum class Action : uint8_t { publish, play };

struct ClientRequest {
    Action action = Action::play;
    const char* protocol = "rtmp";   // "rtmp", "http-flv", "ws-flv": for the log
    uint64_t id = 0;                 // the connection id of log lines
    const sockaddr* addr = nullptr;  // the client (behind a PROXY header: the real one)
    socklen_t addr_len = 0;
    const char* peer = "";          // addr as text
    const AppBlock* app = nullptr;  // the rtmp application
    std::string app_name;
    std::string name;  // the stream name, without its args
    std::string args;  // the query string ("a=1&b=2"), without '?'
};

// One check: nullptr allows; otherwise a static reason the request is refused for (the
// check has logged its decision with the client's context).
struct RequestCheck {
    using Fn = const char* (*)(void* self, const ClientRequest& r);
    Fn fn;
    void* self;
    template <auto Method, class M>
    static RequestCheck bind(M* m)
    {
        return RequestCheck{
            [](void* p, const ClientRequest& r) { return (static_cast<M*>(p)->*Method)(r); }, m};
    }
};

}  // namespace strom::media
