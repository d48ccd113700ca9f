"""VOD: `play DIR` serves FLV and MP4 files to ffmpeg and rtmpdump, from the start, from a
start position, through a seek, to the end; names never leave the play directories; our
own MP4 recordings (plain after a clean close, fragmented after a crash) play back."""

import json
import os
import select
import shutil
import struct
import subprocess
import time
import unittest

from rtmp_raw import RawRtmp, amf_bool, amf_null, amf_num, amf_str, open_play
from strom_harness import ServerTest, binary, ffprobe_streams, have, make_flv

CONF = """
events { worker_connections 256; }
rtmp {
    server {
        listen 127.0.0.1:{port};
        application vod { play {prefix}/vod1 {prefix}/vod2; play_buffer 500ms; }
        application rec {
            live on;
            record all; record_path {prefix}/vod1; record_format mp4;
            recorder flv { record all; record_path {prefix}/vod2; record_format flv; }
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


def first_video_pts(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                        "packet=pts_time,flags", "-read_intervals", "%+#1", "-of", "json", path],
                       capture_output=True, text=True, timeout=30)
    pk = json.loads(r.stdout or "{}").get("packets", [])
    return (float(pk[0]["pts_time"]), pk[0]["flags"]) if pk else (None, "")


class VodBase(ServerTest):
    def setUp(self):
        super().setUp()
        need("ffmpeg", "ffprobe")
        self.media = make_flv(seconds=8, gop=60)

    def srv(self):
        s = self.server(CONF)
        os.makedirs(os.path.join(s.prefix, "vod1"))
        os.makedirs(os.path.join(s.prefix, "vod2"))
        # vod2 only: found in the second directory. indexed.flv carries a keyframe index.
        shutil.copy(self.media, os.path.join(s.prefix, "vod2", "movie.flv"))
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", self.media, "-c", "copy",
                        "-flvflags", "add_keyframe_index", os.path.join(s.prefix, "vod1", "indexed.flv")],
                       check=True, timeout=60)
        shutil.copy(self.media, os.path.join(s.prefix, "secret.flv"))
        return s.start()

    def stream_lengths(self, srv, names):
        """getStreamLength of each name in turn, over a raw connection to app vod."""
        c = RawRtmp(srv.port)
        c.handshake()
        c.connect(app="vod", port=srv.port)
        for i, name in enumerate(names):
            c.command("getStreamLength", 5 + i, amf_null(), amf_str(name))
        data = b""
        deadline = time.time() + 5
        while data.count(b"_result") < len(names) + 1 and time.time() < deadline:
            data += c.sock.recv(65536)
        c.close()
        out = []
        for i in range(len(names)):
            marker = b"\x00" + struct.pack(">d", 5 + i) + b"\x05\x00"
            at = data.find(marker)
            self.assertGreaterEqual(at, 0, "no _result for %s" % names[i])
            out.append(struct.unpack(">d", data[at + len(marker):at + len(marker) + 8])[0])
        return out

    def ffmpeg_play(self, srv, name, pre=(), seconds=None, timeout=40):
        out = os.path.join(srv.prefix, "out-%s-%d.flv" % (name.replace("/", "_"), int(time.time() * 1000)))
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *pre, "-i", srv.url("vod/" + name)]
        if seconds:
            cmd += ["-t", str(seconds)]
        cmd += ["-c", "copy", "-f", "flv", out]
        t0 = time.time()
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return r, out, time.time() - t0



class VodTest(VodBase):
    def test_ffmpeg_plays_to_the_end_in_real_time(self):
        srv = self.srv()
        r, out, took = self.ffmpeg_play(srv, "movie")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(ffprobe_streams(out), ["aac,audio", "h264,video"])
        self.assertLess(abs(duration(out) - 8.0), 1.0, duration(out))
        self.assertGreater(took, 6.0)   # paced, not dumped at disk speed
        self.assertIn("complete", srv.error_log())

    def test_ffmpeg_plays_an_indexed_file_with_a_start_position(self):
        srv = self.srv()
        r, out, _ = self.ffmpeg_play(srv, "indexed", pre=("-ss", "4"), seconds=2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(ffprobe_streams(out), ["aac,audio", "h264,video"])

    def test_rtmpdump_plays_from_a_start_position_on_a_keyframe(self):
        need("rtmpdump")
        srv = self.srv()
        for name in ("movie", "indexed"):
            out = os.path.join(srv.prefix, "dump-%s.flv" % name)
            r = subprocess.run(["rtmpdump", "-q", "-r", srv.url("vod/" + name), "-A", "4", "-o", out],
                               capture_output=True, text=True, timeout=40)
            streams = ffprobe_streams(out)   # rtmpdump re-stamps onMetaData: a "text" stream
            self.assertIn("aac,audio", streams, r.stderr)
            self.assertIn("h264,video", streams, r.stderr)
            pts, flags = first_video_pts(out)
            self.assertIn("K", flags)
            # the server starts on the keyframe at or before 4 s (its log says where);
            # rtmpdump then applies its own start filtering, so only a lower bound here
            self.assertGreaterEqual(pts, 1.9)
        self.assertIn("start 4000ms", srv.error_log())

    def test_rtmpdump_plays_whole_file(self):
        need("rtmpdump")
        srv = self.srv()
        out = os.path.join(srv.prefix, "dump.flv")
        r = subprocess.run(["rtmpdump", "-r", srv.url("vod/movie"), "-o", out],
                           capture_output=True, text=True, timeout=40)
        # rtmpdump exits 2 when the last timestamp is under 99.9% of onMetaData's duration
        # (the last frame's own duration): a known rtmpdump quirk, as with any server
        self.assertTrue(r.returncode == 0 or (r.returncode == 2 and "about 99." in r.stderr), r.stderr[-500:])
        self.assertLess(abs(duration(out) - 8.0), 1.0)

    def test_missing_and_escaping_names_are_not_found(self):
        need("rtmpdump")
        srv = self.srv()
        for name in ("nothere", "../secret", "..%2fsecret", "%2e%2e/secret", "/" + srv.prefix + "/secret",
                     "..\\secret"):
            out = os.path.join(srv.prefix, "bad.flv")
            r = subprocess.run(["rtmpdump", "-q", "-r", srv.url("vod/" + name), "-o", out, "-m", "5"],
                               capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0, name)
            self.assertTrue(not os.path.exists(out) or os.path.getsize(out) < 1000, name)
            if os.path.exists(out):
                os.unlink(out)


    def test_get_stream_length_reports_the_file_duration(self):
        srv = self.srv()
        lengths = self.stream_lengths(srv, ["indexed", "nothing-here"])
        self.assertAlmostEqual(lengths[0], 8.0, delta=0.5)
        self.assertEqual(lengths[1], 0.0)


def make_mp4(flags=(), tag="bframes", seconds=8):
    """An H.264 (with B-frames: an edit list and composition offsets) + AAC MP4 made by
    ffmpeg from lavfi sources, with extra muxer flags (cached per run)."""
    d = os.path.dirname(make_flv(seconds=seconds, gop=60))
    path = os.path.join(d, "%s-%d.mp4" % (tag, seconds))
    if not os.path.exists(path):
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
                        "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30",
                        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", str(seconds),
                        "-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "60", "-pix_fmt", "yuv420p",
                        "-c:a", "aac", "-b:a", "64k", *flags, path], check=True, timeout=120)
    return path


def decodes(path):
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-"],
                       capture_output=True, text=True, timeout=60)
    return r.returncode == 0 and not r.stderr.strip(), r.stderr[-500:]


class Mp4VodTest(VodBase):
    def srv(self):
        s = super().srv()
        shutil.copy(make_mp4(), os.path.join(s.prefix, "vod1", "bf.mp4"))
        shutil.copy(make_mp4(("-movflags", "+faststart"), tag="fast"), os.path.join(s.prefix, "vod2", "fast.mp4"))
        return s

    def test_ffmpeg_plays_an_mp4_with_b_frames_to_the_end_in_real_time(self):
        srv = self.srv()
        r, out, took = self.ffmpeg_play(srv, "bf")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(ffprobe_streams(out), ["aac,audio", "h264,video"])
        self.assertLess(abs(duration(out) - 8.0), 1.0, duration(out))
        self.assertGreater(took, 6.0)
        ok, err = decodes(out)
        self.assertTrue(ok, err)
        pts, flags = first_video_pts(out)
        self.assertIn("K", flags)
        self.assertIn("complete", srv.error_log())

    def test_recordings_play_from_the_start_from_a_position_and_to_the_end(self):
        # one publish recorded twice (MP4 in vod1, FLV in vod2), then both played back
        need("rtmpdump")
        srv = self.srv()
        pub = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-i", make_flv(seconds=8, gop=60),
                              "-c", "copy", "-f", "flv", srv.url("rec/test")], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(pub.returncode, 0, pub.stderr)
        deadline = time.time() + 10
        while srv.error_log().count(" done: ") < 2 and time.time() < deadline:
            time.sleep(0.1)
        self.assertTrue(os.path.exists(os.path.join(srv.prefix, "vod1", "test.mp4")))
        self.assertTrue(os.path.exists(os.path.join(srv.prefix, "vod2", "test.flv")))
        for name in ("mp4:test", "flv:test"):
            # from the start to the end
            r, out, took = self.ffmpeg_play(srv, name)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(ffprobe_streams(out), ["aac,audio", "h264,video"], name)
            self.assertLess(abs(duration(out) - 8.0), 1.0, (name, duration(out)))
            self.assertGreater(took, 6.0, name)
            ok, err = decodes(out)
            self.assertTrue(ok, (name, err))
            # from a start position (rtmpdump -A: play's start argument), on a keyframe
            out = os.path.join(srv.prefix, "dump-%s.flv" % name[:3])
            r = subprocess.run(["rtmpdump", "-q", "-r", srv.url("vod/" + name), "-A", "4", "-o", out],
                               capture_output=True, text=True, timeout=40)
            streams = ffprobe_streams(out)
            self.assertIn("h264,video", streams, (name, r.stderr))
            self.assertIn("aac,audio", streams, (name, r.stderr))
            pts, flags = first_video_pts(out)
            self.assertIn("K", flags, name)
            self.assertGreaterEqual(pts, 1.9, name)
        self.assertEqual(srv.error_log().count("start 4000ms"), 2)

    def test_a_recording_being_written_plays_what_it_holds(self):
        # the file changes with every fragment: the player gets the index it waited for
        srv = self.srv()
        pub = subprocess.Popen(["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-i", make_flv(seconds=8, gop=60),
                                "-c", "copy", "-f", "flv", srv.url("rec/live")], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            path = os.path.join(srv.prefix, "vod1", "live.mp4")
            deadline = time.time() + 20
            while time.time() < deadline and not (os.path.exists(path) and os.path.getsize(path) > 60000):
                time.sleep(0.1)
            r, out, _ = self.ffmpeg_play(srv, "mp4:live")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(ffprobe_streams(out), ["aac,audio", "h264,video"])
            self.assertGreater(duration(out), 1.5)
            ok, err = decodes(out)
            self.assertTrue(ok, err)
        finally:
            pub.kill()
            pub.wait()

    def test_rtmpdump_plays_a_faststart_mp4_whole(self):
        need("rtmpdump")
        srv = self.srv()
        out = os.path.join(srv.prefix, "dump.flv")
        r = subprocess.run(["rtmpdump", "-r", srv.url("vod/fast.mp4"), "-o", out],
                           capture_output=True, text=True, timeout=40)
        self.assertTrue(r.returncode == 0 or (r.returncode == 2 and "about 99." in r.stderr), r.stderr[-500:])
        self.assertLess(abs(duration(out) - 8.0), 1.0)
        self.assertIn("h264,video", ffprobe_streams(out))

    def test_a_cut_fragmented_mp4_plays_its_complete_fragments(self):
        srv = self.srv()
        frag = make_mp4(("-movflags", "frag_keyframe+empty_moov"), tag="frag")
        with open(frag, "rb") as f:
            data = f.read()
        with open(os.path.join(srv.prefix, "vod1", "cut.mp4"), "wb") as f:
            f.write(data[:len(data) * 6 // 10])   # a crash in the middle of a fragment
        r, out, _ = self.ffmpeg_play(srv, "cut")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(ffprobe_streams(out), ["aac,audio", "h264,video"])
        self.assertGreater(duration(out), 1.5)
        self.assertLess(duration(out), 7.0)
        ok, err = decodes(out)
        self.assertTrue(ok, err)

    def test_hevc_mp4_reaches_an_enhanced_rtmp_player(self):
        # ffmpeg 5.1 and GStreamer 1.22 (Debian 12) do not read Enhanced RTMP: our client does
        srv = self.srv()
        path = os.path.join(srv.prefix, "vod1", "hevc.mp4")
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=sample_rate=44100", "-t", "4",
                        "-c:v", "libx265", "-x265-params", "log-level=error", "-tag:v", "hvc1", "-bf", "2", "-g", "25",
                        "-pix_fmt", "yuv420p", "-c:a", "aac", path], check=True, timeout=120)
        r = subprocess.run([binary("strom-client"), "probe", srv.url("vod/hevc"), "--duration", "3", "--json"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        p = json.loads(r.stdout)
        self.assertEqual(p["video"]["codec"], "HEVC")
        self.assertEqual((p["video"]["width"], p["video"]["height"]), (320, 240))
        self.assertGreater(p["video"]["frames"], 50)
        self.assertEqual(p["audio"]["codec"], "AAC")
        self.assertAlmostEqual(float(p["metadata"]["duration"]), 4.0, delta=0.2)

    def test_stream_length_names_and_a_broken_file(self):
        srv = self.srv()
        with open(os.path.join(srv.prefix, "vod1", "junk.mp4"), "wb") as f:
            f.write(b"\x00\x00\x00\x18ftypisom" + os.urandom(5000))
        for length in self.stream_lengths(srv, ["mp4:bf", "fast.mp4"]):
            self.assertAlmostEqual(length, 8.0, delta=0.5)
        # a file that is not MP4: the player is refused, the log says why, the server goes on
        r, out, _ = self.ffmpeg_play(srv, "junk.mp4", timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("cannot be played", srv.error_log())
        r, out, _ = self.ffmpeg_play(srv, "bf", seconds=1)
        self.assertEqual(r.returncode, 0, r.stderr)


class SeekPauseTest(VodBase):
    """seek and pause as a Flash-style player sends them, read back message by message."""

    def open_play(self, srv, name):
        c = RawRtmp(srv.port, timeout=10)
        r, msid = open_play(c, srv.port, "vod", name)
        return c, r, msid

    @staticmethod
    def is_frame(mtype, body):
        return mtype == 9 and len(body) > 1 and not (body[0] & 0x80) and body[1] == 1

    def until(self, r, pred, what, limit=5000):
        for _ in range(limit):
            m = r.next()
            if pred(*m):
                return m
        self.fail("no " + what)

    def seek_and_pause(self, name):
        srv = self.srv()
        c, r, msid = self.open_play(srv, name)
        self.until(r, lambda t, m, ts, b: self.is_frame(t, b) and ts >= 1000, "video at 1 s")
        c.command("seek", 0, amf_null(), amf_num(5000), msid=msid, csid=8)
        self.until(r, lambda t, m, ts, b: t == 20 and b"NetStream.Seek.Notify" in b, "Seek.Notify")
        t, _, ts, body = self.until(r, lambda t, m, ts, b: self.is_frame(t, b), "a frame after the seek")
        self.assertEqual(body[0] >> 4, 1, "the first frame after a seek is a keyframe")
        self.assertLess(abs(ts - 4000), 100, ts)   # keyframes every 2 s: the one at or before 5 s
        # pause: once what was sent ahead is read, nothing comes; unpause: frames again, later ones
        c.command("pause", 0, amf_null(), amf_bool(True), amf_num(ts), msid=msid, csid=8)
        time.sleep(1.0)
        last = ts
        while select.select([c.sock], [], [], 0.6)[0]:   # VOD sends in bursts
            t, _, mts, body = r.next()
            if self.is_frame(t, body):
                last = mts
        self.assertEqual(select.select([c.sock], [], [], 1.5)[0], [], "media while paused")
        c.command("pause", 0, amf_null(), amf_bool(False), amf_num(last), msid=msid, csid=8)
        t, _, ts, _ = self.until(r, lambda t, m, ts, b: self.is_frame(t, b), "a frame after unpausing")
        self.assertGreaterEqual(ts, last)
        c.close()

    def test_seek_and_pause_an_mp4(self):
        self.seek_and_pause("bf")

    def test_seek_and_pause_an_flv(self):
        self.seek_and_pause("movie")

    def srv(self):
        s = super().srv()
        shutil.copy(make_mp4(), os.path.join(s.prefix, "vod1", "bf.mp4"))
        return s


LIVE_PLAY_CONF = """
events { worker_connections 256; }
rtmp {
    server {
        listen 127.0.0.1:{port};
        application tv { live on; play {prefix}/vod1; }
    }
}
"""


class LiveThenFileTest(ServerTest):
    """`live on` and `play DIR` in one application: the live stream when it has a
    publisher, else the file when one exists, else wait as an idle stream."""

    def test_live_then_file_then_wait(self):
        need("ffmpeg", "ffprobe")
        media = make_flv(seconds=8, gop=60)
        srv = self.server(LIVE_PLAY_CONF)
        os.makedirs(os.path.join(srv.prefix, "vod1"))
        shutil.copy(media, os.path.join(srv.prefix, "vod1", "show.flv"))
        srv.start()
        # no publisher, a file: the file plays (to its end: 8 s of media)
        out = os.path.join(srv.prefix, "file.flv")
        r = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", srv.url("tv/show"),
                            "-c", "copy", "-f", "flv", out], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGreater(duration(out), 7.0)
        self.assertIn('play "tv/show" from 127.0.0.1', srv.error_log())
        self.assertIn("not live, playing the file", srv.error_log())
        # a live publisher of the same name wins over the file
        pub = subprocess.Popen(["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1",
                                "-i", make_flv(seconds=10, gop=30, size="160x120", tag="live"),
                                "-c", "copy", "-f", "flv", srv.url("tv/show")])
        try:
            deadline = time.time() + 10
            while 'publish "tv/show" (' not in srv.error_log() and time.time() < deadline:
                time.sleep(0.1)
            r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                                "stream=width", "-of", "csv=p=0", srv.url("tv/show")],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.stdout.strip(), "160")   # the live stream, not the 320x240 file
        finally:
            pub.terminate()
            pub.wait(10)
        # neither: the player waits like an idle stream (no StreamNotFound)
        c = RawRtmp(srv.port)
        reader, _ = open_play(c, srv.port, "tv", "nothing")
        deadline = time.time() + 10
        while "waiting for the publisher" not in srv.error_log() and time.time() < deadline:
            time.sleep(0.1)
        self.assertIn('play "tv/nothing" from 127.0.0.1', srv.error_log())
        self.assertIn("waiting for the publisher", srv.error_log())
        c.close()


if __name__ == "__main__":
    unittest.main()
