# v2server.py: a scripted bdfarm server that speaks version 2 of the
# extension (doc/protocol.md) to a bdfarm client, for the client's tests.
# It serves one job and one connection at a time, like OldServer, and adds
# what version 2 brings:
#
# - HELO with bdfarm/N is answered bdfarm/min(N, version);
# - HOLD is answered OK while the frame is out to that client (or free:
#   then it is handed to it again), NOK once it is done (the test may say
#   that another client delivered a frame); HELD hands back the frames out
#   to the client that it did not HOLD;
# - RETURN puts a frame out to that client back in the queue;
# - the test may send CANCEL for a frame, STOPPING, a STOPPING with a JOB
#   right behind it, or close the connection, between any two answers.
#
# Every line received is recorded in `commands`, per connection in
# `connections`, the frames handed out on each connection in `handouts`,
# and the frames given back in `returned`.

import threading
import time

from oldserver import OldServer, md5_of


class V2Server(OldServer):
    """One job served to bdfarm clients with the extension's version 2."""

    def __init__(self, *args, version=2, **kw):
        kw.setdefault("ext", "bdfarm/%d" % version)
        super().__init__(*args, **kw)
        self.version = version
        self.send_lock = threading.Lock()
        self.conn = None            # the connection being served
        self.connections = []       # the lines of each connection
        self.handouts = []          # the frames handed on each connection
        self.returned = []          # (frame, host) given back
        self.cancelled = []         # frames CANCEL was sent for
        self.waiting = None         # the WAITJOB out: free renderers

    def send(self, data, conn=None):
        """Send bytes on a connection whole, never inside another send."""
        conn = conn or self.conn
        if conn is None:
            return False
        with self.send_lock:
            try:
                conn.sendall(data)
            except OSError:
                return False
        return True

    def record_hand_out(self, frame):
        self.handouts[-1].append(frame)

    def send_job(self, conn, line):
        return self.send(line, conn)

    def frame_line(self, word, frame):
        return ("%s %s %s %d\r\n" % (word, self.blend_name, self.blend_md5,
                                     frame)).encode()

    def deliver_elsewhere(self, frame):
        """Count frame as delivered by another client."""
        with self.lock:
            self.out.pop(frame, None)
            self.done[frame] = "elsewhere"

    def cancel(self, frame):
        """Tell the client that another one delivered frame first."""
        self.deliver_elsewhere(frame)
        with self.lock:
            self.cancelled.append(frame)
        return self.send(self.frame_line("CANCEL", frame))

    def stop_clients(self, then_job=False):
        """Say STOPPING; with then_job, answer the WAITJOB out right
        behind it, as a server does that had a frame ready at once. The
        frame is chosen before STOPPING goes out, so that what the client
        gives back on hearing it cannot be chosen again."""
        frame = None
        with self.lock:
            self.stopping = True
            if then_job:
                frame = next(f for f in self.frames
                             if f not in self.done and f not in self.out)
                self.out[frame] = (time.time(), self.host)
                self.handed.append((frame, self.host))
                self.handouts[-1].append(frame)
                self.waiting = None
        self.send(b"STOPPING\r\n")
        if frame is not None:
            self.send(self.frame_line("JOB", frame))
        return frame

    def drop(self):
        """Close the connection being served, as a broken link does."""
        conn = self.conn
        if conn is not None:
            try:
                conn.shutdown(2)
            except OSError:
                pass

    def session(self, conn):
        conn.settimeout(self.silence)
        f = conn.makefile("rb")
        self.conn, self.host, self.waiting = conn, "?", None
        self.answered = 0
        lines = []
        with self.lock:
            self.connections.append(lines)
            self.handouts.append([])
        held = set()
        try:
            while True:
                line = self.readline(f)
                with self.lock:
                    self.commands.append(line)
                    lines.append(line)
                if self.waiting is not None and not self.stopping and \
                        self.hand_out(conn, self.host, self.waiting, "JOB "):
                    self.waiting = None
                if not self.step(conn, f, line.split(), self.answered,
                                 held):
                    return
        finally:
            self.conn = None

    def step(self, conn, f, t, version, held):
        """Handle one request; False ends the connection."""
        host = self.host
        if not t:
            return False
        cmd = t[0]
        if cmd == "HELO" and len(t) >= 2:
            asked = 0
            if len(t) >= 3 and t[2].startswith("bdfarm/"):
                asked = int(t[2].split("/")[1])
            self.answered = min(asked, self.version)
            self.host = t[1] + ("#" + t[3] if len(t) >= 4 else "")
            with self.lock:
                todo = "STOPPING" if self.stopping else "1"
            reply = "%s %s" % (md5_of(self.program), todo)
            if self.answered:
                reply += " bdfarm/%d" % self.answered
            return self.send((reply + "\r\n").encode(), conn)
        if version and cmd in ("FACTS", "ALIVE", "PROGRESS"):
            return True
        if version and cmd == "WAITJOB" and len(t) == 2:
            if self.stopping or not self.hand_out(conn, host, int(t[1]),
                                                  "JOB "):
                self.waiting = int(t[1])
            return True
        if version >= 2 and cmd == "HOLD" and len(t) == 4:
            frame = int(t[3])
            with self.lock:
                owner = self.out.get(frame, (0, None))[1]
                free = frame not in self.done and frame not in self.out
                ok = frame not in self.done and (owner == host or free)
                answer = "OK" if ok else "NOK"
                if ok:
                    held.add(frame)
                    if free:
                        self.out[frame] = (time.time(), host)
            return self.send(("%s\r\n" % answer).encode(), conn)
        if version >= 2 and cmd == "HELD" and len(t) == 1:
            with self.lock:
                for frame, (_, owner) in list(self.out.items()):
                    if owner == host and frame not in held:
                        del self.out[frame]
            return True
        if version >= 2 and cmd == "RETURN" and len(t) == 4:
            frame = int(t[3])
            with self.lock:
                self.returned.append((frame, host))
                if self.out.get(frame, (0, None))[1] == host:
                    del self.out[frame]
            return True
        if version and cmd == "FAILED" and len(t) >= 5:
            frame, n = int(t[3]), int(t[4])
            out = [self.readline(f) for _ in range(n)]
            with self.lock:
                self.failures.append((frame, " ".join(t[5:]), out))
                self.out.pop(frame, None)
            return self.send(b"OK\r\n", conn)
        if cmd == "REQUESTBLENDERDIST" and len(t) == 1:
            return self.send(b"%d\r\n" % len(self.program) + self.program,
                             conn)
        if cmd == "REQUESTBLENDERFILE" and len(t) == 3:
            if t[1] != self.blend_name or t[2] != self.blend_md5:
                return False
            return self.send(b"%d\r\n" % len(self.blend_data) +
                             self.blend_data, conn)
        if cmd == "RESULTS" and len(t) == 6:
            return self.results(conn, f, t, version)
        return False

    def results(self, conn, f, t, version):
        frame, image, size = int(t[3]), t[4], int(t[5])
        host = self.host
        with self.lock:
            have = version and frame in self.done
            ok = (t[1] == self.blend_name and t[2] == self.blend_md5 and
                  self.out.get(frame, (0, None))[1] == host)
        if have or not ok:
            self.note("result for frame %d refused" % frame)
            return self.send(b"HAVE\r\n" if have else b"NOK\r\n", conn)
        self.send(b"OK\r\n", conn)
        data = b""
        while len(data) < size:
            chunk = f.read(size - len(data))
            if not chunk:
                raise ValueError("peer closed mid-frame")
            data += chunk
        with self.lock:
            self.done[frame] = host
            self.out.pop(frame, None)
            self.received.append((frame, host, image))
            self.note("frame %d received from %s" % (frame, host))
        return self.send(b"THANKYOU\r\n", conn)

