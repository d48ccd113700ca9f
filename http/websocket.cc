#include "http/websocket.h"

#include <cstring>

#include "core/base64.h"
#include "core/bytes.h"
#include "core/sha1.h"

namespace strom::http::ws {

namespace {

constexpr char kGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455 1.3

bool is_control(uint8_t opcode)
{
    return opcode & 0x8;
}

// RFC 6455 7.4.1 and 7.4.2, plus 1012-1014 registered since (IANA): what a peer may send.
bool valid_close_code(uint16_t code)
{
    if (code >= 1000 && code <= 1003) return true;
    if (code >= 1007 && code <= 1014) return true;
    return code >= 3000 && code <= 4999;
}

}  // namespace

std::string accept_key(std::string_view client_key)
{
    Sha1 h;
    h.update(client_key.data(), client_key.size());
    h.update(kGuid, sizeof(kGuid) - 1);
    uint8_t d[Sha1::kDigestSize];
    h.final(d);
    std::string out;
    base64_encode(d, sizeof(d), &out);
    return out;
}

size_t write_frame_header(uint8_t out[kMaxFrameHeader], uint8_t opcode, bool fin, uint64_t len)
{
    out[0] = uint8_t((fin ? 0x80 : 0) | (opcode & 0x0f));
    if (len < 126) {
        out[1] = uint8_t(len);
        return 2;
    }
    if (len <= 0xffff) {
        out[1] = 126;
        store_be16(out + 2, uint16_t(len));
        return 4;
    }
    out[1] = 127;
    store_be64(out + 2, len);
    return 10;
}

size_t write_close_frame(uint8_t out[kMaxCloseFrame], uint16_t code, std::string_view reason)
{
    if (code == 0 || code == 1005 || code == 1006) return write_frame_header(out, kClose, true, 0);
    size_t n = reason.size() < kMaxControlPayload - 2 ? reason.size() : kMaxControlPayload - 2;
    // Don't cut inside a character: back up over continuation bytes (10xxxxxx).
    if (n < reason.size()) {
        while (n > 0 && (uint8_t(reason[n]) & 0xc0) == 0x80) --n;
    }
    size_t h = write_frame_header(out, kClose, true, 2 + n);
    store_be16(out + h, code);
    if (n) std::memcpy(out + h + 2, reason.data(), n);   // an empty view may have a null data()
    return h + 2 + n;
}

size_t FrameParser::Utf8::feed(const uint8_t* p, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        uint8_t c = p[i];
        if (need > 0) {
            if (c < lo || c > hi) return i;
            --need;
            lo = 0x80;
            hi = 0xbf;
            continue;
        }
        if (c < 0x80) continue;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0) lo = 0xa0;  // no overlong forms
            if (c == 0xed) hi = 0x9f;  // no surrogates
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0) lo = 0x90;
            if (c == 0xf4) hi = 0x8f;  // nothing above U+10FFFF
        } else {
            return i;
        }
    }
    return n;
}

Rc FrameParser::fail(uint16_t code, const char* why)
{
    state_ = State::failed;
    close_code_ = code;
    reason_ = why;
    return Rc::error;
}

Rc FrameParser::feed(const uint8_t* p, size_t n, size_t* used, FrameEvent* ev)
{
    return run(p, nullptr, n, used, ev);
}

Rc FrameParser::feed(uint8_t* p, size_t n, size_t* used, FrameEvent* ev)
{
    return run(p, p, n, used, ev);
}

size_t FrameParser::header_size() const
{
    if (hdr_have_ < 2) return 2;
    uint8_t len7 = hdr_[1] & 0x7f;
    return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
}

// RFC 6455 5.2, 5.4, 5.5: what the first two bytes decide, checked before reading on.
Rc FrameParser::check_first_bytes()
{
    uint8_t b0 = hdr_[0], b1 = hdr_[1];
    uint8_t opcode = b0 & 0x0f;
    bool fin = b0 & 0x80;
    if (b0 & 0x70) return fail(kCloseProtocolError, "RSV bits set without an extension");
    if (!(b1 & 0x80)) return fail(kCloseProtocolError, "client frame not masked");  // 5.1
    if (is_control(opcode)) {
        if (opcode > kPong) return fail(kCloseProtocolError, "unknown opcode");
        if (!fin) return fail(kCloseProtocolError, "fragmented control frame");
        if ((b1 & 0x7f) > kMaxControlPayload) {
            return fail(kCloseProtocolError, "control frame over 125 bytes");
        }
        return Rc::ok;
    }
    if (opcode > kBinary) return fail(kCloseProtocolError, "unknown opcode");
    if (opcode == kContinuation && !in_message_) {
        return fail(kCloseProtocolError, "continuation without a message");
    }
    if (opcode != kContinuation && in_message_) {
        return fail(kCloseProtocolError, "new message inside a fragmented one");
    }
    return Rc::ok;
}

Rc FrameParser::start_frame(FrameEvent* ev)
{
    uint8_t len7 = hdr_[1] & 0x7f;
    uint64_t len = len7;
    size_t at = 2;
    if (len7 == 126) {
        len = load_be16(hdr_ + 2);
        at = 4;
        if (len < 126) return fail(kCloseProtocolError, "length not in its shortest form");
    } else if (len7 == 127) {
        len = load_be64(hdr_ + 2);
        at = 10;
        if (len >> 63) return fail(kCloseProtocolError, "64-bit length with the top bit set");
        if (len <= 0xffff) return fail(kCloseProtocolError, "length not in its shortest form");
    }
    std::memcpy(mask_, hdr_ + at, 4);
    mask_pos_ = 0;
    opcode_ = hdr_[0] & 0x0f;
    fin_ = hdr_[0] & 0x80;
    hdr_have_ = 0;
    remaining_ = len;
    *ev = FrameEvent();
    ev->opcode = opcode_;
    ev->fin = fin_;
    ev->length = len;
    if (is_control(opcode_)) {
        control_have_ = 0;
        state_ = State::control;
        return Rc::ok;  // no event yet: the control frame is delivered whole
    }
    if (len > limits_.max_frame) return fail(kCloseTooBig, "frame too large");
    if (opcode_ != kContinuation) {
        in_message_ = true;
        message_text_ = opcode_ == kText;
        message_bytes_ = 0;
        utf8_ = Utf8();
    }
    if (len > limits_.max_message - message_bytes_) return fail(kCloseTooBig, "message too large");
    message_bytes_ += len;
    ev->kind = FrameEvent::Kind::frame_start;
    ev->message_opcode = message_text_ ? kText : kBinary;
    state_ = len == 0 ? State::frame_end : State::payload;
    return Rc::ok;
}

Rc FrameParser::finish_control(FrameEvent* ev)
{
    *ev = FrameEvent();
    ev->kind = FrameEvent::Kind::control;
    ev->opcode = opcode_;
    ev->fin = true;
    ev->length = control_have_;
    ev->data = std::string_view(reinterpret_cast<const char*>(control_), control_have_);
    state_ = State::header;
    if (opcode_ != kClose) return Rc::ok;
    // RFC 6455 5.5.1: an empty body, or a 2-byte code and a UTF-8 reason.
    if (control_have_ == 1) return fail(kCloseProtocolError, "close frame of 1 byte");
    ev->close_code = 1005;  // 7.1.5: no status code was present
    if (control_have_ >= 2) {
        ev->close_code = load_be16(control_);
        if (!valid_close_code(ev->close_code)) return fail(kCloseProtocolError, "bad close code");
        Utf8 u;
        if (u.feed(control_ + 2, control_have_ - 2) != control_have_ - 2 || !u.complete()) {
            return fail(kCloseInvalidData, "close reason not UTF-8");
        }
        ev->close_reason = ev->data.substr(2);
    }
    state_ = State::closed;
    return Rc::ok;
}

void FrameParser::unmask(const uint8_t* in, uint8_t* out, size_t n)
{
    uint8_t m[4];
    for (size_t i = 0; i < 4; ++i) m[i] = mask_[(mask_pos_ + i) & 3];
    for (size_t i = 0; i < n; ++i) out[i] = in[i] ^ m[i & 3];
    mask_pos_ = (mask_pos_ + n) & 3;
}

Rc FrameParser::end_frame(FrameEvent* ev)
{
    *ev = FrameEvent();
    ev->kind = FrameEvent::Kind::frame_end;
    ev->opcode = opcode_;
    ev->fin = fin_;
    ev->message_opcode = message_text_ ? kText : kBinary;
    state_ = State::header;
    if (fin_) {
        in_message_ = false;
        if (message_text_ && !utf8_.complete()) {
            return fail(kCloseInvalidData, "text ends inside a UTF-8 character");
        }
    }
    return Rc::ok;
}

Rc FrameParser::read_header(const uint8_t* p, size_t n, size_t* off, bool* event, FrameEvent* ev)
{
    size_t want = header_size();
    size_t k = want - hdr_have_ < n - *off ? want - hdr_have_ : n - *off;
    std::memcpy(hdr_ + hdr_have_, p + *off, k);
    *off += k;
    bool had_two = hdr_have_ >= 2;
    hdr_have_ += k;
    if (!had_two && hdr_have_ >= 2 && check_first_bytes() != Rc::ok) return Rc::error;
    if (hdr_have_ < header_size()) return Rc::ok;
    if (start_frame(ev) != Rc::ok) return Rc::error;
    *event = state_ != State::control;  // a control frame is delivered once it is whole
    return Rc::ok;
}

Rc FrameParser::deliver(const uint8_t* in, uint8_t* in_place, size_t n, size_t* took,
                        FrameEvent* ev)
{
    size_t k = remaining_ < n ? size_t(remaining_) : n;
    if (!in_place && k > kUnmaskChunk) k = kUnmaskChunk;
    uint8_t* out = in_place ? in_place : chunk_;
    unmask(in, out, k);
    *took = 0;
    if (message_text_) {
        // The valid part goes out first and the error comes at the bad byte on the next
        // call, so where the input was split doesn't change what is delivered.
        size_t good = utf8_.feed(out, k);
        if (good == 0) return fail(kCloseInvalidData, "text not UTF-8");
        if (good < k) {
            k = good;
            utf8_bad_ = true;  // the rest is not delivered (nor, in place, masked again)
        }
    }
    *took = k;
    remaining_ -= k;
    if (remaining_ == 0) state_ = State::frame_end;
    *ev = FrameEvent();
    ev->kind = FrameEvent::Kind::data;
    ev->opcode = opcode_;
    ev->fin = fin_;
    ev->message_opcode = message_text_ ? kText : kBinary;
    ev->data = std::string_view(reinterpret_cast<const char*>(out), k);
    return Rc::ok;
}

Rc FrameParser::run(const uint8_t* p, uint8_t* in_place, size_t n, size_t* used, FrameEvent* ev)
{
    *used = 0;
    if (state_ == State::failed) return Rc::error;
    if (state_ == State::closed) return Rc::done;
    if (utf8_bad_) return fail(kCloseInvalidData, "text not UTF-8");
    size_t off = 0;
    for (;;) {
        *used = off;
        if (state_ == State::frame_end) return end_frame(ev);
        if (state_ == State::control && remaining_ == 0) return finish_control(ev);
        if (off == n) return Rc::again;
        if (state_ == State::header) {
            bool event = false;
            Rc rc = read_header(p, n, &off, &event, ev);
            *used = off;
            if (rc != Rc::ok || event) return rc;
        } else if (state_ == State::control) {
            size_t k = remaining_ < n - off ? size_t(remaining_) : n - off;
            unmask(p + off, control_ + control_have_, k);
            control_have_ += k;
            remaining_ -= k;
            off += k;
        } else {
            size_t took = 0;
            Rc rc = deliver(p + off, in_place ? in_place + off : nullptr, n - off, &took, ev);
            *used = off + took;
            return rc;
        }
    }
}

}  // namespace strom::http::ws
