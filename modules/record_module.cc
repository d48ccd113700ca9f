#include "modules/record_module.h"

#include <cerrno>
#include <cstring>

#include "core/conf_block.h"
#include "core/conf_context.h"
#include "core/conf_node.h"
#include "core/conf_setters.h"
#include "core/cycle.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "modules/live_stream.h"
#include "modules/record_recorder.h"
#include "rtmp/rtmp_core_module.h"

namespace strom::mod {

using rtmp::NetStream;

RecordModule record_module;

namespace {

using R = RecordConf;
// Per recording file: a few seconds of a high-bitrate stream, so a disk that hiccups
// does not stop the recording, while one that cannot keep up holds little of the pool.
constexpr uint64_t kDefaultMaxQueue = 8 * 1024 * 1024;
constexpr uint32_t kAny = kCtxRtmpAny;

inline constexpr ConfEnum<RecordFormat> kFormats[] = {{"flv", RecordFormat::flv}, {"mp4", RecordFormat::mp4}};

// record off | all | audio | video | keyframes | manual  (nginx-rtmp: flags combine)
const char* set_record(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    auto* c = static_cast<RecordConf*>(conf);
    if (!c) return "is not allowed here";
    if (c->mode) return "is duplicate";
    uint32_t m = 0;
    for (size_t i = 0; i < d.args.size(); ++i) {
        const std::string& a = d.args[i];
        if (a == "off" && d.args.size() == 1) {
            m = 0;
        } else if (a == "all") {
            m |= record_mode::audio | record_mode::video;
        } else if (a == "audio") {
            m |= record_mode::audio;
        } else if (a == "video") {
            m |= record_mode::video;
        } else if (a == "keyframes") {
            m |= record_mode::keyframes;
        } else if (a == "manual") {
            m |= record_mode::manual;
        } else {
            return cx.invalid(d, i, "it must be \"off\" alone, or \"all\", \"audio\", \"video\", "
                                    "\"keyframes\", \"manual\"");
        }
    }
    if (m == record_mode::manual) m |= record_mode::audio | record_mode::video;
    c->mode = m;
    return nullptr;
}

// exec_record_done PROGRAM [ARG ...]: repeatable; $path $filename $basename $dirname
// $app $name $recorder are replaced in the arguments.
const char* set_exec_done(ConfContext&, ConfBase* conf, const ConfNode& d)
{
    auto* c = static_cast<RecordConf*>(conf);
    if (!c) return "is not allowed here";
    c->exec_done.push_back(d.args);
    c->exec_done_set = true;
    return nullptr;
}

const char* set_recorder(ConfContext& cx, ConfBase* conf, const ConfNode& d);

constexpr Directive kDirectives[] = {
    {"record", kAny, ArgShape::range(1, 6), set_record},
    {"record_path", kAny, ArgShape::n(1), set_path<&R::path>},
    {"record_suffix", kAny, ArgShape::n(1), set_str<&R::suffix>},
    {"record_unique", kAny, ArgShape::flag(), set_flag<&R::unique>},
    {"record_append", kAny, ArgShape::flag(), set_flag<&R::append>},
    {"record_notify", kAny, ArgShape::flag(), set_flag<&R::notify>},
    {"record_max_size", kAny, ArgShape::n(1), set_size<&R::max_size>},
    {"record_max_queue", kAny, ArgShape::n(1), set_size<&R::max_queue>},
    {"record_max_frames", kAny, ArgShape::n(1), set_num<&R::max_frames>},
    {"record_interval", kAny, ArgShape::n(1), set_msec<&R::interval>},
    {"record_format", kAny, ArgShape::n(1), set_enum<&R::format, kFormats>},
    {"exec_record_done", kAny, ArgShape::at_least(1), set_exec_done},
    {"recorder", kCtxApp, ArgShape::block_of(1, 1), set_recorder},
};

// recorder NAME { record ...; record_path ...; ... }: the block's directives are ours,
// set on a RecordConf of its own that inherits the application's in merge().
const char* set_recorder(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    auto* c = static_cast<RecordConf*>(conf);
    if (!c) return "is not allowed here";
    for (const auto& r : c->recorders) {
        if (r->name == d.args[0]) return cx.fail("duplicate recorder \"%s\"", d.args[0].c_str());
    }
    auto r = std::make_unique<RecordConf>();
    r->name = d.args[0];
    r->file = d.file;
    r->line = d.line;
    for (const ConfNode& ch : d.children) {
        const Directive* dir = nullptr;
        for (const Directive& k : kDirectives) {
            if (ch.name == k.name && !k.args.block) dir = &k;
        }
        std::string where = conf_where(ch);
        if (!dir) {
            return cx.fail("\"%s\" directive is not allowed in a recorder block%s", ch.name.c_str(), where.c_str());
        }
        if (ch.is_block || !dir->args.accepts(unsigned(ch.args.size()))) {
            return cx.fail("invalid number of arguments in \"%s\" directive%s", ch.name.c_str(), where.c_str());
        }
        const char* rv = dir->set(cx, r.get(), ch);
        if (rv == kConfError) {
            std::string msg = cx.error;
            return cx.fail("%s%s", msg.c_str(), where.c_str());
        }
        if (rv) return cx.fail("\"%s\" directive %s%s", ch.name.c_str(), rv, where.c_str());
    }
    c->recorders.push_back(std::move(r));
    return nullptr;
}

const char* merge_conf(RecordConf& c, const RecordConf& p)
{
    merge_value(c.mode, p.mode, 0u);
    merge_value(c.path, p.path, std::string());
    merge_value(c.format, p.format, RecordFormat::flv);
    // The suffix default depends on the format: filled at the application level only.
    if (!c.suffix && p.suffix) c.suffix = p.suffix;
    merge_value(c.unique, p.unique, false);
    merge_value(c.append, p.append, false);
    merge_value(c.notify, p.notify, false);
    merge_value(c.max_size, p.max_size, uint64_t(0));
    merge_value(c.max_queue, p.max_queue, kDefaultMaxQueue);
    merge_value(c.max_frames, p.max_frames, uint64_t(0));
    merge_value(c.interval, p.interval, uint64_t(0));
    if (!c.exec_done_set && p.exec_done_set) {
        c.exec_done = p.exec_done;
        c.exec_done_set = true;
    }
    return nullptr;
}

// $path and friends in an exec_record_done argument.
std::string expand_exec_arg(const std::string& arg, const RecordDone& ev)
{
    std::string_view path = ev.path;
    size_t slash = path.rfind('/');
    std::string_view filename = slash == std::string_view::npos ? path : path.substr(slash + 1);
    std::string_view dirname = slash == std::string_view::npos ? std::string_view(".") : path.substr(0, slash);
    size_t dot = filename.rfind('.');
    std::string_view basename = dot == std::string_view::npos ? filename : filename.substr(0, dot);
    static constexpr struct {
        const char* var;
        int which;
    } kVars[] = {{"$path", 0}, {"$filename", 1}, {"$basename", 2}, {"$dirname", 3},
                 {"$app", 4},  {"$name", 5},     {"$recorder", 6}};
    std::string out;
    for (size_t i = 0; i < arg.size();) {
        bool hit = false;
        for (const auto& v : kVars) {
            size_t n = strlen(v.var);
            if (arg.compare(i, n, v.var) != 0) continue;
            std::string_view vals[] = {path, filename, basename, dirname, ev.app, ev.name, ev.recorder};
            out.append(vals[v.which]);
            i += n;
            hit = true;
            break;
        }
        if (!hit) out.push_back(arg[i++]);
    }
    return out;
}

}  // namespace

std::span<const Directive> RecordModule::directives() const { return kDirectives; }

std::unique_ptr<ConfBase> RecordModule::create_conf(ConfLevel level)
{
    if (level == ConfLevel::main) return nullptr;
    return std::make_unique<RecordConf>();
}

const char* RecordModule::merge(ConfBase* child, const ConfBase* parent, ConfLevel level)
{
    if (level == ConfLevel::main) return nullptr;
    auto& c = *static_cast<RecordConf*>(child);
    merge_conf(c, *static_cast<const RecordConf*>(parent));
    if (level != ConfLevel::app) return nullptr;
    if (*c.mode && c.path->empty()) return "\"record\" is on but \"record_path\" is not set";
    for (auto& r : c.recorders) {
        merge_conf(*r, c);
        if (*r->mode && r->path->empty()) return "a recorder records but \"record_path\" is not set";
        if (!r->suffix) r->suffix = *r->format == RecordFormat::mp4 ? ".mp4" : ".flv";
    }
    if (!c.suffix) c.suffix = *c.format == RecordFormat::mp4 ? ".mp4" : ".flv";
    return nullptr;
}

Rc RecordModule::postconfiguration(Cycle& cycle)
{
    StreamEvents& ev = stream_events(cycle);
    ev.published.push_back(media::Listener<LiveStream&>::bind<&RecordModule::on_stream_published>(this));
    ev.frame.push_back(
        media::Listener<LiveStream&, const media::Frame&>::bind<&RecordModule::on_stream_frame>(
            this));
    ev.unpublished.push_back(
        media::Listener<LiveStream&>::bind<&RecordModule::on_stream_unpublished>(this));
    for (const auto& srv : rtmp::rtmp_servers(cycle)) {
        for (const auto& app : srv->apps) {
            auto& ac = app->conf<RecordConf>(*this);
            ac.events = &ev;
            for (auto& r : ac.recorders) r->events = &ev;
        }
    }
    return Rc::ok;
}

// Programs still running are left to run (and to init, which reaps them).
void RecordModule::exit_process(Cycle&) { children_.clear(); }

namespace {

// The recordings an application asks for, or nullptr when it records nothing.
RecordStream* make_recordings(const RecordConf& ac, EventLoop& loop, uint64_t id,
                              const std::string& app, const std::string& name, rtmp::Session* s,
                              NetStream* ns, bool append)
{
    RecordStream* st = nullptr;
    auto add = [&](const RecordConf& c) {
        if (!*c.mode) return;
        if (!st) st = new RecordStream(loop, id, app, name, s, ns, append);
        st->add(c);
    };
    add(ac);
    for (const auto& r : ac.recorders) add(*r);
    return st;
}

}  // namespace

// Whatever feeds the stream is recorded (a local publisher, a stream relayed from another
// server), with `live on` or off; a pull from another worker is that worker's stream,
// recorded there, once.
void RecordModule::on_stream_published(LiveStream& st)
{
    const LiveConf& lc = st.conf();
    if (!lc.app || st.ctx.raw(*this) || !st.loop() || !st.source() || st.fed_by_worker()) return;
    const RecordConf& ac = lc.app->conf<RecordConf>(*this);
    // Only an RTMP publisher hears record_notify statuses and asks to append; a pull's
    // client session is ours, not a publisher to notify.
    RtmpPublisher* pub = st.source()->rtmp_publisher();
    rtmp::Session* s = pub ? pub->s : nullptr;
    NetStream* ns = pub ? pub->ns : nullptr;
    uint64_t id = st.source()->log_id();
    bool append = ns && ns->type == "append";
    st.ctx.set(*this, make_recordings(ac, *st.loop(), id, st.app(), st.name(), s, ns, append));
}

void RecordModule::on_stream_frame(LiveStream& st, const media::Frame& f)
{
    if (auto* rs = st.ctx.get<RecordStream>(*this)) rs->on_frame(f);
}

void RecordModule::on_stream_unpublished(LiveStream& st)
{
    delete st.ctx.get<RecordStream>(*this);   // closes every file cleanly
    st.ctx.raw(*this) = nullptr;
}

Rc RecordModule::start(LiveStream& st, std::string_view recorder)
{
    auto* rs = st.ctx.get<RecordStream>(*this);
    Recorder* r = rs ? rs->find(recorder) : nullptr;
    if (!r) return Rc::declined;
    r->start();
    return Rc::ok;
}

Rc RecordModule::stop(LiveStream& st, std::string_view recorder)
{
    auto* rs = st.ctx.get<RecordStream>(*this);
    Recorder* r = rs ? rs->find(recorder) : nullptr;
    if (!r) return Rc::declined;
    r->stop();
    return Rc::ok;
}

void RecordModule::record_done(const RecordConf& rc, const RecordDone& ev, EventLoop& loop)
{
    if (rc.events) {
        for (const auto& l : rc.events->record_done) l(ev);
    }
    for (const auto& argv : rc.exec_done) spawn(argv, ev, loop);
}

// exec_record_done: no shell, stdin on /dev/null, stdout and stderr into the error log,
// its own process group (ChildProcess); reaped through the loop, never waited for.
void RecordModule::spawn(const std::vector<std::string>& argv, const RecordDone& ev, EventLoop& loop)
{
    std::vector<std::string> args;
    for (const auto& a : argv) args.push_back(expand_exec_arg(a, ev));
    auto e = std::make_unique<Exec>(loop);
    int err = 0;
    if (e->proc.spawn(args, Log::fd(), e.get(), &err) != Rc::ok) {
        STROM_LOG(error, ev.session_id, "exec_record_done \"%s\" failed: %s", args[0].c_str(), strerror(err));
        return;
    }
    e->pid = e->proc.pid();
    STROM_LOG(info, ev.session_id, "exec_record_done \"%s\" \"%.*s\": pid %d", args[0].c_str(), int(ev.path.size()),
              ev.path.data(), int(e->pid));
    children_.push_back(std::move(e));
}

void RecordModule::Exec::on_child_exit(ChildProcess&, int status)
{
    STROM_LOG(info, 0, "exec_record_done pid %d exited with %d", int(pid), ChildProcess::exit_code(status));
    auto& v = record_module.children_;
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i].get() != this) continue;
        std::unique_ptr<Exec> self = std::move(v[i]);   // destroyed last: ChildProcess allows it
        v[i] = std::move(v.back());
        v.pop_back();
        return;
    }
}

}  // namespace strom::mod
