#include "core/http_parser.h"

#include <algorithm>
#include <cstring>

#include "core/ascii.h"

namespace strom {

namespace {

// A chunk larger than this is refused whatever max_body says (it would not fit anyway).
constexpr uint64_t kMaxChunk = uint64_t(1) << 40;

}  // namespace

Rc HttpResponseParser::fail(const char* why)
{
    state_ = State::failed;
    reason_ = why;
    return Rc::error;
}

Rc HttpResponseParser::feed(const uint8_t* p, size_t n, size_t* used)
{
    size_t off = 0;
    while (off < n) {
        switch (state_) {
            case State::done:
                *used = off;
                return Rc::ok;
            case State::failed:
                *used = off;
                return Rc::error;
            case State::body_length:
            case State::chunk_data: {
                size_t k = size_t(std::min<uint64_t>(remaining_, n - off));
                if (take_body(p + off, k) != Rc::ok) {
                    *used = off;
                    return Rc::error;
                }
                off += k;
                remaining_ -= k;
                if (remaining_ == 0)
                    state_ = state_ == State::body_length ? State::done : State::chunk_crlf;
                break;
            }
            case State::body_close: {
                if (take_body(p + off, n - off) != Rc::ok) {
                    *used = off;
                    return Rc::error;
                }
                off = n;
                break;
            }
            default: {
                // Line states: gather up to LF (a bare LF ends a line too, RFC 9112 2.2).
                const void* lf = memchr(p + off, '\n', n - off);
                size_t take =
                    lf ? size_t(static_cast<const uint8_t*>(lf) - (p + off)) + 1 : n - off;
                header_bytes_ += take;
                if (header_bytes_ > max_header_ || line_.size() + take > max_header_) {
                    *used = off;
                    return fail("response header too large");
                }
                line_.append(reinterpret_cast<const char*>(p + off), take);
                off += take;
                if (!lf) break;
                std::string line = std::move(line_);
                line_.clear();
                line.pop_back();
                if (!line.empty() && line.back() == '\r') line.pop_back();
                if (on_line(line) != Rc::ok) {
                    *used = off;
                    return Rc::error;
                }
                break;
            }
        }
    }
    *used = off;
    if (state_ == State::done) return Rc::ok;
    if (state_ == State::failed) return Rc::error;
    return Rc::again;
}

Rc HttpResponseParser::finish()
{
    if (state_ == State::done) return Rc::ok;
    if (state_ == State::body_close) {
        state_ = State::done;
        return Rc::ok;
    }
    if (state_ == State::failed) return Rc::error;
    return fail(state_ == State::status_line && header_bytes_ == 0 ? "empty response"
                                                                   : "response cut short");
}

Rc HttpResponseParser::take_body(const uint8_t* p, size_t n)
{
    if (body_.size() + n > max_body_) return fail("response body too large");
    body_.append(reinterpret_cast<const char*>(p), n);
    return Rc::ok;
}

Rc HttpResponseParser::on_line(std::string_view line)
{
    switch (state_) {
        case State::status_line:
            return on_status_line(line);
        case State::headers:
            return line.empty() ? headers_done() : on_header(line);
        case State::chunk_size:
            return on_chunk_size(line);
        case State::chunk_crlf:
            if (!line.empty()) return fail("bad chunk end");
            state_ = State::chunk_size;
            return Rc::ok;
        case State::trailers:
            if (line.empty()) state_ = State::done;
            return Rc::ok;
        default:
            return fail("internal state");
    }
}

Rc HttpResponseParser::on_status_line(std::string_view line)
{
    // RFC 9112 4: HTTP-version SP 3DIGIT SP [reason]
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || (line[7] != '0' && line[7] != '1') ||
        line[8] != ' ') {
        return fail("bad status line");
    }
    int st = 0;
    for (size_t i = 9; i < 12; ++i) {
        if (line[i] < '0' || line[i] > '9') return fail("bad status code");
        st = st * 10 + (line[i] - '0');
    }
    if (st < 100 || (line.size() > 12 && line[12] != ' ')) return fail("bad status code");
    status_ = st;
    state_ = State::headers;
    return Rc::ok;
}

Rc HttpResponseParser::on_header(std::string_view line)
{
    if (line[0] == ' ' || line[0] == '\t') return fail("obsolete header folding");
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail("bad header line");
    std::string_view name = line.substr(0, colon);
    if (trim_ows(name).size() != name.size()) return fail("space before header colon");
    std::string_view value = trim_ows(line.substr(colon + 1));
    if (iequals(name, "Content-Length")) {
        uint64_t v = 0;
        if (value.empty() || value.size() > 15) return fail("bad Content-Length");
        for (char c : value) {
            if (c < '0' || c > '9') return fail("bad Content-Length");
            v = v * 10 + uint64_t(c - '0');
        }
        if (has_length_ && v != remaining_) return fail("conflicting Content-Length");
        has_length_ = true;
        remaining_ = v;
    } else if (iequals(name, "Transfer-Encoding")) {
        // Only "chunked" (last) is a coding we can undo; anything else is refused.
        if (!iequals(value, "chunked")) return fail("unsupported Transfer-Encoding");
        chunked_ = true;
    } else if (iequals(name, "Location")) {
        location_.assign(value);
    }
    return Rc::ok;
}

Rc HttpResponseParser::headers_done()
{
    if (status_ < 200) {
        // 1xx interim responses (100 Continue): the real one follows (RFC 9110 15.2).
        if (status_ == 101) return fail("unexpected protocol switch");
        status_ = 0;
        has_length_ = chunked_ = false;
        remaining_ = 0;
        location_.clear();
        state_ = State::status_line;
        return Rc::ok;
    }
    if (status_ == 204 || status_ == 304) {
        state_ = State::done;
        return Rc::ok;
    }
    if (chunked_) {
        // RFC 9112 6.3: Transfer-Encoding overrides Content-Length.
        has_length_ = false;
        state_ = State::chunk_size;
        return Rc::ok;
    }
    if (has_length_) {
        if (remaining_ > max_body_) return fail("response body too large");
        state_ = remaining_ == 0 ? State::done : State::body_length;
        return Rc::ok;
    }
    state_ = State::body_close;
    return Rc::ok;
}

Rc HttpResponseParser::on_chunk_size(std::string_view line)
{
    size_t semi = line.find(';');  // chunk extensions are ignored (RFC 9112 7.1.1)
    std::string_view hex = trim_ows(line.substr(0, semi));
    if (hex.empty()) return fail("bad chunk size");
    uint64_t v = 0;
    for (char c : hex) {
        int h = hex_value(c);
        if (h < 0) return fail("bad chunk size");
        v = v * 16 + uint64_t(h);
        if (v > kMaxChunk) return fail("chunk too large");
    }
    if (v == 0) {
        state_ = State::trailers;
        return Rc::ok;
    }
    if (body_.size() + v > max_body_) return fail("response body too large");
    remaining_ = v;
    state_ = State::chunk_data;
    return Rc::ok;
}

bool query_arg(std::string_view query, std::string_view key, std::string_view* value)
{
    size_t pos = 0;
    while (pos <= query.size()) {
        size_t amp = query.find('&', pos);
        std::string_view part = query.substr(pos, amp == std::string_view::npos ? amp : amp - pos);
        size_t eq = part.find('=');
        std::string_view k = part.substr(0, eq);
        if (k == key) {
            *value = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
            return true;
        }
        if (amp == std::string_view::npos) break;
        pos = amp + 1;
    }
    return false;
}

void form_encode(std::string_view s, std::string* out)
{
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (unsigned char c : s) {
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '*' || c == '-' || c == '.' || c == '_';
        if (plain) {
            *out += char(c);
        } else if (c == ' ') {
            *out += '+';
        } else {
            *out += '%';
            *out += kHex[c >> 4];
            *out += kHex[c & 15];
        }
    }
}

std::string form_decode(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
                   hex_value(s[i + 2]) >= 0) {
            out += char(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

}  // namespace strom
