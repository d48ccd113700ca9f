"""nginx-rtmp's /stat XML (`location /stat { rtmp_stat all; }`) on Strom with 2 workers,
compared with the real thing: Debian's nginx with libnginx-mod-rtmp runs the same scenario
(ffmpeg publishes testsrc 320x240 + sine to live/NAME, ffmpeg plays it); Strom's tree must
hold every tag path nginx-rtmp's holds but the named exceptions, and its values must match
the scenario. Hostile app / stream names still give well-formed XML."""

import os
import shutil
import signal
import subprocess
import tempfile
import unittest
import urllib.request
import xml.etree.ElementTree as ET

from strom_harness import free_port, wait_for
from test_rtmp import LiveTestBase, Proc, need

NGINX_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"

# Tag paths nginx-rtmp writes that Strom's board has no figures for (README: /stat).
EXCEPTIONS = {
    "rtmp/naccepted",
    "rtmp/server/application/live/stream/bw_out",
    "rtmp/server/application/live/stream/bw_audio",
    "rtmp/server/application/live/stream/bw_video",
    "rtmp/server/application/live/stream/client/avsync",
    "rtmp/server/application/live/stream/client/timestamp",
    "rtmp/server/application/live/stream/meta/video/compat",
}

STROM_CONF = """
events { worker_connections 512; }
rtmp {
    server {
        listen 127.0.0.1:{port} reuseport;
        application live { live on; }
        application "%s" { live on; }
    }
}
http {
    server {
        listen 127.0.0.1:{http_port} reuseport;
        location /stat { rtmp_stat all; rtmp_stat_stylesheet "stat.xsl?a=1&b=<2>"; }
    }
}
"""

NGINX_CONF = """load_module %(module)s;
daemon off; master_process off; error_log stderr; pid %(prefix)s/nginx.pid;
events { worker_connections 64; }
rtmp { server { listen 127.0.0.1:%(rtmp)d; application live { live on; } } }
http {
    access_log off;
    client_body_temp_path %(prefix)s/t1; proxy_temp_path %(prefix)s/t2;
    fastcgi_temp_path %(prefix)s/t3; uwsgi_temp_path %(prefix)s/t4; scgi_temp_path %(prefix)s/t5;
    server { listen 127.0.0.1:%(http)d; location /stat { rtmp_stat all; } }
}
"""

HOSTILE_APP = "app'x"
HOSTILE_NAME = "cam\"<&>'"


def fetch(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/stat" % port, timeout=5) as r:
        return r.read(), r.headers.get("Content-Type")


def paths(elem, prefix=""):
    here = prefix + elem.tag
    out = {here}
    for child in elem:
        out |= paths(child, here + "/")
    return out


def live_stream(root, app, name):
    for a in root.iter("application"):
        if a.findtext("name") != app:
            continue
        for s in a.iter("stream"):
            if s.findtext("name") == name:
                return s
    return None


def ready(port, app="live", name="test"):
    """The parsed tree once the stream has its publisher, a player and its meta."""
    try:
        root = ET.fromstring(fetch(port)[0])
    except OSError:
        return None
    s = live_stream(root, app, name)
    if s is None or s.findtext("nclients") != "2" or s.find("meta/video") is None:
        return None
    return root


class StatXmlTest(LiveTestBase):
    def play_and_publish(self, url):
        Proc(self, ["ffmpeg", "-nostdin", "-loglevel", "error", "-re",
                    "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
                    "-f", "lavfi", "-i", "sine=sample_rate=44100",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "25",
                    "-c:a", "aac", "-f", "flv", url])

    def player(self, url):
        Proc(self, ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", url, "-f", "null", "-"])

    def nginx_tree(self):
        if not os.path.exists(NGINX_MODULE) or not shutil.which("nginx"):
            raise unittest.SkipTest("nginx with libnginx-mod-rtmp not installed")
        prefix = tempfile.mkdtemp(prefix="strom-ngx-")
        self.addCleanup(shutil.rmtree, prefix, True)
        rtmp, http = free_port(), free_port()
        with open(os.path.join(prefix, "nginx.conf"), "w") as f:
            f.write(NGINX_CONF % {"module": NGINX_MODULE, "prefix": prefix, "rtmp": rtmp,
                                  "http": http})
        os.makedirs(os.path.join(prefix, "logs"), exist_ok=True)
        p = subprocess.Popen(["nginx", "-p", prefix, "-c", os.path.join(prefix, "nginx.conf")],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)

        def stop():
            if p.poll() is None:
                os.kill(p.pid, signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    os.kill(p.pid, signal.SIGKILL)
                    p.wait()
        self.addCleanup(stop)
        wait_for(lambda: os.path.exists(os.path.join(prefix, "nginx.pid")), 10, what="nginx")
        url = "rtmp://127.0.0.1:%d/live/test" % rtmp
        self.play_and_publish(url)
        wait_for(lambda: self._published(http), 20, what="nginx's stream")
        self.player(url)
        return wait_for(lambda: ready(http), 30, what="nginx's /stat with 2 clients")

    def _published(self, port):
        try:
            root = ET.fromstring(fetch(port)[0])
        except OSError:
            return False
        s = live_stream(root, "live", "test")
        return s is not None and s.find("publishing") is not None

    def test_tree_and_values_as_nginx_rtmp(self):
        need("ffmpeg")
        reference = self.nginx_tree()
        srv = self.server(STROM_CONF % HOSTILE_APP, workers=2).start()
        self.play_and_publish(srv.url("live/test"))
        wait_for(lambda: self._published(srv.http_port), 20, what="Strom's stream")
        self.player(srv.url("live/test"))
        root = wait_for(lambda: ready(srv.http_port), 30, what="Strom's /stat with 2 clients")
        body, ctype = fetch(srv.http_port)
        self.assertEqual(ctype, "text/xml")
        self.assertIn(b'<?xml-stylesheet type="text/xsl" href="stat.xsl?a=1&amp;b=&lt;2&gt;" ?>',
                      body)
        missing = paths(reference) - paths(root) - EXCEPTIONS
        self.assertEqual(missing, set(), "tag paths nginx-rtmp has and Strom lacks")
        s = live_stream(root, "live", "test")
        self.assertEqual(s.findtext("nclients"), "2")
        self.assertIsNotNone(s.find("publishing"))
        self.assertIsNotNone(s.find("active"))
        clients = s.findall("client")
        self.assertEqual(len(clients), 2)
        pubs = [c for c in clients if c.find("publishing") is not None]
        self.assertEqual(len(pubs), 1)
        self.assertTrue(pubs[0].findtext("flashver").startswith("FMLE/3.0"))
        self.assertEqual(s.findtext("meta/video/width"), "320")
        self.assertEqual(s.findtext("meta/video/height"), "240")
        self.assertEqual(s.findtext("meta/video/codec"), "H264")
        self.assertEqual(s.findtext("meta/video/frame_rate"), "25")
        self.assertEqual(s.findtext("meta/audio/codec"), "AAC")
        self.assertEqual(s.findtext("meta/audio/sample_rate"), "44100")
        self.assertEqual(root.findtext("server/application/live/nclients"), "2")
        # byte counts are sampled once a second: wait for the sample rather than a time
        def counted():
            r = ET.fromstring(fetch(srv.http_port)[0])
            st = live_stream(r, "live", "test")
            return int(r.findtext("bytes_in")) > 0 and int(st.findtext("bytes_in")) > 0
        wait_for(counted, 30, what="byte counts in /stat")

    def test_hostile_names_well_formed(self):
        need("ffmpeg")
        srv = self.server(STROM_CONF % HOSTILE_APP, workers=2).start()
        self.play_and_publish(srv.url(HOSTILE_APP + "/" + HOSTILE_NAME))
        wait_for(lambda: self._stream(srv.http_port), 20, what="the hostile stream in /stat")
        body, _ = fetch(srv.http_port)
        self.assertIn(b"<name>cam&quot;&lt;&amp;&gt;&apos;</name>", body)
        self.assertIn(b"<name>app&apos;x</name>", body)

    def _stream(self, port):
        root = ET.fromstring(fetch(port)[0])  # parse errors fail the test
        return live_stream(root, HOSTILE_APP, HOSTILE_NAME) is not None


if __name__ == "__main__":
    unittest.main()
