#!/usr/bin/env python3
# Slow links: with server_timeout at 4 s, a client downloads a 2.5 MB .blend
# file and sends a 2.5 MB frame through a link throttled to 256 KB/s, each
# transfer taking longer than the limit but never stalling for it, and the
# job arrives whole with no connection given up. Then a link that stops
# dead in the middle of a .blend, and later in the middle of a frame: each
# time the client gives the connection up once nothing has moved for 4 s,
# connects again and finishes the job.

import collections
import os
import socket
import threading
import time

from clienttest import Client, check, scratch, wait_for, write_config
from oldserver import OldServer

# Long enough that a busy machine starving the proxy for a moment does
# not look like a stalled link.
LIMIT = 4                       # server_timeout, s
RATE = 256 * 1024               # bytes per second, each way
SIZE = 2560 * 1024              # of the .blend and of the frame

# A stand-in Blender that saves a frame of random bytes of a given size.
BIG_BLENDER = r'''#!/usr/bin/env python3
import os, sys
args = sys.argv[1:]
if args == ["--version"]:
    print("Blender 3.4.1 (big frames)")
    sys.exit(0)
pattern = args[args.index("-o") + 1]
size = int(os.environ["BIG_FRAME_SIZE"])
print("Blender 3.4.1 (big frames)", flush=True)
for part in args[args.index("-f") + 1].split(","):
    n = int(part)
    print("Fra:%d Mem:9.25M (Peak 10.91M) | Time:00:00.00 | Mem:0.00M, "
          "Peak:0.00M | Scene, ViewLayer | Synchronizing object | Cube" % n,
          flush=True)
    path = pattern.replace("####", "-%04d" % -n if n < 0 else "%04d" % n) \
        + ".png"
    with open(path, "wb") as f:
        f.write(os.urandom(size))
    print("Saved: '%s'" % path, flush=True)
print("Blender quit", flush=True)
'''


class ThrottleProxy:
    """A loopback proxy that moves at most `rate` bytes a second each way,
    with small socket buffers so that a sender sees the link's pace, and
    that can stop dead in one direction once a connection has moved some
    bytes that way, until released."""

    def __init__(self, target, rate):
        self.target = target
        self.rate = rate
        self.lock = threading.Lock()
        self.stall = {}             # direction -> bytes before stopping
        self.stalled = []           # (direction, sockets, event)
        self.moves = []             # (direction, bytes, first, last)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                down, _ = self.sock.accept()
            except OSError:
                return
            up = socket.socket()
            up.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            try:
                up.connect(("127.0.0.1", self.target))
            except OSError:
                down.close()
                continue
            for src, dst, way in ((down, up, "up"), (up, down, "down")):
                threading.Thread(target=self.pump, args=(src, dst, way),
                                 daemon=True).start()

    def stop_after(self, direction, nbytes):
        """Stop dead the next connection that moves nbytes that way."""
        with self.lock:
            self.stall[direction] = nbytes

    def release(self):
        """Close the connections stopped dead; later ones flow again."""
        with self.lock:
            stalled, self.stalled = self.stalled, []
        for _, socks, event in stalled:
            event.set()
            for s in socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stalled_ways(self):
        with self.lock:
            return [way for way, _, _ in self.stalled]

    def pump(self, src, dst, way):
        moved, first, due = 0, None, time.monotonic()
        try:
            while True:
                stop = None
                with self.lock:
                    limit = self.stall.get(way)
                    if limit is not None and moved >= limit:
                        del self.stall[way]
                        stop = threading.Event()
                        self.stalled.append((way, (src, dst), stop))
                if stop is not None:
                    stop.wait(120)
                    break
                data = src.recv(min(65536, self.rate // 20))
                if not data:
                    break
                now = time.monotonic()
                first = first or now
                dst.sendall(data)
                moved += len(data)
                due = max(due, now) + len(data) / self.rate
                time.sleep(max(0, due - time.monotonic()))
        except OSError:
            pass
        if first is not None:
            with self.lock:
                self.moves.append((way, moved, first, time.monotonic()))
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def longest(self, way):
        """(bytes, seconds) of the largest transfer that way."""
        with self.lock:
            moves = [(n, last - first) for w, n, first, last in self.moves
                     if w == way]
        return max(moves, default=(0, 0))


top = scratch()
blender = os.path.join(top, "big-blender")
with open(blender, "w") as f:
    f.write(BIG_BLENDER)
os.chmod(blender, 0o755)
conf = write_config(os.path.join(top, "bdfarm.conf"), server_timeout=LIMIT,
                    retry_min=1, retry_max=2)
blend = os.path.join(top, "scene.blend")
with open(blend, "wb") as f:
    f.write(os.urandom(SIZE))

# A slow link that never stops: everything arrives, nothing is cut.
server = OldServer(blend, 1, 1, os.path.join(top, "render")).start()
proxy = ThrottleProxy(server.port, RATE)
client = Client(proxy.port, os.path.join(top, "work"), conf,
                blender=blender, env={"BIG_FRAME_SIZE": str(SIZE)})
check(wait_for(server.complete, 90, step=0.5),
      "the frame arrived through the slow link")
down, up = proxy.longest("down"), proxy.longest("up")
print("the .blend took %.1f s for %d bytes, the frame %.1f s for %d bytes"
      % (down[1], down[0], up[1], up[0]))
check(down[0] >= SIZE and down[1] > 2 * LIMIT,
      "the .blend download took longer than twice the limit")
check(up[0] >= SIZE and up[1] > 2 * LIMIT,
      "the frame upload took longer than twice the limit")
check("no byte moved" not in client.log() and
      server.handed == [(1, server.handed[0][1])] and
      len(server.received) == 1,
      "no connection was given up and the frame was sent once")
check(client.stop() == 0, "the client exits 0 on SIGTERM")
server.close()

# A link that stops dead mid-.blend, then mid-frame: the client gives up
# each connection after the limit, and the job still arrives.
server = OldServer(blend, 1, 1, os.path.join(top, "render2")).start()
proxy = ThrottleProxy(server.port, 10 * RATE)
proxy.stop_after("down", 1024 * 1024)
client = Client(proxy.port, os.path.join(top, "work2"), conf,
                blender=blender, env={"BIG_FRAME_SIZE": str(SIZE)})
message = "no byte moved to or from the server for %d s" % LIMIT
check(wait_for(lambda: proxy.stalled_ways() == ["down"], 30),
      "the link stopped in the middle of the .blend")
check(wait_for(lambda: client.log().count(message) == 1, 30),
      "the client gave the connection up: '%s'" % message)
proxy.stop_after("up", 1024 * 1024)
proxy.release()
check(wait_for(lambda: proxy.stalled_ways() == ["up"], 30),
      "the link stopped in the middle of the frame")
check(wait_for(lambda: client.log().count(message) == 2, 30),
      "the client gave that connection up too")
proxy.release()
check(wait_for(server.complete, 60, step=0.5),
      "the client connected again and the frame arrived")
counts = collections.Counter(f for f, h, i in server.received)
check(counts == {1: 1}, "the frame arrived once")
check(client.stop() == 0, "the client exits 0 on SIGTERM")
server.close()
