// A pure HTTP/1.1 response parser for the worker's outgoing HTTP client (notify
// callbacks): bytes in, status / Location / body out, with no I/O. Bodies with
// Content-Length, chunked transfer coding (RFC 9112 section 7.1) or read until close.
// Every line and the body are bounded before anything is stored, so a hostile or broken
// server costs at most max_header + max_body bytes. Also the small form/query helpers
// the callbacks need (application/x-www-form-urlencoded, WHATWG URL "urlencoded").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/rc.h"

namespace strom {

class HttpResponseParser {
public:
    explicit HttpResponseParser(size_t max_body = 64 * 1024, size_t max_header = 16 * 1024)
        : max_body_(max_body), max_header_(max_header)
    {
    }

    // Consumes input. Rc::again: more is needed (everything was used); Rc::ok: the
    // response is complete (*used tells where it ended); Rc::error: see reason().
    Rc feed(const uint8_t* p, size_t n, size_t* used);
    // The server closed the connection: ok when that ends the body (no length given),
    // error when the response was cut short.
    Rc finish();

    bool done() const { return state_ == State::done; }
    int status() const { return status_; }
    const std::string& location() const { return location_; }
    const std::string& body() const { return body_; }
    const char* reason() const { return reason_; }

private:
    enum class State : uint8_t {
        status_line,
        headers,
        body_length,
        body_close,
        chunk_size,
        chunk_data,
        chunk_crlf,
        trailers,
        done,
        failed
    };
    Rc fail(const char* why);
    // One complete line (without CR LF) in the header-like states.
    Rc on_line(std::string_view line);
    Rc on_status_line(std::string_view line);
    Rc on_header(std::string_view line);
    Rc headers_done();
    Rc on_chunk_size(std::string_view line);
    // Appends body bytes against the limit.
    Rc take_body(const uint8_t* p, size_t n);

    size_t max_body_;
    size_t max_header_;
    State state_ = State::status_line;
    std::string line_;
    size_t header_bytes_ = 0;
    int status_ = 0;
    std::string location_;
    std::string body_;
    uint64_t remaining_ = 0;  // of the Content-Length body or the current chunk
    bool has_length_ = false;
    bool chunked_ = false;
    const char* reason_ = "";
};

// `key=value` of a query string (`a=1&b=2`, no leading '?'); the first occurrence, raw
// (not percent-decoded). False when the key is absent.
bool query_arg(std::string_view query, std::string_view key, std::string_view* value);

// application/x-www-form-urlencoded: ALPHA DIGIT *-._ as they are, space as '+', every
// other byte (CR, LF, '&', '=', '%', '+', non-ASCII) as %XX. Appends to *out.
void form_encode(std::string_view s, std::string* out);
// Percent-decoding of one query value ('+' is a space); invalid escapes stay as they are.
std::string form_decode(std::string_view s);

}  // namespace strom
