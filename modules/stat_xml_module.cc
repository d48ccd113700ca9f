#include "modules/stat_xml_module.h"

#include <unistd.h>

#include <map>
#include <vector>

#include "core/conf_setters.h"
#include "core/log.h"
#include "core/utf8.h"
#include "core/version.h"
#include "http/http_core_module.h"

namespace strom::mod {

StatXmlModule stat_xml_module;

namespace {

struct Stream {
    std::string_view app, name;
    std::vector<const StreamFigures*> parts;
    const StreamFigures* owner = nullptr;  // the part with a local publisher or relay pull
    std::vector<const ClientFigures*> clients;
};

using Apps = std::map<std::string_view, std::map<std::string_view, Stream>>;

Apps group(const StatsBoard::Snapshot& snap)
{
    Apps apps;
    auto split = [](std::string_view key, std::string_view* app, std::string_view* name) {
        size_t slash = key.find('/');
        *app = key.substr(0, slash);
        *name = slash == std::string_view::npos ? std::string_view() : key.substr(slash + 1);
    };
    for (StreamView& v : group_streams(snap)) {
        std::string_view app, name;
        split(v.key, &app, &name);
        Stream& st = apps[app][name];
        st.app = app;
        st.name = name;
        st.parts = std::move(v.parts);
        st.owner = v.owner;
    }
    for (const ClientFigures& c : snap.clients) {
        std::string_view app, name;
        split(c.key_view(), &app, &name);
        auto a = apps.find(app);
        if (a == apps.end()) continue;
        auto st = a->second.find(name);
        if (st != a->second.end()) st->second.clients.push_back(&c);
    }
    return apps;
}

class Xml {
public:
    explicit Xml(std::string* out) : out_(out) {}
    void raw(std::string_view s) { out_->append(s); }
    void text(const char* tag, std::string_view v)
    {
        open(tag);
        xml_escape(out_, v);
        close(tag);
    }
    void num(const char* tag, uint64_t v)
    {
        open(tag);
        out_->append(std::to_string(v));
        close(tag);
    }
    void open(const char* tag) { *out_ += '<', *out_ += tag, *out_ += '>'; }
    void close(const char* tag) { *out_ += "</", *out_ += tag, *out_ += '>'; }
    void empty(const char* tag) { *out_ += '<', *out_ += tag, *out_ += "/>"; }

private:
    std::string* out_;
};

// The board's codec names (rtmp/codec.cc) as nginx-rtmp's ngx_rtmp_get_*_codec_name spell
// them; names nginx-rtmp does not know (HEVC, Opus, ...) are kept.
std::string_view nginx_codec_name(std::string_view n)
{
    static constexpr std::string_view kMap[][2] = {{"H.263", "Sorenson-H263"},
                                                   {"Screen", "ScreenVideo"},
                                                   {"VP6", "On2-VP6"},
                                                   {"VP6A", "On2-VP6-Alpha"},
                                                   {"Screen2", "ScreenVideo2"},
                                                   {"H.264", "H264"},
                                                   {"PCM", "Uncompressed"},
                                                   {"PCM-LE", "LinearLE"},
                                                   {"Nellymoser-16k", "Nellymoser16"},
                                                   {"Nellymoser-8k", "Nellymoser8"},
                                                   {"G.711A", "G711A"},
                                                   {"G.711U", "G711U"},
                                                   {"MP3-8k", "MP3-8K"},
                                                   {"Device", "DeviceSpecific"}};
    for (const auto& m : kMap) {
        if (m[0] == n) return m[1];
    }
    return n;
}

uint64_t ms_since(int64_t now, int64_t then)
{
    return then > 0 && now > then ? uint64_t(now - then) : 0;
}

void write_client(Xml& x, const ClientFigures& c, int64_t now)
{
    x.open("client");
    x.num("id", c.id);
    x.text("address", c.addr);
    x.num("time", ms_since(now, c.started_ms));
    x.text("flashver", c.flashver);
    x.num("dropped", c.dropped);
    if (c.role == ClientRole::publisher) x.empty("publishing");
    x.empty("active");  // the board holds players once they play, publishers once they publish
    x.close("client");
    x.raw("\r\n");
}

void write_meta(Xml& x, const StreamFigures& f)
{
    x.open("meta");
    if (f.video_codec[0]) {
        x.open("video");
        x.num("width", f.width);
        x.num("height", f.height);
        x.num("frame_rate", (f.fps_milli + 500) / 1000);
        x.text("codec", nginx_codec_name(f.video_codec));
        if (f.video_profile[0]) x.text("profile", f.video_profile);
        if (f.video_level[0]) x.text("level", f.video_level);
        x.close("video");
    }
    if (f.audio_codec[0]) {
        x.open("audio");
        x.text("codec", nginx_codec_name(f.audio_codec));
        if (f.audio_profile[0]) x.text("profile", f.audio_profile);
        x.num("channels", f.channels);
        x.num("sample_rate", f.sample_rate);
        x.close("audio");
    }
    x.close("meta");
    x.raw("\r\n");
}

size_t write_stream(Xml& x, const Stream& st, const StatXmlInfo& info, int64_t now)
{
    const StreamFigures* o = st.owner;
    const StreamFigures* codec = o;
    uint64_t out = 0;
    for (const StreamFigures* f : st.parts) {
        if (!(codec && codec->video_codec[0]) && (f->video_codec[0] || f->audio_codec[0]))
            codec = f;
    }
    for (const ClientFigures* c : st.clients) {
        if (c->role == ClientRole::player) out += c->bytes_out;
    }
    x.raw("<stream>\r\n");
    x.text("name", st.name);
    x.num("time", o ? ms_since(now, o->started_ms) : 0);
    x.num("bw_in", o ? o->bitrate : 0);
    x.num("bytes_in", o ? o->bytes_in : 0);
    x.num("bytes_out", out);
    x.raw("\r\n");
    if (info.clients) {
        for (const ClientFigures* c : st.clients) write_client(x, *c, now);
    }
    if (codec && (codec->video_codec[0] || codec->audio_codec[0])) write_meta(x, *codec);
    x.num("nclients", st.clients.size());
    x.raw("\r\n");
    if (o && o->source == SourceKind::local) x.raw("<publishing/>\r\n");
    if (o) x.raw("<active/>\r\n");
    x.raw("</stream>\r\n");
    return st.clients.size();
}

}  // namespace

// True for U+FFFE and U+FFFF (EF BF BE, EF BF BF), which XML 1.0 cannot carry.
static bool xml_nonchar(std::string_view s, size_t i, size_t n)
{
    return n == 3 && s.compare(i, 2, "\xef\xbf") == 0 &&
           (s[i + 2] == '\xbe' || s[i + 2] == '\xbf');
}

void xml_escape(std::string* out, std::string_view s)
{
    for (size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        size_t bad = 0;
        size_t n = c < 0x80 ? 1 : utf8_sequence(s, i, &bad);
        if (n == 0) {
            out->append("\xef\xbf\xbd");  // U+FFFD for a byte that is not UTF-8
            ++i;
            continue;
        }
        switch (n == 1 ? c : 0x80) {
            case '&':
                out->append("&amp;");
                break;
            case '<':
                out->append("&lt;");
                break;
            case '>':
                out->append("&gt;");
                break;
            case '"':
                out->append("&quot;");
                break;
            case '\'':
                out->append("&apos;");
                break;
            default:
                if ((n == 1 && c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
                    xml_nonchar(s, i, n)) {
                    out->push_back('?');
                } else {
                    out->append(s.substr(i, n));
                }
        }
        i += n;
    }
}

std::string stat_xml_answer(const StatsBoard::Snapshot& snap, const StatXmlInfo& info,
                            int64_t now_ms)
{
    std::string out;
    Xml x(&out);
    x.raw("<?xml version=\"1.0\" encoding=\"utf-8\" ?>\r\n");
    if (!info.stylesheet.empty()) {
        x.raw("<?xml-stylesheet type=\"text/xsl\" href=\"");
        xml_escape(&out, info.stylesheet);
        x.raw("\" ?>\r\n");
    }
    x.raw("<rtmp>\r\n");
    x.text("nginx_version", kStromVersion);
    x.text("nginx_rtmp_version", kStromVersion);
    x.text("compiler", __VERSION__);
    x.text("built", __DATE__ " " __TIME__);
    x.num("pid", uint64_t(info.pid));
    x.num("uptime", ms_since(now_ms, snap.started_ms) / 1000);
    uint64_t bw_in = 0, bw_out = 0, in = snap.retired_bytes_in, sent = snap.retired_bytes_out;
    for (const WorkerFigures& w : snap.workers) {
        bw_in += w.rate_in * 8;
        bw_out += w.rate_out * 8;
        in += w.bytes_in;
        sent += w.bytes_out;
    }
    x.num("bw_in", bw_in);
    x.num("bytes_in", in);
    x.num("bw_out", bw_out);
    x.num("bytes_out", sent);
    x.raw("\r\n<server>\r\n");
    for (const auto& [app, streams] : group(snap)) {
        x.raw("<application>\r\n");
        x.text("name", app);
        x.raw("\r\n<live>\r\n");
        size_t total = 0;
        for (const auto& [name, st] : streams) total += write_stream(x, st, info, now_ms);
        x.num("nclients", total);
        x.raw("\r\n</live>\r\n</application>\r\n");
    }
    x.raw("</server>\r\n</rtmp>\r\n");
    return out;
}

// --- the module -------------------------------------------------------------------------------

namespace {

const char* set_rtmp_stat(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    auto* c = static_cast<StatXmlConf*>(conf);
    if (!c) return "is not allowed here";
    if (c->stat) return "is duplicate";
    bool clients = false;
    for (size_t i = 0; i < d.args.size(); ++i) {
        const std::string& a = d.args[i];
        if (a == "all" || a == "clients") {
            clients = true;
        } else if (a != "live") {
            return cx.invalid(d, i, "it must be \"all\", \"live\" or \"clients\"");
        }
    }
    c->stat = true;
    c->clients = clients;
    return nullptr;
}

using C = StatXmlConf;
constexpr Directive kDirectives[] = {
    {"rtmp_stat", kCtxLocation, ArgShape::range(1, 3), set_rtmp_stat},
    {"rtmp_stat_stylesheet", kCtxHttpAny, ArgShape::n(1), set_str<&C::stylesheet>},
};

}  // namespace

std::span<const Directive> StatXmlModule::directives() const
{
    return kDirectives;
}

std::unique_ptr<ConfBase> StatXmlModule::create_conf(ConfLevel level)
{
    if (level == ConfLevel::main) return nullptr;
    return std::make_unique<StatXmlConf>();
}

const char* StatXmlModule::merge(ConfBase* child, const ConfBase* parent, ConfLevel)
{
    auto& c = *static_cast<StatXmlConf*>(child);
    auto& p = *static_cast<const StatXmlConf*>(parent);
    merge_value(c.stat, p.stat, false);
    merge_value(c.clients, p.clients, false);
    merge_value(c.stylesheet, p.stylesheet, std::string());
    return nullptr;
}

Rc StatXmlModule::postconfiguration(Cycle& cycle)
{
    StatsBoard::get();
    http::content_handlers(cycle).push_back(
        http::ContentHandler::bind<&StatXmlModule::handle>(this));
    return Rc::ok;
}

Rc StatXmlModule::handle(http::HttpSession& s, const AppBlock& location)
{
    const StatXmlConf& c = location.conf<StatXmlConf>(*this);
    if (!*c.stat) return Rc::declined;
    const http::Request& r = s.request();
    if (r.method != "GET" && r.method != "HEAD") {
        STROM_LOG(info, s.id(), "rtmp_stat: %.*s %.*s from %s: method not allowed",
                  int(r.method.size()), r.method.data(), int(r.path.size()), r.path.data(),
                  s.peer());
        s.respond_error(405);
        return Rc::done;
    }
    StatsBoard::Snapshot snap;
    StatsBoard::get()->snapshot(&snap, *c.clients);
    StatXmlInfo info;
    info.pid = getpid();
    info.stylesheet = *c.stylesheet;
    info.clients = *c.clients;
    s.respond(200, "text/xml", stat_xml_answer(snap, info, unix_ms()),
              "Cache-Control: no-store\r\n");
    return Rc::done;
}

}  // namespace strom::mod
