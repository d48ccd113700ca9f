// A one-shot, non-blocking HTTP/1.1 client call on the worker's event loop (notify
// callbacks): connect, write one request, read one response through HttpResponseParser,
// then close ("Connection: close"). The HttpCall is the connection's handler, so the
// Connection owns it and destroys it (deferred) after closing; the caller holds a raw
// pointer only until its done callback ran or it called cancel(), never after.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/connection.h"
#include "core/http_parser.h"
#include "core/net_addr.h"
#include "core/timer.h"

namespace strom {

// `http://host[:port]/path[?query]`, resolved once when parsed (configuration time).
struct HttpUrl {
    NetAddr addr;
    std::string host;  // for the Host header, with the port when it is not 80
    std::string path;  // "/" at least; may hold a query
};

// False with *err set for anything but plain http:// URLs (no https, no userinfo).
bool parse_http_url(std::string_view url, HttpUrl* out, std::string* err);

// A complete request: "METHOD target HTTP/1.1", Host, Connection: close, User-Agent,
// and, when `body` is not empty or the method is POST, Content-Type + Content-Length.
// `query` (already encoded) is appended to the URL's path with '?' or '&'.
std::string http_request(std::string_view method, const HttpUrl& url, std::string_view query,
                         std::string_view content_type, std::string_view body);

struct HttpResult {
    Rc rc = Rc::error;  // ok: a complete response was received
    int status = 0;
    std::string location;
    const char* error = "";  // static text when rc is error
};

struct HttpCallLimits {
    uint64_t connect_timeout_ms = 3000;
    uint64_t timeout_ms = 3000;  // the whole call, connect included
    size_t max_body = 16 * 1024;
};

class HttpCall final : public ConnHandler {
public:
    // Called exactly once, unless cancel() came first. The call closes its connection
    // right after; the callback may start new calls or close sessions.
    using DoneFn = void (*)(void* arg, const HttpResult& r);

    // Starts the call; nullptr with *err set when it cannot start (no slot, socket
    // error, no buffer), and then `done` is never called.
    static HttpCall* start(ConnectionTable& table, const HttpUrl& url, std::string_view request,
                           const HttpCallLimits& limits, DoneFn done, void* arg, const char** err);
    // The caller lost interest (its session closed): no callback, the connection closes.
    void cancel();

private:
    HttpCall(const HttpCallLimits& limits, DoneFn done, void* arg);
    void on_read(Connection& c) override;
    void on_connected(Connection& c, bool ok) override;
    void on_close(Connection& c, const char* reason) override;
    void finish(Rc rc, const char* error);
    static void on_connect_timeout(Timer& t);
    static void on_timeout(Timer& t);

    Connection* conn_ = nullptr;
    HttpResponseParser parser_;
    DoneFn done_;
    void* arg_;
    Timer connect_timer_;
    Timer timer_;
};

}  // namespace strom
