#include "core/http_client.h"

#include <strings.h>

#include <cstring>

#include "core/buf.h"
#include "core/log.h"

namespace strom {

bool parse_http_url(std::string_view url, HttpUrl* out, std::string* err)
{
    constexpr std::string_view kScheme = "http://";
    if (url.size() < kScheme.size() ||
        strncasecmp(url.data(), kScheme.data(), kScheme.size()) != 0) {
        *err = "only http:// URLs are supported";
        return false;
    }
    std::string_view rest = url.substr(kScheme.size());
    size_t end = rest.find_first_of("/?#");
    std::string_view hostport = rest.substr(0, end);
    std::string_view path = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    if (hostport.empty() || hostport.find_first_of("@*") != std::string_view::npos ||
        hostport.starts_with("unix:")) {
        *err = "invalid host in URL";
        return false;
    }
    for (unsigned char ch : url) {
        // The URL goes into a request line as it is: no spaces or controls.
        if (ch <= 0x20 || ch == 0x7f) {
            *err = "space or control character in URL";
            return false;
        }
    }
    if (size_t h = path.find('#'); h != std::string_view::npos) path = path.substr(0, h);
    if (!path.empty() && path[0] == '?') {
        out->path = "/";
        out->path += path;
    } else {
        out->path = path.empty() ? "/" : std::string(path);
    }
    if (!parse_listen_address(hostport, &out->addr, err, 80)) return false;
    out->host.assign(hostport);
    return true;
}

std::string http_request(std::string_view method, const HttpUrl& url, std::string_view query,
                         std::string_view content_type, std::string_view body)
{
    std::string r;
    r.reserve(128 + url.path.size() + query.size() + body.size());
    r.append(method).append(" ").append(url.path);
    if (!query.empty()) {
        r += url.path.find('?') == std::string::npos ? '?' : '&';
        r.append(query);
    }
    r.append(" HTTP/1.1\r\nHost: ").append(url.host);
    r.append("\r\nUser-Agent: strom\r\nConnection: close\r\n");
    if (!body.empty() || method == "POST") {
        if (!content_type.empty()) r.append("Content-Type: ").append(content_type).append("\r\n");
        r.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    }
    r.append("\r\n").append(body);
    return r;
}

HttpCall::HttpCall(const HttpCallLimits& limits, DoneFn done, void* arg)
    : parser_(limits.max_body), done_(done), arg_(arg)
{
    connect_timer_.fn = on_connect_timeout;
    connect_timer_.arg = this;
    timer_.fn = on_timeout;
    timer_.arg = this;
}

HttpCall* HttpCall::start(ConnectionTable& table, const HttpUrl& url, std::string_view request,
                          const HttpCallLimits& limits, DoneFn done, void* arg, const char** err)
{
    // Owned by the connection once connect() succeeds; deleted here otherwise.
    auto* h = new HttpCall(limits, done, arg);
    Connection* c = table.connect(url.addr.sa(), url.addr.len, h, err);
    if (!c) {
        delete h;
        return nullptr;
    }
    h->conn_ = c;
    // The request is queued now and written when the connect completes.
    Chain chain(table.loop().small_pool());
    if (chain.append(request.data(), request.size()) != Rc::ok || !c->send(chain.take())) {
        *err = "no buffer for the request";
        h->done_ = nullptr;
        c->close("no buffer");  // the connection deletes h
        return nullptr;
    }
    EventLoop& loop = table.loop();
    loop.add_timer(h->connect_timer_, limits.connect_timeout_ms);
    loop.add_timer(h->timer_, limits.timeout_ms);
    return h;
}

void HttpCall::cancel()
{
    done_ = nullptr;
    if (conn_ && !conn_->closing()) conn_->close("http call cancelled");
}

void HttpCall::finish(Rc rc, const char* error)
{
    DoneFn fn = done_;
    done_ = nullptr;
    if (fn) {
        HttpResult r;
        r.rc = rc;
        r.error = error;
        if (rc == Rc::ok) {
            r.status = parser_.status();
            r.location = parser_.location();
        }
        fn(arg_, r);
    }
    if (conn_ && !conn_->closing()) conn_->close(rc == Rc::ok ? "http call done" : error);
}

void HttpCall::on_connected(Connection& c, bool ok)
{
    c.loop().cancel_timer(connect_timer_);
    if (!ok) {
        finish(Rc::error, "connect failed");
        return;
    }
    c.flush_soon();
}

void HttpCall::on_read(Connection& c)
{
    std::span<const uint8_t> in = c.input();
    size_t used = 0;
    Rc rc = parser_.feed(in.data(), in.size(), &used);
    c.consume(in.size());  // nothing after the response matters: the call ends here
    if (rc == Rc::ok) {
        finish(Rc::ok, "");
    } else if (rc == Rc::error) {
        finish(Rc::error, parser_.reason());
    }
}

void HttpCall::on_close(Connection& c, const char* reason)
{
    c.loop().cancel_timer(connect_timer_);
    c.loop().cancel_timer(timer_);
    if (done_) {
        // The server closed first: that ends a body without a length, or cuts it short.
        bool whole = strcmp(reason, "closed by peer") == 0 && parser_.finish() == Rc::ok;
        finish(whole ? Rc::ok : Rc::error, whole ? "" : reason);
    }
    conn_ = nullptr;
}

void HttpCall::on_connect_timeout(Timer& t)
{
    static_cast<HttpCall*>(t.arg)->finish(Rc::error, "connect timed out");
}

void HttpCall::on_timeout(Timer& t)
{
    static_cast<HttpCall*>(t.arg)->finish(Rc::error, "timed out");
}

}  // namespace strom
