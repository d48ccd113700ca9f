#!/usr/bin/env bash
# Strom vs nginx-rtmp, side by side (make bench). Not a test: it prints figures and
# appends them to t/bench/RESULTS.md, and never fails on a figure.
#   t/bench/run.sh                full run (~12 minutes on 2 cores)
#   BENCH_QUICK=1 t/bench/run.sh  a ~2 minute run with smaller workloads
# Environment: O (build dir, default objs), BENCH_NO_RECORD=1 (do not touch RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
O=${O:-objs}
if [ ! -x "$O/strom" ] || [ ! -x "$O/strom-client" ]; then
    make -j2 O="$O" "$O/strom" "$O/strom-client"
fi
if ! command -v nginx >/dev/null || [ ! -f /usr/lib/nginx/modules/ngx_rtmp_module.so ]; then
    echo "== installing nginx and libnginx-mod-rtmp (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nginx libnginx-mod-rtmp >/dev/null
fi
command -v ffmpeg >/dev/null || {
    echo "== installing ffmpeg (test media)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
}
# Thousands of connections on each side.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec python3 t/bench/bench.py --objs "$O" "$@"
