// Pure HTTP/1.1 request-side parsing for the server (RFC 9112): RequestParser turns the
// bytes of a request head into a Request whose views point into the parser's own copy of
// the head (valid until reset() or the parser dies), and BodyDecoder undoes the
// Content-Length or chunked framing of the body that follows, handing out views of the
// caller's input. No I/O and no allocation beyond the bounded head copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/rc.h"

namespace strom::http {

struct Header {
    std::string_view name;
    std::string_view value;  // OWS trimmed, otherwise as received
};

struct RequestLimits {
    size_t max_line = 8192;           // one line without its CRLF; request line over: 414
    size_t max_header_bytes = 16384;  // all header field lines with line ends: over is 431
    size_t max_headers = 64;          // header field lines: over is 431
};

struct Request {
    std::string_view method, target, path, query;
    int minor = 1;  // HTTP/1.<minor>: 0 or 1 (1.2 to 1.9 are read as 1.1, RFC 9110 6.2)
    std::vector<Header> headers;
    bool keep_alive = true;  // 1.1: unless "Connection: close"; 1.0: only with "keep-alive"
    bool chunked = false;    // Transfer-Encoding ends in chunked (the only coding accepted)
    bool has_length = false;
    uint64_t content_length = 0;
    // "Upgrade: websocket" with "upgrade" among the Connection options, HTTP/1.1 only (RFC
    // 9110 7.8: Upgrade in a 1.0 request is ignored). The Sec-WebSocket-* checks are the
    // caller's.
    bool upgrade_websocket = false;

    // The first header with this name (case-insensitive), "" if none.
    std::string_view header(std::string_view name) const;
};

// path is the target before '?', query after it ("" if none); neither is percent-decoded.
// Targets accepted: origin-form ("/p?q"), absolute-form ("http://host/p?q", path "/p"; an
// authority with no path gives path "/") and "*" (path "*"); authority-form (CONNECT) is
// refused with 400. Bytes 0x80-0xff pass in targets and values (obs-text), no other CTL does.
class RequestParser {
public:
    explicit RequestParser(RequestLimits l = {}) : limits_(l) {}

    // Consumes input. Rc::again: need more (all of n used). Rc::ok: the head is complete and
    // *used is the number of bytes of this call that belonged to it (the body or the next
    // pipelined request follows). Rc::error: status() is the HTTP status to answer (400,
    // 414, 431, 501, 505) and reason() a static one-line text; *used is where it stopped.
    // Once ok or error, further calls return the same Rc with *used = 0 until reset().
    Rc feed(const uint8_t* p, size_t n, size_t* used);

    // Valid after Rc::ok until reset().
    const Request& request() const { return request_; }
    // For the next request on a keep-alive connection; keeps the buffers' capacity.
    void reset();

    int status() const { return status_; }
    const char* reason() const { return reason_; }

private:
    enum class State : uint8_t { request_line, headers, done, failed };
    struct Field {  // a header line as offsets into head_, until the head is complete
        size_t name_off, name_len, value_off, value_len;
    };

    Rc fail(int status, const char* why);
    Rc on_line(size_t start, size_t len);  // one line of head_ without its line end
    Rc on_request_line(std::string_view line);
    Rc on_header(size_t start, std::string_view line);
    Rc on_semantic_header(std::string_view name, std::string_view value);
    Rc head_done();

    RequestLimits limits_;
    State state_ = State::request_line;
    std::string head_;         // the head as received, leading empty lines left out
    size_t line_start_ = 0;    // offset in head_ of the line being gathered
    size_t header_bytes_ = 0;  // bytes of header field lines so far, line ends included
    size_t empty_lines_ = 0;   // skipped before the request line
    size_t method_len_ = 0, target_off_ = 0, target_len_ = 0;
    std::vector<Field> fields_;
    bool te_seen_ = false, te_last_chunked_ = false, te_other_ = false;
    int te_chunked_count_ = 0;
    bool host_seen_ = false, conn_close_ = false, conn_keep_alive_ = false;
    bool conn_upgrade_ = false, upgrade_ws_ = false;
    Request request_;
    int status_ = 0;
    const char* reason_ = "";
};

// The body of a request. start() reads the framing from the Request; then feed() is called
// in a loop until it returns Rc::again:
//   Rc::ok     *out is a piece of the body (a view into p, never empty); *used bytes were
//              consumed; call again with the rest of the input (possibly none)
//   Rc::again  all of n was consumed (framing only, no data left): wait for more input
//   Rc::done   the body is complete; *used bytes ended it, the next request follows
//   Rc::error  status() is 400 (bad chunk framing), 413 (over max_body) or 431 (trailers
//              over max_trailer), reason() a static text
// Chunked framing is read strictly (CRLF line ends, no bare LF or CR, RFC 9112 7.1) so it
// can't be read differently from a lenient proxy in front; chunk extensions and trailer
// fields are skipped, bounded by max_chunk_line and max_trailer. Before the first start()
// feed() says Rc::done (no body); start() again for the next request's body.
struct BodyLimits {
    uint64_t max_body = 1 << 20;  // decoded bytes
    size_t max_chunk_line = 1024;
    size_t max_trailer = 8192;
};

class BodyDecoder {
public:
    explicit BodyDecoder(BodyLimits l = {}) : limits_(l) {}

    // Rc::ok, or Rc::error with status 413 when Content-Length is over max_body. A request
    // with neither length nor chunked has an empty body (RFC 9112 6.3 item 6).
    Rc start(const Request& r);
    Rc start_length(uint64_t n);
    void start_chunked();

    Rc feed(const uint8_t* p, size_t n, size_t* used, std::string_view* out);

    bool done() const { return state_ == State::done; }
    uint64_t received() const { return total_; }  // decoded body bytes so far
    int status() const { return status_; }
    const char* reason() const { return reason_; }

private:
    enum class State : uint8_t {
        length,   // Content-Length bytes left in remaining_
        size,     // chunk-size hex digits
        ext_ws,   // BWS after the size, before ';'
        ext,      // chunk extensions up to CR
        size_lf,  // CR seen after the chunk-size line
        data,     // remaining_ bytes of chunk data
        data_cr,  // CRLF after the chunk data
        data_lf,
        trailer,      // at the start of a trailer line (or the final empty line)
        trailer_mid,  // inside a trailer line
        trailer_lf,   // CR seen in a trailer line
        end_lf,       // CR of the final empty line seen
        done,
        failed
    };
    Rc fail(int status, const char* why);
    // One framing byte of a chunked body, and the two parts that need more than one state.
    Rc on_chunk_byte(uint8_t c);
    Rc on_size_line_byte(uint8_t c);
    Rc on_trailer_byte(uint8_t c);

    BodyLimits limits_;
    State state_ = State::done;
    uint64_t remaining_ = 0;
    uint64_t total_ = 0;
    size_t line_bytes_ = 0;  // of the chunk-size line or the trailers so far
    int digits_ = 0;
    int status_ = 0;
    const char* reason_ = "";
};

}  // namespace strom::http
