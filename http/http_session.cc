#include "http/http_session.h"

#include <algorithm>
#include <ctime>

#include "core/log.h"
#include "core/process.h"
#include "core/version.h"
#include "http/http_core_module.h"

namespace strom::http {

namespace {

// How long a refused client may take to send the request its 503 answers (ms).
constexpr uint64_t kRefusedHeadWait = 2000;

RequestLimits limits_of(const ServerBlock* srv)
{
    RequestLimits l;
    if (!srv) return l;
    const HttpCoreConf& hc = http_conf(*srv);
    l.max_line = size_t(*hc.large_header_size);
    l.max_header_bytes = size_t(*hc.large_header_size) * *hc.large_header_count;
    return l;
}

// An access-log field as nginx writes it: '"', '\' and bytes outside 0x20-0x7e as \xHH.
std::string esc(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (unsigned char ch : s) {
        if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\') {
            char buf[5];
            snprintf(buf, sizeof buf, "\\x%02X", ch);
            out += buf;
        } else {
            out += char(ch);
        }
    }
    return out;
}

}  // namespace

HttpSession::HttpSession(Connection& c, const ServerBlock* server)
    : c_(c), server_(server), parser_(limits_of(server))
{
    timer_.fn = &HttpSession::on_timer;
    timer_.arg = this;
    if (server_) {
        const HttpCoreConf& hc = http_conf(*server_);
        header_timeout_ = *hc.client_header_timeout;
        keepalive_timeout_ = *hc.keepalive_timeout;
        if (hc.connection_hooks) {
            for (const ConnectionHook& h : *hc.connection_hooks) {
                if ((refused_ = h.start(h.self, *this))) break;
            }
        }
    }
    // A refused client's request is answered as soon as it comes, which for a real client
    // is at once: its slot is not held for the whole header timeout.
    arm(refused_ ? std::min<uint64_t>(header_timeout_, kRefusedHeadWait) : header_timeout_);
}

HttpSession::~HttpSession()
{
    if (timer_.armed()) c_.loop().cancel_timer(timer_);
}

namespace {

// RFC 9110 section 15: the reason phrases of the statuses this server sends.
struct StatusText {
    int code;
    const char* text;
};
constexpr StatusText kStatusTexts[] = {
    {101, "Switching Protocols"},
    {200, "OK"},
    {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {416, "Range Not Satisfiable"},
    {426, "Upgrade Required"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {503, "Service Unavailable"},
    {505, "HTTP Version Not Supported"},
};

}  // namespace

const char* HttpSession::status_text(int status)
{
    for (const StatusText& st : kStatusTexts) {
        if (st.code == status) return st.text;
    }
    return "Unknown";
}

void HttpSession::arm(uint64_t ms)
{
    if (timer_.armed()) c_.loop().cancel_timer(timer_);
    if (ms) c_.loop().add_timer(timer_, ms);
}

void HttpSession::on_timer(Timer& t)
{
    auto* s = static_cast<HttpSession*>(t.arg);
    if (s->mode_ != Mode::head && s->mode_ != Mode::body) return;
    if (s->refused_) {
        s->c_.close("refused");  // logged when it was decided
        return;
    }
    if (s->idle_) {
        s->c_.close("keepalive timeout");  // nginx closes an idle connection silently
        return;
    }
    STROM_LOG(info, s->id(), "client %s timed out sending the request", s->peer());
    s->c_.close("client header timeout");
}

void HttpSession::on_read(Connection&)
{
    switch (mode_) {
        case Mode::head:
        case Mode::body:
            read_requests();
            break;
        case Mode::waiting:
            break;  // what came stays unread until the answer
        case Mode::streaming:
            c_.consume(c_.input().size());
            break;  // nothing more is read
        case Mode::websocket:
            read_websocket();
            break;
    }
}

void HttpSession::read_requests()
{
    while (!c_.closing() && (mode_ == Mode::head || mode_ == Mode::body)) {
        if (mode_ == Mode::body) {
            if (!read_body()) return;
            continue;
        }
        std::span<const uint8_t> in = c_.input();
        if (in.empty()) return;
        if (idle_) {
            idle_ = false;
            arm(header_timeout_);  // keep-alive: a new request begins
        }
        size_t used = 0;
        Rc rc = parser_.feed(in.data(), in.size(), &used);
        c_.consume(used);
        if (rc == Rc::again) return;
        if (rc == Rc::error) {
            bad_request(parser_.status(), parser_.reason());
            return;
        }
        on_head();
    }
}

void HttpSession::on_head()
{
    have_request_ = true;
    responded_ = false;
    out_at_start_ = c_.bytes_out();
    const Request& r = request();
    WorkerContext* w = current_worker();
    keep_alive_ = r.keep_alive && !(w && w->draining);  // a draining worker says close
    if (timer_.armed()) c_.loop().cancel_timer(timer_);
    loc_ = server_ ? server_->find_prefix(r.path) : nullptr;
    BodyLimits bl;
    bl.max_body = loc_      ? *http_conf(*loc_).client_max_body_size
                  : server_ ? *http_conf(*server_).client_max_body_size
                            : bl.max_body;
    body_ = BodyDecoder(bl);
    if (body_.start(r) != Rc::ok) {
        bad_request(body_.status(), body_.reason());
        return;
    }
    if (r.chunked || (r.has_length && r.content_length > 0)) {
        // No handler reads a body yet: it is read (and bounded) before the answer, within
        // the header timeout.
        mode_ = Mode::body;
        arm(header_timeout_);
        return;
    }
    dispatch();
}

bool HttpSession::read_body()
{
    std::span<const uint8_t> in = c_.input();
    if (in.empty()) return false;
    size_t used = 0;
    std::string_view piece;
    Rc rc = body_.feed(in.data(), in.size(), &used, &piece);
    c_.consume(used);
    if (rc == Rc::error) {
        bad_request(body_.status(), body_.reason());
        return false;
    }
    if (rc == Rc::done) {
        mode_ = Mode::head;
        if (timer_.armed()) c_.loop().cancel_timer(timer_);
        dispatch();
    }
    return rc != Rc::again;
}

void HttpSession::dispatch()
{
    if (refused_) {
        keep_alive_ = false;
        respond_error(503, refused_);
    } else if (!loc_) {
        respond_error(404);
    } else {
        Rc rc = Rc::declined;
        for (const ContentHandler& h : *http_conf(*loc_).handlers) {
            rc = h.fn(h.self, *this, *loc_);
            if (rc != Rc::declined) break;
        }
        if (rc == Rc::again) return;  // suspended: the handler answers later
        if (rc == Rc::declined && !responded_ && !stream_) respond_error(404);
    }
    if (mode_ == Mode::head && !c_.closing()) after_response();
}

void HttpSession::after_response()
{
    log_access();
    have_request_ = false;
    loc_ = nullptr;
    if (!keep_alive_) {
        c_.close_after_flush("request done");
        return;
    }
    parser_.reset();
    idle_ = true;
    arm(keepalive_timeout_);
}

std::string HttpSession::head_lines(int status, std::string_view content_type, bool close)
{
    char date[64];
    time_t now = time(nullptr);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    std::string h;
    h.reserve(256);
    h += "HTTP/1.1 ";
    h += std::to_string(status);
    h += ' ';
    h += status_text(status);
    h += "\r\nServer: strom/";
    h += kStromVersion;
    h += "\r\nDate: ";
    h += date;
    h += "\r\n";
    if (!content_type.empty()) {
        h += "Content-Type: ";
        h += content_type;
        h += "\r\n";
    }
    if (status != 101) h += close ? "Connection: close\r\n" : "Connection: keep-alive\r\n";
    const AppBlock* loc = loc_;
    const auto* extra = loc       ? &*http_conf(*loc).add_header
                        : server_ ? &*http_conf(*server_).add_header
                                  : nullptr;
    if (extra) {
        for (const auto& [name, value] : *extra) {
            h += name;
            h += ": ";
            h += value;
            h += "\r\n";
        }
    }
    return h;
}

bool HttpSession::send_copy(std::string_view bytes)
{
    Chain ch(c_.loop().small_pool());
    if (bytes.size() > 64 * 1024 || ch.append(bytes.data(), bytes.size()) != Rc::ok) return false;
    if (!c_.send(ch.take())) return false;
    c_.flush_soon();
    return true;
}

void HttpSession::respond(int status, std::string_view content_type, std::string_view body,
                          std::string_view extra)
{
    responded_ = true;
    status_ = status;
    std::string h = head_lines(status, content_type, !keep_alive_);
    h += "Content-Length: ";
    h += std::to_string(body.size());
    h += "\r\n";
    h += extra;
    h += "\r\n";
    if (!head_only()) h += body;
    answer_bytes_ = h.size();
    if (!send_copy(h)) c_.close("cannot queue the answer");
}

void HttpSession::respond_error(int status, const char* why)
{
    std::string body = std::to_string(status) + " " + status_text(status) + "\n";
    if (why && *why) {
        body += why;
        body += "\n";
    }
    respond(status, "text/plain; charset=utf-8", body, status == 405 ? "Allow: GET, HEAD\r\n" : "");
}

void HttpSession::suspend(std::unique_ptr<HttpStream> owner)
{
    stream_ = std::move(owner);
    mode_ = Mode::waiting;  // input waits unread; a client that leaves is still seen
    if (timer_.armed()) c_.loop().cancel_timer(timer_);
}

void HttpSession::fail(int status, const char* why)
{
    keep_alive_ = false;
    respond_error(status, why);
    log_access();
    have_request_ = false;
    c_.close_after_flush("refused");
}

bool HttpSession::start_stream(int status, std::string_view content_type, std::string_view extra,
                               std::unique_ptr<HttpStream> owner)
{
    responded_ = true;
    status_ = status;
    keep_alive_ = false;
    std::string h = head_lines(status, content_type, true);
    h += extra;
    h += "\r\n";
    if (!send_copy(h)) return false;
    if (owner) stream_ = std::move(owner);
    mode_ = Mode::streaming;
    if (timer_.armed()) c_.loop().cancel_timer(timer_);
    return true;
}

bool HttpSession::upgrade_websocket(std::unique_ptr<HttpStream> owner)
{
    const Request& r = request();
    std::string_view key = r.header("Sec-WebSocket-Key");
    if (!r.upgrade_websocket || r.method != "GET" || key.empty() ||
        r.header("Sec-WebSocket-Version") != "13") {
        keep_alive_ = false;
        respond(r.upgrade_websocket ? 400 : 426, "text/plain; charset=utf-8",
                "a WebSocket upgrade needs GET, Upgrade: websocket, Sec-WebSocket-Key and "
                "Sec-WebSocket-Version: 13\n",
                "Sec-WebSocket-Version: 13\r\n");
        return false;
    }
    responded_ = true;
    status_ = 101;
    keep_alive_ = false;
    std::string h = head_lines(101, {}, false);
    h += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ";
    h += ws::accept_key(key);
    h += "\r\n\r\n";
    if (!send_copy(h)) return false;
    if (owner) stream_ = std::move(owner);
    mode_ = Mode::websocket;
    if (timer_.armed()) c_.loop().cancel_timer(timer_);
    if (!c_.input().empty()) read_websocket();
    return true;
}

void HttpSession::read_websocket()
{
    while (!c_.closing()) {
        std::span<const uint8_t> in = c_.input();
        size_t used = 0;
        ws::FrameEvent ev;
        Rc rc = ws_.feed(in.data(), in.size(), &used, &ev);
        c_.consume(used);
        if (rc == Rc::again || rc == Rc::done) return;
        if (rc == Rc::error) {
            STROM_LOG(info, id(), "websocket client %s sent a bad frame: %s (close %u)", peer(),
                      ws_.reason(), unsigned(ws_.close_code()));
            uint8_t frame[ws::kMaxCloseFrame];
            size_t n = ws::write_close_frame(frame, ws_.close_code(), ws_.reason());
            (void)send_copy(std::string_view(reinterpret_cast<char*>(frame), n));
            c_.close_after_flush("bad websocket frame");
            return;
        }
        if (ev.kind == ws::FrameEvent::Kind::data) {
            if (stream_) stream_->on_ws_data(*this, ev.data);
        } else if (ev.kind == ws::FrameEvent::Kind::control) {
            if (ev.opcode == ws::kPing) {
                uint8_t hdr[ws::kMaxFrameHeader];
                size_t n = ws::write_frame_header(hdr, ws::kPong, true, ev.data.size());
                std::string pong(reinterpret_cast<char*>(hdr), n);
                pong += ev.data;
                (void)send_copy(pong);
            } else if (ev.opcode == ws::kClose) {
                uint8_t frame[ws::kMaxCloseFrame];
                uint16_t code = ev.close_code == 1005 ? uint16_t(ws::kCloseNormal) : ev.close_code;
                size_t n = ws::write_close_frame(frame, code, {});
                (void)send_copy(std::string_view(reinterpret_cast<char*>(frame), n));
                c_.close_after_flush("websocket closed by peer");
                return;
            }
        }
    }
}

void HttpSession::bad_request(int status, const char* why)
{
    STROM_LOG(info, id(), "client %s sent a bad request: %s (%d)", peer(), why, status);
    keep_alive_ = false;
    if (!have_request_) loc_ = nullptr;
    respond_error(status, why);
    log_access();
    have_request_ = false;
    c_.close_after_flush("bad request");
}

void HttpSession::log_access()
{
    const Request& r = request();
    std::string line = r.method.empty() ? std::string("-")
                                        : esc(r.method) + " " + esc(r.target) + " HTTP/1." +
                                              std::to_string(r.minor);
    bool stream = mode_ == Mode::streaming || mode_ == Mode::websocket;
    unsigned long long sent = stream ? c_.bytes_out() - out_at_start_ : answer_bytes_;
    std::string referer = esc(r.header("Referer"));
    std::string agent = esc(r.header("User-Agent"));
    Log::access("%s - - \"%s\" %d %llu \"%s\" \"%s\"", peer(), line.c_str(), status_, sent,
                referer.empty() ? "-" : referer.c_str(), agent.empty() ? "-" : agent.c_str());
}

void HttpSession::on_close(Connection&, const char* reason)
{
    if (timer_.armed()) c_.loop().cancel_timer(timer_);
    if (stream_) {
        stream_->on_http_close(*this, reason);
        stream_.reset();
    }
    if (have_request_ && mode_ != Mode::head && mode_ != Mode::body) log_access();
    if (server_ && http_conf(*server_).connection_hooks) {
        for (const ConnectionHook& h : *http_conf(*server_).connection_hooks)
            h.close(h.self, *this);
    }
}

}  // namespace strom::http
