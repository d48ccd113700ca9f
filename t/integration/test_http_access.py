"""allow/deny in http{}, server{} and location{} (403 before any content handler: API,
metrics, HTTP-FLV), inherited or replaced as in nginx; api_token bearer tokens with read
and control scopes (401 with WWW-Authenticate, 403 insufficient_scope), checked with curl;
bad scope words refused by -t."""

import subprocess
import unittest

from strom_harness import ServerTest

HEAD = """
events { worker_connections 256; }
rtmp { server { listen 127.0.0.1:{port} reuseport; application live { live on; } } }
"""

ACCESS = HEAD + """
http {
    deny 192.0.2.1;
    server {
        listen 127.0.0.1:{http_port} reuseport;
        location / { flv_live on; deny all; }
        location /api/ { api on; allow 10.0.0.0/8; allow 127.0.0.1; deny all; }
        location /metrics { metrics on; deny 127.0.0.0/8; }
        location /inherit/ { api on; }
    }
    server {
        listen 127.0.0.1:{port2} reuseport;
        deny all;
        location /api/ { api on; }
        location /open/ { api on; allow all; }
    }
}
"""

TOKENS = HEAD + """
http {
    api_token outer-token;
    server {
        listen 127.0.0.1:{http_port} reuseport;
        location /api/ { api on; api_token r3ad-Only read; api_token c0ntrol-tok control; }
        location /metrics { metrics on; }
        location /open/ { api on; api_token other; }
    }
}
"""


def curl(port, path, *args):
    """(status, headers text, body) of one curl request."""
    r = subprocess.run(["curl", "-s", "-o", "-", "-D", "/dev/stderr", "--max-time", "5",
                        "http://127.0.0.1:%d%s" % (port, path)] + list(args),
                       capture_output=True, text=True, timeout=10)
    status = int(r.stderr.split(" ", 2)[1]) if r.stderr.startswith("HTTP/") else 0
    return status, r.stderr, r.stdout


class HttpAccessTest(ServerTest):
    def start(self, conf):
        import strom_harness
        self.port2 = strom_harness.free_port()
        srv = self.server(conf.replace("{port2}", str(self.port2)))
        return srv.start()

    def test_allow_deny(self):
        srv = self.start(ACCESS)
        p = srv.http_port
        st, _, body = curl(p, "/live/test.flv")
        self.assertEqual(st, 403, "HTTP-FLV denied before the handler")
        self.assertIn("403 Forbidden", body)
        self.assertEqual(curl(p, "/api/v1/summary")[0], 200, "allow 127.0.0.1 matches first")
        self.assertEqual(curl(p, "/metrics")[0], 403, "deny 127.0.0.0/8 on metrics")
        # /inherit/ has no rules: it takes http{}'s `deny 192.0.2.1` only, which is not us
        self.assertEqual(curl(p, "/inherit/v1/summary")[0], 200)
        # server{} deny all is inherited by a location without rules, replaced by one with
        self.assertEqual(curl(self.port2, "/api/v1/summary")[0], 403)
        self.assertEqual(curl(self.port2, "/open/v1/summary")[0], 200)
        log = srv.error_log()
        self.assertIn('http GET /live/test.flv from 127.0.0.1:', log)
        self.assertIn('denied by "deny all"', log)
        self.assertIn('http GET /metrics from 127.0.0.1:', log)

    def test_tokens(self):
        srv = self.start(TOKENS)
        p = srv.http_port
        st, head, body = curl(p, "/api/v1/summary")
        self.assertEqual(st, 401)
        self.assertIn('WWW-Authenticate: Bearer realm="strom"', head)
        self.assertIn('"error"', body)
        st, head, _ = curl(p, "/api/v1/summary", "-H", "Authorization: Bearer wrong")
        self.assertEqual(st, 401)
        self.assertIn('error="invalid_token"', head)
        self.assertEqual(curl(p, "/api/v1/summary", "-H", "Authorization: Bearer r3ad-Onl")[0], 401)
        self.assertEqual(curl(p, "/api/v1/summary", "-H", "Authorization: Basic r3ad-Only")[0], 401)
        rd = ["-H", "Authorization: Bearer r3ad-Only"]
        self.assertEqual(curl(p, "/api/v1/summary", *rd)[0], 200)
        self.assertEqual(curl(p, "/api/v1/summary", "-I", *rd)[0], 200)
        self.assertEqual(curl(p, "/api/v1/summary", "-H", "Authorization: bearer r3ad-Only")[0], 200)
        st, head, body = curl(p, "/api/v1/summary", "-X", "POST", *rd)
        self.assertEqual(st, 403)
        self.assertIn('error="insufficient_scope"', head)
        self.assertIn("insufficient_scope", body)
        st, _, _ = curl(p, "/api/v1/summary", "-X", "POST", "-H", "Authorization: Bearer c0ntrol-tok")
        self.assertNotIn(st, (401, 403))
        self.assertEqual(st, 405, "the API itself answers: no control endpoint yet")
        self.assertEqual(curl(p, "/api/v1/summary", "-H", "Authorization: Bearer c0ntrol-tok")[0], 200)
        # /metrics inherits http{}'s token; /open/ replaces it with its own
        self.assertEqual(curl(p, "/metrics")[0], 401)
        self.assertEqual(curl(p, "/metrics", "-H", "Authorization: Bearer outer-token")[0], 200)
        self.assertEqual(curl(p, "/open/v1/summary", "-H", "Authorization: Bearer outer-token")[0], 401)
        self.assertEqual(curl(p, "/open/v1/summary", "-H", "Authorization: Bearer other")[0], 200)
        self.assertIn("unknown bearer token", srv.error_log())

    def test_conf_errors(self):
        bad = [("api_token abc admin;", '"admin"'), ('api_token "a b";', "api_token"),
               ("allow 10.0.0.1/8;", "10.0.0.1/8"), ("api_token x; api_token x;", "duplicate")]
        for line, want in bad:
            srv = self.server(HEAD + "http { server { listen 127.0.0.1:{http_port}; location /api/ "
                              "{ api on; %s } } }\n" % line)
            r = srv.run_cli("-t")
            self.assertNotEqual(r.returncode, 0, line)
            self.assertIn(want, r.stdout + r.stderr, line)


if __name__ == "__main__":
    unittest.main()
