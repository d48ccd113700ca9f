"""VOD reads on a really slow disk must not stall the worker: a live stream served by the
same (only) worker keeps flowing while a player reads a large FLV from a FUSE mount
(slowfs.py) where every read that misses the page cache takes a full second."""

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from rtmp_raw import RawRtmp, open_play
from slowfs import mount_slowfs
from strom_harness import ServerTest, have, make_flv, wait_for

CONF = """
events { worker_connections 256; }
rtmp {
    server {
        listen 127.0.0.1:{port};
        application live { live on; }
        application vod { play %s; }
    }
}
"""

DELAY = 1.0          # seconds per read that reaches the slow disk
MAX_GAP = 0.7        # the live stream (30 fps) may pause at most this long (a worker that
                     # waits for the disk pauses it DELAY at least)
VOD_MEDIA_MS = 3000  # the VOD player plays this much media (~1 MB: at least 8 slow reads)

_made = {}


def made_once(name, ffmpeg_args):
    """NAME made by ffmpeg with these arguments, alone in its own directory (the slow
    mount mirrors it), once per run and removed at exit."""
    path = _made.get(name)
    if path and os.path.exists(path):
        return path
    d = tempfile.mkdtemp(prefix="strom-slowdisk-")
    atexit.register(shutil.rmtree, d, True)
    path = os.path.join(d, name)
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y"] + ffmpeg_args + ["-f", "flv", path],
                   check=True, timeout=120)
    _made[name] = path
    return path


def big_flv():
    """~21 MB, 60 s FLV (640x360 H.264 at a constant 2.8 Mbit/s, filler included, + AAC)."""
    return made_once("big.flv", [
        "-f", "lavfi", "-i", "testsrc=size=640x360:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "60",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-pix_fmt", "yuv420p",
        "-b:v", "2800k", "-minrate", "2800k", "-maxrate", "2800k", "-bufsize", "1400k",
        "-x264-params", "nal-hrd=cbr", "-c:a", "aac", "-b:a", "64k"])


def big_tags_flv():
    """1 s of 10 fps noise, almost lossless: every video tag is larger than the 256 KiB the
    server reads ahead at a time (~300 KB)."""
    return made_once("tags.flv", [
        "-f", "lavfi", "-i", "testsrc=size=640x360:rate=10,noise=alls=60:allf=t", "-t", "1",
        "-c:v", "libx264", "-preset", "ultrafast", "-qp", "5", "-g", "5", "-pix_fmt", "yuv420p"])


class Player(threading.Thread):
    """A raw RTMP player in its own thread: plays APP/NAME and notes the wall-clock
    (monotonic) arrival and the timestamp of every video message."""

    def __init__(self, port, app, name):
        super().__init__(daemon=True)
        self.port, self.app, self.name = port, app, name
        self.video = []          # (arrival, timestamp)
        self.media_bytes = 0
        self.error = None
        self.playing = threading.Event()
        self._stopping = False
        self.c = RawRtmp(port, timeout=30)

    def run(self):
        c = self.c
        try:
            r, _ = open_play(c, self.port, self.app, self.name)
            self.playing.set()
            while True:
                mtype, _, ts, body = r.next()
                if mtype in (8, 9):
                    self.media_bytes += len(body)
                if mtype == 9:
                    self.video.append((time.monotonic(), ts))
        except (OSError, ConnectionError) as e:
            if not self._stopping:
                self.error = e

    def stop(self):
        self._stopping = True
        try:
            self.c.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self.ident is not None:
            self.join(10)
        self.c.close()


def max_gap(arrivals, start, end):
    """The longest time without a video message that overlaps [start, end]: (gap, at)."""
    best = (0.0, start)
    points = sorted(arrivals)
    if not points or points[-1] < end:   # nothing since: the pause lasts to the end
        points.append(end)
    for a, b in zip(points, points[1:]):
        if b > start and a < end and b - a > best[0]:
            best = (b - a, a)
    return best


class SlowDiskVodTest(ServerTest):
    def stop_later(self, proc):
        def stop():
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        self.addCleanup(stop)

    def test_a_live_stream_keeps_flowing_while_vod_reads_a_slow_disk(self):
        if not have("ffmpeg"):
            raise unittest.SkipTest("ffmpeg not installed")
        media = big_flv()
        fs = mount_slowfs(self, os.path.dirname(media), DELAY)
        srv = self.server(CONF % fs.mountpoint, workers=1).start()

        pub = subprocess.Popen(["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1",
                                "-i", make_flv(), "-c", "copy", "-f", "flv", srv.url("live/test")],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.stop_later(pub)
        wait_for(lambda: srv.error_log().count('publish "live/test" (') >= 1, 10, what="the publisher")

        live = Player(srv.port, "live", "test")
        vod = None
        try:
            live.start()
            wait_for(lambda: len(live.video) >= 30, 10, what="live video")
            # the live stream alone: steady, or this machine cannot judge the rest
            t, n = time.monotonic(), len(live.video)
            wait_for(lambda: len(live.video) >= n + 45, 5, what="1.5 s more of live video")
            base, _ = max_gap([a for a, _ in live.video], t, time.monotonic())
            if base >= MAX_GAP:
                raise unittest.SkipTest("the live stream pauses %.2f s with no VOD at all: this machine "
                                        "is too busy to judge" % base)

            fs.drop_cache("big.flv")
            reads_before = len(fs.reads)
            vod = Player(srv.port, "vod", "big")
            t_start = time.monotonic()
            vod.start()
            wait_for(lambda: vod.video and vod.video[-1][1] >= VOD_MEDIA_MS, 25,
                     what="%d ms of VOD media from the slow disk" % VOD_MEDIA_MS)
            t_end = time.monotonic()
            vod.stop()
            # a stall at the end of the window shows as a late message
            wait_for(lambda: live.video[-1][0] > t_end + 0.1, 5, what="live video after the window")
        finally:
            live.stop()
            if vod:
                vod.stop()
            pub.kill()
            pub.wait()

        self.assertIsNone(live.error, live.error)
        slow_reads = [r for r in fs.reads[reads_before:] if r[0] < t_end]
        vod_ts = max((ts for _, ts in vod.video), default=0)
        gap, at = max_gap([a for a, _ in live.video], t_start, t_end)
        stalls = sum(1 for a, b in zip(live.video, live.video[1:])
                     if b[0] > t_start and a[0] < t_end and b[0] - a[0] > MAX_GAP)
        report = ("VOD: %d video messages, %d bytes, up to %d ms; %d slow reads (%.1f s each); "
                  "live: longest pause %.2f s at +%.2f s of the VOD window, %d pauses over %.1f s"
                  % (len(vod.video), vod.media_bytes, vod_ts, len(slow_reads), DELAY, gap, at - t_start,
                     stalls, MAX_GAP))
        sys.stderr.write("\n  " + report + "\n")
        # the test is about the slow disk: the VOD really read through it
        self.assertGreater(len(slow_reads), 0, report)
        # (a) the VOD player makes progress despite the slow disk
        self.assertIsNone(vod.error, vod.error)
        self.assertGreaterEqual(len(vod.video), 60, report)
        # (b) the live stream on the same worker never waited for the disk
        self.assertLess(gap, MAX_GAP, report)

    def test_tags_larger_than_the_read_ahead_play_from_a_slow_disk(self):
        # On FUSE every read that is not in the read-ahead window goes to the helper; a tag
        # whose body does not fit in the window that holds its header must still be sent.
        if not have("ffmpeg"):
            raise unittest.SkipTest("ffmpeg not installed")
        media = big_tags_flv()
        fs = mount_slowfs(self, os.path.dirname(media), 0.05)
        srv = self.server(CONF % fs.mountpoint, workers=1).start()
        fs.drop_cache("tags.flv")
        vod = Player(srv.port, "vod", "tags")
        try:
            vod.start()
            # the sequence header and the 10 frames, then the end of the file
            wait_for(lambda: len(vod.video) >= 11, 30, what="the 10 video tags of ~300 KB")
            wait_for(lambda: 'vod "tags" complete' in srv.error_log(), 10, what="the end of the file")
        finally:
            vod.stop()
        self.assertIsNone(vod.error, vod.error)
        self.assertGreater(vod.media_bytes, 8 * 256 * 1024)


if __name__ == "__main__":
    unittest.main()
