"""A real browser plays what Strom serves: headless Chromium (Debian's chromium +
chromium-driver, driven through Selenium) opens t/integration/browser/flv_player.html,
which plays the stream with mpegts.js (npm, test only: `npm ci --prefix
t/integration/browser`) in a muted autoplay <video>, once over HTTP-FLV and once over
WebSocket-FLV, while ffmpeg publishes make_flv()'s 320x240 H.264 + AAC loop over RTMP.

Selenium comes from Debian's python3-selenium, which is for /usr/bin/python3, not for
the interpreter that may run this file: the browser part is the helper
browser/drive_chromium.py, run as a subprocess by an interpreter that has Selenium. It
prints the page's figures as JSON; the assertions are made here. The page and mpegts.js
are served by a small http.server on loopback in a thread of this process."""

import functools
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.parse

from strom_harness import ROOT
from test_rtmp import LiveTestBase

BROWSER_DIR = os.path.join(ROOT, "t", "integration", "browser")
HELPER = os.path.join(BROWSER_DIR, "drive_chromium.py")
MPEGTS_JS = os.path.join(BROWSER_DIR, "node_modules", "mpegts.js", "dist", "mpegts.js")

CONF = """
events { worker_connections 1024; }
rtmp { server { listen 127.0.0.1:{port}; application live { live on; } } }
http {
    server {
        listen 127.0.0.1:{http_port};
        location / { flv_live on; add_header Access-Control-Allow-Origin *; }
    }
}
"""

PLAY_TIMEOUT = 20.0     # seconds from opening the page until the figures must be reached
WANT_TIME = 2.0         # video.currentTime
WANT_FRAMES = 30        # getVideoPlaybackQuality().totalVideoFrames, strictly more


def _exe(env_name, *names):
    for cand in [os.environ.get(env_name)] + list(names):
        if cand and (os.path.isabs(cand) and os.access(cand, os.X_OK) or shutil.which(cand)):
            return cand if os.path.isabs(cand) else shutil.which(cand)
    return None


@functools.lru_cache(maxsize=None)
def _selenium_python():
    """The first interpreter that can import selenium, or None."""
    for py in [os.environ.get("STROM_SELENIUM_PYTHON"), sys.executable, "/usr/bin/python3"]:
        if not py or not os.access(py, os.X_OK):
            continue
        try:
            r = subprocess.run([py, "-c", "import selenium"], capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if r.returncode == 0:
            return py
    return None


def browser_tools():
    """(python, chromium, chromedriver), or SkipTest saying what is missing."""
    chromium = _exe("STROM_CHROMIUM", "chromium", "chromium-browser")
    driver = _exe("STROM_CHROMEDRIVER", "chromedriver")
    py = _selenium_python()
    missing = []
    if not chromium:
        missing.append("chromium (Debian package chromium)")
    if not driver:
        missing.append("chromedriver (Debian package chromium-driver)")
    if not py:
        missing.append("Selenium for %s or /usr/bin/python3 (Debian package python3-selenium)"
                       % sys.executable)
    if not os.path.exists(MPEGTS_JS):
        missing.append("mpegts.js (npm ci --prefix t/integration/browser)")
    if missing:
        raise unittest.SkipTest("browser test needs " + "; ".join(missing))
    return py, chromium, driver


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class PageServer:
    """t/integration/browser over HTTP on a free loopback port, in a thread."""

    def __init__(self):
        handler = functools.partial(_QuietHandler, directory=BROWSER_DIR)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, stream_url):
        return "http://127.0.0.1:%d/flv_player.html?url=%s" % (
            self.port, urllib.parse.quote(stream_url, safe=""))

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


def _stop_pidfile(pidfile):
    """Kill by pid what the helper recorded (pid + start time), if still the same process."""
    try:
        with open(pidfile) as f:
            rows = [line.split() for line in f if line.strip()]
    except OSError:
        return
    for pid, start in rows:
        pid = int(pid)
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[19] != start:
                    continue
            os.kill(pid, signal.SIGKILL)
        except (OSError, IndexError):
            pass


class BrowserFlvTest(LiveTestBase):
    def setUp(self):
        super().setUp()
        self.py, self.chromium, self.chromedriver = browser_tools()

    def play_in_browser(self, stream_url):
        pages = PageServer()
        self.addCleanup(pages.stop)
        work = tempfile.mkdtemp(prefix="strom-browser-")
        self.addCleanup(shutil.rmtree, work, True)
        pidfile = os.path.join(work, "pids")
        cmd = [self.py, HELPER, "--page", pages.url(stream_url), "--chromium", self.chromium,
               "--chromedriver", self.chromedriver, "--timeout", str(PLAY_TIMEOUT),
               "--want-time", str(WANT_TIME), "--want-frames", str(WANT_FRAMES),
               "--pidfile", pidfile]
        shots = os.environ.get("STROM_BROWSER_SHOTS")
        if shots:
            os.makedirs(shots, exist_ok=True)
            cmd += ["--screenshot", os.path.join(shots, self._testMethodName + ".png")]
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            out, err = p.communicate(timeout=PLAY_TIMEOUT + 90)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            _stop_pidfile(pidfile)
            self.fail("browser helper did not finish in %.0fs:\n%s\n%s"
                      % (PLAY_TIMEOUT + 90, out[-3000:], err[-3000:]))
        finally:
            _stop_pidfile(pidfile)   # normally nothing is left: the helper stops its own
        try:
            res = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            self.fail("browser helper exited %s without its JSON:\n%s\n%s"
                      % (p.returncode, out[-3000:], err[-3000:]))
        if res.get("error"):
            self.fail("could not drive the browser: %s\n%s" % (res["error"],
                                                              res.get("chromedriver_log_tail", "")))
        self.assertFalse(res.get("not_stopped"), "browser processes left running")
        return res

    def check_played(self, res):
        fig = res["figures"]
        self.assertIsNotNone(fig, "the page never exposed window.stromFigures")
        why = "%s\nfigures: %s\nsamples [s, currentTime, frames, width, readyState]: %s\n" \
              "console: %s" % (fig.get("url"), json.dumps({k: v for k, v in fig.items()
                                                          if k != "events"}),
                               res["samples"][-12:], "\n".join(res["console"][-20:]))
        why += "\nevents:\n" + "\n".join(fig.get("events", [])[-30:])
        self.assertEqual(fig["errors"], [], "player error\n" + why)
        self.assertGreaterEqual(fig["currentTime"], WANT_TIME, why)
        self.assertGreater(fig["totalVideoFrames"], WANT_FRAMES, why)
        self.assertEqual(fig["videoWidth"], 320, why)
        self.assertEqual(fig["videoHeight"], 240, why)
        print("\n  %s: currentTime %.2f s, %d frames decoded (%d dropped), %dx%d, after %.1f s"
              % (fig["url"], fig["currentTime"], fig["totalVideoFrames"],
                 fig["droppedVideoFrames"], fig["videoWidth"], fig["videoHeight"],
                 res["elapsed_s"]), file=sys.stderr)

    def live(self):
        srv = self.server(CONF).start()
        self.publish(srv)
        self.wait_published(srv)
        return srv

    def test_mpegts_js_plays_http_flv(self):
        srv = self.live()
        self.check_played(self.play_in_browser(srv.http_url("live/test.flv")))

    def test_mpegts_js_plays_websocket_flv(self):
        srv = self.live()
        url = srv.http_url("live/test.flv").replace("http://", "ws://", 1)
        self.check_played(self.play_in_browser(url))


if __name__ == "__main__":
    unittest.main()
