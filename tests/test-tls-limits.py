#!/usr/bin/env python3
# What a key allows and no more: a client that proved one key cannot
# deliver, fail or report progress on a frame out to another key's client,
# and one key greets at most max_sessions_per_key sessions at once.

import re
import subprocess

from clienttest import PATIENCE, wait_for
from farmclient import check, farm
from tlstest import invite, key_of, openssl

server = farm(max_sessions_per_key=2)
blend, _ = server.blend("scene.blend", size=2000)
server.job("demo", blend, 1, 5)
_, alice = invite(server, "alice")
_, bob = invite(server, "bob")


class Peer:
    """A TLS peer scripted with openssl s_client, kept open while the
    test writes lines to it and reads what the server answers."""

    def __init__(self, name, key):
        self.proc = subprocess.Popen(
            [openssl(), "s_client", "-quiet", "-tls1_3", "-connect",
             "127.0.0.1:%d" % server.port, "-psk_identity", name,
             "-psk", key], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL)

    def send(self, *lines):
        self.proc.stdin.write("".join(l + "\r\n" for l in lines).encode())
        self.proc.stdin.flush()

    def line(self):
        """The next line the server sends, or None once it closed."""
        got = self.proc.stdout.readline()
        return got.decode().rstrip("\r\n") if got else None

    def close(self):
        self.proc.kill()
        self.proc.wait()


# Alice takes frame 1; Bob, with a key of his own, speaks of it.
a = Peer("alice", key_of(alice))
a.send("HELO a.example bdfarm/2 11")
check(a.line().endswith("bdfarm/2"), "alice greeted")
a.send("REQUESTJOB 1")
job = a.line().split()
check(job[2] == "1", "frame 1 to alice (%r)" % job)
b = Peer("bob", key_of(bob))
b.send("HELO alice bdfarm/2 11")
check(b.line().endswith("bdfarm/2"), "bob greeted")
b.send("PROGRESS %s %s 1 500" % (job[0], job[1]),
       "FAILED %s %s 1 0 forged by bob" % (job[0], job[1]),
       "RESULTS %s %s 1 0001.png 5" % (job[0], job[1]))
check(b.line() == "OK", "FAILED is answered as for any report")
check(b.line() == "NOK", "bob may not deliver alice's frame")
log = server.joblog("demo")
check("failed" not in log and "received" not in log,
      "bob's reports changed nothing:\n%s" % log)
check("bob#11" in server.log() and "alice#11" in server.log(),
      "each goes by its key's name")
a.send("RESULTS %s %s 1 0001.png 5" % (job[0], job[1]))
check(a.line() == "OK", "alice may deliver her frame")
a.proc.stdin.write(b"abcde")
a.proc.stdin.flush()
check(a.line() == "THANKYOU", "alice's frame stored")

# A second session with alice's key, then a third: that one is closed.
a2 = Peer("alice", key_of(alice))
a2.send("HELO a.example bdfarm/2 12")
check(a2.line().endswith("bdfarm/2"), "a second session with alice's key")
a3 = Peer("alice", key_of(alice))
a3.send("HELO a.example bdfarm/2 13")
check(a3.line() is None, "a third session with the key is closed at HELO")
check(wait_for(lambda: re.search(r"closing the connection: "
                                 r"max_sessions_per_key", server.log()),
               PATIENCE), "the server says why")
# Once one ends, the key may greet again.
a2.close()
a4 = None


def greets():
    global a4
    if a4 is not None:
        a4.close()
    a4 = Peer("alice", key_of(alice))
    a4.send("HELO a.example bdfarm/2 14")
    return (a4.line() or "").endswith("bdfarm/2")


check(wait_for(greets, PATIENCE), "a session greets again once one ended")
for p in (a, b, a3, a4):
    p.close()
check(server.stop() == 0 and server.sanitizer_report() is None,
      "the server exits 0 with no sanitizer report")
server.cleanup()
