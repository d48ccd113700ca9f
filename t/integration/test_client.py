"""strom-client against a real server and real clients nobody here wrote: our publish
played by ffmpeg, ffmpeg's publish played by `strom-client play -o` and read by
ffprobe, probe's report, the bench's figures, and a clear error with a non-zero exit
code for every user mistake."""

import json
import os
import signal
import subprocess
import time
import unittest

from strom_harness import ServerTest, binary, ffprobe_streams, free_port, have, make_flv, wait_for

CONF = """
events { worker_connections 256; }
rtmp {
    server {
        listen 127.0.0.1:{port};
        application live { live on; }
    }
}
"""


def need(*tools):
    for t in tools:
        if not have(t):
            raise unittest.SkipTest("%s not installed" % t)


def client():
    return binary("strom-client")


CLIENT_ENV = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
                  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")


class ClientTest(ServerTest):
    def spawn(self, *args):
        """A background client process, stopped (SIGINT, then SIGKILL) at the end of the test."""
        p = subprocess.Popen([client(), *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=CLIENT_ENV)

        def stop():
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            p.stdout.close()
            p.stderr.close()
        self.addCleanup(stop)
        return p

    def run_client(self, *args, timeout=60):
        return subprocess.run([client(), *args], capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env=CLIENT_ENV)

    def assert_clean(self, r):
        self.assertNotIn("ERROR: AddressSanitizer", r.stderr)
        self.assertNotIn("runtime error:", r.stderr)

    def wait_published(self, srv, name):
        wait_for(lambda: 'publish "live/%s"' % name in srv.error_log(), 10, what="publish of " + name)

    def ffmpeg_publish(self, srv, name):
        need("ffmpeg")
        p = subprocess.Popen(["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1",
                              "-i", make_flv(), "-c", "copy", "-f", "flv", srv.url("live/" + name)],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def stop():
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.addCleanup(stop)
        return p


class PublishPlayTest(ClientTest):
    def test_client_publishes_and_ffmpeg_plays_both_streams(self):
        need("ffmpeg", "ffprobe")
        srv = self.server(CONF).start()
        pub = self.spawn("publish", make_flv(), srv.url("live/cli"), "--loop")
        self.wait_published(srv, "cli")
        out = os.path.join(srv.prefix, "ffmpeg.flv")
        r = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", srv.url("live/cli"),
                            "-t", "3", "-c", "copy", "-f", "flv", out], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(ffprobe_streams(out), ["aac,audio", "h264,video"])
        pub.send_signal(signal.SIGINT)
        self.assertEqual(pub.wait(10), 0, pub.stderr.read())
        summary = pub.stdout.read()
        self.assertIn("published", summary)
        self.assertIn("video", summary)

    def test_ffmpeg_publishes_and_client_writes_flv_that_ffprobe_reads(self):
        need("ffmpeg", "ffprobe")
        srv = self.server(CONF).start()
        self.ffmpeg_publish(srv, "ff")
        self.wait_published(srv, "ff")
        out = os.path.join(srv.prefix, "play.flv")
        r = self.run_client("play", srv.url("live/ff"), "-o", out, "--duration", "3s")
        self.assert_clean(r)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("wrote", r.stdout)
        self.assertEqual(ffprobe_streams(out), ["aac,audio", "h264,video"])
        frames = subprocess.run(["ffprobe", "-v", "error", "-count_packets", "-select_streams", "v",
                                 "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", out],
                                capture_output=True, text=True, timeout=30).stdout.strip()
        self.assertGreater(int(frames), 60)   # ~3 s at 30 fps

    def test_play_without_output_prints_per_second_stats(self):
        srv = self.server(CONF).start()
        self.spawn("publish", make_flv(), srv.url("live/st"), "--loop")
        self.wait_published(srv, "st")
        r = self.run_client("play", srv.url("live/st"), "--duration", "2500ms")
        self.assert_clean(r)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [l for l in r.stdout.splitlines() if "kbit/s" in l]
        self.assertGreaterEqual(len(lines), 2, r.stdout)
        self.assertIn("fps", lines[0])

    def test_publish_outlives_the_handshake_deadline(self):
        # The client session's handshake+connect deadline (10 s) must be disarmed once
        # publishing started.
        srv = self.server(CONF).start()
        r = self.run_client("publish", make_flv(seconds=2, tag="short"), srv.url("live/long"), "--loop",
                            "--duration", "11s", timeout=40)
        self.assert_clean(r)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("loops", r.stdout)


class ProbeTest(ClientTest):
    def test_probe_reports_codecs_and_resolution(self):
        srv = self.server(CONF).start()
        self.spawn("publish", make_flv(), srv.url("live/pr"), "--loop")
        self.wait_published(srv, "pr")
        r = self.run_client("probe", srv.url("live/pr"), "--duration", "2500ms")
        self.assert_clean(r)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("H.264", r.stdout)
        self.assertIn("320x240", r.stdout)
        self.assertIn("AAC", r.stdout)
        self.assertIn("44100", r.stdout)
        self.assertIn("first frame", r.stdout)
        self.assertIn("keyframes", r.stdout)
        j = self.run_client("probe", srv.url("live/pr"), "--duration", "2500ms", "--json")
        self.assertEqual(j.returncode, 0, j.stderr)
        rep = json.loads(j.stdout)
        self.assertEqual((rep["video"]["width"], rep["video"]["height"]), (320, 240))
        self.assertEqual(rep["video"]["codec"], "H.264")
        self.assertEqual(rep["audio"]["codec"], "AAC")
        self.assertAlmostEqual(rep["video"]["fps"], 30, delta=2)
        self.assertGreaterEqual(rep["first_frame_ms"], 0)


class BenchTest(ClientTest):
    def test_bench_reports_figures_for_a_few_players(self):
        srv = self.server(CONF).start()
        r = self.run_client("bench", srv.url("live"), "--file", make_flv(), "--players", "5", "--idle", "3",
                            "--warmup", "500ms", "--duration", "2s", "--server-pid", str(srv.pid), "--json")
        self.assert_clean(r)
        self.assertEqual(r.returncode, 0, r.stderr)
        rep = json.loads(r.stdout.splitlines()[-1])
        self.assertEqual(rep["players_ok"], 5)
        self.assertEqual(rep["idle_ok"], 3)
        self.assertEqual(rep["players_failed"], 0)
        self.assertEqual(rep["lost"] + rep["duplicated"] + rep["reordered"], 0)
        self.assertGreater(rep["latency_samples"], 100)
        self.assertGreater(rep["mbps"], 0)
        self.assertTrue(rep["server_sampled"])


class ErrorTest(ClientTest):
    def expect_error(self, args, code, text):
        r = self.run_client(*args, timeout=30)
        self.assert_clean(r)
        self.assertEqual(r.returncode, code, "%s\nstdout: %s\nstderr: %s" % (args, r.stdout, r.stderr))
        self.assertIn(text, r.stderr)
        self.assertTrue(r.stderr.startswith("strom-client: "), r.stderr)
        return r

    def test_bad_urls_and_arguments_exit_2(self):
        media = make_flv()
        self.expect_error(["publish", media, "http://127.0.0.1/live/x"], 2, 'scheme "http" is not supported')
        self.expect_error(["play", "rtmp://127.0.0.1/live"], 2, "missing stream name")
        self.expect_error(["play", "rtmp://127.0.0.1:99999/live/x"], 2, "invalid port")
        self.expect_error(["publish", media], 2, "needs a FILE.flv and an rtmp:// URL")
        self.expect_error(["play", "rtmp://127.0.0.1/live/x", "--duration", "soon"], 2, "invalid value")
        self.expect_error(["frobnicate"], 2, 'unknown command "frobnicate"')

    def test_unreachable_host_exits_1(self):
        port = free_port()   # nothing listens there
        self.expect_error(["play", "rtmp://127.0.0.1:%d/live/x" % port], 1, "cannot connect to 127.0.0.1:%d" % port)
        self.expect_error(["publish", make_flv(), "rtmp://127.0.0.1:%d/live/x" % port], 1, "cannot connect")
        self.expect_error(["probe", "rtmp://no-such-host.invalid/live/x"], 1, "cannot resolve host")

    def test_unreadable_file_exits_3(self):
        srv = self.server(CONF).start()
        self.expect_error(["publish", "/nonexistent/x.flv", srv.url("live/x")], 3, 'cannot open "/nonexistent/x.flv"')
        junk = os.path.join(srv.prefix, "junk.flv")
        with open(junk, "wb") as f:
            f.write(b"this is not an FLV file at all")
        self.expect_error(["publish", junk, srv.url("live/x")], 3, "FLV")
        self.expect_error(["play", srv.url("live/x"), "-o", "/nonexistent/dir/out.flv"], 3, "cannot create")

    def test_rejected_publish_reports_the_status_code(self):
        srv = self.server(CONF).start()
        self.spawn("publish", make_flv(), srv.url("live/taken"), "--loop")
        self.wait_published(srv, "taken")
        self.expect_error(["publish", make_flv(), srv.url("live/taken")], 1, "NetStream.Publish.BadName")

    def test_unknown_application_is_rejected(self):
        srv = self.server(CONF).start()
        r = self.expect_error(["play", srv.url("nosuchapp/x"), "--timeout", "5s"], 1, "rejected")
        self.assertIn("NetConnection.Connect", r.stderr)


if __name__ == "__main__":
    unittest.main()
