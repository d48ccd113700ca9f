"""Opens one page in headless Chromium through chromedriver (Selenium) and polls the
page's window.stromFigures() until the video has played enough, the page reports an
error, or a deadline passes; prints one JSON object on stdout and exits 0 whenever it
could ask the page (the caller judges the figures), 2 when the browser could not be
driven at all.

Run by t/integration/test_browser_flv.py with an interpreter that has Selenium (Debian's
python3-selenium is for /usr/bin/python3). Every process it starts is stopped by pid:
chromedriver and the browser it launched are asked to quit, then any of them (or of the
browser's own children) still alive is killed by pid, with its start time checked so a
reused pid is never hit. The pids are also written to --pidfile as soon as they are known,
so that the caller can stop them if this script itself has to be killed."""

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service


def proc_start_time(pid):
    """Field 22 of /proc/PID/stat (start time in clock ticks), or None if gone/zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if rest[0] == "Z":
        return None
    return rest[19]


def descendants(pid):
    out = []
    todo = [pid]
    while todo:
        p = todo.pop()
        kids = []
        try:
            tasks = os.listdir("/proc/%d/task" % p)
        except OSError:
            tasks = []
        for t in tasks:   # a child is listed under the thread that forked it
            try:
                with open("/proc/%d/task/%s/children" % (p, t)) as f:
                    kids += [int(x) for x in f.read().split()]
            except OSError:
                pass
        out += kids
        todo += kids
    return out


class Tracked:
    """Pids we started (directly or through chromedriver), each with its start time."""

    def __init__(self, pidfile):
        self.pidfile = pidfile
        self.procs = {}

    def add(self, pid):
        st = proc_start_time(pid)
        if st is not None and pid not in self.procs:
            self.procs[pid] = st
            if self.pidfile:
                with open(self.pidfile, "a") as f:
                    f.write("%d %s\n" % (pid, st))

    def alive(self):
        return [p for p, st in self.procs.items() if proc_start_time(p) == st]

    def stop_all(self, grace=5.0):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            left = self.alive()
            if not left:
                return []
            for p in left:
                try:
                    os.kill(p, sig)
                except OSError:
                    pass
            deadline = time.time() + grace
            while time.time() < deadline and self.alive():
                time.sleep(0.05)
        return self.alive()


def chromium_options(binary, user_data_dir):
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
              "--no-first-run", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--autoplay-policy=no-user-gesture-required",
              "--disable-dev-shm-usage", "--window-size=640,480",
              "--user-data-dir=" + user_data_dir):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return opts


def done(fig, want_time, want_frames):
    if fig is None:
        return False
    if fig.get("errors"):
        return True
    return (fig["currentTime"] >= want_time and fig["totalVideoFrames"] > want_frames
            and fig["videoWidth"] > 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--page", required=True)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    ap.add_argument("--timeout", type=float, default=20.0,
                    help="seconds from loading the page until we give up on the figures")
    ap.add_argument("--want-time", type=float, default=2.0)
    ap.add_argument("--want-frames", type=int, default=30)
    ap.add_argument("--pidfile")
    ap.add_argument("--screenshot")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="strom-chromium-")
    tracked = Tracked(args.pidfile)
    result = {"page": args.page, "figures": None, "samples": [], "console": [],
              "error": None}
    driver = None
    service = None
    rc = 0
    try:
        service = Service(executable_path=args.chromedriver,
                          log_path=os.path.join(tmp, "chromedriver.log"))
        try:   # starts chromedriver (service.start()), which starts the browser
            driver = webdriver.Chrome(service=service,
                                      options=chromium_options(args.chromium,
                                                               os.path.join(tmp, "profile")))
        finally:
            if getattr(service, "process", None) is not None:
                tracked.add(service.process.pid)
                for p in descendants(service.process.pid):
                    tracked.add(p)
        driver.set_page_load_timeout(15)
        driver.set_script_timeout(5)
        t0 = time.time()
        driver.get(args.page)
        result["page_load_s"] = round(time.time() - t0, 2)
        deadline = t0 + args.timeout
        fig = None
        while True:
            fig = driver.execute_script(
                "return window.stromFigures ? window.stromFigures() : null;")
            if fig is not None:
                result["samples"].append([round(time.time() - t0, 2), fig["currentTime"],
                                          fig["totalVideoFrames"], fig["videoWidth"],
                                          fig["readyState"]])
            if done(fig, args.want_time, args.want_frames) or time.time() >= deadline:
                break
            time.sleep(0.25)
        result["figures"] = fig
        result["elapsed_s"] = round(time.time() - t0, 2)
        for p in descendants(service.process.pid):
            tracked.add(p)
        if args.screenshot:
            driver.save_screenshot(args.screenshot)
        try:
            result["console"] = [e.get("message", "") for e in driver.get_log("browser")][:100]
        except WebDriverException:
            pass
    except Exception as e:  # the caller reports it; nothing here may leave a process behind
        result["error"] = "%s: %s" % (type(e).__name__, e)
        rc = 2
    finally:
        if service is not None and getattr(service, "process", None) is not None:
            for p in descendants(service.process.pid):
                tracked.add(p)
        if driver is not None:
            try:
                driver.quit()
            except Exception as e:
                result["quit_error"] = str(e)
        elif service is not None and getattr(service, "process", None) is not None:
            try:
                service.stop()
            except Exception as e:
                result["quit_error"] = str(e)
        left = tracked.stop_all()
        result["pids"] = sorted(tracked.procs)
        if left:
            result["not_stopped"] = left
        try:
            with open(os.path.join(tmp, "chromedriver.log"), errors="replace") as f:
                result["chromedriver_log_tail"] = f.read()[-3000:]
        except OSError:
            pass
        shutil.rmtree(tmp, ignore_errors=True)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return rc


if __name__ == "__main__":
    sys.exit(main())
