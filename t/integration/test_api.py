"""The whole server's figures over HTTP (`location /api/ { api on; }` and
`location /metrics { metrics on; }`) on 2 workers: a stream published by ffmpeg on one
worker, played by ffmpeg over RTMP and by curl over HTTP-FLV on both, the JSON API and the
Prometheus text checked field by field against what the clients did, answered by each
worker alike; a hostile stream name escaped; bad paths and queries refused in JSON."""

import json
import subprocess
import time
import unittest
import urllib.error
import urllib.request

from strom_harness import ServerTest, have, make_flv, wait_for
from test_rtmp import LiveTestBase, Proc, need

CONF = """
events { worker_connections 512; }
rtmp {
    server {
        listen 127.0.0.1:{port} reuseport;
        application live { live on; }
    }
}
http {
    server {
        listen 127.0.0.1:{http_port} reuseport;
        location / { flv_live on; }
        location /api/ { api on; }
        location /metrics { metrics on; }
    }
}
"""

HOSTILE = 'cam"<&>\\x'


def get(port, path):
    """(status, body bytes) of a GET on a fresh connection."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
            return r.status, r.read(), r.headers.get("Content-Type")
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers.get("Content-Type")


def api(srv, path):
    status, body, ctype = get(srv.http_port, path)
    assert status == 200, (path, status, body)
    assert ctype == "application/json", ctype
    return json.loads(body)


def probe(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                        "stream=codec_type,width,height,sample_rate,channels,r_frame_rate",
                        "-of", "json", path], capture_output=True, text=True, timeout=30)
    return {s["codec_type"]: s for s in json.loads(r.stdout)["streams"]}


class ApiTest(LiveTestBase):
    def setUp(self):
        super().setUp()
        need("ffmpeg", "ffprobe", "curl")
        self.media = make_flv()
        self.srv = self.server(CONF, workers=2).start()
        self.url_name = HOSTILE.replace("\\", "%5C").replace('"', "%22").replace("<", "%3C") \
            .replace(">", "%3E").replace("&", "%26")

    def rtmp_url(self):
        return self.srv.url("live/" + HOSTILE)

    def publish_hostile(self):
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1",
               "-i", self.media, "-c", "copy", "-f", "flv", self.rtmp_url()]
        Proc(self, cmd)
        wait_for(lambda: self.stream(), 15, what="the stream in the API")

    def stream(self):
        status, body, _ = get(self.srv.http_port, "/api/v1/streams/live/" + self.url_name)
        if status != 200:
            return None
        st = json.loads(body)
        return st if st["source"] == "local-publisher" and st["video"] else None

    def rtmp_player(self):
        Proc(self, ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", self.rtmp_url(),
                    "-c", "copy", "-f", "null", "-"])

    def flv_player(self):
        Proc(self, ["curl", "-s", "-o", "/dev/null",
                    self.srv.http_url("live/%s.flv" % self.url_name)])

    def clients(self):
        return api(self.srv, "/api/v1/clients?limit=1000")["clients"]

    def start_players_on_both_workers(self):
        """RTMP and HTTP-FLV players until each worker has some (reuseport spreads them
        by address hash); returns how many of each were started."""
        n_rtmp = n_flv = 0
        for _ in range(12):
            self.rtmp_player()
            self.flv_player()
            n_rtmp += 1
            n_flv += 1
            wait_for(lambda: sum(c["role"] == "player" for c in self.clients()) == n_rtmp + n_flv,
                     15, what="%d players listed" % (n_rtmp + n_flv))
            workers = {c["worker"] for c in self.clients() if c["role"] == "player"}
            if n_rtmp >= 2 and len(workers) == 2:
                return n_rtmp, n_flv
        self.fail("players never reached both workers")

    def test_streams_clients_and_summary_cover_both_workers(self):
        self.publish_hostile()
        n_rtmp, n_flv = self.start_players_on_both_workers()
        pids = set(self.srv.workers_pids())
        self.assertEqual(len(pids), 2)

        # Every worker answers for the whole server: several requests reach both.
        answered = set()
        for _ in range(40):
            s = api(self.srv, "/api/v1/summary")
            answered.add(s["answered_by"])
            self.assertEqual({w["pid"] for w in s["workers"]}, pids)
            if len(answered) == 2:
                break
        self.assertEqual(answered, pids)

        # The stream, field by field.
        def settled():
            st = self.stream()
            return st if st and st["players"]["total"] == n_rtmp + n_flv and st["bitrate"] > 0 else None
        st = wait_for(settled, 15, what="players counted and a bitrate")
        self.assertEqual(st["app"], "live")
        self.assertEqual(st["name"], HOSTILE)
        info = probe(self.media)
        self.assertEqual(st["video"]["codec"], "H.264")
        self.assertEqual(st["video"]["width"], info["video"]["width"])
        self.assertEqual(st["video"]["height"], info["video"]["height"])
        num, den = info["video"]["r_frame_rate"].split("/")
        self.assertAlmostEqual(st["video"]["fps"], int(num) / int(den), places=2)
        self.assertEqual(st["audio"]["codec"], "AAC")
        self.assertEqual(st["audio"]["sample_rate"], int(info["audio"]["sample_rate"]))
        self.assertEqual(st["audio"]["channels"], info["audio"]["channels"])
        self.assertTrue(st["publisher"]["encoder"].startswith("Lavf"), st["publisher"])
        self.assertTrue(st["publisher"]["address"].startswith("127.0.0.1:"))
        self.assertEqual(st["publisher"]["protocol"], "rtmp")
        self.assertEqual(st["players"], {"total": n_rtmp + n_flv, "rtmp": n_rtmp,
                                         "http_flv": n_flv, "ws_flv": 0})
        self.assertIn(st["worker"], pids)
        self.assertGreater(st["bytes_in"], 0)
        # A few hundred kbit/s for the test clip; measured, so within a wide band.
        self.assertTrue(50000 < st["bitrate"] < 5000000, st["bitrate"])
        self.assertGreater(st["uptime"], 0)
        parts = {p["pid"]: p for p in st["workers"]}
        self.assertEqual(set(parts), pids)
        owner, other = parts[st["worker"]], parts[(pids - {st["worker"]}).pop()]
        self.assertEqual(owner["source"], "local-publisher")
        self.assertEqual(other["source"], "worker-pull")
        # The other worker's pull is not a player of the stream, it is counted apart.
        self.assertEqual(owner["worker_pulls"], 1)
        self.assertEqual(owner["players"]["total"] + other["players"]["total"], n_rtmp + n_flv)
        listed = [x["name"] for x in api(self.srv, "/api/v1/streams")["streams"]]
        self.assertEqual(listed, [HOSTILE])

        # Clients: the publisher and each player once, with their worker.
        cl = self.clients()
        pubs = [c for c in cl if c["role"] == "publisher"]
        self.assertEqual(len(pubs), 1)
        self.assertEqual(pubs[0]["worker"], st["worker"])
        self.assertEqual(pubs[0]["protocol"], "rtmp")
        self.assertGreater(pubs[0]["bytes_in"], 0)
        players = [c for c in cl if c["role"] == "player"]
        self.assertEqual(sorted(c["protocol"] for c in players),
                         sorted(["rtmp"] * n_rtmp + ["http-flv"] * n_flv))
        for c in cl:
            self.assertEqual((c["app"], c["name"]), ("live", HOSTILE))
            self.assertIn(c["worker"], pids)
            self.assertGreaterEqual(c["duration"], 0)
        wait_for(lambda: all(c["bytes_out"] > 10000 for c in self.clients()
                             if c["role"] == "player"), 15, what="players receiving")
        # Paging.
        page = api(self.srv, "/api/v1/clients?offset=1&limit=2")
        self.assertEqual(page["total"], len(cl))
        self.assertEqual(len(page["clients"]), 2)
        self.assertEqual(page["left_out"], 0)

        # The summary adds up the workers.
        s = api(self.srv, "/api/v1/summary")
        self.assertEqual(s["streams"], 1)
        self.assertEqual(s["connections"]["rtmp"], sum(w["connections"]["rtmp"] for w in s["workers"]))
        self.assertGreaterEqual(s["connections"]["rtmp"], 1 + n_rtmp)
        self.assertGreaterEqual(s["connections"]["http"], n_flv)
        self.assertEqual(s["connections"]["internal"], 1)
        self.assertGreater(s["bytes_out"], s["bytes_in"] // 2)
        for w in s["workers"]:
            self.assertEqual(w["state"], "running")
            self.assertEqual(w["generation"], 0)
            self.assertGreater(w["rss_bytes"], 1 << 20)
            self.assertGreaterEqual(w["cpu_seconds"], 0)

    def test_hostile_names_are_escaped(self):
        self.publish_hostile()
        _, body, _ = get(self.srv.http_port, "/api/v1/streams")
        text = body.decode()
        self.assertIn('"cam\\"\\u003c\\u0026\\u003e\\\\x"', text)
        self.assertNotIn("<", text)
        _, body, _ = get(self.srv.http_port, "/metrics")
        self.assertIn('stream="cam\\"<&>\\\\x"', body.decode())

    def test_metrics_pass_promtool_and_count_players(self):
        if not have("promtool"):
            raise unittest.SkipTest("promtool not installed")
        self.publish_hostile()
        self.rtmp_player()
        self.flv_player()
        wait_for(lambda: (self.stream() or {}).get("players", {}).get("total") == 2, 15,
                 what="two players")
        status, body, ctype = get(self.srv.http_port, "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(ctype.startswith("text/plain; version=0.0.4"), ctype)
        r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        text = body.decode()
        label = 'app="live",stream="cam\\"<&>\\\\x"'
        self.assertIn('strom_stream_players{%s,protocol="rtmp"} 1\n' % label, text)
        self.assertIn('strom_stream_players{%s,protocol="http-flv"} 1\n' % label, text)
        self.assertIn("strom_workers 2\n", text)
        self.assertIn("# TYPE strom_received_bytes_total counter\n", text)

    def test_metrics_cap_labelled_streams(self):
        srv = self.server(CONF.replace("location /metrics {", "location /metrics { metrics_max_streams 1;"),
                          workers=1).start()
        for name in ("a", "b"):
            Proc(self, ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1",
                        "-i", self.media, "-c", "copy", "-f", "flv", srv.url("live/" + name)])
        wait_for(lambda: len(api(srv, "/api/v1/streams")["streams"]) == 2, 15, what="2 streams")
        _, body, _ = get(srv.http_port, "/metrics")
        text = body.decode()
        published = [l for l in text.splitlines() if l.startswith("strom_stream_published{")]
        self.assertEqual(len(published), 2, published)
        self.assertIn('strom_stream_published{app="",stream=""} 1', published)
        self.assertIn("strom_streams 2\n", text)

    def test_bad_paths_and_queries_get_json_errors(self):
        cases = [("/api/v1/nope", 404), ("/api/v2/summary", 404),
                 ("/api/v1/streams/live/absent", 404), ("/api/v1/streams/live", 404),
                 ("/api/v1/streams/live/%zz", 400), ("/api/v1/clients?limit=abc", 400),
                 ("/api/v1/clients?limit=0", 400), ("/api/v1/clients?color=red", 400),
                 ("/api/v1/summary?x=1", 400), ("/metrics/extra", 404)]
        for path, want in cases:
            status, body, ctype = get(self.srv.http_port, path)
            self.assertEqual(status, want, path)
            self.assertEqual(ctype, "application/json", path)
            self.assertIn("error", json.loads(body), path)
        log = self.srv.error_log()
        self.assertEqual(log.count("api: GET /api/v1/nope from"), 1)
        # the server is unharmed
        self.assertEqual(api(self.srv, "/api/v1/summary")["streams"], 0)


if __name__ == "__main__":
    unittest.main()
