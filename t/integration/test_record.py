"""Recording: ffmpeg publishes, the record module writes FLV files that ffprobe and
ffmpeg read (whole, rotated, after kill -9), names cannot escape record_path, disk
errors stop only the recorder, exec_record_done runs."""

import json
import os
import signal
import subprocess
import time
import unittest

from rtmp_raw import RawRtmp, amf_null, amf_str
from strom_harness import ServerTest, ffprobe_streams, have, make_flv, wait_for

CONF = """
events { worker_connections 256; }
rtmp {
    server {
        listen 127.0.0.1:{port};
        application live {
            live on;
            %(rec)s
        }
    }
}
"""


def need(*tools):
    for t in tools:
        if not have(t):
            raise unittest.SkipTest("%s not installed" % t)


def duration(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
                       capture_output=True, text=True, timeout=30)
    try:
        return float(r.stdout.strip())
    except ValueError:
        return -1.0


def video_packets(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                        "packet=pts_time,flags", "-of", "json", path], capture_output=True, text=True, timeout=30)
    return json.loads(r.stdout or "{}").get("packets", [])


def decodes(path):
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-"],
                       capture_output=True, text=True, timeout=60)
    return r.returncode == 0, r.stderr


def tree(root):
    out = set()
    for d, dirs, files in os.walk(root):
        for f in files + dirs:
            out.add(os.path.join(d, f))
    return out


def top_boxes(data):
    """The types of the top-level boxes of an ISO BMFF file."""
    out, p = [], 0
    while p + 8 <= len(data):
        size = int.from_bytes(data[p:p + 4], "big")
        kind = data[p + 4:p + 8].decode("latin-1")
        if size == 1:
            size = int.from_bytes(data[p + 8:p + 16], "big")
        elif size == 0:
            size = len(data) - p
        if size < 8:
            break
        out.append(kind)
        p += size
    return out


class RecordTest(ServerTest):
    def srv(self, rec):
        s = self.server(CONF % {"rec": rec})
        os.makedirs(os.path.join(s.prefix, "rec"), exist_ok=True)
        return s.start()

    def publish(self, srv, name="test", media=None, loop=False):
        need("ffmpeg", "ffprobe")
        media = media or make_flv(seconds=10, gop=60)
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-re"]
        if loop:
            cmd += ["-stream_loop", "-1"]
        cmd += ["-i", media, "-c", "copy", "-f", "flv", srv.url("live/" + name)]
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def stop():
            if p.poll() is None:
                p.kill()
                p.wait()
        self.addCleanup(stop)
        return p

    def files(self, srv, sub="rec"):
        d = os.path.join(srv.prefix, sub)
        return sorted(os.path.join(d, f) for f in os.listdir(d))

    def test_ten_seconds_recorded_with_both_streams_duration_and_index(self):
        srv = self.srv("record all; record_path rec;")
        p = self.publish(srv)
        p.wait(40)
        wait_for(lambda: " done: " in srv.error_log(), 10, what="record done")
        files = self.files(srv)
        self.assertEqual(len(files), 1, files)
        self.assertTrue(files[0].endswith("/test.flv"))
        self.assertEqual(ffprobe_streams(files[0]), ["aac,audio", "h264,video"])
        self.assertLess(abs(duration(files[0]) - 10.0), 2.0, duration(files[0]))
        pk = video_packets(files[0])
        self.assertIn("K", pk[0]["flags"])
        r = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags", "-of", "json", files[0]],
                           capture_output=True, text=True)
        tags = json.loads(r.stdout).get("format", {}).get("tags", {})
        self.assertNotIn("padding", tags)
        # seeking into the file uses the keyframe index: start 6 s in, still decodes
        r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-ss", "6", "-i", files[0], "-f", "null", "-"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        ok, err = decodes(files[0])
        self.assertTrue(ok, err)

    def test_live_off_still_records_and_plays_nothing_live(self):
        # Recording without live: the publish makes a stream for its recorders only.
        s = self.server((CONF % {"rec": "record all; record_path rec;"}).replace("live on;", "live off;"))
        os.makedirs(os.path.join(s.prefix, "rec"), exist_ok=True)
        srv = s.start()
        p = self.publish(srv, media=make_flv(seconds=4, gop=60))
        wait_for(lambda: 'publish "live/test"' in srv.error_log(), 15, what="publish")
        probe = subprocess.run(["ffprobe", "-v", "error", "-rw_timeout", "3000000", srv.url("live/test")],
                               capture_output=True, text=True, timeout=30)
        self.assertNotEqual(probe.returncode, 0, "a live-off stream played live")
        p.wait(40)
        wait_for(lambda: " done: " in srv.error_log(), 10, what="record done")
        files = self.files(srv)
        self.assertEqual(len(files), 1, files)
        self.assertEqual(ffprobe_streams(files[0]), ["aac,audio", "h264,video"])
        self.assertLess(abs(duration(files[0]) - 4.0), 1.5, duration(files[0]))

    def check_rotated(self, files, min_files):
        self.assertGreaterEqual(len(files), min_files, files)
        for f in files:
            pk = video_packets(f)
            self.assertTrue(pk, f)
            self.assertIn("K", pk[0]["flags"], f)
            self.assertIn("h264,video", ffprobe_streams(f))

    def test_rotation_by_size_starts_every_file_on_a_keyframe(self):
        srv = self.srv("record all; record_path rec; record_max_size 150k;")
        self.publish(srv, media=make_flv(seconds=6, gop=30)).wait(40)
        wait_for(lambda: " done: " in srv.error_log(), 10, what="record done")
        time.sleep(0.5)
        self.check_rotated(self.files(srv), 2)

    def test_rotation_by_interval_and_unique_names(self):
        srv = self.srv("record all; record_path rec; record_interval 3s; record_unique on;")
        self.publish(srv).wait(40)
        wait_for(lambda: srv.error_log().count(" done: ") >= 3, 10, what="3 files done")
        time.sleep(0.5)
        files = self.files(srv)
        self.check_rotated(files, 3)
        for f in files:
            self.assertRegex(os.path.basename(f), r"^test-\d+(-\d+)?\.flv$")
            self.assertLess(duration(f), 3.0 + 2.5, f)

    def test_kill_9_leaves_a_readable_file(self):
        srv = self.srv("record all; record_path rec;")
        self.publish(srv, loop=True)
        path = os.path.join(srv.prefix, "rec", "test.flv")
        wait_for(lambda: os.path.exists(path) and os.path.getsize(path) > 300000, 20, what="recording")
        # the master, stopped, neither reaps (and logs an alert) nor respawns; killed
        # first, it would make its workers finish their files on SIGTERM
        os.kill(srv.pid, signal.SIGSTOP)
        for w in srv.workers_pids():
            os.kill(w, signal.SIGKILL)
        srv.proc.kill()
        srv.proc.wait()
        srv.proc = None
        self.assertEqual(ffprobe_streams(path), ["aac,audio", "h264,video"])
        ok, err = decodes(path)
        self.assertTrue(ok, err)

    def test_sigterm_finalizes_the_file(self):
        srv = self.srv("record all; record_path rec;")
        self.publish(srv, loop=True)
        path = os.path.join(srv.prefix, "rec", "test.flv")
        wait_for(lambda: os.path.exists(path) and os.path.getsize(path) > 300000, 20, what="recording")
        time.sleep(1)
        srv.stop()
        self.assertIn(" done: ", srv.error_log())
        self.assertGreater(duration(path), 1.0)

    def test_recorders_split_audio_and_keyframes(self):
        srv = self.srv("record_path rec;"
                       "recorder audio { record audio; record_suffix -audio.flv; }"
                       "recorder kf { record keyframes; record_suffix -kf.flv; }")
        self.publish(srv, media=make_flv(seconds=4, gop=30)).wait(40)
        wait_for(lambda: srv.error_log().count(" done: ") >= 2, 10, what="2 recorders done")
        d = os.path.join(srv.prefix, "rec")
        self.assertEqual(ffprobe_streams(os.path.join(d, "test-audio.flv")), ["aac,audio"])
        self.assertEqual(ffprobe_streams(os.path.join(d, "test-kf.flv")), ["h264,video"])
        pk = video_packets(os.path.join(d, "test-kf.flv"))
        self.assertTrue(pk and all("K" in p["flags"] for p in pk), pk[:5])

    def test_missing_directory_stops_only_the_recorder(self):
        srv = self.srv("record all; record_path rec/missing;")
        self.publish(srv, loop=True)
        wait_for(lambda: "recorder" in srv.error_log() and "[error]" in srv.error_log(), 15, what="error line")
        out = os.path.join(srv.prefix, "play.flv")
        r = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", srv.url("live/test"),
                            "-t", "2", "-c", "copy", "-f", "flv", out], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(ffprobe_streams(out), ["aac,audio", "h264,video"])
        errors = [l for l in srv.error_log().splitlines() if "[error]" in l and "record" in l]
        self.assertEqual(len(errors), 1, errors)
        self.assertIn("No such file or directory", errors[0])

    def test_exec_record_done_runs_without_a_shell(self):
        srv = self.srv("record all; record_path rec;"
                       "exec_record_done /usr/bin/touch {prefix}/done-$basename;")
        self.publish(srv, media=make_flv(seconds=2, gop=30)).wait(30)
        marker = os.path.join(srv.prefix, "done-test")
        wait_for(lambda: os.path.exists(marker), 10, what="exec_record_done marker")

    def test_hostile_names_create_nothing_outside_the_root(self):
        srv = self.srv("record all; record_path rec;")
        names = ["../../escape1", "/tmp/strom-abs-escape", "%2e%2e%2fescape2", "..%2F..%2Fescape3",
                 "..\\..\\escape4", "..", ".", "a/../../escape5", "x" * 200]
        for n in names:
            c = RawRtmp(srv.port)
            c.handshake()
            c.connect(port=srv.port)
            c.command("createStream", 2, amf_null())
            c.command("publish", 0, amf_null(), amf_str(n), amf_str("live"), msid=1, csid=8)
            time.sleep(0.2)
            c.chunk(6, 9, 1, b"\x17\x00\x00\x00\x00" + b"\x01\x64\x00\x1f\xff\xe1\x00\x04\x67\x64\x00\x1f")
            c.chunk(6, 9, 1, b"\x17\x01\x00\x00\x00" + b"\x00\x00\x00\x02\x65\x88", ts=40)
            time.sleep(0.2)
            c.close()
        wait_for(lambda: srv.error_log().count(" done: ") >= len(names) - 1, 10, what="records done")
        # every name above carries "escape" (or is all dots / x): nothing of that kind
        # appeared next to the prefix, in /tmp or at the root
        for d in (os.path.dirname(srv.prefix.rstrip("/")), "/tmp", "/", srv.prefix):
            leaked = [f for f in os.listdir(d) if "escape" in f or (d == srv.prefix and f.endswith(".flv"))]
            self.assertEqual(leaked, [], d)
        rec = os.path.join(srv.prefix, "rec")
        for f in os.listdir(rec):
            self.assertTrue(os.path.isfile(os.path.join(rec, f)), f)
            self.assertFalse(f.startswith("."), f)
        self.assertGreaterEqual(len(os.listdir(rec)), len(names) - 1)
        # and in the rest of the prefix, only what the server itself makes
        extra = [p for p in tree(srv.prefix) if not p.startswith(rec) and "/logs" not in p and "/conf" not in p]
        self.assertEqual(extra, [])

    # --- record_format mp4 (fragmented MP4, a plain MP4 after a clean close) ----------------

    def test_mp4_ten_seconds_recorded_with_both_streams_and_duration(self):
        srv = self.srv("record all; record_path rec; record_format mp4;")
        self.publish(srv).wait(40)
        wait_for(lambda: " done: " in srv.error_log(), 10, what="record done")
        files = self.files(srv)
        self.assertEqual(len(files), 1, files)
        self.assertTrue(files[0].endswith("/test.mp4"))
        self.assertEqual(ffprobe_streams(files[0]), ["aac,audio", "h264,video"])
        # within one GOP (60 frames at 30 fps) of 10 s
        self.assertLess(abs(duration(files[0]) - 10.0), 2.0, duration(files[0]))
        pk = video_packets(files[0])
        self.assertIn("K", pk[0]["flags"])
        self.assertGreater(len(pk), 250)
        with open(files[0], "rb") as f:
            data = f.read()
        # clean close: a plain MP4, the fragments' moof boxes and the first moov retyped
        # 'free', one complete moov at the end
        top = top_boxes(data)
        self.assertEqual(top[0], "ftyp")
        self.assertEqual(top[-1], "moov")
        self.assertNotIn("moof", top)
        self.assertEqual(top.count("moov"), 1)
        self.assertNotIn(b"mvex", data[data.rfind(b"moov"):])
        r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-ss", "6", "-i", files[0], "-f", "null", "-"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        ok, err = decodes(files[0])
        self.assertTrue(ok, err)

    def test_mp4_kill_9_leaves_a_readable_file(self):
        srv = self.srv("record all; record_path rec; record_format mp4;")
        self.publish(srv, media=make_flv(seconds=10, gop=30), loop=True)
        path = os.path.join(srv.prefix, "rec", "test.mp4")
        wait_for(lambda: os.path.exists(path) and os.path.getsize(path) > 300000, 20, what="recording")
        # the master, stopped, neither reaps (and logs an alert) nor respawns; killed
        # first, it would make its workers finish their files on SIGTERM
        os.kill(srv.pid, signal.SIGSTOP)
        for w in srv.workers_pids():
            os.kill(w, signal.SIGKILL)
        srv.proc.kill()
        srv.proc.wait()
        srv.proc = None
        self.assertEqual(ffprobe_streams(path), ["aac,audio", "h264,video"])
        self.assertGreater(duration(path), 0.5)
        ok, err = decodes(path)
        self.assertTrue(ok, err)

    def test_mp4_rotation_by_interval_starts_every_file_on_a_keyframe(self):
        srv = self.srv("record all; record_path rec; record_format mp4; record_interval 3s; record_unique on;")
        self.publish(srv).wait(40)
        wait_for(lambda: srv.error_log().count(" done: ") >= 3, 10, what="3 files done")
        time.sleep(0.5)
        files = self.files(srv)
        self.check_rotated(files, 3)
        for f in files:
            self.assertRegex(os.path.basename(f), r"^test-\d+(-\d+)?\.mp4$")
            self.assertLess(duration(f), 3.0 + 2.5, f)
            self.assertEqual(ffprobe_streams(f), ["aac,audio", "h264,video"])


if __name__ == "__main__":
    unittest.main()
