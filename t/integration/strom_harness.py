"""Shared pieces of Strom's integration tests: a server in its own temporary prefix on
free ports, started from the built binary (ASan build under `make test`), stopped by
pid; helpers to wait for conditions with deadlines, to run real clients (ffmpeg,
ffprobe, rtmpdump, gst-launch-1.0) and to make test media with ffmpeg."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OBJS = os.environ.get("STROM_OBJS", "objs")
if not os.path.isabs(OBJS):
    OBJS = os.path.join(ROOT, OBJS)


def binary(name="strom"):
    for cand in (os.path.join(OBJS, "asan", name), os.path.join(OBJS, name)):
        if os.path.exists(cand):
            return cand
    raise unittest.SkipTest("%s is not built" % name)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(cond, timeout=10.0, step=0.05, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))


def have(tool):
    return shutil.which(tool) is not None


def children_of(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


SAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:log_path=%(prefix)s/logs/asan",
    "UBSAN_OPTIONS": "print_stacktrace=1:log_path=%(prefix)s/logs/ubsan",
}


class Server:
    """One strom server: conf written from a template with {port} {prefix} {workers}."""

    def __init__(self, conf_body, workers=1, extra_main="", port=None):
        self.prefix = tempfile.mkdtemp(prefix="strom-test-")
        os.makedirs(os.path.join(self.prefix, "logs"))
        os.makedirs(os.path.join(self.prefix, "conf"))
        self.port = port or free_port()
        self.http_port = free_port()
        self.workers = workers
        self.proc = None
        self.conf_path = os.path.join(self.prefix, "conf", "strom.conf")
        self.write_conf(conf_body, workers, extra_main)

    def write_conf(self, conf_body, workers=None, extra_main=""):
        if workers is not None:
            self.workers = workers
        text = ("daemon off;\nworker_processes %s;\nerror_log logs/error.log info;\n"
                "pid logs/strom.pid;\n%s\n" % (self.workers, extra_main))
        text += (conf_body.replace("{port}", str(self.port)).replace("{prefix}", self.prefix)
                 .replace("{http_port}", str(self.http_port)))
        with open(self.conf_path, "w") as f:
            f.write(text)

    def env(self):
        env = dict(os.environ)
        for k, v in SAN_ENV.items():
            env[k] = v % {"prefix": self.prefix}
        return env

    def run_cli(self, *args):
        return subprocess.run([binary(), "-p", self.prefix + "/", "-c", self.conf_path] + list(args),
                              capture_output=True, text=True, env=self.env(), timeout=60)

    def start(self, wait_listen=True):
        self.proc = subprocess.Popen([binary(), "-p", self.prefix + "/", "-c", self.conf_path],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=self.env())
        if wait_listen:
            wait_for(self.listening, 15, what="server listening on %d" % self.port)
            self.wait_workers_started()
        return self

    def wait_workers_started(self):
        wait_for(lambda: len(self.workers_pids()) >= int(self.workers), 15, what="workers")
        # forked is not serving: a worker logs this once its listeners are registered
        wait_for(lambda: self.error_log().count(") started, ") >= int(self.workers), 15,
                 what="workers started")

    def listening(self):
        if self.proc and self.proc.poll() is not None:
            raise AssertionError("server exited early:\n" + self.error_log())
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    @property
    def pid(self):
        return self.proc.pid

    def workers_pids(self):
        return children_of(self.proc.pid) if self.proc else []

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=20):
        if not self.proc:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                for w in self.workers_pids():
                    os.kill(w, signal.SIGKILL)
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, "logs", "error.log")) as f:
                return f.read()
        except OSError:
            return ""

    def sanitizer_reports(self):
        out = []
        for name in os.listdir(os.path.join(self.prefix, "logs")):
            if name.startswith("asan") or name.startswith("ubsan"):
                with open(os.path.join(self.prefix, "logs", name)) as f:
                    out.append(f.read())
        return "\n".join(out)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.prefix, ignore_errors=True)

    def url(self, path="live/test"):
        return "rtmp://127.0.0.1:%d/%s" % (self.port, path)

    def http_url(self, path="live/test.flv"):
        return "http://127.0.0.1:%d/%s" % (self.http_port, path)


class ServerTest(unittest.TestCase):
    """Base class: self.servers are stopped and checked for sanitizer reports and
    [alert]/[crit] lines at the end of each test."""

    allowed_alerts = ()

    def setUp(self):
        self.servers = []

    def server(self, conf_body, **kw):
        s = Server(conf_body, **kw)
        self.servers.append(s)
        return s

    def tearDown(self):
        problems = []
        for s in self.servers:
            s.stop()
            rep = s.sanitizer_reports()
            if rep:
                problems.append("sanitizer report:\n" + rep[:4000])
            for line in s.error_log().splitlines():
                if re.search(r"\[(alert|crit|emerg)\]", line) and not any(a in line for a in self.allowed_alerts):
                    problems.append("error log: " + line)
        for s in self.servers:
            if not problems:
                s.cleanup()
        if problems:
            self.fail("\n".join(problems[:20]))


_media_cache = {}


def make_flv(seconds=10, gop=60, size="320x240", rate=30, tag="default"):
    """An H.264 + AAC FLV made by ffmpeg from lavfi sources (cached per run)."""
    key = (seconds, gop, size, rate, tag)
    if key in _media_cache and os.path.exists(_media_cache[key]):
        return _media_cache[key]
    if not have("ffmpeg"):
        raise unittest.SkipTest("ffmpeg not installed")
    d = tempfile.mkdtemp(prefix="strom-media-")
    path = os.path.join(d, "test.flv")
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
           "-f", "lavfi", "-i", "testsrc=size=%s:rate=%d" % (size, rate),
           "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
           "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
           "-g", str(gop), "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-f", "flv", path]
    subprocess.run(cmd, check=True, timeout=120)
    _media_cache[key] = path
    return path


def ffprobe_streams(path_or_url, timeout=30):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name",
                          "-of", "csv=p=0", path_or_url], capture_output=True, text=True,
                         timeout=timeout)
    return sorted(line.strip() for line in out.stdout.splitlines() if line.strip())
