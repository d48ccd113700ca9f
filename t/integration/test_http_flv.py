"""HTTP-FLV and WebSocket-FLV playback (`http { server { location / { flv_live on; } } }`)
against clients we did not write (ffprobe, ffmpeg, GStreamer souphttpsrc + flvdemux, curl,
rtmpdump for the late-joiner probe), our own raw WebSocket client, many players over two
workers, the access rules and tokens of the RTMP application, and hostile HTTP that must
close only the offending connection."""

import base64
import os
import selectors
import signal
import socket
import struct
import subprocess
import time
import unittest

from rtmp_raw import RawRtmp, open_play
from strom_harness import ServerTest, binary, ffprobe_streams, have, make_flv, wait_for
from test_rtmp import LiveTestBase, Proc, need

CONF = """
events { worker_connections 1024; }
rtmp {
    server {
        listen 127.0.0.1:{port}%(listen)s;
        application live { live on; %(live)s }
        %(apps)s
    }
}
http {
    server {
        listen 127.0.0.1:{http_port}%(listen)s;
        %(http_server)s
        location / { flv_live on; %(loc)s }
        location /static/ { }
    }
}
"""


def conf(live="", loc="", http_server="", apps="", listen=""):
    return CONF % {"live": live, "loc": loc, "http_server": http_server, "apps": apps,
                   "listen": listen}


def flv_tags(data):
    """(type, timestamp, body) of each complete FLV tag after the 13-byte file start."""
    tags = []
    off = 13
    while off + 11 <= len(data):
        t = data[off] & 0x1F
        size = int.from_bytes(data[off + 1:off + 4], "big")
        ts = int.from_bytes(data[off + 4:off + 7], "big") | (data[off + 7] << 24)
        if off + 11 + size + 4 > len(data):
            break
        tags.append((t, ts, data[off + 11:off + 11 + size]))
        prev = int.from_bytes(data[off + 11 + size:off + 15 + size], "big")
        assert prev == 11 + size, "PreviousTagSize %d after a %d-byte tag" % (prev, size)
        off += 15 + size
    return tags


def http_get(port, path, headers=(), read_for=1.0, method="GET", body=b""):
    """Raw HTTP/1.1 request; returns (head bytes, body bytes read within read_for)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    req = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % (method, path)
    for h in headers:
        req += h + "\r\n"
    s.sendall(req.encode() + b"\r\n" + body)
    data = b""
    deadline = time.time() + read_for
    s.settimeout(0.2)
    while time.time() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode(errors="replace"), rest


class WsClient:
    """A minimal RFC 6455 client: upgrade, then read server frames (never masked)."""

    def __init__(self, port, path):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n" % (path, key)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        self.head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        self.head = self.head.decode(errors="replace")
        self.key = key

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def frame(self):
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        n = b1 & 0x7F
        off = 2
        if n == 126:
            self._need(4)
            n = struct.unpack(">H", self.buf[2:4])[0]
            off = 4
        elif n == 127:
            self._need(10)
            n = struct.unpack(">Q", self.buf[2:10])[0]
            off = 10
        assert not (b1 & 0x80), "a server frame must not be masked"
        self._need(off + n)
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return b0 & 0x0F, bool(b0 & 0x80), payload

    def send_raw(self, data):
        self.s.sendall(data)

    def close(self):
        self.s.close()


class HttpFlvTest(LiveTestBase):
    def test_ffprobe_and_ffmpeg_read_http_flv_as_h264_aac_keyframe_first(self):
        need("ffmpeg", "ffprobe")
        srv = self.server(conf(), extra_main="access_log logs/access.log;").start()
        self.publish(srv, media=make_flv(gop=30))
        self.wait_published(srv)
        self.assertEqual(ffprobe_streams(srv.http_url()), ["aac,audio", "h264,video"])
        out = os.path.join(srv.prefix, "http.flv")
        r = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", srv.http_url(),
                            "-t", "3", "-c", "copy", "-f", "flv", out],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(ffprobe_streams(out), ["aac,audio", "h264,video"])
        pk = self.packets(out)
        self.assertGreater(len(pk), 50)
        self.assertIn("K", pk[0]["flags"])
        self.assertRegex(srv.error_log(), r'http-flv play "live/test" from 127\.0\.0\.1')
        with open(os.path.join(srv.prefix, "logs", "access.log")) as f:
            self.assertRegex(f.read(), r'"GET /live/test\.flv HTTP/1\.1" 200 \d+ "-" "Lavf')

    def test_curl_gets_flv_with_headers_and_tags_in_order(self):
        need("curl")
        srv = self.server(conf(loc="add_header Access-Control-Allow-Origin *;")).start()
        self.publish(srv)
        self.wait_published(srv)
        out = os.path.join(srv.prefix, "curl.flv")
        r = subprocess.run(["curl", "-s", "-D", "-", "-o", out, "-m", "2", srv.http_url()],
                           capture_output=True, text=True, timeout=10)
        self.assertIn("HTTP/1.1 200 OK", r.stdout)
        self.assertIn("Content-Type: video/x-flv", r.stdout)
        self.assertIn("Access-Control-Allow-Origin: *", r.stdout)
        with open(out, "rb") as f:
            data = f.read()
        self.assertEqual(data[:3], b"FLV")
        self.assertEqual(data[4], 5)   # audio and video
        tags = flv_tags(data)
        self.assertGreater(len(tags), 20)
        self.assertEqual(tags[0][0], 18)      # onMetaData first ...
        self.assertEqual(tags[0][1], 0)       # ... at timestamp 0
        video = [t for t in tags if t[0] == 9]
        self.assertEqual(video[0][2][:2], b"\x17\x00")   # AVC sequence header, keyframe
        self.assertEqual(video[1][2][0] >> 4, 1)          # then a keyframe
        ts = [t[1] for t in video[1:]]
        self.assertEqual(ts, sorted(ts))

    def test_gstreamer_souphttpsrc_flvdemux_plays(self):
        need("gst-launch-1.0")
        srv = self.server(conf()).start()
        self.publish(srv)
        self.wait_published(srv)
        r = subprocess.run(["gst-launch-1.0", "-q", "souphttpsrc", "location=" + srv.http_url(),
                            "!", "flvdemux", "name=d", "d.video", "!", "queue", "!", "h264parse", "!",
                            "fakesink", "num-buffers=60", "d.audio", "!", "queue", "!", "aacparse", "!",
                            "fakesink", "num-buffers=60"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn('http-flv play "live/test"', srv.error_log())

    def test_missing_streams_and_other_urls(self):
        srv = self.server(conf(apps="application vod { }")).start()
        head, body = http_get(srv.http_port, "/live/nothing.flv")
        self.assertIn("404 Not Found", head)
        self.assertIn(b"stream not found", body)
        head, _ = http_get(srv.http_port, "/nosuchapp/x.flv")
        self.assertIn("404 Not Found", head)
        head, _ = http_get(srv.http_port, "/vod/x.flv")   # live off there
        self.assertIn("404 Not Found", head)
        head, _ = http_get(srv.http_port, "/static/x.flv")   # flv_live is off there
        self.assertIn("404 Not Found", head)
        head, _ = http_get(srv.http_port, "/live/x.flv", method="DELETE")
        self.assertIn("405 Method Not Allowed", head)
        self.assertIn("Allow: GET, HEAD", head)
        head, _ = http_get(srv.http_port, "/live/bad%zz.flv")
        self.assertIn("400 Bad Request", head)

    def test_keep_alive_and_pipelining_of_small_answers(self):
        srv = self.server(conf()).start()
        s = socket.create_connection(("127.0.0.1", srv.http_port), timeout=5)
        s.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /live/none.flv HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        self.assertEqual(data.count(b"HTTP/1.1 404 Not Found"), 3, data)
        self.assertEqual(data.count(b"Connection: keep-alive"), 2)
        self.assertEqual(data.count(b"Connection: close"), 1)

    def test_idle_keep_alive_connection_closes_at_keepalive_timeout(self):
        srv = self.server(conf(http_server="keepalive_timeout 1s;")).start()
        s = socket.create_connection(("127.0.0.1", srv.http_port), timeout=10)
        s.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        data = s.recv(65536)
        self.assertIn(b"404 Not Found", data)
        t0 = time.time()
        self.assertEqual(s.recv(65536), b"")   # closed by the server, silently
        self.assertGreater(time.time() - t0, 0.5)
        self.assertLess(time.time() - t0, 5)
        s.close()
        self.assertNotIn("timed out sending the request", srv.error_log())

    def test_reload_closes_idle_keep_alive_connections_of_the_old_worker(self):
        srv = self.server(conf(http_server="keepalive_timeout 60s;")).start()
        s = socket.create_connection(("127.0.0.1", srv.http_port), timeout=20)
        s.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"404 Not Found", s.recv(65536))
        srv.signal(signal.SIGHUP)
        t0 = time.time()
        self.assertEqual(s.recv(65536), b"")   # the draining worker closes it, not in 60 s
        self.assertLess(time.time() - t0, 15)
        s.close()
        wait_for(lambda: "exiting: all connections closed" in srv.error_log(), 10, what="old worker exit")

    def test_waiting_player_gets_the_stream_when_published(self):
        srv = self.server(conf(loc="flv_live_wait on;")).start()
        s = socket.create_connection(("127.0.0.1", srv.http_port), timeout=10)
        s.sendall(b"GET /live/later.flv HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_for(lambda: "waiting for the publisher" in srv.error_log(), 5, what="waiting player")
        self.publish(srv, name="later")
        data = b""
        deadline = time.time() + 15
        while time.time() < deadline and len(data) < 200000:
            data += s.recv(65536)
        s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertIn(b"200 OK", head)
        self.assertTrue(any(t[0] == 9 for t in flv_tags(body)))

    def test_unpublish_ends_the_answer(self):
        need("ffmpeg")
        srv = self.server(conf()).start()
        pub = self.publish(srv, loop=False, media=make_flv(seconds=4))
        self.wait_published(srv)
        s = socket.create_connection(("127.0.0.1", srv.http_port), timeout=20)
        s.sendall(b"GET /live/test.flv HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        pub.wait(20)
        self.assertTrue(flv_tags(data.partition(b"\r\n\r\n")[2]))
        self.assertIn("closed: stream unpublished", srv.error_log())


class LateJoinerTest(LiveTestBase):
    def test_late_joiners_probe_as_exactly_h264_and_aac(self):
        # A player that joins after the start used to get onMetaData stamped with the GOP's
        # timestamp; ffmpeg's FLV demuxer then lists a third (data) stream.
        need("ffprobe", "rtmpdump")
        srv = self.server(conf()).start()
        self.publish(srv, media=make_flv(seconds=20, gop=30))
        self.wait_published(srv)
        time.sleep(3.5)
        self.assertEqual(ffprobe_streams(srv.url()), ["aac,audio", "h264,video"])
        self.assertEqual(ffprobe_streams(srv.http_url()), ["aac,audio", "h264,video"])
        out = os.path.join(srv.prefix, "rtmpdump.flv")
        p = subprocess.Popen(["rtmpdump", "-q", "-v", "-r", srv.url(), "-o", out])
        time.sleep(3)
        p.send_signal(signal.SIGINT)
        p.wait(10)
        self.assertEqual(ffprobe_streams(out), ["aac,audio", "h264,video"])
        mkv = os.path.join(srv.prefix, "copy.mkv")
        r = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", srv.http_url(),
                            "-t", "3", "-c", "copy", mkv], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(ffprobe_streams(mkv), ["aac,audio", "h264,video"])


class WebSocketFlvTest(LiveTestBase):
    def test_websocket_upgrade_sends_flv_tags_as_binary_messages(self):
        srv = self.server(conf()).start()
        self.publish(srv)
        self.wait_published(srv)
        ws = WsClient(srv.http_port, "/live/test.flv")
        self.assertIn("101 Switching Protocols", ws.head)
        self.assertIn("Upgrade: websocket", ws.head)
        import hashlib
        accept = base64.b64encode(hashlib.sha1((ws.key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                                               .encode()).digest()).decode()
        self.assertIn("Sec-WebSocket-Accept: " + accept, ws.head)
        op, fin, first = ws.frame()
        self.assertEqual((op, fin), (2, True))
        self.assertEqual(first[:3], b"FLV")
        data = first
        kinds = []
        for _ in range(80):
            op, fin, payload = ws.frame()
            self.assertEqual(op, 2)
            # each message is one whole tag with its PreviousTagSize
            size = int.from_bytes(payload[1:4], "big")
            self.assertEqual(len(payload), 11 + size + 4)
            kinds.append(payload[0])
            data += payload
        self.assertIn(9, kinds)
        self.assertIn(8, kinds)
        self.assertEqual(len(flv_tags(data)), 80)
        # a ping is answered with a pong carrying the same bytes (client frames are masked)
        mask = b"\x01\x02\x03\x04"
        ws.send_raw(b"\x89\x84" + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(b"ping")))
        for _ in range(400):
            op, fin, payload = ws.frame()
            if op == 0xA:
                self.assertEqual(payload, b"ping")
                break
        else:
            self.fail("no pong")
        ws.close()
        wait_for(lambda: "ws-flv player of \"live/test\"" in srv.error_log(), 5, what="close logged")

    def test_plain_get_of_a_websocket_only_path_is_not_upgraded(self):
        srv = self.server(conf()).start()
        s = socket.create_connection(("127.0.0.1", srv.http_port), timeout=5)
        # Upgrade: websocket without the key: a plain GET of a stream that does not exist
        s.sendall(b"GET /live/test.flv HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\n\r\n")
        data = s.recv(4096)
        s.close()
        self.assertIn(b"404", data.split(b"\r\n")[0])


class ManyPlayersTest(LiveTestBase):
    def test_200_http_flv_and_200_rtmp_players_on_two_workers(self):
        srv = self.server(conf(listen=" reuseport", apps="max_connections_per_ip 1000;",
                               http_server="max_connections_per_ip 1000;"), workers=2).start()
        self.publish(srv)
        self.wait_published(srv)
        sel = selectors.DefaultSelector()
        got = {}
        socks = []
        for i in range(200):
            s = socket.create_connection(("127.0.0.1", srv.http_port), timeout=10)
            s.sendall(b"GET /live/test.flv HTTP/1.1\r\nHost: x\r\n\r\n")
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, ("http", i))
            socks.append(s)
            got[("http", i)] = 0
        for i in range(200):
            raw = RawRtmp(srv.port, timeout=10)
            open_play(raw, srv.port, "live", "test")
            raw.sock.setblocking(False)
            sel.register(raw.sock, selectors.EVENT_READ, ("rtmp", i))
            socks.append(raw.sock)
            got[("rtmp", i)] = 0
        deadline = time.time() + 6
        while time.time() < deadline:
            for key, _ in sel.select(0.2):
                try:
                    chunk = key.fileobj.recv(262144)
                except BlockingIOError:
                    continue
                got[key.data] += len(chunk)
        for s in socks:
            s.close()
        starved = [k for k, v in got.items() if v < 50000]
        self.assertFalse(starved, "players with (almost) nothing: %s" % starved[:10])
        log = srv.error_log()
        pids = set()
        for line in log.splitlines():
            if 'http-flv play "live/test"' in line:
                pids.add(line.split("]")[1].split(":")[0].strip())
        self.assertEqual(len(pids), 2, "HTTP-FLV players landed on one worker only")


class HttpFlvAccessTest(LiveTestBase):
    def test_access_rules_of_the_application_apply(self):
        srv = self.server(conf(live="deny play 127.0.0.1; allow play all;")).start()
        self.publish(srv)
        self.wait_published(srv)
        head, body = http_get(srv.http_port, "/live/test.flv")
        self.assertIn("403 Forbidden", head)
        self.assertIn("http-flv play \"live/test\" from 127.0.0.1", srv.error_log())
        self.assertIn("denied by \"deny play 127.0.0.1\"", srv.error_log())

    def test_secure_token_in_the_query_string(self):
        srv = self.server(conf(live="secure_token s3cret-of-sixteen-chars; secure_token_publish off;")).start()
        client = binary("strom-client")
        self.publish(srv)
        self.wait_published(srv)
        head, _ = http_get(srv.http_port, "/live/test.flv")
        self.assertIn("403 Forbidden", head)
        self.assertIn('http-flv play "live/test" from 127.0.0.1:', srv.error_log())
        r = subprocess.run([client, "token", "--secret", "s3cret-of-sixteen-chars", "--app", "live", "--stream", "test",
                            "--ttl", "1h"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        query = r.stdout.strip().split("?", 1)[1]
        head, body = http_get(srv.http_port, "/live/test.flv?" + query, read_for=2)
        self.assertIn("200 OK", head)
        self.assertEqual(body[:3], b"FLV")
        # a token for another stream does not open this one
        r = subprocess.run([client, "token", "--secret", "s3cret-of-sixteen-chars", "--app", "live", "--stream", "other",
                            "--ttl", "1h"], capture_output=True, text=True, timeout=10)
        head, _ = http_get(srv.http_port, "/live/test.flv?" + r.stdout.strip().split("?", 1)[1])
        self.assertIn("403 Forbidden", head)


class HostileHttpTest(LiveTestBase):
    """Each attack closes only its own connection, with one log line, while an HTTP-FLV
    and an RTMP bystander keep receiving the stream."""

    def bystanders(self, srv):
        h = socket.create_connection(("127.0.0.1", srv.http_port), timeout=10)
        h.sendall(b"GET /live/test.flv HTTP/1.1\r\nHost: x\r\n\r\n")
        raw = RawRtmp(srv.port, timeout=10)
        open_play(raw, srv.port, "live", "test")
        self.addCleanup(h.close)
        self.addCleanup(raw.close)
        return h, raw.sock

    def still_playing(self, socks, seconds=1.5):
        for s in socks:
            s.settimeout(0.5)
            # drain what queued up, then expect fresh bytes
            total = 0
            deadline = time.time() + seconds
            while time.time() < deadline:
                try:
                    chunk = s.recv(262144)
                except socket.timeout:
                    continue
                self.assertTrue(chunk, "a bystander was closed")
                total += len(chunk)
            self.assertGreater(total, 10000)

    def test_malformed_requests_close_only_their_connection(self):
        srv = self.server(conf(http_server="client_header_timeout 1s; "
                                           "large_client_header_buffers 4 1k;")).start()
        self.publish(srv)
        self.wait_published(srv)
        by = self.bystanders(srv)
        self.still_playing(by)
        cases = [
            (b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"414"),
            (b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"b" * 2000 + b"\r\n\r\n", b"431"),
            (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: 1\r\n" * 300 + b"\r\n", b"431"),
            (b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", b"400"),
            (b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
             b"400"),
            (b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", b"413"),
            (b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", b"505"),
            (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40 + b"\r\n\r\n", b"400"),
        ]
        for req, status in cases:
            s = socket.create_connection(("127.0.0.1", srv.http_port), timeout=5)
            s.sendall(req)
            data = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                data += chunk
            s.close()
            self.assertIn(status, data.split(b"\r\n")[0], (req[:60], data[:200]))
        self.assertGreaterEqual(srv.error_log().count("sent a bad request"), len(cases))
        self.still_playing(by)

    def test_slowloris_closes_at_the_header_deadline(self):
        srv = self.server(conf(http_server="client_header_timeout 1s;")).start()
        self.publish(srv)
        self.wait_published(srv)
        by = self.bystanders(srv)
        s = socket.create_connection(("127.0.0.1", srv.http_port), timeout=5)
        t0 = time.time()
        closed = False
        for ch in b"GET /live/test.flv HTTP/1.1\r\nHost: x\r\n":
            try:
                s.sendall(bytes([ch]))
            except OSError:
                closed = True
                break
            time.sleep(0.1)
            s.settimeout(0.01)
            try:
                if s.recv(1) == b"":
                    closed = True
                    break
            except socket.timeout:
                pass
            except OSError:
                closed = True
                break
        self.assertTrue(closed, "a client sending one byte per 100 ms was never closed")
        self.assertLess(time.time() - t0, 3.5)
        self.assertIn("timed out sending the request", srv.error_log())
        self.still_playing(by)

    def test_websocket_frame_with_a_2_63_length_is_refused(self):
        srv = self.server(conf()).start()
        self.publish(srv)
        self.wait_published(srv)
        by = self.bystanders(srv)
        ws = WsClient(srv.http_port, "/live/test.flv")
        self.assertIn("101", ws.head)
        ws.send_raw(b"\x82\xff" + b"\x80" + b"\x00" * 7 + b"\x01\x02\x03\x04")
        codes = []
        try:
            while True:
                op, fin, payload = ws.frame()
                if op == 8:
                    codes.append(struct.unpack(">H", payload[:2])[0])
                    break
        except (EOFError, OSError):
            pass
        ws.close()
        self.assertEqual(codes, [1002])
        wait_for(lambda: "sent a bad frame" in srv.error_log(), 5, what="one log line")
        self.still_playing(by)


if __name__ == "__main__":
    unittest.main()
