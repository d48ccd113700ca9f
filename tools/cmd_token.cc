// strom-client token: prints a signed URL for a server with `secure_token` (see
// modules/secure_token_sign.h). Needs no network: the server checks the token alone.
//   strom-client token --secret S --app A --stream N --ttl 1h [--addr IP]
//                      [--server rtmp://host[:port]]
// The secret may come from the STROM_TOKEN_SECRET environment variable instead, which
// keeps it out of `ps`.
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "core/cidr.h"
#include "core/conf_value.h"
#include "modules/secure_token_sign.h"
#include "tools/client_args.h"
#include "tools/commands.h"

namespace strom::tools {

namespace {

constexpr const char* kTokenUsage =
    "usage: strom-client token --secret S --app A --stream N --ttl 1h [--addr IP]\n"
    "           [--server rtmp://host[:port]]\n"
    "  prints rtmp://host/app/stream?expires=UNIX_TIME&token=TOKEN for `secure_token S`;\n"
    "  --addr binds the token to a client IP (secure_token_bind_addr on);\n"
    "  the secret may be given in STROM_TOKEN_SECRET instead of --secret.\n";

struct TokenArgs {
    std::string secret;
    std::string app;
    std::string stream;
    std::string addr;
    std::string server = "rtmp://127.0.0.1:1935";
    uint64_t ttl_ms = 3600 * 1000;
};

// "--name value" or "--name=value"; advances *i past what it used.
bool option(const Args& args, size_t* i, std::string_view name, std::string* out)
{
    std::string_view a = args[*i];
    if (a.substr(0, name.size()) != name) return false;
    if (a.size() == name.size()) {
        if (*i + 1 >= args.size()) return false;
        *out = std::string(args[++*i]);
        return true;
    }
    if (a[name.size()] != '=') return false;
    *out = std::string(a.substr(name.size() + 1));
    return true;
}

bool parse_token_args(const Args& args, TokenArgs* t, std::string* err)
{
    if (const char* env = getenv("STROM_TOKEN_SECRET")) t->secret = env;
    for (size_t i = 0; i < args.size(); ++i) {
        std::string ttl;
        if (option(args, &i, "--secret", &t->secret) || option(args, &i, "--app", &t->app) ||
            option(args, &i, "--stream", &t->stream) || option(args, &i, "--addr", &t->addr) ||
            option(args, &i, "--server", &t->server)) {
            continue;
        }
        if (option(args, &i, "--ttl", &ttl)) {
            int64_t ms = 0;
            if (!parse_msec(ttl, &ms) || ms <= 0) {
                *err = "invalid --ttl \"" + ttl + "\" (e.g. 30s, 10m, 1h, 7d)";
                return false;
            }
            t->ttl_ms = uint64_t(ms);
            continue;
        }
        *err = "unknown or incomplete option \"" + std::string(args[i]) + "\"";
        return false;
    }
    if (t->secret.empty())
        *err = "--secret (or STROM_TOKEN_SECRET) is required";
    else if (t->app.empty())
        *err = "--app is required";
    else if (t->stream.empty())
        *err = "--stream is required";
    if (!err->empty()) return false;
    if (!t->addr.empty()) {
        IpAddr ip;
        if (!parse_ip(t->addr, &ip)) {
            *err = "invalid --addr \"" + t->addr + "\"";
            return false;
        }
        t->addr = ip_text(ip);  // the server signs the canonical text
    }
    while (!t->server.empty() && t->server.back() == '/') t->server.pop_back();
    return true;
}

}  // namespace

int cmd_token(const Args& args)
{
    for (std::string_view a : args) {
        if (a == "-h" || a == "--help") {
            fputs(kTokenUsage, stdout);
            return kExitOk;
        }
    }
    TokenArgs t;
    std::string err;
    if (!parse_token_args(args, &t, &err)) {
        print_error(err);
        fputs(kTokenUsage, stderr);
        return kExitUsage;
    }
    uint64_t expires = uint64_t(time(nullptr)) + (t.ttl_ms + 999) / 1000;
    std::string tok = mod::secure_token_make(t.secret, t.app, t.stream, expires, t.addr);
    printf("%s/%s/%s?expires=%llu&token=%s\n", t.server.c_str(), t.app.c_str(), t.stream.c_str(),
           (unsigned long long)expires, tok.c_str());
    return kExitOk;
}

}  // namespace strom::tools
