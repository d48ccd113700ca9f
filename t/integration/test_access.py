"""Who may publish and play: access rules against real clients (ffmpeg), signed URLs,
connection limits and the handshake deadline, HTTP callbacks to a local python
http.server, and the PROXY protocol."""

import base64
import hashlib
import hmac
import os
import socket
import subprocess
import threading
import time
import unittest

from strom_harness import ServerTest, have, make_flv, wait_for

ACCESS_CONF = """
events { worker_connections 256; }
rtmp {
    server {
        listen 127.0.0.1:{port};
        listen [::1]:{port};
        application live {
            live on;
            deny publish 127.0.0.1;
            allow publish ::1;
            deny publish all;
            allow play all;
        }
    }
}
"""


def need(*tools):
    for t in tools:
        if not have(t):
            raise unittest.SkipTest("%s not installed" % t)


class Client:
    """A client process, killed at the end of the test."""

    def __init__(self, test, cmd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        test.addCleanup(self.stop)

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()

    def output(self):
        return self.p.stdout.read().decode(errors="replace")


class AccessBase(ServerTest):
    def publish(self, url, loop=True):
        need("ffmpeg")
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-re"]
        if loop:
            cmd += ["-stream_loop", "-1"]
        cmd += ["-i", make_flv(), "-c", "copy", "-f", "flv", url]
        return Client(self, cmd)

    def play(self, url, seconds=2, timeout=20):
        need("ffmpeg")
        out = os.path.join(self.servers[0].prefix, "play-%d.flv" % int(time.time() * 1000))
        r = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-rw_timeout", "8000000",
                            "-i", url, "-t", str(seconds), "-c", "copy", "-f", "flv", out],
                           capture_output=True, text=True, timeout=timeout)
        return r.returncode == 0 and os.path.exists(out) and os.path.getsize(out) > 1000, r


class AccessRules(AccessBase):
    def test_deny_publish_from_127_fails_while_play_works(self):
        srv = self.server(ACCESS_CONF).start()
        denied = self.publish(srv.url("live/cam"), loop=False)
        self.assertNotEqual(denied.p.wait(20), 0, "ffmpeg publish from 127.0.0.1 must fail")
        log = srv.error_log()
        self.assertIn('publish "live/cam" from 127.0.0.1', log)
        self.assertIn('denied by "deny publish 127.0.0.1"', log)
        # The same stream from ::1 is allowed, and 127.0.0.1 plays it.
        self.publish("rtmp://[::1]:%d/live/cam" % srv.port)
        wait_for(lambda: 'publish "live/cam" (live) from [::1]' in srv.error_log(), 10, what="v6 publish")
        ok, r = self.play(srv.url("live/cam"))
        self.assertTrue(ok, r.stderr)


SECRET = "integration-secret-0123456789"
TOKEN_CONF = """
events { worker_connections 256; }
rtmp {
    server {
        listen 127.0.0.1:{port};
        application live {
            live on;
            secure_token %s;
        }
    }
}
""" % SECRET


def token(app, stream, expires, addr="", secret=SECRET):
    """The token as modules/secure_token_sign.h defines it, computed independently."""
    msg = "%s\n%s\n%d" % (app, stream, expires)
    if addr:
        msg += "\n" + addr
    mac = hmac.new(secret.encode(), msg.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


class SignedUrls(AccessBase):
    def signed(self, srv, stream, expires, tok=None):
        tok = tok or token("live", stream, expires)
        return srv.url("live/%s?expires=%d&token=%s" % (stream, expires, tok))

    def test_valid_token_publishes_and_plays(self):
        srv = self.server(TOKEN_CONF).start()
        exp = int(time.time()) + 120
        self.publish(self.signed(srv, "cam", exp))
        wait_for(lambda: 'publish "live/cam" (live)' in srv.error_log(), 10, what="publish")
        ok, r = self.play(self.signed(srv, "cam", exp))
        self.assertTrue(ok, r.stderr)

    def test_expired_token_is_refused(self):
        srv = self.server(TOKEN_CONF).start()
        exp = int(time.time()) - 5
        c = self.publish(self.signed(srv, "cam", exp), loop=False)
        self.assertNotEqual(c.p.wait(20), 0)
        self.assertIn("denied: expired token", srv.error_log())

    def test_tampered_token_and_missing_token_are_refused(self):
        srv = self.server(TOKEN_CONF).start()
        exp = int(time.time()) + 120
        good = token("live", "cam", exp)
        bad = ("A" if good[0] != "A" else "B") + good[1:]
        c = self.publish(self.signed(srv, "cam", exp, bad), loop=False)
        self.assertNotEqual(c.p.wait(20), 0)
        self.assertIn("denied: wrong token", srv.error_log())
        # A token for another stream name does not open this one.
        c = self.publish(self.signed(srv, "other", exp, good), loop=False)
        self.assertNotEqual(c.p.wait(20), 0)
        ok, r = self.play(srv.url("live/cam"), seconds=1)
        self.assertFalse(ok)
        self.assertIn("denied: no token", srv.error_log())

    def test_strom_client_token_prints_a_working_url(self):
        from strom_harness import binary
        r = subprocess.run([binary("strom-client"), "token", "--secret", SECRET, "--app", "live",
                            "--stream", "cam", "--ttl", "1h"], capture_output=True, text=True)
        if "unknown command" in r.stderr:
            self.skipTest("strom-client has no token subcommand yet")
        self.assertEqual(r.returncode, 0, r.stderr)
        url = r.stdout.strip()
        exp = int(url.split("expires=")[1].split("&")[0])
        self.assertTrue(url.endswith("&token=" + token("live", "cam", exp)), url)
        self.assertTrue(time.time() + 3500 < exp <= time.time() + 3601)


LIMIT_CONF = """
events { worker_connections 256; }
rtmp {
    handshake_timeout 3s;
    server {
        listen 127.0.0.1:{port};
        %s
        application live { live on; }
    }
}
"""


def closed_by_server(port, timeout=5):
    """Connects, sends C0C1, and tells whether the server closed without answering."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(b"\x03" + bytes(1536))
        got = b""
        while True:
            d = s.recv(65536)
            if not d:
                return len(got) == 0
            got += d
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    finally:
        s.close()


class Limits(AccessBase):
    def check_refuses_third_while_two_stream(self, directive, what):
        srv = self.server(LIMIT_CONF % directive).start()
        self.publish(srv.url("live/a"))
        wait_for(lambda: 'publish "live/a" (live)' in srv.error_log(), 10, what="publish")
        out = os.path.join(srv.prefix, "player.flv")
        player = Client(self, ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", srv.url("live/a"),
                               "-c", "copy", "-f", "flv", out])
        wait_for(lambda: os.path.exists(out) and os.path.getsize(out) > 10000, 15, what="player output")
        self.assertTrue(closed_by_server(srv.port), "the third client must be refused")
        self.assertTrue(closed_by_server(srv.port))
        log = srv.error_log()
        self.assertIn("refused: %s 2 reached" % what, log)
        # One line per refusal at most (two refusals within a second: one line).
        self.assertEqual(log.count("refused: %s" % what), 1)
        # The first two go on streaming.
        size = os.path.getsize(out)
        wait_for(lambda: os.path.getsize(out) > size + 10000, 10, what="player still receiving")
        self.assertIsNone(player.p.poll())

    def test_max_connections_per_ip(self):
        self.check_refuses_third_while_two_stream("max_connections_per_ip 2;", "max_connections_per_ip")

    def test_max_connections_per_server(self):
        self.check_refuses_third_while_two_stream("max_connections 2;", "max_connections (server)")

    def hold_until_refused(self, srv, n):
        """Holds n connections (the first ones counted) and returns them with whether the
        next one was refused."""
        time.sleep(0.5)   # the harness's start-up probe has given its slot back
        held = [socket.create_connection(("127.0.0.1", srv.port), timeout=5) for _ in range(n)]
        self.addCleanup(lambda: [h.close() for h in held])
        time.sleep(0.3)
        return closed_by_server(srv.port)

    def test_default_max_connections_leaves_a_quarter_of_the_slots(self):
        # No limit directive: max_connections auto = 8 - 8/4 clients per worker.
        srv = self.server(LIMIT_CONF.replace("worker_connections 256", "worker_connections 8") % "",
                          workers=1).start()
        self.assertTrue(self.hold_until_refused(srv, 6), "the 7th client must be refused")
        wait_for(lambda: "refused: max_connections (worker, auto: 3/4 of worker_connections) 6 reached"
                 in srv.error_log(), 5, what="log line")
        self.assertNotIn("worker_connections are not enough", srv.error_log())

    def test_default_max_connections_per_ip_is_64(self):
        srv = self.server(LIMIT_CONF % "", workers=1).start()
        self.assertTrue(self.hold_until_refused(srv, 64), "the 65th client from 127.0.0.1 must be refused")
        wait_for(lambda: "refused: max_connections_per_ip 64 reached" in srv.error_log(), 5, what="log line")

    def test_slowloris_dropped_at_handshake_deadline(self):
        srv = self.server(LIMIT_CONF % "").start()
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        start = time.time()
        closed_at = None
        payload = b"\x03" + bytes(1536)
        try:
            for b in payload:
                try:
                    s.sendall(bytes([b]))
                except OSError:
                    closed_at = time.time()
                    break
                s.settimeout(1.0)
                try:
                    if s.recv(4096) == b"":
                        closed_at = time.time()
                        break
                except socket.timeout:
                    pass
                except OSError:
                    closed_at = time.time()
                    break
                if time.time() - start > 10:
                    break
        finally:
            s.close()
        self.assertIsNotNone(closed_at, "the slow client was never dropped")
        self.assertGreater(closed_at - start, 2.5)
        # renewed by each byte (one a second), a 3 s deadline would never end it
        self.assertLess(closed_at - start, 9.0, "the deadline is absolute, not renewed by each byte")
        wait_for(lambda: "handshake timed out" in srv.error_log(), 5, what="log line")


HTTP_LIMIT_CONF = """
events { worker_connections 256; }
rtmp {
    %s
    server {
        listen 127.0.0.1:{port};
        listen [::1]:{port};
        %s
        application live { live on; }
    }
}
http {
    %s
    server {
        listen 127.0.0.1:{http_port};
        %s
        location / { flv_live on; }
    }
}
"""


def curl_status(url, timeout=5):
    """(HTTP status, body) of a GET with curl, or (0, error) when it got no answer."""
    r = subprocess.run(["curl", "-sS", "--max-time", str(timeout), "-w", "\n%{http_code}", url],
                       capture_output=True, timeout=timeout + 5)
    body, _, code = r.stdout.rpartition(b"\n")
    return int(code or 0), body.decode(errors="replace") or r.stderr.decode(errors="replace")


class HttpLimits(AccessBase):
    """The limit module counts HTTP connections with RTMP sessions: one address's players
    of both protocols share max_connections_per_ip, and every client of the worker counts
    against max_connections. A refused HTTP client gets 503 and one log line."""

    def test_one_rtmp_and_one_http_player_fill_a_per_ip_limit_of_2(self):
        need("curl", "ffmpeg")
        srv = self.server(HTTP_LIMIT_CONF % ("", "max_connections_per_ip 2;", "",
                                             "max_connections_per_ip 2;"), workers=1).start()
        # The publisher comes from ::1, the players from 127.0.0.1.
        self.publish("rtmp://[::1]:%d/live/a" % srv.port)
        wait_for(lambda: 'publish "live/a" (live)' in srv.error_log(), 10, what="publish")
        rtmp_out = os.path.join(srv.prefix, "rtmp.flv")
        rtmp = Client(self, ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", srv.url("live/a"),
                             "-c", "copy", "-f", "flv", rtmp_out])
        http_out = os.path.join(srv.prefix, "http.flv")
        http = Client(self, ["curl", "-sS", "-N", "-o", http_out, srv.http_url("live/a.flv")])
        for out in (rtmp_out, http_out):
            wait_for(lambda: os.path.exists(out) and os.path.getsize(out) > 10000, 15, what=out)
        # A third player from that address is refused, whichever protocol it speaks.
        status, body = curl_status(srv.http_url("live/a.flv"))
        self.assertEqual(status, 503, body)
        self.assertIn("max_connections_per_ip", body)
        self.assertTrue(closed_by_server(srv.port), "a third RTMP client must be refused")
        wait_for(lambda: "refused: max_connections_per_ip 2 reached" in srv.error_log(), 5, what="log line")
        self.assertEqual(srv.error_log().count('http-flv play "live/a" from 127.0.0.1'), 1)
        # The first two go on streaming.
        sizes = [os.path.getsize(rtmp_out), os.path.getsize(http_out)]
        wait_for(lambda: os.path.getsize(rtmp_out) > sizes[0] + 10000
                 and os.path.getsize(http_out) > sizes[1] + 10000, 10, what="players still receiving")
        self.assertIsNone(rtmp.p.poll())
        self.assertIsNone(http.p.poll())
        # The HTTP player leaves: its place is free for an RTMP player.
        http.stop()
        time.sleep(0.5)
        self.assertFalse(closed_by_server(srv.port, timeout=2), "the freed place takes a client")

    def test_max_connections_of_the_worker_counts_both_protocols(self):
        need("curl")
        srv = self.server(HTTP_LIMIT_CONF % ("max_connections 2;", "", "max_connections 2;", ""),
                          workers=1).start()
        time.sleep(0.5)   # the harness's start-up probe has given its slot back
        # Two idle HTTP connections fill the worker for RTMP clients ...
        held = [socket.create_connection(("127.0.0.1", srv.http_port), timeout=5) for _ in range(2)]
        self.addCleanup(lambda: [h.close() for h in held])
        time.sleep(0.3)
        self.assertTrue(closed_by_server(srv.port), "the worker is full: an RTMP client is refused")
        wait_for(lambda: "refused: max_connections (worker) 2 reached" in srv.error_log(), 5, what="log line")
        # ... and two RTMP connections fill it for HTTP clients.
        for h in held:
            h.close()
        time.sleep(0.3)
        held[:] = [socket.create_connection(("127.0.0.1", srv.port), timeout=5) for _ in range(2)]
        time.sleep(0.3)
        status, body = curl_status(srv.http_url("live/a.flv"))
        self.assertEqual(status, 503, body)
        self.assertIn("max_connections (worker)", body)
        for h in held:
            h.close()
        time.sleep(0.3)
        status, body = curl_status(srv.http_url("live/a.flv"))
        self.assertEqual(status, 404, body)   # admitted: no such stream

PROXY_CONF = """
events { worker_connections 256; }
rtmp {
    server {
        listen 127.0.0.1:{port} proxy_protocol;
        set_real_ip_from 127.0.0.1;
        application live {
            live on;
            deny publish 192.0.2.66;
        }
    }
}
"""


class HeaderProxy:
    """A TCP forwarder that writes a PROXY v1 header first, as a TLS terminator would."""

    def __init__(self, test, target_port, client_ip):
        self.target = target_port
        self.client_ip = client_ip
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.stop = False
        threading.Thread(target=self.accept_loop, daemon=True).start()
        test.addCleanup(self.close)

    def close(self):
        self.stop = True
        self.lsock.close()

    def accept_loop(self):
        while not self.stop:
            try:
                c, addr = self.lsock.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.target))
            u.sendall(("PROXY TCP4 %s 127.0.0.1 %d %d\r\n" % (self.client_ip, addr[1], self.target)).encode())
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    @staticmethod
    def pump(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class ProxyProtocol(AccessBase):
    def test_real_client_address_from_proxy_header(self):
        srv = self.server(PROXY_CONF).start(wait_listen=False)
        srv.wait_workers_started()
        good = HeaderProxy(self, srv.port, "192.0.2.1")
        self.publish("rtmp://127.0.0.1:%d/live/cam" % good.port)
        wait_for(lambda: 'publish "live/cam" (live) from 192.0.2.1:' in srv.error_log(), 10,
                 what="publish logged with the real address")
        bad = HeaderProxy(self, srv.port, "192.0.2.66")
        c = self.publish("rtmp://127.0.0.1:%d/live/other" % bad.port, loop=False)
        self.assertNotEqual(c.p.wait(20), 0)
        self.assertIn('from 192.0.2.66:', srv.error_log())
        self.assertIn('denied by "deny publish 192.0.2.66"', srv.error_log())
        # A client that skips the proxy sends no header: refused.
        self.assertTrue(closed_by_server(srv.port))
        wait_for(lambda: "no PROXY header" in srv.error_log(), 5, what="log line")

    def test_untrusted_proxy_is_refused(self):
        conf = PROXY_CONF.replace("set_real_ip_from 127.0.0.1;", "set_real_ip_from 10.0.0.0/8;")
        srv = self.server(conf).start(wait_listen=False)
        srv.wait_workers_started()
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        s.sendall(b"PROXY TCP4 192.0.2.1 127.0.0.1 1000 1935\r\n\x03" + bytes(1536))
        self.assertEqual(s.recv(10), b"")
        s.close()
        wait_for(lambda: "untrusted address" in srv.error_log(), 5, what="log line")

    def test_proxy_protocol_without_trusted_list_is_a_config_error(self):
        conf = PROXY_CONF.replace("set_real_ip_from 127.0.0.1;", "")
        srv = self.server(conf)
        r = srv.run_cli("-t")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("set_real_ip_from", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
