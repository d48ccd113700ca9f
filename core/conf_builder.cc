#include "core/conf_builder.h"

#include "core/conf_context.h"
#include "core/cycle.h"

namespace strom {

enum class BlockKind {
    main_part,  // a block of main-level settings (events {})
    proto,      // the protocol block (rtmp {}), at most one
    server,     // a server {} of the protocol block, any number
    app,        // a named sub-block of a server (application NAME {}, location PREFIX {}),
                // unique per server
};

struct BlockSpec {
    const char* name;
    uint32_t parent;  // the context it may appear in
    uint32_t ctx;     // the context inside it
    BlockKind kind;
    uint8_t nargs;
};

namespace {

// The block structure: a protocol is three rows and three context bits ("server" is found
// by name and parent context, as nginx finds its two `server`s). A module keeps confs in
// the blocks of the protocol its conf_block() names.
constexpr BlockSpec kBlocks[] = {
    {"events", kCtxMain, kCtxEvents, BlockKind::main_part, 0},
    {"rtmp", kCtxMain, kCtxRtmp, BlockKind::proto, 0},
    {"server", kCtxRtmp, kCtxServer, BlockKind::server, 0},
    {"application", kCtxServer, kCtxApp, BlockKind::app, 1},
    {"http", kCtxMain, kCtxHttp, BlockKind::proto, 0},
    {"server", kCtxHttp, kCtxHttpServer, BlockKind::server, 0},
    {"location", kCtxHttpServer, kCtxLocation, BlockKind::app, 1},
};

std::string quote(const std::string& s)
{
    return "\"" + s + "\"";
}

}  // namespace

void ConfBuilder::init()
{
    cycle_.main_confs_ = create_confs(ConfLevel::main);
    for (const BlockSpec& b : kBlocks) {
        if (b.kind != BlockKind::proto) continue;
        auto p = std::make_unique<ProtoBlock>();
        p->name = b.name;
        p->modules = &cycle_.modules_;
        p->confs = create_confs(ConfLevel::proto, b.name);
        cycle_.protos_.push_back(std::move(p));
    }
}

bool ConfBuilder::build(const std::vector<ConfNode>& nodes)
{
    Scope s{kCtxMain, ConfLevel::main, nullptr, nullptr, nullptr, &cycle_.main_confs_};
    return walk(nodes, s);
}

bool ConfBuilder::walk(const std::vector<ConfNode>& nodes, const Scope& s)
{
    for (const ConfNode& d : nodes) {
        if (!apply(d, s)) return false;
    }
    return true;
}

// nginx's lookup: the first entry with this name allowed in this context wins; a name
// that exists only elsewhere is "not allowed here", one that exists nowhere is unknown.
bool ConfBuilder::apply(const ConfNode& d, const Scope& s)
{
    bool known = false;
    for (const BlockSpec& b : kBlocks) {
        if (d.name != b.name) continue;
        if (b.parent & s.ctx) return open_block(d, s, b);
        known = true;
    }
    for (const Module* m : cycle_.modules_) {
        for (const Directive& dir : m->directives()) {
            if (d.name != dir.name) continue;
            if (dir.contexts & s.ctx) return set(d, s, *m, dir);
            known = true;
        }
    }
    if (known) return fail(d, quote(d.name) + " directive is not allowed here");
    return fail(d, "unknown directive " + quote(d.name));
}

bool ConfBuilder::set(const ConfNode& d, const Scope& s, const Module& owner, const Directive& dir)
{
    if (dir.args.block && !d.is_block) {
        return fail(d, "directive " + quote(d.name) + " has no opening \"{\"");
    }
    if (!dir.args.block && d.is_block) {
        return fail(d, "directive " + quote(d.name) + " is not terminated by \";\"");
    }
    if (!dir.args.accepts(unsigned(d.args.size()))) {
        return fail(d, "invalid number of arguments in " + quote(d.name) + " directive");
    }
    ConfContext cx{cycle_, &owner, s.ctx, s.level, s.proto, s.server, s.app, {}};
    const char* rv = dir.set(cx, (*s.confs)[size_t(owner.index)].get(), d);
    if (!rv) return true;
    if (rv == kConfError) return fail(d, cx.error);
    return fail(d, quote(d.name) + " directive " + rv);
}

bool ConfBuilder::open_block(const ConfNode& d, const Scope& s, const BlockSpec& b)
{
    if (!d.is_block) return fail(d, "directive " + quote(d.name) + " has no opening \"{\"");
    if (d.args.size() != b.nargs) {
        return fail(d, "invalid number of arguments in " + quote(d.name) + " directive");
    }
    if (b.kind == BlockKind::server) return open_server(d, s, b);
    if (b.kind == BlockKind::app) return open_app(d, s, b);
    for (const BlockSpec* seen : seen_) {
        if (seen == &b) return fail(d, quote(d.name) + " directive is duplicate");
    }
    seen_.push_back(&b);
    if (b.kind == BlockKind::main_part) {
        return walk(d.children, Scope{b.ctx, ConfLevel::main, nullptr, nullptr, nullptr, s.confs});
    }
    ProtoBlock* p = cycle_.proto(b.name);
    p->file = d.file;
    p->line = d.line;
    return walk(d.children, Scope{b.ctx, ConfLevel::proto, p, nullptr, nullptr, &p->confs});
}

bool ConfBuilder::open_server(const ConfNode& d, const Scope& s, const BlockSpec& b)
{
    auto srv = std::make_unique<ServerBlock>();
    srv->file = d.file;
    srv->line = d.line;
    srv->proto = s.proto;
    srv->confs = create_confs(ConfLevel::server, s.proto->name.c_str());
    ServerBlock* sp = srv.get();
    s.proto->servers.push_back(std::move(srv));
    return walk(d.children, Scope{b.ctx, ConfLevel::server, s.proto, sp, nullptr, &sp->confs});
}

bool ConfBuilder::open_app(const ConfNode& d, const Scope& s, const BlockSpec& b)
{
    const std::string& name = d.args[0];
    if (name.empty()) return fail(d, quote(d.name) + " directive invalid value: \"\"");
    if (b.ctx == kCtxLocation && name[0] != '/') {
        return fail(d, quote(d.name) + " directive invalid value: " + quote(name) +
                           ", a location is a path prefix starting with \"/\"");
    }
    if (s.server->find_app(name)) {
        return fail(d, std::string("duplicate ") + b.name + " " + quote(name));
    }
    auto app = std::make_unique<AppBlock>();
    app->name = name;
    app->file = d.file;
    app->line = d.line;
    app->server = s.server;
    app->confs = create_confs(ConfLevel::app, s.proto->name.c_str());
    AppBlock* ap = app.get();
    s.server->apps.push_back(std::move(app));
    return walk(d.children, Scope{b.ctx, ConfLevel::app, s.proto, s.server, ap, &ap->confs});
}

ModuleConfs ConfBuilder::create_confs(ConfLevel level, const char* proto)
{
    ModuleConfs confs;
    confs.reserve(cycle_.modules_.size());
    for (Module* m : cycle_.modules_) {
        bool mine = level == ConfLevel::main || std::string_view(m->conf_block()) == proto;
        confs.push_back(mine ? m->create_conf(level) : nullptr);
    }
    return confs;
}

// Top-down, so a child inherits its parent's merged value (explicit or default).
bool ConfBuilder::merge()
{
    const std::string& conf = cycle_.conf_path_;
    if (!merge_confs(cycle_.main_confs_, nullptr, ConfLevel::main, conf, 0)) return false;
    for (auto& p : cycle_.protos_) {
        bool here = p->present();
        if (!merge_confs(p->confs, nullptr, ConfLevel::proto, here ? p->file : conf, p->line)) {
            return false;
        }
        for (auto& srv : p->servers) {
            if (!merge_confs(srv->confs, &p->confs, ConfLevel::server, srv->file, srv->line)) {
                return false;
            }
            for (auto& app : srv->apps) {
                if (!merge_confs(app->confs, &srv->confs, ConfLevel::app, app->file, app->line)) {
                    return false;
                }
            }
        }
    }
    return true;
}

bool ConfBuilder::merge_confs(ModuleConfs& confs, const ModuleConfs* parent, ConfLevel level,
                              const std::string& file, int line)
{
    for (size_t i = 0; i < confs.size(); ++i) {
        ConfBase* c = confs[i].get();
        if (!c) continue;
        Module* m = cycle_.modules_[i];
        const ConfBase* p = parent ? (*parent)[i].get() : nullptr;
        std::unique_ptr<ConfBase> fresh;  // an all-unset parent at the top of a chain
        if (!p) {
            fresh = m->create_conf(level);
            p = fresh ? fresh.get() : c;
        }
        if (const char* e = m->merge(c, p, level)) {
            *err_ = e + conf_where(file, line);
            return false;
        }
    }
    return true;
}

bool ConfBuilder::fail(const ConfNode& d, const std::string& msg)
{
    *err_ = msg + conf_where(d);
    return false;
}

}  // namespace strom
