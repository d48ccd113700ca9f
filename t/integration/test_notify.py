"""HTTP callbacks (the notify module) against a local python http.server written here:
it answers 200, 403, 302 and slowly, by path, and keeps every request so the tests check
the form fields one by one (including a stream name with '&' and a flashVer with CR/LF,
which must arrive encoded, not as extra fields or headers)."""

import http.server
import os
import signal
import socket
import subprocess
import threading
import time
import unittest
import urllib.parse

from rtmp_raw import RawRtmp, amf_null, amf_obj, amf_str
from strom_harness import ServerTest, ffprobe_streams, free_port, have, make_flv, wait_for
from test_http_flv import http_get


class Callbacks(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", free_port()), CallbackHandler)
        self.requests = []   # (method, path, headers, form, raw body)
        self.location = "renamed"   # what /redirect answers
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self):
        return self.server_address[1]

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def calls(self, call=None):
        with self.lock:
            return [r for r in self.requests if call is None or r[3].get("call") == call]

    def stop(self):
        self.shutdown()
        self.server_close()


class CallbackHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, body_form):
        path = urllib.parse.urlsplit(self.path).path
        if isinstance(body_form, bytes):
            body_form = body_form.decode("latin-1")
        update_play = urllib.parse.parse_qs(body_form).get("call") == ["update_play"]
        if path.startswith("/slow") or (path.startswith("/play-slow") and update_play):
            time.sleep(4)
        if path.startswith("/deny") or (path.startswith("/play-deny") and update_play):
            self.send_response(403)
            self.send_header("Content-Length", "0")
        elif path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", self.server.location)
            self.send_header("Content-Length", "0")
        else:
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if not (path.startswith("/deny") or path.startswith("/redirect")
                or (path.startswith("/play-deny") and update_play)):
            self.wfile.write(b"2\r\nok\r\n0\r\n\r\n")

    def record(self, form, raw):
        flat = {k: v[0] for k, v in urllib.parse.parse_qs(form, keep_blank_values=True).items()}
        with self.server.lock:
            self.server.requests.append((self.command, self.path, dict(self.headers), flat, raw))
        return flat

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        self.record(raw.decode("latin-1"), raw)
        self.answer_quietly(raw)

    def do_GET(self):
        q = urllib.parse.urlsplit(self.path).query
        self.record(q, q.encode())
        self.answer_quietly(q)

    def answer_quietly(self, form):
        try:
            self.answer(form)
        except (BrokenPipeError, ConnectionResetError):
            pass   # the server gave up first (the slow answers): what the tests want


CONF = """
events { worker_connections 256; }
rtmp {
    server {
        listen 127.0.0.1:{port};
        application live {
            live on;
            %s
        }
    }
}
"""


def need(*tools):
    for t in tools:
        if not have(t):
            raise unittest.SkipTest("%s not installed" % t)


class NotifyBase(ServerTest):
    """A callback service per test, the server, and ffmpeg publishers/players stopped at the end."""

    def setUp(self):
        super().setUp()
        self.cb = Callbacks()
        self.addCleanup(self.cb.stop)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        super().tearDown()

    def start(self, directives):
        srv = self.server(CONF % directives.replace("{cb}", "http://127.0.0.1:%d" % self.cb.port))
        os.makedirs(os.path.join(srv.prefix, "rec"), exist_ok=True)
        return srv.start()

    def publish(self, url, loop=True):
        need("ffmpeg")
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-re"]
        if loop:
            cmd += ["-stream_loop", "-1"]
        cmd += ["-i", make_flv(), "-c", "copy", "-f", "flv", url]
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def play(self, srv, url, seconds=2):
        need("ffmpeg")
        out = os.path.join(srv.prefix, "play-%d.flv" % int(time.time() * 1000))
        r = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-rw_timeout", "8000000",
                            "-i", url, "-t", str(seconds), "-c", "copy", "-f", "flv", out],
                           capture_output=True, text=True, timeout=30)
        return r.returncode == 0 and os.path.exists(out) and os.path.getsize(out) > 1000


class NotifyTest(NotifyBase):
    def test_publish_allowed_fields_and_publish_done(self):
        srv = self.start("on_publish {cb}/allow; on_publish_done {cb}/done; on_done {cb}/done;")
        p = self.publish(srv.url("live/cam?token=abc"))
        wait_for(lambda: 'publish "live/cam" (live)' in srv.error_log(), 15, what="publish")
        method, path, headers, f, raw = self.cb.calls("publish")[0]
        self.assertEqual(method, "POST")
        self.assertEqual(headers.get("Content-Type"), "application/x-www-form-urlencoded")
        self.assertEqual(f["app"], "live")
        self.assertEqual(f["name"], "cam")
        self.assertEqual(f["type"], "live")
        self.assertEqual(f["addr"], "127.0.0.1")
        self.assertEqual(f["token"], "abc")
        self.assertEqual(f["tcurl"], "rtmp://127.0.0.1:%d/live" % srv.port)
        self.assertTrue(f["flashver"])
        self.assertTrue(f["clientid"].isdigit())
        p.kill()
        p.wait()
        wait_for(lambda: self.cb.calls("publish_done") and self.cb.calls("done"), 10, what="done calls")
        self.assertEqual(self.cb.calls("publish_done")[0][3]["name"], "cam")

    def test_publish_rejected_by_403(self):
        srv = self.start("on_publish {cb}/deny;")
        p = self.publish(srv.url("live/cam"), loop=False)
        self.assertNotEqual(p.wait(20), 0, "ffmpeg publish must fail")
        self.assertIn("rejected by answer 403", srv.error_log())
        self.assertNotIn('publish "live/cam" (live)', srv.error_log())

    def test_play_renamed_by_302(self):
        srv = self.start("on_play {cb}/redirect;")
        self.publish(srv.url("live/renamed"))
        wait_for(lambda: 'publish "live/renamed" (live)' in srv.error_log(), 15, what="publish")
        self.assertTrue(self.play(srv, srv.url("live/cam")), "the play of cam gets renamed")
        self.assertIn('renamed to "renamed"', srv.error_log())
        self.assertEqual(self.cb.calls("play")[0][3]["name"], "cam")

    def test_slow_service_fails_closed(self):
        srv = self.start("on_publish {cb}/slow; notify_timeout 1s;")
        p = self.publish(srv.url("live/cam"), loop=False)
        self.assertNotEqual(p.wait(20), 0)
        self.assertIn("timed out; rejected by notify_fail closed", srv.error_log())

    def test_slow_service_fails_open(self):
        srv = self.start("on_publish {cb}/slow; notify_timeout 1s; notify_fail open;")
        self.publish(srv.url("live/cam"))
        wait_for(lambda: 'publish "live/cam" (live)' in srv.error_log(), 15, what="publish")
        self.assertIn("timed out; allowed by notify_fail open", srv.error_log())

    def test_hostile_strings_arrive_encoded(self):
        srv = self.start("on_connect {cb}/allow; on_publish {cb}/allow; notify_method post;")
        c = RawRtmp(srv.port)
        self.addCleanup(c.close)
        c.handshake()
        evil = "LNX 9\r\nX-Injected: 1&call=evil"
        c.command("connect", 1, amf_obj({"app": "live", "tcUrl": "rtmp://127.0.0.1/live",
                                          "flashVer": evil, "objectEncoding": 0}))
        c.command("createStream", 2, amf_null())
        c.command("publish", 0, amf_null(), amf_str("a&call=play&name=x"), amf_str("live"),
                  msid=1, csid=8)
        wait_for(lambda: self.cb.calls("publish"), 10, what="on_publish call")
        for _, _, headers, f, raw in self.cb.calls():
            self.assertNotIn("X-Injected", headers)
            self.assertNotIn(b"\r", raw)
            self.assertEqual(f["flashver"], evil)
        f = self.cb.calls("publish")[0][3]
        self.assertEqual(f["name"], "a&call=play&name=x")
        self.assertEqual(f["call"], "publish")
        self.assertEqual(len(self.cb.calls("connect")), 1)
        self.assertEqual(len(self.cb.calls("play")), 0)

    def test_update_403_ends_a_running_publisher(self):
        srv = self.start("on_update {cb}/deny; notify_update_timeout 1s;")
        p = self.publish(srv.url("live/cam"))
        wait_for(lambda: 'publish "live/cam" (live)' in srv.error_log(), 15, what="publish")
        wait_for(lambda: "ends the session" in srv.error_log(), 10, what="update rejection")
        self.assertEqual(self.cb.calls("update_publish")[0][3]["name"], "cam")
        wait_for(lambda: p.poll() is not None, 15, what="ffmpeg to stop")

    def test_record_done_names_the_file(self):
        srv = self.start("record all; record_path {prefix}/rec; on_record_done {cb}/rec;")
        p = self.publish(srv.url("live/cam"))
        wait_for(lambda: 'publish "live/cam" (live)' in srv.error_log(), 15, what="publish")
        time.sleep(2)
        p.kill()
        p.wait()
        wait_for(lambda: self.cb.calls("record_done"), 10, what="on_record_done")
        f = self.cb.calls("record_done")[0][3]
        self.assertEqual(f["name"], "cam")
        self.assertEqual(f["app"], "live")
        self.assertTrue(f["path"].endswith("/cam.flv"), f["path"])
        self.assertTrue(os.path.exists(f["path"]), f["path"])


ORIGIN_CONF = """
events { worker_connections 256; }
rtmp {
    server {
        listen 127.0.0.1:{port};
        application live {
            live on;
        }
    }
}
"""


class SilentOrigin:
    """A TCP "origin" that accepts and then says nothing (handshake=False), or answers the
    RTMP handshake and nothing more (handshake=True); close_after closes each accepted
    connection after that many seconds. It holds a relay in its handshake or connect."""

    def __init__(self, handshake=False, close_after=None):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.handshake = handshake
        self.close_after = close_after
        self.conns = []
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        try:
            if self.handshake:
                got = b""
                while len(got) < 1537:
                    more = c.recv(4096)
                    if not more:
                        return
                    got += more
                c.sendall(b"\x03" + bytes(1536) + got[1:1537])
            if self.close_after is not None:
                time.sleep(self.close_after)
                c.close()
        except OSError:
            pass

    def close(self):
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


def raw_play(port, name):
    """A raw player: handshake, connect, createStream, play `name` on stream 1."""
    c = RawRtmp(port)
    c.handshake()
    c.connect(port=port)
    c.command("createStream", 2, amf_null())
    c.command("play", 0, amf_null(), amf_str(name), msid=1, csid=8)
    return c


class RelayRedirectTest(NotifyBase):
    """notify_relay_redirect: a 3xx to rtmp://ORIGIN/app/name makes the edge pull the stream
    from a second strom server (play) or push it there (publish)."""

    def origin(self):
        return self.server(ORIGIN_CONF).start()

    def play_streams(self, srv, url, seconds=3):
        need("ffmpeg", "ffprobe")
        out = os.path.join(srv.prefix, "play-%d.flv" % int(time.time() * 1000))
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-rw_timeout", "8000000",
                        "-i", url, "-t", str(seconds), "-c", "copy", "-f", "flv", out],
                       capture_output=True, text=True, timeout=40)
        if not os.path.exists(out) or os.path.getsize(out) < 1000:
            return []
        # The media types that came with at least a second's worth of frames.
        r = subprocess.run(["ffprobe", "-v", "error", "-count_packets", "-show_entries",
                            "stream=codec_type,nb_read_packets", "-of", "csv=p=0", out],
                           capture_output=True, text=True, timeout=30)
        got = []
        for line in r.stdout.split():
            kind, _, n = line.partition(",")
            if n.isdigit() and int(n) >= 20:
                got.append(kind)
        return sorted(got)

    def relayed_player(self, seconds):
        """An origin publishing live/src, an edge relaying it as live/x, and ffmpeg playing
        the edge for `seconds`, its output begun: (origin, publisher, edge, player, output)."""
        origin = self.origin()
        pub = self.publish(origin.url("live/src"))
        wait_for(lambda: 'publish "live/src" (live)' in origin.error_log(), 15, what="origin publish")
        self.cb.location = "rtmp://127.0.0.1:%d/live/src" % origin.port
        edge = self.start("on_play {cb}/redirect; notify_relay_redirect on;")
        out = os.path.join(edge.prefix, "long.flv")
        player = subprocess.Popen(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i",
                                   edge.url("live/x"), "-t", str(seconds), "-c", "copy", "-f", "flv", out],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        self.procs.append(player)
        wait_for(lambda: os.path.exists(out) and os.path.getsize(out) > 20000, 15, what="player output")
        return origin, pub, edge, player, out

    def origin_publishing(self, origin, name="live/src"):
        self.publish(origin.url(name))
        wait_for(lambda: 'publish "%s" (live)' % name in origin.error_log(), 15, what="origin publish")

    def test_play_relay_pulls_from_the_origin(self):
        origin = self.origin()
        self.origin_publishing(origin)
        self.cb.location = "rtmp://127.0.0.1:%d/live/src" % origin.port
        edge = self.start("on_play {cb}/redirect; notify_relay_redirect on;")
        self.assertEqual(self.play_streams(edge, edge.url("live/anything")), ["audio", "video"])
        log = edge.error_log()
        self.assertIn('notify play relay: pulling "live/anything" from rtmp://127.0.0.1:%d/live/src'
                      % origin.port, log)
        self.assertIn('relay pull of "live/anything" from rtmp://127.0.0.1:%d/live/src started'
                      % origin.port, log)
        self.assertEqual(self.cb.calls("play")[0][3]["name"], "anything")
        # The last player left: the pull ends, and the origin sees its player go.
        wait_for(lambda: 'relay pull of "live/anything" from' in edge.error_log() and
                 "ended: pull no longer needed" in edge.error_log(), 10, what="the pull to end")
        wait_for(lambda: 'play stop "live/src"' in origin.error_log(), 10, what="origin play stop")

    def test_a_relayed_stream_is_recorded_on_the_edge(self):
        # The edge's stream comes from another server, not from a publisher of its own:
        # it is recorded like a local one (the stream records whatever feeds it).
        origin = self.origin()
        self.origin_publishing(origin)
        self.cb.location = "rtmp://127.0.0.1:%d/live/src" % origin.port
        edge = self.start("on_play {cb}/redirect; notify_relay_redirect on; "
                          "record all; record_path {prefix}/rec;")
        self.assertEqual(self.play_streams(edge, edge.url("live/relayed"), seconds=4), ["audio", "video"])
        wait_for(lambda: 'record "live/relayed" done' in edge.error_log(), 15, what="record done")
        files = [f for f in os.listdir(os.path.join(edge.prefix, "rec")) if f.startswith("relayed")]
        self.assertEqual(len(files), 1, files)
        path = os.path.join(edge.prefix, "rec", files[0])
        self.assertEqual(ffprobe_streams(path), ["aac,audio", "h264,video"])

    def test_play_relay_ends_with_the_origin_stream_and_resumes_with_it(self):
        origin, pub, edge, player, out = self.relayed_player(30)
        pub.kill()
        pub.wait()
        # The origin keeps the connection (its player waits) but ends the stream: so does
        # the pull, and the edge's player is told (it stays, waiting for a publisher).
        wait_for(lambda: "ended: remote stream ended" in edge.error_log(), 10, what="the pull to end")
        self.assertIn('relay pull of "live/x" from rtmp://127.0.0.1:%d/live/src ended' % origin.port,
                      edge.error_log())
        self.assertNotIn('play stop "live/x"', edge.error_log())
        # The edge pulls again while its player waits (the origin keeps that play waiting
        # for a publisher); when the origin's stream is back, so is the player's.
        wait_for(lambda: "pulling again for 1 waiting players" in edge.error_log(), 10, what="a new pull")
        size = os.path.getsize(out)
        self.publish(origin.url("live/src"))
        wait_for(lambda: os.path.getsize(out) > size + 20000, 20, what="the player to get the new stream")
        self.assertEqual(edge.error_log().count('relay pull of "live/x" from rtmp://127.0.0.1:%d/live/src started'
                                                % origin.port), 2)

    def test_a_player_joining_while_the_origin_is_down_waits_with_the_others(self):
        origin, pub, edge, first, out = self.relayed_player(60)
        # the origin goes away altogether: the edge's pull ends, its attempts are refused
        pub.kill()
        pub.wait()
        origin.stop()
        wait_for(lambda: 'relay pull of "live/x"' in edge.error_log() and "ended: " in edge.error_log(), 10,
                 what="the pull to end")
        # a second player, redirected to the same origin, waits with the first one
        second = raw_play(edge.port, "x")
        self.addCleanup(second.close)
        wait_for(lambda: "is pulled already, joining" in edge.error_log(), 10, what="the join")
        time.sleep(4)   # past the next attempts (refused)
        self.assertIsNone(first.poll(), "the first player was dropped")
        self.assertNotIn("relay failed", edge.error_log())
        # the origin is back on its port: both get the stream again
        again = self.server(ORIGIN_CONF, port=origin.port).start()
        size = os.path.getsize(out)
        self.publish(again.url("live/src"))
        wait_for(lambda: os.path.getsize(out) > size + 20000, 40, what="the first player to get the stream")

    def test_play_relay_resolves_a_host_name(self):
        host = socket.gethostname()
        try:
            if socket.gethostbyname(host) != "127.0.0.1":
                raise unittest.SkipTest("%s is not 127.0.0.1 here" % host)
        except OSError:
            raise unittest.SkipTest("%s does not resolve" % host)
        origin = self.origin()
        self.origin_publishing(origin)
        self.cb.location = "rtmp://%s:%d/live/src" % (host, origin.port)
        edge = self.start("on_play {cb}/redirect; notify_relay_redirect on;")
        self.assertEqual(self.play_streams(edge, edge.url("live/other")), ["audio", "video"])
        self.assertIn('relay pull of "live/other" from rtmp://%s:%d/live/src started' % (host, origin.port),
                      edge.error_log())

    def test_play_relay_to_a_dead_origin_fails_the_player(self):
        self.cb.location = "rtmp://127.0.0.1:%d/live/src" % free_port()
        edge = self.start("on_play {cb}/redirect; notify_relay_redirect on;")
        t0 = time.time()
        self.assertEqual(self.play_streams(edge, edge.url("live/x")), [])
        self.assertLess(time.time() - t0, 8, "the player is told at once, not left waiting")
        wait_for(lambda: 'relay pull of "live/x" from' in edge.error_log(), 5, what="log line")
        self.assertIn("connect failed", edge.error_log())

    def test_relay_redirect_off_renames_to_the_url_name(self):
        origin = self.origin()
        self.origin_publishing(origin)
        self.cb.location = "rtmp://127.0.0.1:%d/live/src" % origin.port
        edge = self.start("on_play {cb}/redirect; idle_streams off;")
        self.assertEqual(self.play_streams(edge, edge.url("live/anything")), [])
        log = edge.error_log()
        self.assertIn('renamed to "src" (the name of an rtmp:// Location: notify_relay_redirect is off)', log)
        self.assertIn('play "live/src" from', log)
        self.assertIn("not published (idle_streams off)", log)
        self.assertNotIn("relay", log.replace("notify_relay_redirect", ""))

    def test_publish_relay_pushes_to_the_origin(self):
        origin = self.origin()
        self.cb.location = "rtmp://127.0.0.1:%d/live/pushed" % origin.port
        edge = self.start("on_publish {cb}/redirect; notify_relay_redirect on;")
        p = self.publish(edge.url("live/cam"))
        wait_for(lambda: 'publish "live/cam" (live)' in edge.error_log(), 15, what="edge publish")
        wait_for(lambda: 'publish "live/pushed" (live)' in origin.error_log(), 15, what="origin publish")
        self.assertIn('notify publish relay: pushing "live/cam" to rtmp://127.0.0.1:%d/live/pushed'
                      % origin.port, edge.error_log())
        self.assertEqual(self.play_streams(origin, origin.url("live/pushed")), ["audio", "video"])
        self.assertEqual(self.play_streams(edge, edge.url("live/cam")), ["audio", "video"])
        # The local publisher ends: so does the push, and the origin's stream.
        p.kill()
        p.wait()
        wait_for(lambda: 'unpublish "live/pushed"' in origin.error_log(), 10, what="origin unpublish")
        self.assertIn('relay push of "live/cam" to rtmp://127.0.0.1:%d/live/pushed ended' % origin.port,
                      edge.error_log())

    def test_failed_push_leaves_the_publisher_alone(self):
        self.cb.location = "rtmp://127.0.0.1:%d/live/pushed" % free_port()
        edge = self.start("on_publish {cb}/redirect; notify_relay_redirect on;")
        self.publish(edge.url("live/cam"))
        wait_for(lambda: 'publish "live/cam" (live)' in edge.error_log(), 15, what="edge publish")
        wait_for(lambda: 'relay push of "live/cam" to' in edge.error_log() and
                 "failed: connect failed" in edge.error_log(), 10, what="push failure")
        self.assertEqual(self.play_streams(edge, edge.url("live/cam")), ["audio", "video"])

    def silent_origin(self, **kw):
        o = SilentOrigin(**kw)
        self.addCleanup(o.close)
        self.cb.location = "rtmp://127.0.0.1:%d/live/src" % o.port
        return o

    def test_last_player_leaving_during_the_relay_handshake_ends_the_pull(self):
        self.silent_origin()
        edge = self.start("on_play {cb}/redirect; notify_relay_redirect on;")
        c = raw_play(edge.port, "x")
        wait_for(lambda: "notify play relay: pulling" in edge.error_log(), 10, what="relay start")
        c.close()
        wait_for(lambda: 'relay pull of "live/x"' in edge.error_log() and
                 "ended: pull no longer needed" in edge.error_log(), 10, what="the pull to end")

    def test_origin_closing_in_the_handshake_fails_every_player_without_naming_the_origin(self):
        # open long enough for the second player to join the first one's pull
        origin = self.silent_origin(close_after=3)
        edge = self.start("on_play {cb}/redirect; notify_relay_redirect on;")
        players = [raw_play(edge.port, "x"), raw_play(edge.port, "x")]
        for c in players:
            self.addCleanup(c.close)
        for c in players:
            data = c.read_until_closed(timeout=10)
            self.assertIn(b"NetStream.Play.StreamNotFound", data)
            # The edge may hide its origin: the address is for the log, not for clients.
            self.assertNotIn(b"127.0.0.1:%d" % origin.port, data)
        log = edge.error_log()
        self.assertIn('"live/x" is pulled already, joining', log)
        self.assertIn('relay pull of "live/x" from rtmp://127.0.0.1:%d/live/src ended' % origin.port, log)

    def test_local_publisher_replaces_a_relay_pull_still_connecting(self):
        self.silent_origin(handshake=True)
        edge = self.start("on_play {cb}/redirect; notify_relay_redirect on;")
        c = raw_play(edge.port, "x")
        self.addCleanup(c.close)
        wait_for(lambda: "notify play relay: pulling" in edge.error_log(), 10, what="relay start")
        self.publish(edge.url("live/x"))
        wait_for(lambda: 'publish "live/x" replaces a pull' in edge.error_log(), 15, what="takeover")
        wait_for(lambda: "ended: pull no longer needed" in edge.error_log(), 10, what="the pull to end")
        c.sock.settimeout(10)
        got = b""
        while len(got) < 20000:   # the local publisher's media reaches the waiting player
            more = c.sock.recv(65536)
            self.assertTrue(more, "player closed")
            got += more

    def test_fast_stop_with_a_pull_and_a_push_still_connecting(self):
        self.silent_origin(handshake=True)
        edge = self.start("on_play {cb}/redirect; on_publish {cb}/redirect; notify_relay_redirect on;")
        c = raw_play(edge.port, "x")
        self.addCleanup(c.close)
        self.publish(edge.url("live/y"))
        wait_for(lambda: "notify publish relay: pushing" in edge.error_log(), 15, what="push start")
        wait_for(lambda: "notify play relay: pulling" in edge.error_log(), 15, what="pull start")
        edge.stop()
        log = edge.error_log()
        self.assertIn("ended: pull no longer needed", log)
        self.assertIn('relay push of "live/y"', log)

    def test_graceful_stop_waits_for_the_relayed_player_then_exits(self):
        origin, pub, edge, player, out = self.relayed_player(30)
        edge.signal(signal.SIGQUIT)
        wait_for(lambda: "gracefully shutting down, 2 connections open" in edge.error_log(), 10,
                 what="drain")
        size = os.path.getsize(out)
        wait_for(lambda: os.path.getsize(out) > size + 20000, 10, what="the relay to go on")
        player.kill()
        player.wait()
        wait_for(lambda: edge.proc.poll() is not None, 15, what="the edge to exit")
        self.assertIn("ended: pull no longer needed", edge.error_log())
        self.assertIn("exiting: all connections closed", edge.error_log())


HTTP_CONF = """
events { worker_connections 256; }
rtmp {
    server {
        listen 127.0.0.1:{port};
        application live { live on; %s }
    }
}
http { server { listen 127.0.0.1:{http_port}; location / { flv_live on; } } }
"""


class HttpFlvNotifyTest(NotifyBase):
    """on_play and on_play_done ask about HTTP-FLV players as about RTMP players: allow,
    deny, rename (a 3xx Location) and relay (notify_relay_redirect)."""

    def start_http(self, directives):
        srv = self.server(HTTP_CONF % directives.replace("{cb}", "http://127.0.0.1:%d" % self.cb.port))
        return srv.start()

    def test_on_play_allows_and_on_play_done_follows(self):
        srv = self.start_http("on_play {cb}/ok; on_play_done {cb}/done;")
        self.publish(srv.url("live/cam"))
        wait_for(lambda: 'publish "live/cam" (live)' in srv.error_log(), 15, what="publish")
        head, body = http_get(srv.http_port, "/live/cam.flv?user=ann", read_for=2)
        self.assertIn("200 OK", head)
        self.assertEqual(body[:3], b"FLV")
        f = self.cb.calls("play")[0][3]
        self.assertEqual((f["app"], f["name"], f["user"], f["proto"]), ("live", "cam", "ann", "http-flv"))
        wait_for(lambda: self.cb.calls("play_done"), 10, what="on_play_done")
        self.assertEqual(self.cb.calls("play_done")[0][3]["name"], "cam")

    def test_on_play_denies(self):
        srv = self.start_http("on_play {cb}/deny;")
        self.publish(srv.url("live/cam"))
        wait_for(lambda: 'publish "live/cam" (live)' in srv.error_log(), 15, what="publish")
        head, _ = http_get(srv.http_port, "/live/cam.flv", read_for=2)
        self.assertIn("403 Forbidden", head)
        self.assertIn("notify play for 127.0.0.1", srv.error_log())
        self.assertFalse(self.cb.calls("play_done"))

    def test_on_play_renames_with_a_redirect(self):
        srv = self.start_http("on_play {cb}/redirect;")
        self.cb.location = "real"
        self.publish(srv.url("live/real"))
        wait_for(lambda: 'publish "live/real" (live)' in srv.error_log(), 15, what="publish")
        head, body = http_get(srv.http_port, "/live/alias.flv", read_for=2)
        self.assertIn("200 OK", head)
        self.assertEqual(body[:3], b"FLV")
        self.assertIn('http-flv play "live/real" from 127.0.0.1', srv.error_log())

    def test_on_play_relays_from_another_server(self):
        origin = self.server(ORIGIN_CONF).start()
        self.publish(origin.url("live/src"))
        wait_for(lambda: 'publish "live/src" (live)' in origin.error_log(), 15, what="origin publish")
        self.cb.location = "rtmp://127.0.0.1:%d/live/src" % origin.port
        edge = self.start_http("on_play {cb}/redirect; notify_relay_redirect on;")
        head, body = http_get(edge.http_port, "/live/any.flv", read_for=4)
        self.assertIn("200 OK", head)
        self.assertGreater(len(body), 20000)
        self.assertIn('relay pull of "live/any" from rtmp://127.0.0.1:%d/live/src started' % origin.port,
                      edge.error_log())

    def test_a_player_leaving_during_the_call_cancels_it(self):
        srv = self.start_http("on_play {cb}/slow;")
        s = socket.create_connection(("127.0.0.1", srv.http_port), timeout=10)
        s.sendall(b"GET /live/cam.flv HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_for(lambda: self.cb.calls("play"), 10, what="on_play call")
        s.close()
        # Uncancelled, the call would time out at 3 s (notify_timeout) and be judged, with
        # a log line, for a player that is gone; the sanitizer checks at tearDown see any
        # use of it.
        time.sleep(5)
        self.assertNotIn("notify play for", srv.error_log())
        head, _ = http_get(srv.http_port, "/live/other.flv", read_for=6)
        self.assertIn("notify play for 127.0.0.1", srv.error_log())   # this one is judged


class HttpFlvUpdateTest(NotifyBase):
    """on_update asks about HTTP-FLV players as about RTMP players: call=update_play every
    notify_update_timeout; a non-2xx answer ends the player (its answer ends, one log
    line), a failed call only with notify_update_strict on. The callback service answers
    /play-deny and /play-slow so only the players' updates fail, never the publisher's."""

    def start_http(self, directives):
        srv = self.server(HTTP_CONF % directives.replace("{cb}", "http://127.0.0.1:%d" % self.cb.port))
        return srv.start()

    def http_player(self, srv, name):
        need("curl")
        out = os.path.join(srv.prefix, "%s.flv" % name)
        p = subprocess.Popen(["curl", "-sS", "-N", "-o", out,
                              "http://127.0.0.1:%d/live/cam.flv?who=%s" % (srv.http_port, name)],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        wait_for(lambda: os.path.exists(out) and os.path.getsize(out) > 10000, 15, what="%s playing" % name)
        return p, out

    def rtmp_player(self, srv):
        need("ffmpeg")
        out = os.path.join(srv.prefix, "rtmp.flv")
        p = subprocess.Popen(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", srv.url("live/cam"),
                              "-c", "copy", "-f", "flv", out],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        wait_for(lambda: os.path.exists(out) and os.path.getsize(out) > 10000, 15, what="rtmp playing")
        return p, out

    def test_update_403_ends_http_flv_and_rtmp_players_alike(self):
        srv = self.start_http("on_update {cb}/play-deny; notify_update_timeout 1s;")
        pub = self.publish(srv.url("live/cam"))
        wait_for(lambda: 'publish "live/cam" (live)' in srv.error_log(), 15, what="publish")
        http_p, _ = self.http_player(srv, "ann")
        rtmp_p, _ = self.rtmp_player(srv)
        # The answer ends: curl sees the connection close and exits.
        http_p.wait(15)
        rtmp_p.wait(15)
        log = srv.error_log()
        self.assertIn("closed: ended by notify update", log)
        self.assertEqual(log.count("answer 403 ends the session"), 2, log)
        f = [c[3] for c in self.cb.calls("update_play") if c[3].get("proto") == "http-flv"][0]
        self.assertEqual((f["app"], f["name"], f["who"], f["addr"]), ("live", "cam", "ann", "127.0.0.1"))
        self.assertIn("time", f)
        self.assertIn("timestamp", f)
        # The publisher, whose updates are answered 200, goes on.
        self.assertIsNone(pub.poll())
        self.assertTrue(self.cb.calls("update_publish"))

    def test_failed_update_ends_the_http_player_only_with_notify_update_strict(self):
        srv = self.start_http("on_update {cb}/play-slow; notify_update_timeout 1s; notify_timeout 1s;")
        self.publish(srv.url("live/cam"))
        wait_for(lambda: 'publish "live/cam" (live)' in srv.error_log(), 15, what="publish")
        p, out = self.http_player(srv, "bob")
        wait_for(lambda: "notify update for 127.0.0.1" in srv.error_log(), 10, what="a failed update")
        self.assertIn("failed: ", srv.error_log())
        size = os.path.getsize(out)
        wait_for(lambda: os.path.getsize(out) > size + 20000, 10, what="player still receiving")
        self.assertIsNone(p.poll(), "notify_update_strict off: a failed call ends nothing")

        strict = self.start_http("on_update {cb}/play-slow; notify_update_timeout 1s; notify_timeout 1s;"
                                 " notify_update_strict on;")
        self.publish(strict.url("live/cam"))
        wait_for(lambda: 'publish "live/cam" (live)' in strict.error_log(), 15, what="publish")
        p, _ = self.http_player(strict, "cid")
        p.wait(15)
        log = strict.error_log()
        self.assertIn("ends the session (notify_update_strict on)", log)
        self.assertIn("closed: ended by notify update", log)


if __name__ == "__main__":
    unittest.main()
