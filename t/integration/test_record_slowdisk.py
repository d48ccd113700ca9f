"""Recording to a really slow disk must not stall the worker: one worker serves a 30 fps
live stream to a player while recording it to a FUSE mount (slowfs.py) where every
write request sleeps half a second. The recording is written behind the loop; the disk
cannot keep up, so the recorder's queue (record_max_queue) fills and that recording
stops with one log line, while the player goes on without a pause."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from slowfs import mount_slowfs
from strom_harness import ServerTest, ffprobe_streams, have, make_flv, wait_for
from test_vod_slowdisk import Player, max_gap

CONF = """
events { worker_connections 256; }
rtmp {
    server {
        listen 127.0.0.1:{port};
        application live {
            live on;
            record all;
            record_path %(path)s;
            record_max_queue %(queue)s;
        }
    }
}
"""

WRITE_DELAY = 0.5    # seconds per write request that reaches the slow disk
MAX_WRITE = 16384    # bytes per request: the disk takes 32 KB/s, less than the stream
QUEUE = "128k"       # small: it fills in a few seconds, and drains in a few at the end
MAX_GAP = 0.1        # the player (30 fps) never waits longer than this between frames


class SlowDiskRecordTest(ServerTest):
    def test_recording_to_a_slow_disk_stops_alone_and_the_live_stream_never_pauses(self):
        if not have("ffmpeg"):
            raise unittest.SkipTest("ffmpeg not installed")
        src = tempfile.mkdtemp(prefix="strom-slowrec-")
        self.addCleanup(shutil.rmtree, src, True)
        fs = mount_slowfs(self, src, 0.0, write_delay=WRITE_DELAY, max_write=MAX_WRITE)
        srv = self.server(CONF % {"path": fs.mountpoint, "queue": QUEUE}, workers=1).start()
        media = make_flv(seconds=10, gop=30, size="640x360")
        pub = subprocess.Popen(["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1",
                                "-i", media, "-c", "copy", "-f", "flv", srv.url("live/x")],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def stop_pub():
            if pub.poll() is None:
                pub.kill()
            pub.wait()
        self.addCleanup(stop_pub)
        wait_for(lambda: 'record "live/x" to' in srv.error_log(), 10, what="the recording to start")

        live = Player(srv.port, "live", "x")
        try:
            live.start()
            wait_for(lambda: len(live.video) >= 15, 10, what="live video")
            t_start = time.monotonic()
            wait_for(lambda: "disk too slow" in srv.error_log(), 30, what="the recording to stop")
            t_stopped = time.monotonic()
            n = len(live.video)
            # the player goes on after the recording stopped
            wait_for(lambda: len(live.video) >= n + 60, 10, what="2 s more of live video")
            t_end = time.monotonic()
        finally:
            live.stop()
            stop_pub()
        self.assertIsNone(live.error, live.error)
        gap, at = max_gap([a for a, _ in live.video], t_start, t_end)
        slow = [w for w in fs.writes if w[1] - w[0] >= WRITE_DELAY * 0.9]
        lines = [l for l in srv.error_log().splitlines() if "disk too slow" in l]
        report = ("%d slow writes (%.1f s each, %d bytes at most); recording stopped after %.1f s; live: %d video "
                  "messages, longest pause %.3f s at +%.2f s" % (len(slow), WRITE_DELAY, MAX_WRITE,
                                                                 t_stopped - t_start, len(live.video), gap,
                                                                 at - t_start))
        sys.stderr.write("\n  " + report + "\n")
        self.assertGreater(len(slow), 0, report)   # the recording really went to the slow disk
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], r'\[error\].*record "live/x": disk too slow, [0-9.]+ MiB queued, '
                                   r'recording stopped')
        self.assertLess(gap, MAX_GAP, report)

        # What was queued reaches the disk when the worker exits: a file ffprobe reads.
        srv.stop()
        path = os.path.join(src, "x.flv")
        self.assertTrue(os.path.exists(path))
        self.assertIn("h264,video", ffprobe_streams(path))


if __name__ == "__main__":
    unittest.main()
