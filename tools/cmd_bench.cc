// strom-client bench: argument checks, then the Bench and its table or JSON line.
#include <cstdio>

#include "tools/bench.h"
#include "tools/client_args.h"
#include "tools/commands.h"

namespace strom::tools {

int cmd_bench(const Args& args)
{
    if (wants_help(args, "bench")) return kExitOk;
    BenchArgs a;
    std::string err;
    if (!parse_bench_args(args, &a, &err)) {
        print_error(err);
        fputs(client_usage("bench"), stderr);
        return kExitUsage;
    }
    BenchResult r;
    Bench b(a);
    bool ok = b.run(&r);
    if (!ok) {
        print_error(r.error);
        if (a.json) Bench::print_json(a, r);
        return r.error.find("cannot open") != std::string::npos ||
                       r.error.find("FLV") != std::string::npos
                   ? kExitFile
                   : kExitFailed;
    }
    if (a.json) {
        Bench::print_json(a, r);
    } else {
        Bench::print_text(a, r);
    }
    return kExitOk;
}

}  // namespace strom::tools
