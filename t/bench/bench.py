"""Strom vs nginx-rtmp side by side: the same workloads, driven by `strom-client bench`,
against one worker of each server with the same chunk size, on their own ports and
temporary prefixes (nginx runs with its own -p prefix, config and error log, never the
system ones). Runs alternate A/B; the table gives each figure for both servers and the
ratio strom/nginx. Strom also serves HTTP-FLV (flv_live) on a second port: "strom
http-flv" is Strom with the bench's players on HTTP-FLV, the publisher still on RTMP. Results are appended to t/bench/RESULTS.md with the date and machine.
Called by t/bench/run.sh (which installs nginx and libnginx-mod-rtmp when missing)."""

import argparse
import datetime
import hashlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NGINX_RTMP_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
CHUNK = 4096
VOD_DIR = None   # bench-0.flv and bench-0.mp4 made from the test media (make_vod)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listen(port, proc, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited early (code %s)" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server not listening on %d" % port)


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


class Server:
    """One server instance in its own temporary prefix; started fresh for every run."""

    name = "?"

    def __init__(self, objs):
        self.objs = objs
        self.prefix = None   # made by start(), removed by stop()
        self.port = None
        self.http_port = None   # an HTTP-FLV listener (Strom only)
        self.http_players = False   # the bench's players play over HTTP-FLV
        self.proc = None

    def url(self, app="live"):
        return "rtmp://127.0.0.1:%d/%s" % (self.port, app)

    def start(self):
        self.prefix = tempfile.mkdtemp(prefix="strom-bench-")
        os.makedirs(os.path.join(self.prefix, "logs"))
        self.port = free_port()
        self.write_conf()
        self.proc = subprocess.Popen(self.cmd(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     cwd=self.prefix)
        wait_listen(self.port, self.proc)
        if self.http_port:
            wait_listen(self.http_port, self.proc)
        deadline = time.time() + 10
        while not children(self.proc.pid) and time.time() < deadline:
            time.sleep(0.05)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                for c in children(self.proc.pid):
                    try:
                        os.kill(c, signal.SIGKILL)
                    except OSError:
                        pass
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.prefix:
            shutil.rmtree(self.prefix, ignore_errors=True)
        self.prefix = None


class Strom(Server):
    def __init__(self, objs, send_merge="0", http_players=False):
        super().__init__(objs)
        self.send_merge = send_merge
        self.http_players = http_players
        self.name = "strom" if send_merge == "0" else "strom(merge %s)" % send_merge
        if http_players:
            self.name += " http-flv"

    def write_conf(self):
        self.http_port = free_port()
        with open(os.path.join(self.prefix, "strom.conf"), "w") as f:
            f.write("""daemon off;
worker_processes 1;
error_log logs/error.log warn;
pid logs/strom.pid;
events { worker_connections 20000; }
rtmp {
    # Thousands of players from 127.0.0.1: the protective defaults would refuse them.
    max_connections 0;
    max_connections_per_ip 0;
    server {
        listen 127.0.0.1:%d;
        chunk_size %d;
        application live { live on; send_merge %s; }
        application vod { play %s; }
    }
}
http {
    max_connections 0;
    max_connections_per_ip 0;
    server {
        listen 127.0.0.1:%d;
        location / { flv_live on; }
    }
}
""" % (self.port, CHUNK, self.send_merge, VOD_DIR, self.http_port))

    def cmd(self):
        return [os.path.join(self.objs, "strom"), "-p", self.prefix + "/", "-c",
                os.path.join(self.prefix, "strom.conf")]


class Nginx(Server):
    name = "nginx-rtmp"

    def write_conf(self):
        with open(os.path.join(self.prefix, "nginx.conf"), "w") as f:
            f.write("""daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 65536;
pid %(p)s/logs/nginx.pid;
error_log %(p)s/logs/error.log warn;
load_module %(mod)s;
events { worker_connections 20000; }
rtmp {
    server {
        listen 127.0.0.1:%(port)d;
        chunk_size %(chunk)d;
        application live { live on; }
        application vod { play %(vod)s; }
    }
}
""" % {"p": self.prefix, "mod": NGINX_RTMP_MODULE, "port": self.port, "chunk": CHUNK, "vod": VOD_DIR})

    def cmd(self):
        return ["nginx", "-p", self.prefix + "/", "-c", os.path.join(self.prefix, "nginx.conf"),
                "-e", os.path.join(self.prefix, "logs", "error.log")]


def make_media(seconds=20):
    """H.264 720p30 + AAC at ~2.5 Mbit/s, a keyframe every 2 s (cached across runs)."""
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
           "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
           "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
           "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high",
           "-b:v", "2350k", "-maxrate", "2350k", "-bufsize", "2350k", "-g", "60", "-keyint_min", "60",
           "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-ac", "2"]
    key = hashlib.sha1(" ".join(cmd).encode()).hexdigest()[:12]
    path = os.path.join(tempfile.gettempdir(), "strom-bench-media-%s.flv" % key)
    if not os.path.exists(path):
        print("== making test media (%ds of 720p30 H.264 + AAC, 2.5 Mbit/s)" % seconds, flush=True)
        subprocess.run(cmd + ["-f", "flv", path + ".tmp"], check=True, timeout=600)
        os.rename(path + ".tmp", path)
    return path


def make_vod(media):
    """The test media as the files both servers' `play` serves: bench-0.flv and bench-0.mp4."""
    global VOD_DIR
    VOD_DIR = os.path.splitext(media)[0] + "-vod"
    os.makedirs(VOD_DIR, exist_ok=True)
    flv = os.path.join(VOD_DIR, "bench-0.flv")
    mp4 = os.path.join(VOD_DIR, "bench-0.mp4")
    if not os.path.exists(flv):
        shutil.copy(media, flv)
    if not os.path.exists(mp4):
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", media, "-c", "copy",
                        "-f", "mp4", mp4 + ".tmp"], check=True, timeout=120)
        os.rename(mp4 + ".tmp", mp4)


class Runner:
    def __init__(self, args):
        self.args = args
        self.objs = args.objs if os.path.isabs(args.objs) else os.path.join(ROOT, args.objs)
        self.client = os.path.join(self.objs, "strom-client")
        self.media = make_media()
        make_vod(self.media)
        self.log = []
        self.failures = []

    def bench(self, server, players=0, idle=0, ramp=500, warmup="2s", duration="8s", streams=1, vod=None):
        """One fresh server, one bench run; returns the bench's JSON figures. vod: "flv" or
        "mp4": the players play that file from app vod, and nothing is published."""
        try:
            server.start()
            cmd = [self.client, "bench", server.url("vod" if vod else "live"), "--file", self.media,
                   "--streams", str(streams),
                   "--players", str(players), "--idle", str(idle), "--ramp", str(ramp), "--warmup", warmup,
                   "--duration", duration, "--server-pid", str(server.proc.pid), "--json",
                   "--label", server.name, "--timeout", "20s"]
            if server.http_players:
                cmd += ["--http-port", str(server.http_port)]
            if vod:   # nginx-rtmp takes "mp4:NAME", and a bare NAME for FLV
                cmd += ["--no-publish", "--stream-prefix", "mp4:bench" if vod == "mp4" else "bench"]
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
            if not lines:
                raise RuntimeError("bench gave no figures: %s" % out.stderr.strip()[-400:])
            r = json.loads(lines[-1])
        except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError) as e:
            # One failed run is reported and skipped: the benchmark never fails on a figure.
            print("   %-16s N=%-5d run failed: %s" % (server.name, players or idle, e), flush=True)
            self.failures.append("%s N=%d: %s" % (server.name, players or idle, e))
            return None
        finally:
            server.stop()
        r["server"] = server.name
        self.log.append(r)
        sat = " SATURATED" if r.get("saturated") else ""
        print("   %-16s N=%-5d %7.1f Mbit/s  cpu/GB %.3f  lat p50 %.2f p99 %.2f ms  ttff p50 %.1f ms  "
              "loss %d fail %d drop %d  bench cpu %.0f%%%s" %
              (server.name, players or idle, r["mbps"], r["server_cpu_s_per_gb"], r["latency_p50_ms"],
               r["latency_p99_ms"], r["ttff_p50_ms"], r["lost"], r["players_failed"], r["players_dropped"],
               r["self_cpu_pct"], sat), flush=True)
        return r

    def ab(self, makers, reps, **kw):
        """Alternates the servers (A B A B ..., order flipped each repetition)."""
        results = {}
        for rep in range(reps):
            order = makers if rep % 2 == 0 else list(reversed(makers))
            for make in order:
                server = make()
                r = self.bench(server, **kw)
                results.setdefault(server.name, [])
                if r:
                    results[server.name].append(r)
        return results


def median(vals):
    vals = sorted(v for v in vals if v is not None)
    if not vals:
        return None
    n = len(vals)
    return vals[n // 2] if n % 2 else (vals[n // 2 - 1] + vals[n // 2]) / 2


def good(r, p99_limit=500.0):
    return (r["players_failed"] == 0 and r["players_dropped"] == 0 and r["lost"] == 0 and
            r["players_no_frame"] == 0 and r["latency_p99_ms"] < p99_limit)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--objs", default="objs")
    ap.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    ap.add_argument("--no-record", action="store_true", default=os.environ.get("BENCH_NO_RECORD") == "1")
    args = ap.parse_args()
    t0 = time.time()
    load0 = os.getloadavg()[0]
    run = Runner(args)
    quick = args.quick
    reps = 1 if quick else 2
    win = "3s" if quick else "8s"
    strom0 = lambda: Strom(run.objs, "0")
    strom100 = lambda: Strom(run.objs, "100ms")
    strom_http = lambda: Strom(run.objs, "0", http_players=True)
    nginx = lambda: Nginx(run.objs)
    rows = []   # (workload, figure, strom, nginx, unit, better)
    notes = []

    print("== 1. server CPU per GB delivered (one 2.5 Mbit/s stream)", flush=True)
    sizes = [100, 500] if quick else [100, 500, 1000]
    cpu = {}
    for n in sizes:
        res = run.ab([nginx, strom0, strom100], reps, players=n, duration=win)
        cpu[n] = res
        for name in ("strom", "strom(merge 100ms)"):
            rows.append(("1. CPU-s/GB, %d players" % n, name,
                         median(r["server_cpu_s_per_gb"] for r in res[name]),
                         median(r["server_cpu_s_per_gb"] for r in res["nginx-rtmp"]), "s/GB", "lower"))
        rows.append(("1. p99 latency, %d players" % n, "strom(merge 100ms)",
                     median(r["latency_p99_ms"] for r in res["strom(merge 100ms)"]),
                     median(r["latency_p99_ms"] for r in res["nginx-rtmp"]), "ms", "lower"))
    if not quick:
        print("== 1b. send_merge sweep at 500 players (strom)", flush=True)
        for merge in ("0", "10ms", "20ms", "50ms", "100ms"):
            r = run.bench(Strom(run.objs, merge), players=500, duration=win)
            if r is None:
                continue
            notes.append("send_merge %-6s at 500 players: %.3f CPU-s/GB, latency p50 %.2f ms, p99 %.2f ms" %
                         (merge, r["server_cpu_s_per_gb"], r["latency_p50_ms"], r["latency_p99_ms"]))

    print("== 1c. VOD: server CPU per GB, players of one file (no sharing: each at its own place)", flush=True)
    for fmt_ in ("flv", "mp4"):
        res = run.ab([nginx, strom0], reps, players=100, duration=win, vod=fmt_)
        rows.append(("1c. VOD %s CPU-s/GB, 100 players" % fmt_.upper(), "strom",
                     median(r["server_cpu_s_per_gb"] for r in res["strom"]),
                     median(r["server_cpu_s_per_gb"] for r in res["nginx-rtmp"]), "s/GB", "lower"))
        rows.append(("1c. VOD %s RSS per player" % fmt_.upper(), "strom",
                     median(r["rss_per_player"] / 1024 for r in res["strom"]),
                     median(r["rss_per_player"] / 1024 for r in res["nginx-rtmp"]), "KiB", "lower"))

    print("== 1d. HTTP-FLV players vs RTMP players at 500 (strom send_merge 0; publisher on RTMP)",
          flush=True)
    res = run.ab([nginx, strom0, strom_http], reps, players=500, duration=win)
    http_cpu = median(r["server_cpu_s_per_gb"] for r in res["strom http-flv"])
    rtmp_cpu = median(r["server_cpu_s_per_gb"] for r in res["strom"])
    nginx_cpu = median(r["server_cpu_s_per_gb"] for r in res["nginx-rtmp"])
    rows.append(("1d. CPU-s/GB, 500 players", "strom http-flv", http_cpu, nginx_cpu, "s/GB", "lower"))
    rows.append(("1d. CPU-s/GB, 500 players", "strom", rtmp_cpu, nginx_cpu, "s/GB", "lower"))
    rows.append(("1d. p99 latency, 500 players", "strom http-flv",
                 median(r["latency_p99_ms"] for r in res["strom http-flv"]),
                 median(r["latency_p99_ms"] for r in res["nginx-rtmp"]), "ms", "lower"))
    if http_cpu and rtmp_cpu:
        notes.append("1d: strom HTTP-FLV %.3f vs strom RTMP %.3f CPU-s/GB at 500 players: ratio %.2f "
                     "(target <= 1.00, in the same A/B run)" % (http_cpu, rtmp_cpu, http_cpu / rtmp_cpu))

    print("== 2. players held on one worker (zero loss, p99 < 500 ms)", flush=True)
    steps = [500, 1000] if quick else [500, 1000, 1500, 2000, 3000, 4000, 5000]
    capacity = {}
    for make in (nginx, strom0):
        held = 0
        for n in steps:
            r = run.bench(make(), players=n, ramp=1000, warmup="1s" if quick else "2s", duration="3s" if quick else "6s")
            if r is None:
                break
            if r.get("saturated"):
                notes.append("capacity step %d (%s): load generator saturated (%.0f%% CPU)" %
                             (n, r["server"], r["self_cpu_pct"]))
            if not good(r):
                notes.append("capacity (%s): broke at %d players (failed %d, dropped %d, lost %d, no frame %d, "
                             "p99 %.0f ms, bench CPU %.0f%%)" % (r["server"], n, r["players_failed"],
                                                                r["players_dropped"], r["lost"], r["players_no_frame"],
                                                                r["latency_p99_ms"], r["self_cpu_pct"]))
                break
            held = n
        else:
            notes.append("capacity (%s): held every step up to %d: a lower bound" % (make().name, held))
        capacity[make().name] = held
    rows.append(("2. players held (0 loss, p99<500ms)", "strom", capacity.get("strom"),
                 capacity.get("nginx-rtmp"), "players", "higher"))

    print("== 3. added latency", flush=True)
    half = max(10, (capacity.get("nginx-rtmp") or 500) // 2)
    for n in (10, half):
        res = run.ab([nginx, strom0], reps, players=n, duration=win)
        for pct in ("p50", "p99"):
            rows.append(("3. latency %s, %d players" % (pct, n), "strom",
                         median(r["latency_%s_ms" % pct] for r in res["strom"]),
                         median(r["latency_%s_ms" % pct] for r in res["nginx-rtmp"]), "ms", "lower"))

    print("== 4. time to first frame", flush=True)
    res = run.ab([nginx, strom0], reps, players=20, ramp=5, duration="2s")
    rows.append(("4. TTFF p50, late joiners", "strom", median(r["ttff_p50_ms"] for r in res["strom"]),
                 median(r["ttff_p50_ms"] for r in res["nginx-rtmp"]), "ms", "lower"))
    storm = 200 if quick else 500
    res = run.ab([nginx, strom0], reps, players=storm, ramp=0, duration="2s")
    for pct in ("p50", "p99"):
        rows.append(("4. TTFF %s, %d joins at once" % (pct, storm), "strom",
                     median(r["ttff_%s_ms" % pct] for r in res["strom"]),
                     median(r["ttff_%s_ms" % pct] for r in res["nginx-rtmp"]), "ms", "lower"))

    print("== 5. memory", flush=True)
    n_idle = 1000 if quick else 2000
    res = run.ab([nginx, strom0], reps, idle=n_idle, players=0)
    rows.append(("5. RSS per idle connection", "strom", median(r["rss_per_idle"] / 1024 for r in res["strom"]),
                 median(r["rss_per_idle"] / 1024 for r in res["nginx-rtmp"]), "KiB", "lower"))
    big = sizes[-1]
    rows.append(("5. RSS per player (%d players)" % big, "strom",
                 median(r["rss_per_player"] / 1024 for r in cpu[big]["strom"]),
                 median(r["rss_per_player"] / 1024 for r in cpu[big]["nginx-rtmp"]), "KiB", "lower"))

    for f in run.failures:
        notes.append("failed run: " + f)
    sat = [r for r in run.log if r.get("saturated")]
    if sat:
        notes.append("%d of %d runs had the load generator above 85%% of a core: their throughput-bound "
                     "figures are limited by the bench" % (len(sat), len(run.log)))
    max_self = max((r["self_cpu_pct"] for r in run.log), default=0)
    notes.append("load generator CPU: max %.0f%% of one core over all runs" % max_self)
    notes.append("machine load average (1 min) %.2f at the start, %.2f at the end: other work on the "
                 "machine skews the figures" % (load0, os.getloadavg()[0]))
    table = format_table(rows)
    print()
    print(table)
    for n in notes:
        print("note: " + n)
    elapsed = time.time() - t0
    print("\n%d runs in %.1f minutes" % (len(run.log), elapsed / 60))
    if not args.no_record:
        record(table, notes, quick, elapsed, run.log)


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "players":
        return "%d" % v
    if unit == "s/GB":
        return "%.3f" % v
    return "%.2f" % v if v < 100 else "%.0f" % v


def format_table(rows):
    out = ["| workload | strom config | strom | nginx-rtmp | strom/nginx | unit |",
           "|---|---|---:|---:|---:|---|"]
    for w, name, s, n, unit, _ in rows:
        ratio = "-" if s is None or not n else ("%.2f" % (s / n) if s / n >= 0.01 else "%.4f" % (s / n))
        out.append("| %s | %s | %s | %s | %s | %s |" % (w, name, fmt(s, unit), fmt(n, unit), ratio, unit))
    return "\n".join(out)


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return "%s, %d CPUs, %.0f GiB, %s %s" % (model, os.cpu_count(), mem, platform.system(), platform.release())


def record(table, notes, quick, elapsed, log):
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = "?"
    nginx_v = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    path = os.path.join(ROOT, "t", "bench", "RESULTS.md")
    new = not os.path.exists(path)
    with open(path, "a") as f:
        if new:
            f.write("# Benchmark results\n\nAppended by `make bench` (t/bench/run.sh); newest last. "
                    "Ratios are strom / nginx-rtmp.\n")
        f.write("\n## %s (%s run, %.1f min)\n\n" % (datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
                                                     "quick" if quick else "full", elapsed / 60))
        f.write("- machine: %s\n- strom commit %s; %s; chunk_size %d; one worker each; "
                "media 720p30 H.264 + AAC at 2.5 Mbit/s, keyframe every 2 s\n\n" % (machine(), commit, nginx_v, CHUNK))
        f.write(table + "\n\n")
        for n in notes:
            f.write("- %s\n" % n)
    print("appended to %s" % os.path.relpath(path, ROOT))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
