"""A deliberately small raw RTMP client for robustness tests: it can do a simple
handshake, write chunks exactly as told (including hostile ones) and encode the few
AMF0 values the tests need, and read whole messages back (MessageReader) to check what
a server sends and when. Not a player: real clients are ffmpeg, rtmpdump, gst."""

import os
import socket
import struct


def amf_str(s):
    b = s.encode() if isinstance(s, str) else s
    return b"\x02" + struct.pack(">H", len(b)) + b


def amf_num(n):
    return b"\x00" + struct.pack(">d", n)


def amf_null():
    return b"\x05"


def amf_bool(b):
    return b"\x01" + (b"\x01" if b else b"\x00")


def amf_obj(d):
    out = b"\x03"
    for k, v in d.items():
        kb = k.encode()
        out += struct.pack(">H", len(kb)) + kb
        out += amf_str(v) if isinstance(v, str) else amf_num(v)
    return out + b"\x00\x00\x09"


class RawRtmp:
    def __init__(self, port, timeout=5):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def handshake(self):
        c1 = b"\x00" * 8 + os.urandom(1528)
        self.sock.sendall(b"\x03" + c1)
        s = self.recv_exact(1 + 1536 + 1536)
        self.sock.sendall(s[1:1537])   # C2 echoes S1
        return s

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed after %d bytes" % len(buf))
            buf += chunk
        return buf

    def chunk(self, csid, mtype, msid, payload, ts=0, chunk_size=128, length=None):
        """Writes one message as fmt0 + fmt3 chunks (csid < 64)."""
        length = len(payload) if length is None else length
        hdr = bytes([csid & 0x3F]) + struct.pack(">I", ts)[1:] + struct.pack(">I", length)[1:] \
            + bytes([mtype]) + struct.pack("<I", msid)
        out = hdr + payload[:chunk_size]
        rest = payload[chunk_size:]
        while rest:
            out += bytes([0xC0 | (csid & 0x3F)]) + rest[:chunk_size]
            rest = rest[chunk_size:]
        self.sock.sendall(out)

    def command(self, name, tid, *args, msid=0, csid=3):
        body = amf_str(name) + amf_num(tid) + b"".join(args)
        self.chunk(csid, 20, msid, body)

    def connect(self, app="live", port=1935):
        self.command("connect", 1, amf_obj({"app": app, "tcUrl": "rtmp://127.0.0.1:%d/%s" % (port, app),
                                            "flashVer": "LNX 9,0,124,2", "objectEncoding": 0}))

    def read_until_closed(self, limit=1 << 20, timeout=5):
        """Reads until the server closes; returns the bytes (raises on timeout)."""
        self.sock.settimeout(timeout)
        data = b""
        while len(data) < limit:
            chunk = self.sock.recv(65536)
            if not chunk:
                return data
            data += chunk
        return data

    def close(self):
        self.sock.close()


class MessageReader:
    """Reassembles the messages a server sends on a RawRtmp connection after the
    handshake: chunk basic and message headers of every fmt, Set Chunk Size applied.
    next() returns (type, msid, timestamp, payload)."""

    def __init__(self, raw):
        self.raw = raw
        self.chunk_size = 128
        self.streams = {}   # csid -> [ts, length, type, msid, delta, partial]

    def _read(self, n):
        return self.raw.recv_exact(n)

    def next(self):
        while True:
            b0 = self._read(1)[0]
            fmt, csid = b0 >> 6, b0 & 0x3F
            if csid == 0:
                csid = 64 + self._read(1)[0]
            elif csid == 1:
                x = self._read(2)
                csid = 64 + x[0] + 256 * x[1]
            st = self.streams.setdefault(csid, [0, 0, 0, 0, 0, b""])
            if fmt <= 2:
                t = int.from_bytes(self._read(3), "big")
                if fmt <= 1:
                    st[1] = int.from_bytes(self._read(3), "big")
                    st[2] = self._read(1)[0]
                if fmt == 0:
                    st[3] = struct.unpack("<I", self._read(4))[0]
                if t == 0xFFFFFF:
                    t = struct.unpack(">I", self._read(4))[0]
                if fmt == 0:
                    st[0], st[4] = t, 0
                else:
                    st[4] = t
            if not st[5]:
                if fmt != 0:
                    st[0] = (st[0] + st[4]) & 0xFFFFFFFF
            need = min(self.chunk_size, st[1] - len(st[5]))
            st[5] += self._read(need)
            if len(st[5]) < st[1]:
                continue
            payload, st[5] = st[5], b""
            if st[2] == 1:
                self.chunk_size = struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF
            return st[2], st[3], st[0], payload


def open_play(raw, port, app, name):
    """On a fresh RawRtmp: handshake, connect to `app`, createStream and play `name`.
    Returns (MessageReader, the stream id)."""
    raw.handshake()
    raw.connect(app=app, port=port)
    r = MessageReader(raw)
    raw.command("createStream", 2, amf_null())
    while True:
        mtype, _, _, body = r.next()
        if mtype == 20 and body.startswith(amf_str("_result") + amf_num(2)):
            msid = int(struct.unpack(">d", body[-8:])[0])
            break
    raw.command("play", 0, amf_null(), amf_str(name), msid=msid, csid=8)
    return r, msid
