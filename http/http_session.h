// One HTTP/1.1 connection of a worker: reads request heads (bounded, timed), finds the
// server's location by longest prefix, and lets the cycle's content handlers answer;
// keep-alive and pipelining between simple answers; a streaming answer (HTTP-FLV) or a
// WebSocket upgrade hands the rest of the connection to an HttpStream that the session
// owns until the connection closes. One access-log line per request. Owned by its
// Connection (created by the http core module's factory, destroyed after on_close).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/buf.h"
#include "core/conf_block.h"
#include "core/connection.h"
#include "core/timer.h"
#include "http/http_request.h"
#include "http/websocket.h"

namespace strom::http {

class HttpSession;

// What owns a connection after a handler started a stream on it (an HTTP-FLV player): it
// hears the connection's close (and WebSocket messages), then the session deletes it.
class HttpStream {
public:
    virtual ~HttpStream() = default;
    // The connection is closing: leave whatever the stream is part of. `reason` is static.
    virtual void on_http_close(HttpSession& s, const char* reason) = 0;
    // A complete WebSocket text or binary message piece (data frames only).
    virtual void on_ws_data(HttpSession&, std::string_view) {}
};

class HttpSession final : public ConnHandler {
public:
    HttpSession(Connection& c, const ServerBlock* server);
    ~HttpSession() override;

    Connection& conn() { return c_; }
    uint64_t id() const { return c_.id(); }
    const char* peer() const { return c_.peer_text(); }
    const ServerBlock* server() const { return server_; }
    const Request& request() const { return parser_.request(); }
    // The location the request matched (set while handlers run).
    const AppBlock* location() const { return loc_; }
    bool head_only() const { return request().method == "HEAD"; }

    // A complete answer. `extra` is header lines, each ending in CRLF. HEAD sends no body.
    void respond(int status, std::string_view content_type, std::string_view body,
                 std::string_view extra = {});
    // An error page ("404 Not Found") in plain text, with why on a second line if given.
    void respond_error(int status, const char* why = nullptr);
    // A handler that must wait (an HTTP callback decides) hands the connection to `owner`
    // and returns Rc::again: further input waits meanwhile; the owner later answers with
    // start_stream / upgrade_websocket (owner nullptr: itself) or fail().
    void suspend(std::unique_ptr<HttpStream> owner);
    // The answer of a suspended request that is refused after all: the status (and why),
    // then the connection closes.
    void fail(int status, const char* why);
    // Starts an endless answer (no length; the connection closes when it ends); queues its
    // head and hands the connection to `owner` (nullptr: the suspended request's owner
    // keeps it). False when the head cannot be queued.
    bool start_stream(int status, std::string_view content_type, std::string_view extra,
                      std::unique_ptr<HttpStream> owner);
    // RFC 6455 4.2.2: answers 101 with the accept key and hands the connection to `owner`;
    // from then on client frames are read (ping answered, close honoured). False (and a
    // 400 answer) when the request is not a valid WebSocket upgrade.
    bool upgrade_websocket(std::unique_ptr<HttpStream> owner);
    bool websocket() const { return mode_ == Mode::websocket; }
    // Queues bytes copied into pool blocks (control answers, stream heads).
    bool send_copy(std::string_view bytes);
    // Ends a stream: close once what is queued is written.
    void end_stream(const char* reason) { c_.close_after_flush(reason); }

    void on_read(Connection& c) override;
    void on_close(Connection& c, const char* reason) override;
    bool idle() const override { return idle_ && mode_ == Mode::head; }

    static const char* status_text(int status);

private:
    enum class Mode : uint8_t { head, body, waiting, streaming, websocket };

    void read_requests();
    void on_head();
    void dispatch();
    void after_response();
    bool read_body();  // false: wait for input (or the request failed)
    void read_websocket();
    void bad_request(int status, const char* why);
    void log_access();
    void arm(uint64_t ms);
    static void on_timer(Timer& t);
    std::string head_lines(int status, std::string_view content_type, bool close);

    Connection& c_;
    const ServerBlock* server_;
    const AppBlock* loc_ = nullptr;
    RequestParser parser_;
    BodyDecoder body_;
    ws::FrameParser ws_;
    std::unique_ptr<HttpStream> stream_;
    Mode mode_ = Mode::head;
    bool keep_alive_ = true;
    bool idle_ = false;  // between requests: the keep-alive timeout runs
    bool responded_ = false;
    bool have_request_ = false;      // a head was parsed (for the access log)
    const char* refused_ = nullptr;  // by a connection hook (limit): its request gets 503
    int status_ = 0;
    uint64_t out_at_start_ = 0;  // bytes_out when the request's answer began
    uint64_t answer_bytes_ = 0;  // a complete answer's size
    uint64_t header_timeout_ = 60000;
    uint64_t keepalive_timeout_ = 75000;
    Timer timer_;
};

}  // namespace strom::http
