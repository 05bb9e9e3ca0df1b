#!/usr/bin/env python3
# Network trouble loses nothing and floods nothing: an unreachable server
# is retried with back-off and logged once; answers that do not parse, a
# size that is not a number or is absurd, an over-long line, a connection
# closed in the middle of a .blend, and a .blend with the wrong digest
# each drop the connection (or the file) and the client carries on until
# the whole job has arrived, each frame once.

import collections
import os
import re
import time

from clienttest import (PATIENCE, Client, check, reserve_port, scratch,
                        wait_for, write_config, write_fake_config)
from oldserver import OldServer, md5_of


class SabotageServer(OldServer):
    """An old-style server whose first sessions misbehave, one way each.
    It listens on a socket already bound to its port."""

    def __init__(self, *args, sabotage=(), listener=None, **kw):
        super().__init__(*args, **kw)
        self.sabotage = list(sabotage)
        self.sock.close()
        self.sock = listener
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]

    def session(self, conn):
        if not self.sabotage:
            return super().session(conn)
        mode = self.sabotage.pop(0)
        conn.settimeout(self.silence)
        f = conn.makefile("rb")
        helo = self.readline(f)
        self.commands.append(helo)
        if mode == "garbage-helo":
            conn.sendall(b"what is this\r\n")
        elif mode == "long-line":
            conn.sendall(b"x" * 10000)
        else:
            conn.sendall(("%s 1\r\n" % md5_of(self.program)).encode())
            while True:
                line = self.readline(f)
                self.commands.append(line)
                if line.startswith("REQUESTJOB"):
                    with self.lock:
                        frame, _ = self.next_frame(1)
                        self.out[frame] = (time.time(), "saboteur")
                        self.handed.append((frame, "saboteur"))
                    conn.sendall(("%s %s %d\r\n" % (
                        self.blend_name, self.blend_md5, frame)).encode())
                elif line.startswith("REQUESTBLENDERFILE"):
                    break
                else:
                    return
            data = self.blend_data
            if mode == "absurd-size":
                conn.sendall(b"99999999999999999\r\n")
            elif mode == "nan-size":
                conn.sendall(b"twelve\r\n")
            elif mode == "midway-close":
                conn.sendall(b"%d\r\n" % len(data) + data[:len(data) // 2])
                return
            elif mode == "corrupt-blend":
                conn.sendall(b"%d\r\n" % len(data) + data[::-1])
                return
        try:
            while f.read(1):
                pass
        except OSError:
            pass


top = scratch()
blend = os.path.join(top, "scene.blend")
with open(blend, "wb") as f:
    f.write(b"BLENDER-v304 fake scene, front to back\n" * 50)
fakecfg = write_fake_config(os.path.join(top, "fake.json"), delay=0.02)
conf = write_config(os.path.join(top, "bdfarm.conf"), retry_min=1,
                    retry_max=2, max_blend_size=1000000)
# The server's port, held until it listens: refused until then, and
# nobody else's meanwhile.
listener = reserve_port()
port = listener.getsockname()[1]
workdir = os.path.join(top, "work")
client = Client(port, workdir, conf, env={"FAKE_BLENDER_CONFIG": fakecfg})

# Nobody listens yet: the client retries quietly. Each try after the first
# is a debug line; three tries in all are enough to see that the message
# is not repeated.
retried = re.compile(r"server 127\.0\.0\.1 port %d: .*; retrying in" % port)
check(wait_for(lambda: len(retried.findall(client.log())) >= 3, PATIENCE),
      "the client tries again and again")
log = client.log()
check(client.proc.poll() is None, "the client waits for the server")
check(log.count("less often") == 1,
      "an unreachable server is logged once, not once per try")

server = SabotageServer(blend, 1, 8, os.path.join(top, "render"),
                        listener=listener, redistribute=2,
                        sabotage=["garbage-helo", "long-line", "absurd-size",
                                  "nan-size", "midway-close",
                                  "corrupt-blend"]).start()
check(wait_for(server.complete, 4 * PATIENCE),
      "the whole job arrived in the end")
counts = collections.Counter(f for f, h, i in server.received)
check(max(counts.values()) == 1, "no frame arrived twice")
log = client.log()
for what in ("bad answer to HELO", "line that is too long",
             "bad answer to REQUESTBLENDERFILE", "closed the connection",
             "wrong digest", "answers again"):
    check(what in log, "the log says '%s'" % what)
leftovers = [n for d, _, files in os.walk(workdir) for n in files
             if ".part-" in n]
check(leftovers == [], "no partial download was left behind")
cached = [os.path.join(d, n) for d, _, files in os.walk(workdir) for n in files
          if n == "scene.blend"]
check(len(cached) == 1 and md5_of(open(cached[0], "rb").read()) ==
      server.blend_md5, "the cached .blend is the right one")
check(client.proc.poll() is None, "the client carried on throughout")
check(client.stop() == 0, "SIGTERM ends the client with exit code 0")
server.close()
