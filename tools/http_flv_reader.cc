#include "tools/http_flv_reader.h"

#include <algorithm>
#include <string_view>

#include "core/ascii.h"

namespace strom::tools {

namespace {

bool unreserved(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

void append_escaped(std::string* out, std::string_view s, std::string_view keep)
{
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (char c : s) {
        if (unreserved(c) || keep.find(c) != std::string_view::npos) {
            *out += c;
            continue;
        }
        auto b = static_cast<unsigned char>(c);
        *out += '%';
        *out += kHex[b >> 4];
        *out += kHex[b & 15];
    }
}

bool digit(char c)
{
    return c >= '0' && c <= '9';
}

}  // namespace

std::string http_flv_request(const rtmp::RtmpUrl& url, int http_port)
{
    std::string_view stream = url.stream, query;
    size_t q = stream.find('?');
    if (q != std::string_view::npos) {
        query = stream.substr(q);  // already in URL form: sent as given
        stream = stream.substr(0, q);
    }
    std::string r = "GET /";
    append_escaped(&r, url.app, "/");
    r += '/';
    append_escaped(&r, stream, ":");
    r += ".flv";
    r += query;
    r += " HTTP/1.1\r\nHost: ";
    bool v6 = url.host.find(':') != std::string::npos;
    if (v6) r += '[';
    r += url.host;
    if (v6) r += ']';
    r += ':';
    r += std::to_string(http_port);
    r += "\r\nUser-Agent: strom-client bench\r\nAccept: */*\r\n\r\n";
    return r;
}

Rc HttpFlvReader::fail(const char* why)
{
    phase_ = Phase::failed;
    reason_ = why;
    head_.clear();
    head_.shrink_to_fit();
    return Rc::error;
}

Rc HttpFlvReader::next(std::span<const uint8_t>& in, rtmp::FlvTag* tag)
{
    if (phase_ == Phase::failed) return Rc::error;
    if (phase_ == Phase::head) {
        Rc rc = step_head(in);
        if (rc != Rc::ok) return rc;
    }
    Rc rc = flv_.next(in, tag);
    if (rc == Rc::error) return fail(flv_.reason() ? flv_.reason() : "bad FLV");
    return rc;
}

// Gathers the head up to its empty line (RFC 9112 2.1), taking no byte of the body.
Rc HttpFlvReader::step_head(std::span<const uint8_t>& in)
{
    size_t old = head_.size();
    size_t take = std::min(in.size(), kMaxHead + 1 - old);
    head_.append(reinterpret_cast<const char*>(in.data()), take);
    size_t end = head_.find("\r\n\r\n", old < 3 ? 0 : old - 3);
    if (end == std::string::npos) {
        if (head_.size() > kMaxHead) return fail("HTTP response head over 16 KiB");
        in = in.subspan(take);
        return Rc::again;
    }
    end += 4;
    in = in.subspan(end - old);
    head_.resize(end);
    head_size_ = end;
    Rc rc = parse_head();
    if (rc != Rc::ok) return rc;
    phase_ = Phase::body;
    head_done_ = true;
    head_.clear();
    head_.shrink_to_fit();
    return Rc::ok;
}

Rc HttpFlvReader::parse_head()
{
    std::string_view h = head_;
    size_t eol = h.find("\r\n");
    std::string_view line = h.substr(0, eol);
    // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 4)
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || !digit(line[7]) || line[8] != ' ' ||
        !digit(line[9]) || !digit(line[10]) || !digit(line[11]) ||
        (line.size() > 12 && line[12] != ' ')) {
        return fail("not an HTTP/1.x response");
    }
    status_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (status_ != 200) return fail("HTTP status is not 200");
    for (size_t at = eol + 2; at < h.size();) {
        size_t e = h.find("\r\n", at);
        std::string_view field = h.substr(at, e - at);
        at = e + 2;
        size_t colon = field.find(':');
        if (colon == std::string_view::npos) continue;  // the final empty line
        // An endless FLV body is sent as is until the connection closes; a chunked body
        // would put chunk sizes between the tags.
        if (iequals(trim_ows(field.substr(0, colon)), "transfer-encoding") &&
            !iequals(trim_ows(field.substr(colon + 1)), "identity")) {
            return fail("HTTP transfer coding not supported");
        }
    }
    return Rc::ok;
}

}  // namespace strom::tools
