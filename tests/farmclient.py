# farmclient.py: what the tests of bdfarm clients against the real bdfarm
# server share: a server (bdfarmtest.Farm) started with --verbose, stand-in
# .blend files, clients with the stand-in Blender (clienttest.Client), and
# a loopback proxy that records every line a client sends, so that a test
# can see what went over the wire.

import os
import re
import socket
import threading
import time

import bdfarmtest
import clienttest
from clienttest import Client, scratch, write_config, write_fake_config

EXT_COMMANDS = ("FACTS", "ALIVE", "WAITJOB", "PROGRESS", "FAILED")
OLD_COMMANDS = ("HELO", "REQUESTBLENDERDIST", "REQUESTJOB",
                "REQUESTBLENDERFILE", "RESULTS", "GOODBYE")


class VerboseFarm(bdfarmtest.Farm):
    """A bdfarm server that logs at debug level (progress reports)."""

    def argv(self, *args, **kw):
        argv = super().argv(*args, **kw)
        return argv[:1] + ["--verbose"] + argv[1:]


_farms = []


def farm(**settings):
    """A started server with short delays; a bdfarm client that stays
    silent for 10 s is lost: ten heartbeats, so that a client kept from
    running for a while on a busy machine is not. Tests of liveness set
    their own."""
    values = dict(client_timeout=10)
    values.update(settings)
    f = VerboseFarm(settings=values).start()
    _farms.append(f)
    return f


def check(cond, msg):
    """clienttest.check, showing the end of the server logs on failure."""
    if not cond:
        for f in _farms:
            print("--- last lines of %s" % f.errlog)
            print(f.log_tail(40))
            for name in sorted(os.listdir(f.jobdir)):
                if name.endswith(".log"):
                    print("--- %s" % name)
                    print(f.joblog(name[:-4])[-3000:])
    clienttest.check(cond, msg)


def client_config(top, name="client.conf", **client):
    """A client configuration with short delays and a quick heartbeat."""
    values = dict(heartbeat_interval=1, none_wait=60)
    values.update(client)
    return write_config(os.path.join(top, name), **values)


def start_clients(port, top, conf, n, fake=None, prefix="work", args=()):
    """n clients with the stand-in Blender, each in its own work folder."""
    env = {"FAKE_BLENDER_CONFIG": fake} if fake else {}
    return [Client(port, os.path.join(top, "%s%d" % (prefix, i)), conf,
                   env=env, args=args) for i in range(1, n + 1)]


def host_of(client):
    """The name a bdfarm client goes by on the server."""
    return "%s#%d" % (socket.gethostname(), client.proc.pid)


def frames_received(joblog):
    """{frame: [host, ...]} from the "frame N received from HOST" lines of
    a job log."""
    got = {}
    for m in re.finditer(r"frame (-?\d+) received from (\S+)", joblog):
        got.setdefault(int(m.group(1)), []).append(m.group(2))
    return got


class LineProxy:
    """A loopback TCP proxy to a server that records, per connection, the
    lines the client sends (the bytes of a frame may show up as odd lines;
    tests only look for lines that start with a command), and when each
    came."""

    def __init__(self, port):
        self.target = port
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.connections = []       # one list of lines per connection
        self.times = []             # and of when each line came
        self.running = True
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(("127.0.0.1", self.target), 5)
            except OSError:
                conn.close()
                continue
            lines, times = [], []
            with self.lock:
                self.connections.append(lines)
                self.times.append(times)
            threading.Thread(target=self.pump, args=(conn, up, lines, times),
                             daemon=True).start()
            threading.Thread(target=self.pump, args=(up, conn, None, None),
                             daemon=True).start()

    def pump(self, src, dst, lines, times):
        buf = b""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
                if lines is None:
                    continue
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    with self.lock:
                        lines.append(self.text(line.rstrip(b"\r")))
                        times.append(time.monotonic())
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @staticmethod
    def text(line):
        """A line as text, without the binary payload (a PNG) that may
        precede it: what follows the last byte that is not printable."""
        cut = max((i for i, c in enumerate(line) if c < 0x20 or c > 0x7e),
                  default=-1)
        return line[cut + 1:].decode("ascii")

    def lines(self):
        """Every recorded line, in order, over all connections."""
        with self.lock:
            return [l for c in self.connections for l in c]

    def per_connection(self):
        with self.lock:
            return [list(c) for c in self.connections]

    def timed_per_connection(self):
        """Per connection, (time.monotonic() it came, line) for each line."""
        with self.lock:
            return [list(zip(t, c))
                    for t, c in zip(self.times, self.connections)]

    def close(self):
        self.running = False
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def commands(lines, names):
    """The lines that are one of the named commands."""
    return [l for l in lines if l.split(" ", 1)[0] in names]


def measure(pred, timeout, step=0.01):
    """Seconds until pred() is true, or None after timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if pred():
            return time.monotonic() - start
        time.sleep(step)
    return None
