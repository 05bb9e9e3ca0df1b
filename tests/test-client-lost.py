#!/usr/bin/env python3
# Liveness with the real bdfarm server (client_timeout 3 s): a bdfarm
# client stopped with SIGSTOP in the middle of its frames is found lost
# within the timeout, and another client renders its frames; when the
# stopped client goes on, it drops the frames the server already has
# without sending them, and every frame is stored once. A client that is
# merely idle, saying ALIVE, is never lost.

import os
import re
import signal

from clienttest import PATIENCE, holds, scratch, wait_for
from farmclient import (check, client_config, farm, frames_received,
                        host_of, measure, start_clients, write_fake_config)

TIMEOUT = 3
# How late the server may find a stopped client lost and still count as
# on time: a busy machine makes it wait its turn for a core; a server that
# used another delay would be off by whole seconds.
LATE = 5.0

top = scratch()
server = farm(client_timeout=TIMEOUT)
blend, _ = server.blend("scene.blend", size=5000)
conf = client_config(top, prefetch=2)
slow = write_fake_config(os.path.join(top, "slow.json"), delay=0.4)

a, = start_clients(server.port, top, conf, 1, fake=slow, prefix="a")
check(wait_for(lambda: "connected" in server.log(), PATIENCE),
      "the client connected")
# A client that did not keep in touch would be lost TIMEOUT after it last
# spoke; one and a half times that shows it is not.
check(holds(lambda: "is lost" not in server.log(), 1.5 * TIMEOUT),
      "an idle client that says ALIVE is not lost past the timeout")

server.job("demo", blend, 1, 8)
ahost = host_of(a)
check(wait_for(lambda: "frame 3 handed out to %s" % ahost in
               server.joblog("demo"), PATIENCE),
      "the first client holds several frames")
os.kill(a.proc.pid, signal.SIGSTOP)
lost = measure(lambda: re.search(r"%s is lost; \d+ frames handed back"
                                 % re.escape(ahost), server.log()),
               TIMEOUT + LATE + PATIENCE)
check(lost is not None, "the stopped client was found lost")
print("stopped client found lost after %.2f s (client_timeout %d s)"
      % (lost, TIMEOUT))
check(lost <= TIMEOUT + LATE, "within the timeout (and a busy machine's "
      "slack)")
# What the stopped client had sent arrived long before it was found lost;
# once lost, it holds nothing and is sent nothing more.
held = {int(n) for n in re.findall(r"frame (\d+) handed out to %s"
                                   % re.escape(ahost), server.joblog("demo"))}
done = set(frames_received(server.joblog("demo")))

b, = start_clients(server.port, top, conf, 1, fake=slow, prefix="b")
check(wait_for(lambda: "rendering complete" in server.joblog("demo"),
               2 * PATIENCE), "the other client finished the job")
received = frames_received(server.joblog("demo"))
check(all(received[n] == [host_of(b)] for n in held - done),
      "the frames the stopped client held were rendered by the other")

os.kill(a.proc.pid, signal.SIGCONT)
# It learns so when it holds the frames again on a new connection, or,
# if its old one still stands, when it offers one.
check(wait_for(lambda: "the server has it already" in a.log() or
               "the server no longer has it out to this client" in a.log(),
               PATIENCE),
      "the resumed client drops a frame the server has, unsent")
for c in (a, b):
    check(c.stop() == 0, "a client exits 0 on SIGTERM")
# Whatever the clients sent, the server has taken in before it stops.
server.stop()
received = frames_received(server.joblog("demo"))
check(sorted(received) == list(range(1, 9)) and
      all(len(h) == 1 for h in received.values()),
      "every frame was stored exactly once")
server.cleanup()
