"""RTMP interop against clients we did not write (ffmpeg, rtmpdump/librtmp,
GStreamer rtmp2), live-stream behaviour, and hostile input that must close only the
offending connection."""

import json
import os
import signal
import struct
import subprocess
import time
import unittest

from rtmp_raw import RawRtmp, amf_null, amf_num, amf_obj, amf_str
from strom_harness import ServerTest, ffprobe_streams, have, make_flv, wait_for

CONF = """
events { worker_connections 256; }
rtmp {
    server {
        listen 127.0.0.1:{port}%(listen)s;
        %(server)s
        application live { live on; %(live)s }
    }
}
"""


def conf(extra="", server="", listen=""):
    return CONF % {"live": extra, "server": server, "listen": listen}


def need(*tools):
    for t in tools:
        if not have(t):
            raise unittest.SkipTest("%s not installed" % t)


class Proc:
    """A client process, killed at the end of the test."""

    def __init__(self, test, cmd, **kw):
        self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, **kw)
        test.addCleanup(self.stop)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()

    def wait(self, timeout):
        return self.p.wait(timeout)

    def output(self):
        return self.p.stdout.read().decode(errors="replace") if self.p.stdout else ""


class LiveTestBase(ServerTest):
    def publish(self, srv, name="test", loop=True, media=None, extra=()):
        need("ffmpeg")
        media = media or make_flv()
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-re"]
        if loop:
            cmd += ["-stream_loop", "-1"]
        cmd += ["-i", media, "-c", "copy", *extra, "-f", "flv", srv.url("live/" + name)]
        return Proc(self, cmd)

    def wait_published(self, srv, name="test", count=1):
        wait_for(lambda: srv.error_log().count('publish "live/%s" (' % name) >= count, 10,
                 what="publish of %s" % name)

    def play_to_file(self, srv, name="test", seconds=3, timeout=20, out=None):
        out = out or os.path.join(srv.prefix, "play-%s-%d.flv" % (name, int(time.time() * 1000)))
        r = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", srv.url("live/" + name),
                            "-t", str(seconds), "-c", "copy", "-f", "flv", out],
                           capture_output=True, text=True, timeout=timeout)
        return r, out

    def packets(self, path, stream="v"):
        r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", stream, "-show_entries",
                            "packet=pts_time,flags", "-of", "json", path], capture_output=True, text=True)
        return json.loads(r.stdout or "{}").get("packets", [])


class InteropTest(LiveTestBase):
    def test_ffmpeg_publishes_and_ffmpeg_plays_both_streams(self):
        srv = self.server(conf()).start()
        self.publish(srv)
        self.wait_published(srv)
        r, out = self.play_to_file(srv, seconds=5)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(ffprobe_streams(out), ["aac,audio", "h264,video"])
        self.assertGreater(len(self.packets(out)), 100)   # ~5 s at 30 fps

    def test_rtmpdump_plays(self):
        need("rtmpdump", "ffprobe")
        srv = self.server(conf()).start()
        self.publish(srv)
        self.wait_published(srv)
        out = os.path.join(srv.prefix, "rtmpdump.flv")
        p = subprocess.Popen(["rtmpdump", "-q", "-v", "-r", srv.url("live/test"), "-o", out])
        time.sleep(3)
        p.send_signal(signal.SIGINT)
        p.wait(10)
        streams = ffprobe_streams(out)
        self.assertIn("h264,video", streams)
        self.assertIn("aac,audio", streams)
        self.assertGreater(len(self.packets(out)), 30)

    def test_gstreamer_publishes_with_rtmp2sink_and_plays_with_rtmp2src(self):
        need("gst-launch-1.0", "ffprobe")
        srv = self.server(conf()).start()
        media = make_flv()
        Proc(self, ["gst-launch-1.0", "-q", "filesrc", "location=" + media, "!", "flvdemux", "name=d",
                    "d.video", "!", "queue", "!", "h264parse", "!", "flvmux", "name=m", "streamable=true", "!",
                    "rtmp2sink", "location=" + srv.url("live/gst"),
                    "d.audio", "!", "queue", "!", "aacparse", "!", "m."])
        self.wait_published(srv, "gst")
        out = os.path.join(srv.prefix, "gst.flv")
        r = subprocess.run(["gst-launch-1.0", "-q", "-e", "rtmp2src", "location=" + srv.url("live/gst"),
                            "num-buffers=200", "!", "filesink", "location=" + out],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        streams = ffprobe_streams(out)
        self.assertTrue(any("video" in s for s in streams), streams)
        self.assertTrue(any("audio" in s for s in streams), streams)


class LiveTest(LiveTestBase):
    def test_late_joiner_starts_on_the_cached_keyframe(self):
        # One keyframe every 10 s: a player joining at ~3 s gets the keyframe at 0 from
        # the GOP cache at once; without the cache its first frame would be the one at 10 s.
        srv = self.server(conf()).start()
        self.publish(srv, loop=False, media=make_flv(seconds=20, gop=300))
        self.wait_published(srv)
        time.sleep(3.2)
        out = os.path.join(srv.prefix, "late.flv")
        r = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-copyts", "-i", srv.url(),
                            "-frames:v", "1", "-an", "-c", "copy", "-f", "flv", out],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        pk = self.packets(out)
        self.assertTrue(pk and "K" in pk[0]["flags"], pk[:2])
        self.assertLess(float(pk[0]["pts_time"]), 5.0, "the first frame was not the cached keyframe")

    def test_republish_after_unpublish(self):
        srv = self.server(conf()).start()
        p = self.publish(srv, loop=False, media=make_flv(seconds=2))
        self.wait_published(srv)
        p.wait(20)
        wait_for(lambda: 'unpublish "live/test"' in srv.error_log(), 5, what="unpublish")
        self.publish(srv)
        self.wait_published(srv, count=2)
        r, out = self.play_to_file(srv, seconds=2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("h264,video", ffprobe_streams(out))

    def test_second_publisher_is_rejected(self):
        srv = self.server(conf()).start()
        self.publish(srv)
        self.wait_published(srv)
        r = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-i", make_flv(), "-t", "3",
                            "-c", "copy", "-f", "flv", srv.url()], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("already publishing", srv.error_log())
        r, out = self.play_to_file(srv, seconds=2)   # the first one goes on
        self.assertEqual(r.returncode, 0, r.stderr)

    allowed_alerts = ()

    def test_publisher_takeover_and_player_continues(self):
        srv = self.server(conf("publisher_takeover on;")).start()
        first = self.publish(srv)
        self.wait_published(srv)
        out = os.path.join(srv.prefix, "through.flv")
        player = Proc(self, ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", srv.url(), "-t", "6",
                             "-c", "copy", "-f", "flv", out])
        time.sleep(2)
        self.publish(srv)
        wait_for(lambda: "takes over" in srv.error_log(), 10, what="takeover")
        wait_for(lambda: first.p.poll() is not None, 10, what="first publisher gone")
        player.wait(30)
        self.assertEqual(player.p.returncode, 0, player.output())
        pk = self.packets(out)
        ts = [float(p["pts_time"]) for p in pk if "pts_time" in p]
        self.assertGreater(ts[-1] - ts[0], 4.5)   # played through the switch
        self.assertTrue(all(b >= a - 0.5 for a, b in zip(ts, ts[1:])), "timestamps went back")

    def test_access_log_has_one_line_per_connection(self):
        srv = self.server(conf(), extra_main="access_log logs/access.log;").start()
        p = self.publish(srv, loop=False, media=make_flv(seconds=2))
        self.wait_published(srv)
        p.wait(20)
        log = os.path.join(srv.prefix, "logs", "access.log")
        wait_for(lambda: os.path.exists(log) and "role=publish" in open(log).read(), 10, what="access log")
        lines = open(log).read().splitlines()
        pub = [l for l in lines if "role=publish" in l]
        self.assertEqual(len(pub), 1, lines)
        self.assertIn('app="live" stream="test"', pub[0])
        self.assertRegex(pub[0], r"in=\d{5,} out=\d+ time=\d+\.\d{3}s")

    def test_idle_streams_off_answers_stream_not_found(self):
        srv = self.server(conf("idle_streams off;")).start()
        r, out = self.play_to_file(srv, name="nothing", seconds=1)
        self.assertNotEqual(r.returncode, 0)
        wait_for(lambda: "not published" in srv.error_log(), 5, what="log line")


class RobustnessTest(LiveTestBase):
    """Each hostile case closes only its own connection, with one log line; a healthy
    player of another stream keeps receiving throughout."""

    def healthy(self, srv):
        self.publish(srv, name="healthy")
        self.wait_published(srv, "healthy")
        out = os.path.join(srv.prefix, "healthy.flv")
        player = Proc(self, ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", srv.url("live/healthy"),
                             "-t", "8", "-c", "copy", "-f", "flv", out])
        return player, out

    def after_handshake(self, srv):
        c = RawRtmp(srv.port)
        c.handshake()
        return c

    def test_hostile_inputs_close_only_the_offender(self):
        srv = self.server(conf()).start()
        player, out = self.healthy(srv)
        time.sleep(1)
        cases = []

        # random bytes instead of a handshake
        c = RawRtmp(srv.port)
        c.sock.sendall(b"\x06" + os.urandom(3000))
        cases.append(("bad version", c))
        # truncated handshake, then silence: closed at the (absolute) deadline
        c = RawRtmp(srv.port)
        c.sock.sendall(b"\x03" + b"\x00" * 100)
        cases.append(("truncated handshake", c))
        # chunk size 0x7FFFFFFF then a small message: accepted, never used as a size
        c = self.after_handshake(srv)
        c.chunk(2, 1, 0, struct.pack(">I", 0x7FFFFFFF))
        c.connect(port=srv.port)
        cases.append(("huge chunk size ok", c))
        # message length 0xFFFFFF over max_message
        c = self.after_handshake(srv)
        c.chunk(3, 20, 0, b"\x02\x00\x07connect", length=0xFFFFFF)
        cases.append(("too big", c))
        # AMF nesting 10,000 deep
        c = self.after_handshake(srv)
        body = amf_str("connect") + amf_num(1) + b"\x0a\x00\x00\x00\x01" * 10000
        c.chunk(3, 20, 0, body, chunk_size=128)
        cases.append(("deep AMF", c))
        # unknown command with a transaction id: _error, connection stays
        c = self.after_handshake(srv)
        c.connect(port=srv.port)
        c.command("noSuchCommand", 7, amf_null())
        cases.append(("unknown command", c))
        # garbage after the handshake
        c = self.after_handshake(srv)
        c.sock.sendall(os.urandom(20000))
        cases.append(("random chunks", c))

        results = {}
        for name, c in cases:
            if name in ("huge chunk size ok", "unknown command"):
                continue
            try:
                c.read_until_closed(timeout=15)
                results[name] = "closed"
            except ConnectionResetError:
                results[name] = "closed"   # closed with our bytes unread: a reset
            except Exception as e:   # noqa: BLE001
                results[name] = "open: %s" % e
        for name in ("bad version", "too big", "deep AMF", "random chunks", "truncated handshake"):
            self.assertEqual(results.get(name), "closed", results)

        # the unknown command got an _error and the connection is still usable
        c = dict(cases)["unknown command"]
        c.sock.settimeout(3)
        data = b""
        deadline = time.time() + 3
        while b"Method not found" not in data and time.time() < deadline:
            data += c.sock.recv(65536)
        self.assertIn(b"_error", data)
        c.command("createStream", 8, amf_null())
        more = c.sock.recv(65536)
        self.assertIn(b"_result", more)
        for _, c in cases:
            c.close()

        player.wait(30)
        self.assertEqual(player.p.returncode, 0, player.output())
        pk = self.packets(out)
        ts = [float(p["pts_time"]) for p in pk if "pts_time" in p]
        self.assertGreater(ts[-1] - ts[0], 7.0, "the healthy player was disturbed")
        log = srv.error_log()
        self.assertIn("unsupported RTMP version", log)
        self.assertIn("too big", log)
        self.assertIn("unknown command \"noSuchCommand\"", log)
        self.assertRegex(log, r"(depth|nest)")


if __name__ == "__main__":
    unittest.main()


class MultiWorkerTest(LiveTestBase):
    """Every worker serves every stream: players accepted anywhere get a stream
    published anywhere, also across a reload (new workers pull from the draining one)."""

    def many_players(self, workers, players=20, seconds=2, server="", listen=""):
        srv = self.server(conf(server=server, listen=listen), workers=workers).start()
        self.publish(srv)
        self.wait_published(srv)
        procs = []
        for i in range(players):
            out = os.path.join(srv.prefix, "p%d.flv" % i)
            procs.append((Proc(self, ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", srv.url(),
                                      "-t", str(seconds), "-c", "copy", "-f", "flv", out]), out))
        for p, out in procs:
            p.wait(60)
            self.assertEqual(p.p.returncode, 0, p.output())
            ts = [float(x["pts_time"]) for x in self.packets(out) if "pts_time" in x]
            self.assertGreater(ts[-1] - ts[0], seconds - 0.5, out)
        log = srv.error_log()
        pids = {line.split("]")[1].split(":")[0].strip() for line in log.splitlines() if '] ' in line and ' play "live/test"' in line}
        return srv, pids, log

    def test_twenty_players_on_two_workers(self):
        srv, pids, log = self.many_players(2)
        if len(pids) > 1:
            self.assertIn("pulling \"live/test\"", log)

    def test_twenty_players_on_four_workers(self):
        # With one shared socket an idle first worker may take every connection;
        # reuseport spreads them by address hash (all 20 on one of 4: 4^-19).
        srv, pids, log = self.many_players(4, listen=" reuseport")
        self.assertGreater(len(pids), 1, "all players landed on one worker; nothing crossed workers")
        self.assertIn("pulling \"live/test\"", log)

    def test_pulls_outlive_the_handshake_deadline(self):
        # internal pulls are client sessions: their connect deadline must end at connect
        srv, pids, log = self.many_players(4, players=8, seconds=7, server="handshake_timeout 3s;",
                                           listen=" reuseport")
        self.assertNotIn("no connect in time", log)
        self.assertNotIn("ended: no connect", log)
        if len(pids) > 1:   # reuseport: 8 on one of 4 workers is 4^-7
            self.assertIn("pulling \"live/test\"", log)

    def test_reload_during_streaming_keeps_players_and_serves_new_ones(self):
        srv = self.server(conf(), workers=2).start()
        self.publish(srv)
        self.wait_published(srv)
        out = os.path.join(srv.prefix, "through-reload.flv")
        player = Proc(self, ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", srv.url(), "-t", "7",
                             "-c", "copy", "-f", "flv", out])
        time.sleep(2)
        old = set(srv.workers_pids())
        srv.signal(signal.SIGHUP)
        wait_for(lambda: len(set(srv.workers_pids()) - old) == 2, 10, what="new workers")
        # a player after the reload lands on a new worker, which pulls from the old one
        r, late = self.play_to_file(srv, seconds=2)
        self.assertEqual(r.returncode, 0, r.stderr)
        ts = [float(x["pts_time"]) for x in self.packets(late) if "pts_time" in x]
        self.assertGreater(ts[-1] - ts[0], 1.5)
        self.assertIn("pulling \"live/test\"", srv.error_log())
        player.wait(30)
        self.assertEqual(player.p.returncode, 0, player.output())
        ts = [float(x["pts_time"]) for x in self.packets(out) if "pts_time" in x]
        self.assertGreater(ts[-1] - ts[0], 6.0, "the player was cut by the reload")
