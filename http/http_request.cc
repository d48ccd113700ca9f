#include "http/http_request.h"

#include <cstring>

#include "core/ascii.h"

namespace strom::http {

namespace {

// Leading empty lines tolerated before a request line (RFC 9112 2.2), e.g. the CRLF some
// clients add after a POST body; more than this is not a client being sloppy.
constexpr size_t kMaxEmptyLines = 8;

// RFC 9110 5.6.2: tchar.
bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

// RFC 9110 5.5: field-vchar (VCHAR / obs-text), SP and HTAB; no other CTL.
bool is_value_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

// Target bytes: visible ASCII and obs-text; no SP, CTL or DEL. '#' is not in the grammar
// of any request-target form (a fragment is never sent, RFC 9112 3.2).
bool is_target_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f && c != '#';
}

// Calls f on each non-empty element of a comma-separated list (RFC 9110 5.6.1: empty
// elements are allowed and ignored).
template <typename F>
void for_each_element(std::string_view list, F f)
{
    while (!list.empty()) {
        size_t comma = list.find(',');
        std::string_view item = trim_ows(list.substr(0, comma));
        if (!item.empty()) f(item);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
}

// Splits a request-target into path and query; false when it is none of the forms we
// accept (see the class comment in the header).
bool split_target(std::string_view method, std::string_view target, std::string_view* path,
                  std::string_view* query)
{
    if (target == "*") {  // RFC 9112 3.2.4: asterisk-form is for OPTIONS only
        *path = target;
        *query = {};
        return method == "OPTIONS";
    }
    std::string_view rest = target;
    if (target[0] != '/') {
        // RFC 9112 3.2.2: absolute-form, which a server must accept.
        size_t colon = target.find("://");
        if (colon == std::string_view::npos) return false;
        std::string_view scheme = target.substr(0, colon);
        if (!iequals(scheme, "http") && !iequals(scheme, "https")) return false;
        rest = target.substr(colon + 3);
        size_t end = rest.find_first_of("/?");
        if (end == 0 || rest.empty()) return false;  // no authority
        rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
        if (rest.empty() || rest[0] == '?') {
            *path = "/";  // a static "/": there is none in the buffer to point at
            *query = rest.empty() ? rest : rest.substr(1);
            return true;
        }
    }
    size_t q = rest.find('?');
    *path = rest.substr(0, q);
    *query = q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);
    return true;
}

}  // namespace

std::string_view Request::header(std::string_view name) const
{
    for (const Header& h : headers) {
        if (iequals(h.name, name)) return h.value;
    }
    return {};
}

Rc RequestParser::fail(int status, const char* why)
{
    state_ = State::failed;
    status_ = status;
    reason_ = why;
    return Rc::error;
}

void RequestParser::reset()
{
    state_ = State::request_line;
    head_.clear();
    line_start_ = header_bytes_ = empty_lines_ = 0;
    method_len_ = target_off_ = target_len_ = 0;
    fields_.clear();
    te_seen_ = te_last_chunked_ = te_other_ = false;
    te_chunked_count_ = 0;
    host_seen_ = conn_close_ = conn_keep_alive_ = conn_upgrade_ = upgrade_ws_ = false;
    std::vector<Header> keep = std::move(request_.headers);
    keep.clear();
    request_ = Request();
    request_.headers = std::move(keep);
    status_ = 0;
    reason_ = "";
}

Rc RequestParser::feed(const uint8_t* p, size_t n, size_t* used)
{
    *used = 0;
    if (state_ == State::done) return Rc::ok;
    if (state_ == State::failed) return Rc::error;
    size_t off = 0;
    while (off < n) {
        const void* lf = std::memchr(p + off, '\n', n - off);
        size_t take = lf ? size_t(static_cast<const uint8_t*>(lf) - (p + off)) + 1 : n - off;
        // The line's length without its line end, as far as it is known. A CR at the end of
        // a partial line may be the start of CRLF, so it is not counted yet: the check gives
        // the same answer whatever the pieces (a limit is crossed iff the whole line is over).
        size_t have = head_.size() - line_start_;
        size_t len = have + take - (lf ? 1 : 0);
        char last = len == 0 ? '\0' : len > have ? char(p[off + len - have - 1]) : head_.back();
        if (last == '\r') --len;
        if (len > limits_.max_line) {
            *used = off;
            return state_ == State::request_line ? fail(414, "request line too long")
                                                 : fail(431, "header line too long");
        }
        if (state_ == State::headers && header_bytes_ + have + take > limits_.max_header_bytes) {
            *used = off;
            return fail(431, "request header too large");
        }
        head_.append(reinterpret_cast<const char*>(p + off), take);
        off += take;
        if (!lf) break;
        size_t start = line_start_;
        line_start_ = head_.size();
        if (state_ == State::headers) header_bytes_ += line_start_ - start;
        if (on_line(start, len) != Rc::ok) {
            *used = off;
            return Rc::error;
        }
        if (state_ == State::done) {
            *used = off;
            return Rc::ok;
        }
    }
    *used = off;
    return Rc::again;
}

Rc RequestParser::on_line(size_t start, size_t len)
{
    std::string_view line(head_.data() + start, len);
    if (state_ == State::headers) return len == 0 ? head_done() : on_header(start, line);
    if (len == 0) {
        // Not kept: the head starts with its request line.
        head_.resize(start);
        line_start_ = start;
        if (++empty_lines_ > kMaxEmptyLines) return fail(400, "empty lines before request");
        return Rc::ok;
    }
    return on_request_line(line);
}

// RFC 9112 3: method SP request-target SP HTTP-version, single spaces, nothing else.
Rc RequestParser::on_request_line(std::string_view line)
{
    size_t i = 0;
    while (i < line.size() && is_tchar(uint8_t(line[i]))) ++i;
    if (i == 0 || i == line.size() || line[i] != ' ') return fail(400, "bad request method");
    method_len_ = i;
    size_t t = ++i;
    while (i < line.size() && is_target_char(uint8_t(line[i]))) ++i;
    if (i == t) return fail(400, "bad request target");
    if (i == line.size()) return fail(400, "no HTTP version");
    if (line[i] != ' ') return fail(400, "bad request target");
    target_off_ = t;
    target_len_ = i - t;
    std::string_view v = line.substr(i + 1);
    // RFC 9112 2.3: "HTTP/" DIGIT "." DIGIT, case-sensitive.
    if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
        v[7] < '0' || v[7] > '9') {
        return fail(400, "bad HTTP version");
    }
    if (v[5] != '1') return fail(505, "HTTP version not supported");
    request_.minor = v[7] == '0' ? 0 : 1;
    std::string_view path, query;
    if (!split_target(line.substr(0, method_len_), line.substr(t, target_len_), &path, &query)) {
        return fail(400, "bad request target");
    }
    state_ = State::headers;
    return Rc::ok;
}

// RFC 9112 5: field-name ":" OWS field-value OWS.
Rc RequestParser::on_header(size_t start, std::string_view line)
{
    // RFC 9112 5.2: obs-fold is refused; so is whitespace after the request line (2.2).
    if (is_ows(line[0])) return fail(400, "obsolete header line folding");
    size_t i = 0;
    while (i < line.size() && is_tchar(uint8_t(line[i]))) ++i;
    if (i == line.size() || line[i] != ':') {
        // RFC 9112 5.1: no whitespace between name and colon (a smuggling vector).
        if (i > 0 && i < line.size() && is_ows(line[i])) {
            return fail(400, "whitespace before header colon");
        }
        return fail(400, "bad header name");
    }
    if (i == 0) return fail(400, "empty header name");
    std::string_view name = line.substr(0, i);
    for (size_t k = i + 1; k < line.size(); ++k) {
        if (!is_value_char(uint8_t(line[k]))) return fail(400, "bad header value");
    }
    std::string_view value = trim_ows(line.substr(i + 1));
    if (fields_.size() >= limits_.max_headers) return fail(431, "too many header fields");
    size_t value_off = value.empty() ? start + line.size() : size_t(value.data() - head_.data());
    fields_.push_back({start, i, value_off, value.size()});
    return on_semantic_header(name, value);
}

Rc RequestParser::on_semantic_header(std::string_view name, std::string_view value)
{
    if (iequals(name, "Content-Length")) {
        // RFC 9112 6.3 item 5: anything but 1*DIGIT is invalid framing. A list ("5, 5") is
        // refused too; repeated lines must agree.
        if (value.empty()) return fail(400, "bad Content-Length");
        uint64_t v = 0;
        for (char c : value) {
            if (c < '0' || c > '9') return fail(400, "bad Content-Length");
            uint64_t d = uint64_t(c - '0');
            if (v > (UINT64_MAX - d) / 10) return fail(400, "Content-Length too large");
            v = v * 10 + d;
        }
        if (request_.has_length && v != request_.content_length) {
            return fail(400, "conflicting Content-Length");
        }
        request_.has_length = true;
        request_.content_length = v;
    } else if (iequals(name, "Transfer-Encoding")) {
        te_seen_ = true;
        for_each_element(value, [this](std::string_view coding) {
            te_last_chunked_ = iequals(coding, "chunked");
            if (te_last_chunked_) {
                ++te_chunked_count_;
            } else {
                te_other_ = true;
            }
        });
    } else if (iequals(name, "Host")) {
        // RFC 9112 3.2: more than one Host, or an invalid one, is a 400.
        if (host_seen_) return fail(400, "duplicate Host");
        host_seen_ = true;
        if (value.find_first_of(" \t/?#@\\") != std::string_view::npos) {
            return fail(400, "bad Host");
        }
    } else if (iequals(name, "Connection")) {
        for_each_element(value, [this](std::string_view option) {
            if (iequals(option, "close")) conn_close_ = true;
            if (iequals(option, "keep-alive")) conn_keep_alive_ = true;
            if (iequals(option, "upgrade")) conn_upgrade_ = true;
        });
    } else if (iequals(name, "Upgrade")) {
        for_each_element(value, [this](std::string_view proto) {
            if (iequals(proto, "websocket")) upgrade_ws_ = true;
        });
    }
    return Rc::ok;
}

Rc RequestParser::head_done()
{
    Request& r = request_;
    if (r.minor == 1 && !host_seen_) return fail(400, "no Host in an HTTP/1.1 request");
    if (te_seen_) {
        // RFC 9112 6.1: Transfer-Encoding in 1.0 means faulty framing; 6.3 items 3 and 4:
        // with Content-Length too, or not ending in chunked, the length can't be trusted.
        // We refuse rather than guess: a proxy in front may have guessed otherwise.
        if (r.minor == 0) return fail(400, "Transfer-Encoding in HTTP/1.0");
        if (r.has_length) return fail(400, "both Content-Length and Transfer-Encoding");
        if (!te_last_chunked_) return fail(400, "Transfer-Encoding not ending in chunked");
        if (te_chunked_count_ > 1) return fail(400, "chunked applied twice");
        if (te_other_) return fail(501, "unsupported Transfer-Encoding");
        r.chunked = true;
    }
    r.keep_alive = !conn_close_ && (r.minor == 1 || conn_keep_alive_);
    r.upgrade_websocket = r.minor == 1 && upgrade_ws_ && conn_upgrade_;
    r.method = std::string_view(head_.data(), method_len_);
    r.target = std::string_view(head_.data() + target_off_, target_len_);
    if (!split_target(r.method, r.target, &r.path, &r.query)) {
        return fail(400, "bad request target");  // checked on the request line already
    }
    r.headers.clear();
    r.headers.reserve(fields_.size());
    for (const Field& f : fields_) {
        r.headers.push_back({std::string_view(head_.data() + f.name_off, f.name_len),
                             std::string_view(head_.data() + f.value_off, f.value_len)});
    }
    state_ = State::done;
    return Rc::ok;
}

// --- BodyDecoder -----------------------------------------------------------------------

Rc BodyDecoder::fail(int status, const char* why)
{
    state_ = State::failed;
    status_ = status;
    reason_ = why;
    return Rc::error;
}

Rc BodyDecoder::start(const Request& r)
{
    if (r.chunked) {
        start_chunked();
        return Rc::ok;
    }
    return start_length(r.has_length ? r.content_length : 0);
}

Rc BodyDecoder::start_length(uint64_t n)
{
    total_ = 0;
    status_ = 0;
    reason_ = "";
    if (n > limits_.max_body) return fail(413, "request body too large");
    state_ = State::length;
    remaining_ = n;
    return Rc::ok;
}

void BodyDecoder::start_chunked()
{
    state_ = State::size;
    remaining_ = total_ = 0;
    line_bytes_ = 0;
    digits_ = 0;
    status_ = 0;
    reason_ = "";
}

Rc BodyDecoder::feed(const uint8_t* p, size_t n, size_t* used, std::string_view* out)
{
    *used = 0;
    *out = {};
    size_t off = 0;
    for (;;) {
        if (state_ == State::done) {
            *used = off;
            return Rc::done;
        }
        if (state_ == State::failed) {
            *used = off;
            return Rc::error;
        }
        if (state_ == State::length && remaining_ == 0) {
            state_ = State::done;
            continue;
        }
        if (off == n) break;
        if (state_ == State::length || state_ == State::data) {
            size_t k = remaining_ < n - off ? size_t(remaining_) : n - off;
            *out = std::string_view(reinterpret_cast<const char*>(p + off), k);
            off += k;
            remaining_ -= k;
            total_ += k;
            if (remaining_ == 0 && state_ == State::data) state_ = State::data_cr;
            *used = off;
            return Rc::ok;
        }
        if (on_chunk_byte(p[off]) != Rc::ok) {
            *used = off;
            return Rc::error;
        }
        ++off;
    }
    *used = off;
    return Rc::again;
}

// RFC 9112 7.1: chunk-size [chunk-ext] CRLF chunk-data CRLF ... last-chunk trailer CRLF.
Rc BodyDecoder::on_chunk_byte(uint8_t c)
{
    switch (state_) {
        case State::size:
        case State::ext_ws:
        case State::ext:
        case State::size_lf:
            return on_size_line_byte(c);
        case State::data_cr:
            if (c != '\r') return fail(400, "bad chunk data end");
            state_ = State::data_lf;
            return Rc::ok;
        case State::data_lf:
            if (c != '\n') return fail(400, "bad chunk data end");
            state_ = State::size;
            return Rc::ok;
        case State::trailer:
        case State::trailer_mid:
        case State::trailer_lf:
        case State::end_lf:
            return on_trailer_byte(c);
        default:
            return fail(400, "internal state");
    }
}

Rc BodyDecoder::on_size_line_byte(uint8_t c)
{
    if (state_ != State::size_lf && ++line_bytes_ > limits_.max_chunk_line) {
        return fail(400, "chunk size line too long");
    }
    int h = hex_value(char(c));
    if (state_ == State::size && h >= 0) {
        // Checked digit by digit so a huge size is refused before its line ends.
        if (remaining_ > (UINT64_MAX >> 4)) return fail(413, "request body too large");
        remaining_ = remaining_ * 16 + uint64_t(h);
        if (remaining_ > limits_.max_body - total_) return fail(413, "request body too large");
        ++digits_;
        return Rc::ok;
    }
    if (state_ == State::size && digits_ == 0) return fail(400, "bad chunk size");
    if (state_ == State::size_lf) {
        if (c != '\n') return fail(400, "bad chunk size line end");
        line_bytes_ = 0;
        digits_ = 0;
        state_ = remaining_ == 0 ? State::trailer : State::data;
        return Rc::ok;
    }
    if (c == '\r' && state_ != State::ext_ws) {
        state_ = State::size_lf;
    } else if (c == ';' && state_ != State::ext) {
        state_ = State::ext;
    } else if (is_ows(char(c)) && state_ != State::ext) {
        state_ = State::ext_ws;  // BWS between the size and ';'
    } else if (state_ != State::ext || !is_value_char(c)) {
        // RFC 9112 7.1.1: extensions are ignored, but not CTLs nor junk after the size.
        return fail(400, state_ == State::size ? "bad chunk size" : "bad chunk extension");
    }
    return Rc::ok;
}

// RFC 9112 7.1.2: trailer fields are skipped (we have no use for them), within a bound.
Rc BodyDecoder::on_trailer_byte(uint8_t c)
{
    if (++line_bytes_ > limits_.max_trailer) return fail(431, "request trailers too large");
    switch (state_) {
        case State::trailer:  // at the start of a line
            if (c == '\r') {
                state_ = State::end_lf;
                return Rc::ok;
            }
            if (is_ows(char(c))) return fail(400, "obsolete trailer line folding");
            state_ = State::trailer_mid;
            [[fallthrough]];
        case State::trailer_mid:
            if (c == '\r') {
                state_ = State::trailer_lf;
            } else if (!is_value_char(c)) {
                return fail(400, "bad trailer field");
            }
            return Rc::ok;
        case State::trailer_lf:
            if (c != '\n') return fail(400, "bad trailer line end");
            state_ = State::trailer;
            return Rc::ok;
        default:  // State::end_lf
            if (c != '\n') return fail(400, "bad chunked body end");
            state_ = State::done;
            return Rc::ok;
    }
}

}  // namespace strom::http
