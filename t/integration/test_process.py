"""Process behaviour of the real binary: -t, start/stop, reload, respawn, drain,
log reopening, orphan workers. Each test runs its own server in a temp prefix."""

import os
import signal
import socket
import subprocess
import time
import unittest

from strom_harness import ServerTest, alive, wait_for, binary

CONF = """
events { worker_connections 64; }
rtmp {
    server {
        listen 127.0.0.1:{port};
        handshake_timeout 60s;
        application live { live on; }
    }
}
"""


def hold(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s


def tcp_sockets(port):
    """{inode: state} of the IPv4 TCP sockets whose local port is `port`
    (state 0A: listening, 01: established)."""
    out = {}
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if int(parts[1].split(":")[1], 16) == port:
                out[int(parts[9])] = parts[3]
    return out


def socket_inodes(pid):
    """The socket inodes process `pid` holds open."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            link = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(int(link[8:-1]))
    return inodes


def worker_of_connection(srv, before):
    """The worker pids of the generation before a reload."""
    return [p for p in before if alive(p)]


class ConfigTest(ServerTest):
    def test_good_config_is_successful(self):
        s = self.server(CONF)
        r = s.run_cli("-t")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("syntax is ok", r.stderr)
        self.assertIn("test is successful", r.stderr)

    def test_shipped_default_config_is_successful(self):
        root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
        r = subprocess.run([binary(), "-t", "-p", root + "/", "-c", "conf/strom.conf"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("test is successful", r.stderr)

    def check_bad(self, body, expect, line):
        s = self.server(body)
        r = s.run_cli("-t")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(expect, r.stderr)
        self.assertIn("strom.conf:%d" % line, r.stderr)
        self.assertIn("test failed", r.stderr)

    def test_unknown_directive(self):
        # 4 main lines come first (daemon, worker_processes, error_log, pid) + blank
        self.check_bad("\nfoo bar;\n", 'unknown directive "foo"', 7)

    def test_unexpected_end_of_file(self):
        self.check_bad("\nrtmp {\n  server {\n", 'unexpected end of file, expecting "}"', 9)

    def test_invalid_value(self):
        self.check_bad("\nworker_connections lots;\n", '"worker_connections" directive invalid value', 7)

    def test_not_allowed_here(self):
        self.check_bad("\nrtmp { worker_processes 2; }\n", '"worker_processes" directive is not allowed here', 7)


class ProcessTest(ServerTest):
    def test_start_and_fast_stop(self):
        s = self.server(CONF, workers=2).start()
        self.assertEqual(len(s.workers_pids()), 2)
        pidfile = os.path.join(s.prefix, "logs", "strom.pid")
        with open(pidfile) as f:
            self.assertEqual(int(f.read()), s.pid)
        workers = s.workers_pids()
        s.signal(signal.SIGTERM)
        s.proc.wait(10)
        self.assertEqual(s.proc.returncode, 0)
        for w in workers:
            wait_for(lambda: not alive(w), 5, what="worker exit")
        self.assertFalse(os.path.exists(pidfile))

    def test_reload_changes_number_of_workers(self):
        s = self.server(CONF, workers=1).start()
        old = s.workers_pids()
        s.write_conf(CONF, workers=3)
        r = s.run_cli("-s", "reload")
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_for(lambda: len(s.workers_pids()) == 3 and not set(old) & set(s.workers_pids()), 10,
                 what="3 new workers")
        self.assertTrue(s.listening())

    def test_connection_survives_reload_and_old_worker_drains(self):
        s = self.server(CONF, workers=1).start()
        old = s.workers_pids()
        c = hold(s.port)
        time.sleep(0.3)
        s.signal(signal.SIGHUP)
        wait_for(lambda: len(set(s.workers_pids()) - set(old)) == 1, 10, what="new worker")
        time.sleep(1.0)
        self.assertTrue(alive(old[0]), "old worker exited with a connection open")
        c.sendall(b"\x03")   # still connected to the old worker
        # a new connection goes to the new worker, the old one is still serving
        c2 = hold(s.port)
        c2.close()
        c.close()
        wait_for(lambda: not alive(old[0]), 10, what="old worker exit after close")

    def test_worker_shutdown_timeout_bounds_drain(self):
        s = self.server(CONF, workers=1, extra_main="worker_shutdown_timeout 1s;").start()
        old = s.workers_pids()
        c = hold(s.port)
        time.sleep(0.3)
        s.signal(signal.SIGHUP)
        t0 = time.time()
        wait_for(lambda: not alive(old[0]), 10, what="old worker exit at shutdown timeout")
        self.assertGreater(time.time() - t0, 0.8)
        c.settimeout(5)
        self.assertEqual(c.recv(10), b"")   # our connection was closed
        c.close()

    def test_broken_reload_keeps_old_workers_serving(self):
        s = self.server(CONF, workers=2).start()
        old = sorted(s.workers_pids())
        with open(s.conf_path, "a") as f:
            f.write("\nthis is not valid\n")
        s.signal(signal.SIGHUP)
        wait_for(lambda: "reload failed" in s.error_log(), 5, what="reload failure logged")
        time.sleep(0.5)
        self.assertEqual(sorted(s.workers_pids()), old)
        self.assertTrue(s.listening())

    def test_killed_worker_is_replaced_at_once(self):
        s = self.server(CONF, workers=2).start()
        time.sleep(2.2)   # past the crash-loop window: a first death respawns at once
        victim = s.workers_pids()[0]
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: len(s.workers_pids()) == 2 and victim not in s.workers_pids(), 5,
                 what="replacement worker")
        self.assertNotIn("keeps dying", s.error_log(), "a first death was taken for a crash loop")
        self.assertTrue(s.listening())

    def test_sigquit_waits_for_open_connections(self):
        s = self.server(CONF, workers=1).start()
        c = hold(s.port)
        time.sleep(0.3)
        s.signal(signal.SIGQUIT)
        time.sleep(1.0)
        self.assertIsNone(s.proc.poll(), "master exited with a connection open")
        c.close()
        s.proc.wait(10)
        self.assertEqual(s.proc.returncode, 0)

    def test_sigusr1_reopens_moved_log(self):
        s = self.server(CONF, workers=1).start()
        log = os.path.join(s.prefix, "logs", "error.log")
        os.rename(log, log + ".1")
        s.signal(signal.SIGUSR1)
        wait_for(lambda: os.path.exists(log), 5, what="new error.log")
        s.signal(signal.SIGHUP)   # something that logs
        wait_for(lambda: "reconfiguring" in s.error_log(), 5, what="line in the new log")

    def test_dead_master_leaves_no_orphan_workers(self):
        s = self.server(CONF, workers=2).start()
        workers = s.workers_pids()
        os.kill(s.pid, signal.SIGKILL)
        s.proc.wait(5)
        for w in workers:
            wait_for(lambda: not alive(w), 5, what="orphan worker exit")

    def test_reuseport_gives_each_worker_its_own_socket(self):
        conf = CONF.replace("listen 127.0.0.1:{port};", "listen 127.0.0.1:{port} reuseport;")
        s = self.server(conf, workers=2).start()

        def listening_by_worker():
            listening = {i for i, st in tcp_sockets(s.port).items() if st == "0A"}
            return listening, {pid: socket_inodes(pid) & listening for pid in s.workers_pids()}

        listening, held = listening_by_worker()
        self.assertEqual(len(listening), 2, "one listening socket per worker")
        self.assertEqual(sorted(len(h) for h in held.values()), [1, 1], held)
        self.assertEqual(set().union(*held.values()), listening, "each worker holds only its own")
        # the kernel spreads connections over both (all 24 on one: 2^-23)
        conns = [hold(s.port) for _ in range(24)]
        time.sleep(0.5)
        established = {i for i, st in tcp_sockets(s.port).items() if st == "01"}
        per_worker = [len(socket_inodes(pid) & established) for pid in s.workers_pids()]
        self.assertEqual(sum(per_worker), 24, per_worker)
        self.assertTrue(all(n > 0 for n in per_worker), per_worker)
        # a reload to 3 workers keeps both sockets and adds one; old connections stay
        old = s.workers_pids()
        s.write_conf(conf, workers=3)
        s.signal(signal.SIGHUP)
        wait_for(lambda: len(set(s.workers_pids()) - set(old)) == 3, 10, what="3 new workers")
        new_listening, held = listening_by_worker()
        self.assertEqual(len(new_listening), 3)
        self.assertTrue(listening <= new_listening, "the reload replaced a listening socket")
        self.assertEqual(sorted(len(h) for h in held.values() if h), [1, 1, 1], held)
        for c in conns:
            c.sendall(b"\x03")
        c = hold(s.port)
        c.close()
        for c in conns:
            c.close()
        # and back to one: the other two sockets are closed everywhere
        s.write_conf(conf, workers=1)
        s.signal(signal.SIGHUP)
        wait_for(lambda: len({i for i, st in tcp_sockets(s.port).items() if st == "0A"}) == 1, 10,
                 what="one listening socket")
        self.assertTrue(s.listening())

    def test_exhausted_connection_slots_refuse_only_new_connections(self):
        # max_connections 0: the slots themselves run out here, not the limit module's share.
        s = self.server(CONF.replace("worker_connections 64", "worker_connections 4")
                        .replace("rtmp {", "rtmp {\n    max_connections 0;"), workers=1).start()
        time.sleep(0.5)   # the start-up probe's slot is released
        held = [hold(s.port) for _ in range(4)]
        time.sleep(0.3)
        extra = hold(s.port)
        extra.settimeout(5)
        self.assertEqual(extra.recv(10), b"")   # refused: closed at once
        wait_for(lambda: "worker_connections are not enough" in s.error_log(), 5, what="log line")
        held[0].sendall(b"\x03")
        for h in held:
            h.close()
        extra.close()


ProcessTest.allowed_alerts = ("exited on signal 9", "keeps dying", "worker_connections are not enough",
                             "reload failed")

if __name__ == "__main__":
    unittest.main()
