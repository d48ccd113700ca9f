#include "modules/play_module.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/conf_block.h"
#include "core/conf_context.h"
#include "core/conf_node.h"
#include "core/conf_setters.h"
#include "core/cycle.h"
#include "core/log.h"
#include "modules/mp4_reader.h"
#include "modules/play_vod.h"
#include "modules/safe_path.h"
#include "rtmp/rtmp_core_module.h"

namespace strom::mod {

using rtmp::Next;
using rtmp::NetStream;
using rtmp::PlayCmd;
using rtmp::Session;
using rtmp::Status;

PlayModule play_module;

namespace {

// play DIR [DIR ...]
const char* set_play(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    auto* c = static_cast<PlayConf*>(conf);
    if (!c) return "is not allowed here";
    if (c->dirs_set) return "is duplicate";
    for (size_t i = 0; i < d.args.size(); ++i) {
        if (d.args[i].empty()) return cx.invalid(d, i);
        c->dirs.push_back(cx.full_path(d.args[i]));
    }
    c->dirs_set = true;
    return nullptr;
}

using P = PlayConf;
constexpr Directive kDirectives[] = {
    {"play", kCtxRtmpAny, ArgShape::at_least(1), set_play},
    {"play_buffer", kCtxRtmpAny, ArgShape::n(1), set_msec<&P::play_buffer, 0, 60000>},
};

bool ends_with(std::string_view s, std::string_view x)
{
    return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}

}  // namespace

int vod_open(const std::vector<std::string>& dirs, std::string_view name, std::string* path, VodFormat* format)
{
    // "flv:NAME", "mp4:NAME", "NAME.flv", "NAME.mp4" choose the format; a bare NAME is
    // NAME.flv, else NAME.mp4, in each directory in turn.
    struct Try {
        std::string_view suffix;
        VodFormat format;
    };
    Try both[2] = {{".flv", VodFormat::flv}, {".mp4", VodFormat::mp4}};
    std::span<const Try> tries(both);
    if (name.substr(0, 4) == "flv:" || name.substr(0, 4) == "mp4:") {
        tries = std::span<const Try>(&both[name[0] == 'm'], 1);
        name.remove_prefix(4);
    }
    for (const Try& t : both) {
        if (ends_with(name, t.suffix)) {
            tries = std::span<const Try>(&t, 1);
            name.remove_suffix(t.suffix.size());
        }
    }
    for (const std::string& dir : dirs) {
        for (const Try& t : tries) {
            std::string p;
            if (!safe_join(dir, name, t.suffix, &p)) return -1;
            int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
            if (fd < 0) continue;
            struct stat st;
            if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
                ::close(fd);
                continue;
            }
            *path = p;
            if (format) *format = t.format;
            return fd;
        }
    }
    return -1;
}

namespace {

Rc cannot_play(Session& s, PlayCmd& cmd, const std::string& path, const char* why)
{
    STROM_LOG(warn, s.id(), "vod \"%s\" for %s: \"%s\" cannot be played: %s", cmd.name.c_str(), s.peer(),
              path.c_str(), why ? why : "");
    return s.reject(cmd, Status::play_failed, "Cannot play " + cmd.name + ".");
}

}  // namespace

// A play suspended until the helper thread has read its MP4 index, or the head of its
// FLV file (Session::ctx[play]).
struct PlayModule::PlayWait final : Mp4IndexWaiter, VodFileWaiter {
    Session* s = nullptr;
    PlayCmd* cmd = nullptr;
    Next<PlayCmd> next;
    std::string path;
    std::unique_ptr<VodSource> src;   // waiting for its head

    void index_ready(std::shared_ptr<const Mp4Index> idx, const char* why) override
    {
        if (idx) return run_again(std::move(idx), nullptr);
        std::unique_ptr<PlayWait> self(this);
        Session& ss = *s;
        ss.ctx().raw(play_module) = nullptr;
        ss.resume(cannot_play(ss, *cmd, path, why));
    }

    void file_ready() override { run_again(nullptr, std::move(src)); }

    // The play runs again with what it waited for: it goes through without waiting.
    void run_again(std::shared_ptr<const Mp4Index> idx, std::unique_ptr<VodSource> opened)
    {
        std::unique_ptr<PlayWait> self(this);
        Session& ss = *s;
        ss.ctx().raw(play_module) = nullptr;
        play_module.ready_ = std::move(idx);
        play_module.ready_src_ = std::move(opened);
        Rc rc = play_module.on_play(ss, *cmd, next);
        play_module.ready_.reset();
        play_module.ready_src_.reset();
        ss.resume(rc);
    }
};

std::span<const Directive> PlayModule::directives() const { return kDirectives; }

std::unique_ptr<ConfBase> PlayModule::create_conf(ConfLevel level)
{
    if (level == ConfLevel::main) return nullptr;
    return std::make_unique<PlayConf>();
}

const char* PlayModule::merge(ConfBase* child, const ConfBase* parent, ConfLevel)
{
    auto& c = *static_cast<PlayConf*>(child);
    auto& p = *static_cast<const PlayConf*>(parent);
    if (!c.dirs_set && p.dirs_set) {
        c.dirs = p.dirs;
        c.dirs_set = true;
    }
    merge_value(c.play_buffer, p.play_buffer, uint64_t(1000));
    return nullptr;
}

Rc PlayModule::postconfiguration(Cycle& cycle)
{
    rtmp::Hooks& h = rtmp::hooks(cycle);
    h.play.add<&PlayModule::on_play>(this);
    h.stream_length.push_back(rtmp::LengthHandler::bind<&PlayModule::stream_length>(this));
    h.vod_exists.push_back(rtmp::FileProbe::bind<&PlayModule::has_file>(this));
    h.close_stream.push_back(rtmp::Notify<Session&, NetStream&>::bind<&PlayModule::on_close_stream>(this));
    h.disconnect.push_back(rtmp::Notify<Session&>::bind<&PlayModule::on_disconnect>(this));
    return Rc::ok;
}

Rc PlayModule::on_play(Session& s, PlayCmd& cmd, Next<PlayCmd> next)
{
    if (!s.app()) return next(s, cmd);
    const PlayConf& pc = s.app()->conf<PlayConf>(*this);
    if (pc.dirs.empty()) return next(s, cmd);
    std::string path;
    VodFormat format = VodFormat::flv;
    // What this play waited for, if it did: used as it is, even if the file has changed
    // since (a recording being written changes with every fragment).
    std::shared_ptr<const Mp4Index> idx = std::move(ready_);
    std::unique_ptr<VodSource> src = std::move(ready_src_);
    int fd = vod_open(pc.dirs, cmd.name, &path, &format);
    if (fd < 0) return next(s, cmd);   // the chain's end answers StreamNotFound
    UniqueFd file(fd);
    struct stat st;
    NetStream* ns = s.stream(cmd.msid);
    if (!ns || fstat(fd, &st) != 0) return s.reject(cmd, Status::play_failed);
    const char* why = "";
    auto suspend = [&](std::unique_ptr<PlayWait> w) {
        w->s = &s;
        w->cmd = &cmd;
        w->next = next;
        w->path = path;
        s.ctx().set(*this, w.release());
        return Rc::again;
    };
    if (!src && format == VodFormat::mp4 && !idx) {
        // The first player of a file waits (its chain suspended) while the helper thread
        // reads the index; this play runs again when it is ready.
        auto w = std::make_unique<PlayWait>();
        Rc rc = mp4_index_async(s.loop(), fd, st, w.get(), &idx, &why);
        if (rc == Rc::again) return suspend(std::move(w));
        if (rc != Rc::ok) return cannot_play(s, cmd, path, why);
    }
    if (!src) src = make_vod_source(format, std::move(file), st, std::move(idx));
    // An FLV head that is not in memory is read by the helper thread meanwhile; the
    // waiter is read when that read is done, so it can be named after open().
    src->attach(&s.loop(), nullptr);
    Rc rc = src->open(&why);
    if (rc == Rc::again) {
        auto w = std::make_unique<PlayWait>();
        src->attach(&s.loop(), w.get());
        w->src = std::move(src);
        return suspend(std::move(w));
    }
    if (rc != Rc::ok) return cannot_play(s, cmd, path, why);
    auto* p = new VodPlayer(s, *ns, std::move(src), *pc.play_buffer);
    ns->role = NetStream::Role::playing;
    ns->type = "vod";
    ns->started_ms = s.loop().now();
    ns->bytes = 0;
    ns->dropped = 0;
    ns->control = p;
    ns->ctx.set(*this, p);
    STROM_LOG(info, s.id(), "vod \"%s/%s\" from \"%s\" to %s, start %.0fms", s.app_name().c_str(), cmd.name.c_str(),
              path.c_str(), s.peer(), cmd.start > 0 ? cmd.start : 0.0);
    s.send_play_start(*ns, cmd.reset);
    p->start(cmd.start, cmd.duration);
    return Rc::done;
}

bool PlayModule::has_file(Session& s, const std::string& name)
{
    if (!s.app()) return false;
    const PlayConf& pc = s.app()->conf<PlayConf>(*this);
    if (pc.dirs.empty()) return false;
    std::string path;
    VodFormat format = VodFormat::flv;
    int fd = vod_open(pc.dirs, name, &path, &format);
    if (fd < 0) return false;
    close(fd);
    return true;
}

double PlayModule::stream_length(Session& s, const std::string& name)
{
    if (!s.app()) return -1;
    const PlayConf& pc = s.app()->conf<PlayConf>(*this);
    if (pc.dirs.empty()) return -1;
    std::string path;
    VodFormat format = VodFormat::flv;
    int fd = vod_open(pc.dirs, name, &path, &format);
    if (fd < 0) return -1;
    UniqueFd file(fd);
    struct stat st;
    if (fstat(fd, &st) != 0) return -1;
    const char* why = "";
    if (format == VodFormat::mp4) {
        // A file being played has its index here; otherwise mvhd alone is read.
        if (auto idx = mp4_cached_index(st)) return idx->duration_s;
        double seconds = 0;
        int fdv = fd;
        Mp4ReadAt rd{&mp4_pread_fd, &fdv};
        return mp4_read_duration(rd, uint64_t(st.st_size), Mp4Limits(), &seconds) == Rc::ok ? seconds : -1;
    }
    // One bounded read of the file's head (a rare command: no need for the paced reader).
    std::string head(size_t(st.st_size) < kLengthProbe ? size_t(st.st_size) : kLengthProbe, '\0');
    ssize_t n = pread(fd, head.data(), head.size(), 0);
    if (n <= 0) return -1;
    FlvFileInfo info;
    auto span = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(head.data()), size_t(n));
    if (flv_probe_head(span, uint64_t(st.st_size), &info, &why) != Rc::ok) return -1;
    return info.duration_s;
}

void PlayModule::on_disconnect(Session& s)
{
    void*& slot = s.ctx().raw(*this);
    if (!slot) return;
    auto* w = static_cast<PlayWait*>(slot);
    mp4_index_cancel(w);
    delete w;
    slot = nullptr;
}

void PlayModule::on_close_stream(Session&, NetStream& ns)
{
    void*& slot = ns.ctx.raw(*this);
    if (!slot || ns.role != NetStream::Role::playing) return;
    delete static_cast<VodPlayer*>(slot);
    slot = nullptr;
}

}  // namespace strom::mod
