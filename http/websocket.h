// WebSocket framing for the server side of RFC 6455: the handshake's accept key, server
// frame headers (never masked, 5.1) and close frames, and FrameParser, an incremental
// parser of client frames that hands payload out in pieces as it arrives (media need not
// wait for a whole frame) and holds only control frames (<= 125 bytes) whole. Pure: bytes
// in, events out; the parser is owned by the connection and lives as long as it does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/rc.h"

namespace strom::http::ws {

// RFC 6455 11.8.
enum Opcode : uint8_t {
    kContinuation = 0x0,
    kText = 0x1,
    kBinary = 0x2,
    kClose = 0x8,
    kPing = 0x9,
    kPong = 0xa,
};

// RFC 6455 7.4.1 status codes used here.
enum CloseCode : uint16_t {
    kCloseNormal = 1000,
    kCloseGoingAway = 1001,
    kCloseProtocolError = 1002,
    kCloseUnsupported = 1003,
    kCloseInvalidData = 1007,  // e.g. text that is not UTF-8
    kClosePolicy = 1008,
    kCloseTooBig = 1009,
    kCloseInternal = 1011,
};

constexpr size_t kMaxControlPayload = 125;  // RFC 6455 5.5
constexpr size_t kMaxFrameHeader = 10;      // server frames: no mask key
constexpr size_t kMaxCloseFrame = 2 + kMaxControlPayload;

// RFC 6455 4.2.2: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")). The key is
// used as sent; checking that it decodes to 16 bytes is the caller's choice.
std::string accept_key(std::string_view client_key);

// Writes a server frame header (FIN, opcode, unmasked length in the shortest of the 7, 16
// and 64-bit forms, 5.2) and returns its size: 2, 4 or 10. len must be < 2^63.
size_t write_frame_header(uint8_t out[kMaxFrameHeader], uint8_t opcode, bool fin, uint64_t len);

// Writes a whole close frame and returns its size. code 0, 1005 or 1006 (which must never
// be sent, 7.4.1) give an empty body; otherwise the 2-byte code and the reason, cut at a
// UTF-8 character boundary to fit in 123 bytes.
size_t write_close_frame(uint8_t out[kMaxCloseFrame], uint16_t code, std::string_view reason);

struct FrameLimits {
    uint64_t max_frame = 1 << 20;    // payload of one frame; over it is 1009
    uint64_t max_message = 4 << 20;  // sum of a fragmented message's frames; over is 1009
};

struct FrameEvent {
    enum class Kind : uint8_t {
        frame_start,  // a data frame: opcode (text, binary or continuation), fin, length
        data,         // unmasked payload bytes of the current data frame, in data
        frame_end,    // the current data frame is complete (fin as in its frame_start)
        control,      // a whole ping, pong or close frame: opcode, data = its payload
    };
    Kind kind = Kind::data;
    uint8_t opcode = 0;          // as on the wire (kContinuation for later fragments)
    uint8_t message_opcode = 0;  // data kinds: kText or kBinary, the message's type
    bool fin = false;
    uint64_t length = 0;            // frame_start and control: the frame's payload length
    std::string_view data;          // data / control; valid until the next feed()
    uint16_t close_code = 0;        // control close: the code, 1005 (none given) if empty
    std::string_view close_reason;  // control close: the UTF-8 reason after the code
};

// Client frames (5.2, 5.3): each must be masked, with RSV bits clear (no extensions are
// negotiated) and a known opcode; control frames have FIN and <= 125 bytes and may come
// between the fragments of a message; a continuation needs a message in progress and a new
// text/binary frame needs none. Lengths must use the shortest form and stay under the
// limits. Text payload is checked as UTF-8 across frame boundaries (a small incremental
// check, cheap beside the unmasking: 8.1, error 1007), so are close reasons.
//
// Use: call feed() in a loop until it returns Rc::again:
//   Rc::ok     *ev holds an event; *used bytes were consumed; call again with the rest
//              (possibly empty: a frame_end may follow the frame's last data)
//   Rc::again  all of n was consumed without completing an event: wait for more input
//   Rc::done   a close frame was delivered earlier; anything after it is not read (*used 0)
//   Rc::error  close_code() (1002, 1007 or 1009) and reason() say why; *used is where
//              the bad frame was seen. The connection sends a close with that code.
// The const overload unmasks into an internal buffer (pieces of at most kUnmaskChunk bytes);
// the mutable one unmasks the caller's input in place and gives back views into it.
class FrameParser {
public:
    static constexpr size_t kUnmaskChunk = 4096;

    explicit FrameParser(FrameLimits l = {}) : limits_(l) {}

    Rc feed(const uint8_t* p, size_t n, size_t* used, FrameEvent* ev);
    Rc feed(uint8_t* p, size_t n, size_t* used, FrameEvent* ev);

    uint16_t close_code() const { return close_code_; }
    const char* reason() const { return reason_; }

private:
    enum class State : uint8_t { header, payload, control, frame_end, closed, failed };

    Rc run(const uint8_t* p, uint8_t* in_place, size_t n, size_t* used, FrameEvent* ev);
    Rc fail(uint16_t code, const char* why);
    size_t header_size() const;      // hdr_ needed so far: 2, then 6, 8 or 14
    Rc check_first_bytes();          // the rules that hdr_[0..1] alone decide
    Rc start_frame(FrameEvent* ev);  // hdr_ complete: lengths, limits, the event
    Rc finish_control(FrameEvent* ev);
    Rc end_frame(FrameEvent* ev);
    // Gathers header bytes from p[*off, n); *event when a frame_start is in *ev.
    Rc read_header(const uint8_t* p, size_t n, size_t* off, bool* event, FrameEvent* ev);
    // Unmasks and hands out up to n payload bytes of a data frame; *took of them.
    Rc deliver(const uint8_t* in, uint8_t* in_place, size_t n, size_t* took, FrameEvent* ev);
    void unmask(const uint8_t* in, uint8_t* out, size_t n);

    // Incremental UTF-8 check (RFC 3629 table 4): continuation bytes still expected and the
    // range the next one must fall in (narrower after E0, ED, F0 and F4).
    struct Utf8 {
        int need = 0;
        uint8_t lo = 0x80, hi = 0xbf;
        size_t feed(const uint8_t* p, size_t n);  // bytes before the first invalid one
        bool complete() const { return need == 0; }
    };

    FrameLimits limits_;
    State state_ = State::header;
    uint8_t hdr_[14];  // 2 + up to 8 length bytes + 4 mask bytes
    size_t hdr_have_ = 0;
    uint8_t opcode_ = 0;
    bool fin_ = false;
    uint8_t mask_[4] = {};
    size_t mask_pos_ = 0;      // payload offset mod 4
    uint64_t remaining_ = 0;   // payload bytes of the current frame not yet delivered
    bool in_message_ = false;  // a fragmented message is in progress
    bool message_text_ = false;
    uint64_t message_bytes_ = 0;
    Utf8 utf8_;              // of the text message in progress
    bool utf8_bad_ = false;  // a valid prefix went out; the next call fails at the bad byte
    uint8_t control_[kMaxControlPayload];
    size_t control_have_ = 0;
    uint8_t chunk_[kUnmaskChunk];
    uint16_t close_code_ = 0;
    const char* reason_ = "";
};

}  // namespace strom::http::ws
