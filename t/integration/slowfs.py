"""A slow disk for tests: a FUSE filesystem that mirrors a source directory read-only and
sleeps DELAY seconds in every read() that reaches it, so a read that misses the kernel's
page cache takes at least DELAY. Reads that hit the page cache never reach it.
With WRITE_DELAY the mirror is writable (create, write, truncate, unlink, mkdir) and
every write() sleeps WRITE_DELAY seconds: libfuse 2 without writeback caching sends each
write(2) (in pieces of at most 4 KiB, without big_writes) to the filesystem and waits.

    python3 slowfs.py SRC MOUNTPOINT DELAY [WRITE_DELAY [MAX_WRITE]]   (foreground)

Every read is logged on stdout as "read START END OFFSET SIZE PATH" (monotonic seconds),
every write as "write START END OFFSET SIZE PATH".

Caching: the mount uses libfuse 2's defaults, on purpose. Without kernel_cache (and
without auto_cache) every open() drops the file's cached pages, so each open starts cold;
within one open the page cache and the kernel's readahead (128 KiB windows, in the
background) work as on any disk. No direct_io: that would send even an 11-byte read to
the filesystem and leave nothing for a page-cache check (mincore, RWF_NOWAIT) to find.

Tests use SlowFs / mount_slowfs(): a mount in a temporary directory, waited for with
os.path.ismount, unmounted and its process stopped by pid at cleanup; unittest.SkipTest
when FUSE cannot be mounted here (no /dev/fuse, no fusepy, no permission).

Needs Debian's python3-fusepy (module `fusepy`; pip's fusepy is module `fuse`), which
pulls libfuse2. As root libfuse mounts by itself; otherwise it needs fusermount (`fuse`)."""

import errno
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.abspath(__file__)


def _import_fuse():
    try:
        import fusepy as fuse   # Debian's python3-fusepy
    except ImportError:
        import fuse             # pip's fusepy
        if not hasattr(fuse, "FUSE"):   # python3-fuse (another binding) is also "fuse"
            raise ImportError("the fuse module found is not fusepy")
    return fuse


# --- the filesystem (runs in its own process) --------------------------------------------------

def serve(src, mountpoint, delay, write_delay=None, max_write=None):
    fuse = _import_fuse()
    writable = write_delay is not None
    src = os.path.realpath(src)
    out_lock = threading.Lock()

    class SlowMirror(fuse.Operations):
        use_ns = True

        def _real(self, path):
            return os.path.join(src, path.lstrip("/"))

        def getattr(self, path, fh=None):
            try:
                st = os.lstat(self._real(path))
            except OSError as e:
                raise fuse.FuseOSError(e.errno)
            d = {k: getattr(st, k) for k in ("st_mode", "st_nlink", "st_uid", "st_gid", "st_size",
                                             "st_blocks")}
            for k in ("st_atime", "st_mtime", "st_ctime"):
                d[k] = getattr(st, k + "_ns")
            return d

        def readdir(self, path, fh):
            return [".", ".."] + os.listdir(self._real(path))

        def readlink(self, path):
            return os.readlink(self._real(path))

        def access(self, path, mode):
            if mode & os.W_OK and not writable:
                raise fuse.FuseOSError(errno.EROFS)
            if not os.access(self._real(path), mode):
                raise fuse.FuseOSError(errno.EACCES)

        def statfs(self, path):
            st = os.statvfs(self._real(path))
            return {k: getattr(st, k) for k in ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail",
                                                "f_ffree", "f_files", "f_flag", "f_frsize", "f_namemax")}

        def open(self, path, flags):
            wflags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_TRUNC | os.O_CREAT
            if flags & wflags and not writable:
                raise fuse.FuseOSError(errno.EROFS)
            try:
                return os.open(self._real(path), flags & (wflags | os.O_RDONLY) if writable else os.O_RDONLY)
            except OSError as e:
                raise fuse.FuseOSError(e.errno)

        def _rw(self, fn, *args):
            if not writable:
                raise fuse.FuseOSError(errno.EROFS)
            try:
                return fn(*args)
            except OSError as e:
                raise fuse.FuseOSError(e.errno)

        def create(self, path, mode, fi=None):
            return self._rw(os.open, self._real(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)

        def write(self, path, data, offset, fh):
            t0 = time.monotonic()
            time.sleep(write_delay or 0)
            n = self._rw(os.pwrite, fh, data, offset)
            with out_lock:
                sys.stdout.write("write %.6f %.6f %d %d %s\n" % (t0, time.monotonic(), offset, len(data), path))
                sys.stdout.flush()
            return n

        def truncate(self, path, length, fh=None):
            self._rw(os.truncate, self._real(path), length)

        def unlink(self, path):
            self._rw(os.unlink, self._real(path))

        def mkdir(self, path, mode):
            self._rw(os.mkdir, self._real(path), mode)

        def chmod(self, path, mode):
            self._rw(os.chmod, self._real(path), mode)

        def utimens(self, path, times=None):
            self._rw(os.utime, self._real(path), ns=times) if times else self._rw(os.utime, self._real(path))

        def flush(self, path, fh):
            return 0

        def fsync(self, path, datasync, fh):
            return 0

        def read(self, path, size, offset, fh):
            t0 = time.monotonic()
            time.sleep(delay)
            data = os.pread(fh, size, offset)
            with out_lock:
                sys.stdout.write("read %.6f %.6f %d %d %s\n" % (t0, time.monotonic(), offset, size, path))
                sys.stdout.flush()
            return data

        def release(self, path, fh):
            os.close(fh)

    # foreground; threads so that concurrent reads overlap; read-only; libfuse's default
    # caching (see the top of this file): no kernel_cache, auto_cache or direct_io
    # max_write (with big_writes): one write(2) of up to that many bytes is one request,
    # one sleep; without it libfuse 2 sends 4 KiB at a time
    extra = {"big_writes": True, "max_write": int(max_write)} if writable and max_write else {}
    fuse.FUSE(SlowMirror(), mountpoint, foreground=True, nothreads=False, ro=not writable, fsname="slowfs",
              subtype="slowfs", **extra)


# --- the test helper -------------------------------------------------------------------------

def _fuse_python():
    """An interpreter that can import fusepy: this one, else the system's (the Debian
    package installs into /usr/lib/python3/dist-packages, which e.g. a pyenv python lacks)."""
    try:
        _import_fuse()
        return sys.executable
    except ImportError:
        pass
    except OSError as e:   # fusepy found, libfuse not
        raise unittest.SkipTest("fusepy cannot load libfuse: %s" % e)
    for cand in ("/usr/bin/python3", "/bin/python3"):
        if os.path.exists(cand) and os.path.realpath(cand) != os.path.realpath(sys.executable):
            r = subprocess.run([cand, "-c", "import sys; sys.path.insert(0, %r); import slowfs; slowfs._import_fuse()"
                                % os.path.dirname(HERE)], capture_output=True, text=True, timeout=30)
            if r.returncode == 0:
                return cand
    raise unittest.SkipTest("fusepy is not installed (Debian: apt-get install python3-fusepy)")


def _unmount_cmd(mountpoint, lazy=False):
    if shutil.which("fusermount"):
        return ["fusermount", "-u"] + (["-z"] if lazy else []) + [mountpoint]
    if shutil.which("fusermount3"):
        return ["fusermount3", "-u"] + (["-z"] if lazy else []) + [mountpoint]
    return ["umount"] + (["-l"] if lazy else []) + [mountpoint]


class SlowFs:
    """SRC mirrored read-only at self.mountpoint (a temporary directory); every read that
    reaches the filesystem sleeps `delay` seconds. A context manager; self.reads lists
    (start, end, offset, size, path) of the reads so far (monotonic seconds)."""

    def __init__(self, src, delay=0.5, mount_timeout=10.0, write_delay=None, max_write=None):
        self.src = os.path.realpath(src)
        self.delay = float(delay)
        self.write_delay = write_delay
        self.max_write = max_write
        self.writes = []
        self.mount_timeout = mount_timeout
        self.proc = None
        self.dir = None
        self.mountpoint = None
        self.reads = []
        self._log = []
        self._reader = None

    # a path under the mount (the same relative name as under src)
    def path(self, name):
        return os.path.join(self.mountpoint, name)

    def mount(self):
        if not os.path.exists("/dev/fuse"):
            raise unittest.SkipTest("no /dev/fuse here")
        if not os.access("/dev/fuse", os.R_OK | os.W_OK):
            raise unittest.SkipTest("/dev/fuse is not readable and writable by this user")
        if os.geteuid() != 0 and not (shutil.which("fusermount") or shutil.which("fusermount3")):
            raise unittest.SkipTest("not root and no fusermount (Debian: apt-get install fuse)")
        python = _fuse_python()
        self.dir = tempfile.mkdtemp(prefix="slowfs-")
        self.mountpoint = os.path.join(self.dir, "mnt")
        os.mkdir(self.mountpoint)
        extra = [] if self.write_delay is None else [repr(float(self.write_delay))]
        if self.write_delay is not None and self.max_write:
            extra.append(str(int(self.max_write)))
        self.proc = subprocess.Popen([python, HERE, self.src, self.mountpoint, repr(self.delay)] + extra,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.mount_timeout
        while not os.path.ismount(self.mountpoint):
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().strip()
                self.unmount()
                raise unittest.SkipTest("FUSE mount failed: %s" % (err[-500:] or "exit %d" % self.proc.returncode))
            if time.monotonic() > deadline:
                self.unmount()
                raise unittest.SkipTest("FUSE mount did not appear in %.0fs" % self.mount_timeout)
            time.sleep(0.02)
        return self

    def _read_log(self):
        for line in self.proc.stdout:
            parts = line.split(" ", 5)
            if len(parts) == 6 and parts[0] == "write":
                self.writes.append((float(parts[1]), float(parts[2]), int(parts[3]), int(parts[4]),
                                    parts[5].rstrip("\n")))
            elif len(parts) == 6 and parts[0] == "read":
                self.reads.append((float(parts[1]), float(parts[2]), int(parts[3]), int(parts[4]),
                                   parts[5].rstrip("\n")))

    def drop_cache(self, name):
        """Drops the cached pages of src/NAME and of its mirror (POSIX_FADV_DONTNEED)."""
        for p in (os.path.join(self.src, name), self.path(name)):
            fd = os.open(p, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)

    def unmount(self):
        if self.proc is None and self.dir is None:
            return
        if self.mountpoint and os.path.ismount(self.mountpoint):
            r = subprocess.run(_unmount_cmd(self.mountpoint), capture_output=True, timeout=30)
            if r.returncode != 0:   # busy (a server still holds a file): detach it
                subprocess.run(_unmount_cmd(self.mountpoint, lazy=True), capture_output=True, timeout=30)
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    self.proc.wait(5)   # it exits once unmounted
                except subprocess.TimeoutExpired:
                    self.proc.send_signal(signal.SIGTERM)
                    try:
                        self.proc.wait(5)
                    except subprocess.TimeoutExpired:
                        self.proc.kill()
                        self.proc.wait()
            if self._reader:
                self._reader.join(5)
            for f in (self.proc.stdout, self.proc.stderr):
                if f:
                    f.close()
            self.proc = None
        if self.dir and not (self.mountpoint and os.path.ismount(self.mountpoint)):
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def __enter__(self):
        return self.mount()

    def __exit__(self, *exc):
        self.unmount()
        return False


def mount_slowfs(test, src, delay=0.5, write_delay=None, max_write=None):
    """Mounts SlowFs(src, delay, write_delay=..., max_write=...) for a unittest.TestCase;
    unmounted at its cleanup."""
    fs = SlowFs(src, delay, write_delay=write_delay, max_write=max_write)
    test.addCleanup(fs.unmount)
    return fs.mount()


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5, 6):
        sys.exit("usage: slowfs.py SRC MOUNTPOINT DELAY [WRITE_DELAY [MAX_WRITE]]")
    serve(sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) >= 5 else None,
          int(sys.argv[5]) if len(sys.argv) == 6 else None)
