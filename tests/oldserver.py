#!/usr/bin/env python3
# oldserver.py: a scripted farm server that behaves like the original
# blenderdist.py as ../shared/PROTOCOL.md describes it: one connection at a
# time, a two-token HELO answer, a Python script as its program, one job,
# redistribution after a delay, frames stored in RENDERDIR/NAME.job/, and
# the connection closed on any request it does not know. Every line it
# receives is recorded in `commands`.
#
# With ext="bdfarm/1" it answers a client that announced the extension
# with that third token and then takes a crude subset of the extension
# (doc/protocol.md): FACTS, ALIVE and PROGRESS are recorded, WAITJOB is
# answered with JOB as soon as a frame is free when the next line arrives,
# FAILED (with its lines) hands the frame back, and a finished frame's
# RESULTS gets HAVE.
#
# Used in-process by the client tests (OldServer) or on its own:
#   oldserver.py --blend FILE --first N --last M --renderdir DIR [--port P]

import argparse
import hashlib
import os
import socket
import sys
import threading
import time

OLD_PROGRAM = b"#!/usr/bin/env python3\n# blenderdist.py stand-in\n" \
              b"import sys\nopen('/tmp/oldserver-program-ran', 'w')\n" \
              b"sys.exit(0)\n"


def md5_of(data):
    return hashlib.md5(data).hexdigest()


class OldServer:
    """One job served the old way; every event is kept for the tests."""

    def __init__(self, blend, first, last, renderdir, job="demo.job",
                 program=OLD_PROGRAM, redistribute=180, silence=10,
                 port=0, ext=None):
        with open(blend, "rb") as f:
            self.blend_data = f.read()
        self.blend_name = os.path.basename(blend)
        self.blend_md5 = md5_of(self.blend_data)
        self.frames = list(range(first, last + 1))
        self.renderdir = renderdir
        self.job = job
        self.program = program
        self.redistribute = redistribute
        self.silence = silence
        self.ext = ext              # e.g. "bdfarm/1" to answer like bdfarm
        self.stopping = False
        self.lock = threading.Lock()
        self.out = {}               # frame -> (time handed out, host)
        self.done = {}              # frame -> host
        self.received = []          # (frame, host, image name)
        self.handed = []            # (frame, host)
        self.commands = []          # every line received, in order
        self.failures = []          # (frame, reason, lines) from FAILED
        self.log = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def close(self):
        self.running = False
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def note(self, text):
        self.log.append("%.3f %s" % (time.time(), text))

    def complete(self):
        with self.lock:
            return all(f in self.done for f in self.frames)

    def next_frame(self, available):
        """Lowest frame not handed out; else the oldest one out long
        enough, never for a client with no free renderer."""
        for f in self.frames:
            if f not in self.done and f not in self.out:
                return f, False
        if available == 0:
            return None, False
        now = time.time()
        waiting = [(t, f) for f, (t, h) in self.out.items()
                   if f not in self.done]
        if waiting:
            t, f = min(waiting)
            if now - t >= self.redistribute:
                return f, True
        return None, False

    def serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                self.session(conn)
            except (OSError, ValueError) as e:
                self.note("session ended: %s" % e)
            finally:
                conn.close()

    def readline(self, f):
        line = f.readline(4096)
        if not line:
            raise ValueError("peer closed")
        return line.decode("utf-8", "replace").rstrip("\r\n")

    def hand_out(self, conn, host, available, prefix=""):
        """Answer a request for work with a frame, or return False."""
        with self.lock:
            frame, again = self.next_frame(available)
            if frame is None:
                return False
            self.out[frame] = (time.time(), host)
            self.handed.append((frame, host))
            self.record_hand_out(frame)
            self.note("frame %d handed out%s to %s" %
                      (frame, " again" if again else "", host))
        return self.send_job(conn, ("%s%s %s %d\r\n" % (
            prefix, self.blend_name, self.blend_md5, frame)).encode())

    def record_hand_out(self, frame):
        """Called under the lock for every frame handed out."""

    def send_job(self, conn, line):
        """Send the line that hands a frame out; False if it did not go."""
        conn.sendall(line)
        return True

    def session(self, conn):
        conn.settimeout(self.silence)
        f = conn.makefile("rb")
        host = "?"
        ext = False
        waiting = None
        while True:
            line = self.readline(f)
            with self.lock:
                self.commands.append(line)
            if waiting is not None and self.hand_out(conn, host, waiting,
                                                     "JOB "):
                waiting = None
            t = line.split()
            if not t:
                return
            if ext and t[0] in ("FACTS", "ALIVE", "PROGRESS"):
                continue
            if ext and t[0] == "WAITJOB" and len(t) == 2 and waiting is None:
                if not self.hand_out(conn, host, int(t[1]), "JOB "):
                    waiting = int(t[1])
                continue
            if ext and t[0] == "FAILED" and len(t) >= 5:
                frame, n = int(t[3]), int(t[4])
                lines = [self.readline(f) for _ in range(n)]
                with self.lock:
                    self.failures.append((frame, " ".join(t[5:]), lines))
                    self.out.pop(frame, None)
                conn.sendall(b"OK\r\n")
                continue
            if t[0] == "HELO" and len(t) >= 2:
                host = t[1]
                with self.lock:
                    if self.stopping:
                        todo = "STOPPING"
                    else:
                        todo = "1" if self.next_frame(1)[0] is not None \
                            else "0"
                reply = "%s %s" % (md5_of(self.program), todo)
                if self.ext and len(t) >= 3 and t[2].startswith("bdfarm/"):
                    reply += " " + self.ext
                    ext = True
                conn.sendall((reply + "\r\n").encode())
            elif t[0] == "REQUESTBLENDERDIST" and len(t) == 1:
                conn.sendall(b"%d\r\n" % len(self.program) + self.program)
            elif t[0] == "REQUESTJOB" and len(t) == 2:
                if not self.hand_out(conn, host, int(t[1])):
                    conn.sendall(b"None\r\n")
            elif t[0] == "REQUESTBLENDERFILE" and len(t) == 3:
                if t[1] != self.blend_name or t[2] != self.blend_md5:
                    return
                conn.sendall(b"%d\r\n" % len(self.blend_data) +
                             self.blend_data)
            elif t[0] == "RESULTS" and len(t) == 6:
                name, md5, frame, image, size = t[1], t[2], int(t[3]), \
                    t[4], int(t[5])
                with self.lock:
                    ok = (name == self.blend_name and md5 == self.blend_md5
                          and frame in self.out and frame not in self.done)
                    have = ext and frame in self.done
                if have:
                    self.note("result for frame %d: have it" % frame)
                    conn.sendall(b"HAVE\r\n")
                    continue
                if not ok:
                    self.note("result for frame %d discarded" % frame)
                    conn.sendall(b"NOK\r\n")
                    continue
                conn.sendall(b"OK\r\n")
                data = b""
                while len(data) < size:
                    chunk = f.read(size - len(data))
                    if not chunk:
                        raise ValueError("peer closed mid-frame")
                    data += chunk
                folder = os.path.join(self.renderdir, self.job)
                os.makedirs(folder, exist_ok=True)
                with open(os.path.join(folder, os.path.basename(image)),
                          "wb") as out:
                    out.write(data)
                with self.lock:
                    self.done[frame] = host
                    self.received.append((frame, host, image))
                    self.note("frame %d received from %s" % (frame, host))
                    if all(x in self.done for x in self.frames):
                        self.note("rendering complete")
                conn.sendall(b"THANKYOU\r\n")
            elif t[0] == "GOODBYE" and len(t) == 1:
                return
            else:
                return


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--blend", required=True)
    p.add_argument("--first", type=int, default=1)
    p.add_argument("--last", type=int, default=10)
    p.add_argument("--renderdir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--redistribute", type=float, default=180)
    a = p.parse_args()
    s = OldServer(a.blend, a.first, a.last, a.renderdir, port=a.port,
                  redistribute=a.redistribute)
    print("listening on port %d" % s.port, flush=True)
    s.start()
    try:
        while not s.complete():
            time.sleep(0.5)
        print("rendering complete", flush=True)
    except KeyboardInterrupt:
        pass
    s.close()


if __name__ == "__main__":
    sys.exit(main())
