// The client side of an HTTP-FLV answer, for the bench's HTTP-FLV players: the request
// line and headers we send, and an incremental reader of what comes back (the HTTP/1.x
// response head, which must say 200 without a transfer coding, then an FLV stream read
// by rtmp::FlvReader). Pure: bytes in, tags out; the reader owns the head's bytes until
// the head is complete, and tags point where rtmp::FlvReader says (valid until next()).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/rc.h"
#include "rtmp/flv.h"
#include "rtmp/url.h"

namespace strom::tools {

// "GET /APP/STREAM.flv[?query] HTTP/1.1" with Host, for url.app and url.stream (the
// stream's query, if any, after ".flv"); bytes outside RFC 3986 unreserved (and '/' in
// the app, ':' for "mp4:name" style names) are percent-encoded.
std::string http_flv_request(const rtmp::RtmpUrl& url, int http_port);

class HttpFlvReader {
public:
    static constexpr size_t kMaxHead = 16 * 1024;

    // Consumes bytes from the front of `in`. Rc::ok: *tag is the next FLV tag. Rc::again:
    // `in` is used up. Rc::error: reason() says why (bad or oversized head, a status other
    // than 200 (status() has it), chunked transfer coding, bad FLV); stays failed.
    Rc next(std::span<const uint8_t>& in, rtmp::FlvTag* tag);

    // A 200 head was read (stays true if the FLV that follows fails).
    bool head_done() const { return head_done_; }
    int status() const { return status_; }  // 0 until the status line was read
    uint64_t head_size() const { return head_size_; }
    const rtmp::FlvReader& flv() const { return flv_; }
    const char* reason() const { return reason_; }

private:
    enum class Phase : uint8_t { head, body, failed };

    Rc step_head(std::span<const uint8_t>& in);
    Rc parse_head();
    Rc fail(const char* why);

    Phase phase_ = Phase::head;
    int status_ = 0;
    uint64_t head_size_ = 0;
    bool head_done_ = false;
    std::string head_;  // the response head so far (bounded by kMaxHead)
    rtmp::FlvReader flv_;
    const char* reason_ = nullptr;
};

}  // namespace strom::tools
