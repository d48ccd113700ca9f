// strom-client: publish, play, probe and bench, built on the server's own rtmp/ client
// session and event loop. See tools/README.md.
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "core/version.h"
#include "tools/client_args.h"
#include "tools/commands.h"

namespace strom::tools {

void print_error(const std::string& what)
{
    fprintf(stderr, "strom-client: %s\n", what.c_str());
}

bool stderr_is_tty()
{
    return isatty(STDERR_FILENO) == 1;
}

bool wants_help(const Args& args, std::string_view cmd)
{
    for (std::string_view a : args) {
        if (a == "-h" || a == "--help") {
            fputs(client_usage(cmd), stdout);
            return true;
        }
    }
    return false;
}

}  // namespace strom::tools

int main(int argc, char** argv)
{
    using namespace strom::tools;
    if (argc < 2) {
        fputs(client_usage(""), stderr);
        return kExitUsage;
    }
    std::string_view cmd = argv[1];
    Args args(argv + 2, argv + argc);
    if (cmd == "-h" || cmd == "--help" || cmd == "help") {
        fputs(client_usage(args.empty() ? "" : args[0]), stdout);
        return kExitOk;
    }
    if (cmd == "-V" || cmd == "--version") {
        printf("strom-client %s\n", strom::kStromVersion);
        return kExitOk;
    }
    if (cmd == "publish") return cmd_publish(args);
    if (cmd == "play") return cmd_play(args);
    if (cmd == "probe") return cmd_probe(args);
    if (cmd == "bench") return cmd_bench(args);
    if (cmd == "token") return cmd_token(args);
    print_error("unknown command \"" + std::string(cmd) + "\"");
    fputs(client_usage(""), stderr);
    return kExitUsage;
}
