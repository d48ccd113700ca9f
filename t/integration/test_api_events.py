"""The activity list (`GET /api/v1/events`, `GET /api/v1/events/stream`) on 2 workers: a
scripted scenario (ffmpeg publishes, an RTMP player and a curl HTTP-FLV player play and
leave, a play refused by `deny play all`, an HTTP-FLV play of an absent stream refused, the
publisher leaves) shows up in order in the list, whichever worker answers and whichever
worker each client landed on; an SSE client opened before the scenario receives it;
bad queries are refused in JSON."""

import json
import os
import signal
import socket
import subprocess
import threading
import time

from strom_harness import make_flv, wait_for
from test_api import get
from test_rtmp import LiveTestBase, Proc, need

CONF = """
events { worker_connections 512; }
rtmp {
    server {
        listen 127.0.0.1:{port} reuseport;
        application live { live on; }
        application closed { live on; deny play all; }
        application rec { live on; record all; record_path {prefix}/rec; }
    }
}
http {
    server {
        listen 127.0.0.1:{http_port} reuseport;
        location / { flv_live on; }
        location /api/ { api on; }
    }
}
"""


class SseReader:
    """A raw Server-Sent Events client: collects (id, event, data) in a thread."""

    def __init__(self, test, port, last_id=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        test.addCleanup(self.sock.close)
        head = "GET /api/v1/events/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
        if last_id is not None:
            head += "Last-Event-ID: %d\r\n" % last_id
        self.sock.sendall((head + "\r\n").encode())
        self.buf = b""
        self.head = None
        self.events = []
        self.comments = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        self.sock.settimeout(60)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return
                self.buf += data
                if self.head is None and b"\r\n\r\n" in self.buf:
                    self.head, self.buf = self.buf.split(b"\r\n\r\n", 1)
                while self.head is not None and b"\n\n" in self.buf:
                    block, self.buf = self.buf.split(b"\n\n", 1)
                    self.parse(block.decode())
        except OSError:
            return

    def parse(self, block):
        ev = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                with self.lock:
                    self.comments.append(line)
                continue
            k, _, v = line.partition(": ")
            ev[k] = v
        if "data" in ev:
            with self.lock:
                self.events.append((int(ev["id"]), ev["event"], json.loads(ev["data"])))

    def got(self):
        with self.lock:
            return list(self.events)


class EventsTest(LiveTestBase):
    def setUp(self):
        super().setUp()
        need("ffmpeg", "curl")
        self.media = make_flv()
        self.srv = self.server(CONF, workers=2)
        os.makedirs(os.path.join(self.srv.prefix, "rec"), exist_ok=True)
        self.srv.start()

    def events(self, since=0):
        status, body, ctype = get(self.srv.http_port, "/api/v1/events?since=%d&limit=1000" % since)
        self.assertEqual(status, 200, body)
        self.assertEqual(ctype, "application/json")
        return json.loads(body)

    def of_stream(self, name):
        return [e for e in self.events()["events"] if e["stream"] == name]

    def wait_types(self, name, types, what):
        def ready():
            evs = self.of_stream(name)
            return evs if [e["type"] for e in evs] == types else None
        return wait_for(ready, 15, what=what)

    def test_scenario_in_order_from_both_workers_and_live_over_sse(self):
        pids = set(self.srv.workers_pids())
        self.assertEqual(len(pids), 2)
        wait_for(lambda: {e["worker"] for e in self.events()["events"]
                          if e["type"] == "worker-start"} == pids, 10, what="worker-start events")
        sse = SseReader(self, self.srv.http_port)
        wait_for(lambda: sse.head is not None, 5, what="the SSE answer head")
        self.assertIn(b"200 OK", sse.head)
        self.assertIn(b"Content-Type: text/event-stream", sse.head)
        start = self.events()["next"]

        pub = self.publish(self.srv, "ev", media=self.media)
        self.wait_types("ev", ["publish"], "the publish event")
        # An RTMP player that leaves by itself, then an HTTP-FLV one.
        r, _ = self.play_to_file(self.srv, "ev", seconds=1)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_types("ev", ["publish", "play", "stop"], "the RTMP player's play and stop")
        subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "2",
                        self.srv.http_url("live/ev.flv")], timeout=20)
        self.wait_types("ev", ["publish", "play", "stop", "play", "stop"], "the HTTP-FLV player")
        # Refused: an access rule (RTMP), a stream that is not there (HTTP-FLV).
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "quiet", "-i",
                        self.srv.url("closed/ev"), "-t", "1", "-f", "null", "-"],
                       timeout=20, capture_output=True)
        self.wait_types("ev", ["publish", "play", "stop", "play", "stop", "refused"],
                        "the refused RTMP play")
        status, _, _ = get(self.srv.http_port, "/live/absent.flv")
        self.assertEqual(status, 404)
        wait_for(lambda: self.of_stream("absent"), 10, what="the refused HTTP-FLV play")
        pub.stop()
        types = ["publish", "play", "stop", "play", "stop", "refused", "unpublish"]
        self.wait_types("ev", types, "the unpublish event")

        evs = self.of_stream("ev")
        ids = [e["id"] for e in evs]
        self.assertEqual(ids, sorted(ids))
        self.assertTrue(all(i > start for i in ids))
        publish, play1, stop1, play2, stop2, refused, unpublish = evs
        for e in evs:
            self.assertIn(e["worker"], pids)
            self.assertTrue(e["address"].startswith("127.0.0.1:"), e)
            self.assertGreater(e["client"], 0)
            self.assertLess(abs(e["time"] / 1000 - time.time()), 60)
            iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(e["time"] // 1000))
            self.assertEqual(e["iso_time"], iso + ".%03dZ" % (e["time"] % 1000))
        self.assertEqual((publish["app"], publish["protocol"]), ("live", "rtmp"))
        self.assertEqual(unpublish["client"], publish["client"])
        self.assertEqual(unpublish["worker"], publish["worker"])
        self.assertEqual((play1["protocol"], stop1["client"]), ("rtmp", play1["client"]))
        self.assertEqual((play2["protocol"], stop2["client"]), ("http-flv", play2["client"]))
        self.assertEqual(stop2["worker"], play2["worker"])
        self.assertEqual((refused["app"], refused["protocol"]), ("closed", "rtmp"))
        self.assertIn("play: NetStream.Play", refused["detail"])
        absent = self.of_stream("absent")[0]
        self.assertEqual((absent["type"], absent["protocol"]), ("refused", "http-flv"))
        self.assertIn("play: ", absent["detail"])

        # Every worker answers the same list.
        seen = {}
        for _ in range(30):
            status, body, _ = get(self.srv.http_port, "/api/v1/events?since=%d" % start)
            seen[body] = True
        self.assertEqual(len(seen), 1)

        # The SSE client opened before all this got every event, with id and type.
        wait_for(lambda: [t for _, t, d in sse.got() if d["stream"] == "ev"] == types, 10,
                 what="the scenario over SSE")
        for i, t, d in sse.got():
            self.assertEqual((i, t), (d["id"], d["type"]))
        self.assertEqual([d for _, _, d in sse.got() if d["stream"] == "ev"], evs)

        # Last-Event-ID: a new feed resumes after the given id.
        again = SseReader(self, self.srv.http_port, last_id=publish["id"])
        wait_for(lambda: len([1 for _, _, d in again.got() if d["stream"] == "ev"]) == 6, 10,
                 what="the feed after Last-Event-ID")
        self.assertEqual([i for i, _, d in again.got() if d["stream"] == "ev"], ids[1:])

    def test_paging_with_since_limit_and_next(self):
        before = self.events()["next"]
        for _ in range(3):
            status, _, _ = get(self.srv.http_port, "/live/nothing.flv")
            self.assertEqual(status, 404)
        wait_for(lambda: len(self.of_stream("nothing")) == 3, 10, what="3 refusals")
        status, body, _ = get(self.srv.http_port, "/api/v1/events?since=%d&limit=2" % before)
        page = json.loads(body)
        self.assertEqual(len(page["events"]), 2)
        self.assertEqual(page["next"], page["events"][-1]["id"])
        self.assertEqual(page["lost"], 0)
        rest = self.events(page["next"])
        self.assertEqual([e["id"] for e in rest["events"]][:1], [page["next"] + 1])
        self.assertEqual(rest["next"], rest["last"])

    def test_bad_queries_are_refused_in_json(self):
        for q in ["since=x", "limit=0", "limit=1001", "what=1", "since=-1",
                  "since=123456789012345678901"]:
            status, body, ctype = get(self.srv.http_port, "/api/v1/events?" + q)
            self.assertEqual(status, 400, q)
            self.assertEqual(ctype, "application/json")
            self.assertIn("error", json.loads(body))
        s = socket.create_connection(("127.0.0.1", self.srv.http_port), timeout=5)
        self.addCleanup(s.close)
        s.sendall(b"GET /api/v1/events/stream HTTP/1.1\r\nHost: x\r\nLast-Event-ID: abc\r\n\r\n")
        self.assertIn(b" 400 ", s.recv(4096).split(b"\r\n")[0] + b" ")
        self.assertIn("bad Last-Event-ID", self.srv.error_log())

    def test_the_feed_closes_when_the_worker_drains(self):
        sse = SseReader(self, self.srv.http_port)
        wait_for(lambda: sse.head is not None, 5, what="the SSE answer head")
        old = set(self.srv.workers_pids())
        # A reload drains the old workers; with no worker_shutdown_timeout they would wait
        # for the feed for ever if it did not close itself.
        self.srv.signal(signal.SIGHUP)
        sse.thread.join(10)
        self.assertFalse(sse.thread.is_alive(), "the feed stayed open while draining")
        wait_for(lambda: not old & set(self.srv.workers_pids()), 10, what="old workers gone")

    def test_record_done_and_a_reload_are_listed(self):
        pids = set(self.srv.workers_pids())
        pub = Proc(self, ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-i", self.media,
                          "-t", "3", "-c", "copy", "-f", "flv", self.srv.url("rec/r1")])
        self.wait_types("r1", ["publish"], "the publish event")
        pub.wait(30)
        done = self.wait_types("r1", ["publish", "unpublish", "record-done"], "record-done")
        path = done[-1]["detail"]
        self.assertTrue(path.startswith(os.path.join(self.srv.prefix, "rec")), path)
        self.assertTrue(os.path.getsize(path) > 10000)
        self.assertEqual((done[-1]["app"], done[-1]["worker"]), ("rec", done[0]["worker"]))

        self.srv.signal(signal.SIGHUP)
        def reloaded():
            evs = self.events()["events"]
            started = {e["worker"] for e in evs if e["type"] == "worker-start"
                       and "generation 1" in e["detail"]}
            exited = {e["worker"] for e in evs if e["type"] == "worker-exit"}
            return len(started) == 2 and exited == pids
        wait_for(reloaded, 20, what="the new workers' start and the old ones' exit")
        # The new generation reads what the old one wrote: the ring outlives the workers.
        self.assertEqual([e["type"] for e in self.of_stream("r1")],
                         ["publish", "unpublish", "record-done"])


class EventsLimitTest(LiveTestBase):
    def test_a_connection_refused_by_a_limit_is_listed(self):
        srv = self.server(LIMIT_CONF, workers=1).start()
        first = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        self.addCleanup(first.close)
        second = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        self.addCleanup(second.close)
        def refused():
            status, body, _ = get(srv.http_port, "/api/v1/events")
            return [e for e in json.loads(body)["events"] if e["type"] == "refused"]
        evs = wait_for(refused, 10, what="the refused connection")
        self.assertEqual(len(evs), 1)
        self.assertEqual(evs[0]["protocol"], "rtmp")
        self.assertIn("connect: max_connections_per_ip 1 reached", evs[0]["detail"])
        self.assertTrue(evs[0]["address"].startswith("127.0.0.1:"))


LIMIT_CONF = """
rtmp {
    server {
        listen 127.0.0.1:{port};
        max_connections_per_ip 1;
        application live { live on; }
    }
}
http {
    server {
        listen 127.0.0.1:{http_port};
        location /api/ { api on; }
    }
}
"""
