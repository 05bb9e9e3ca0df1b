#!/usr/bin/env python3
# Two bdfarm clients with the real bdfarm server and the stand-in Blender:
# they wait for work on one open connection each; a job that appears while
# they wait reaches one of them at once; the whole job is rendered with
# every frame exactly once; on the wire each client greets with
# "HELO host bdfarm/4 pid", sends FACTS once per connection, waits with
# WAITJOB instead of asking with REQUESTJOB, and says ALIVE while it has
# nothing else to say; its facts and its progress figures reach the
# server; nothing is said between RESULTS and the frame's bytes.

import os
import re
import signal

from clienttest import PATIENCE, png_size, scratch, wait_for
from farmclient import (LineProxy, check, client_config, commands, farm,
                        frames_received, host_of, measure, start_clients,
                        write_fake_config)


def alive_after_waitjob(conn):
    """Whether the client said ALIVE after its first WAITJOB."""
    waits = [i for i, l in enumerate(conn) if l.startswith("WAITJOB")]
    return waits and commands(conn[waits[0]:], ("ALIVE",))


top = scratch()
server = farm()
proxy = LineProxy(server.port)
blend, _ = server.blend("scene.blend", size=20000)
fake = write_fake_config(os.path.join(top, "fake.json"), delay=0.2)
conf = client_config(top, prefetch=2)
clients = start_clients(proxy.port, top, conf, 2, fake=fake)

check(wait_for(lambda: sum(1 for l in proxy.lines()
                           if l.startswith("WAITJOB")) >= 2, PATIENCE),
      "both clients wait for work")

# Once each has said ALIVE after WAITJOB, each has sat idle for a
# heartbeat: a client that polled or hung up would have done so by then.
check(wait_for(lambda: all(alive_after_waitjob(c)
                           for c in proxy.per_connection()), PATIENCE),
      "each idle client says ALIVE")
lines = proxy.lines()
check(all(re.fullmatch(r"HELO \S+ bdfarm/4 \d+", l)
          for l in commands(lines, ("HELO",))),
      "HELO is 'HELO host bdfarm/4 pid'")
check(len(proxy.per_connection()) == 2, "one connection per client")
check(not commands(lines, ("REQUESTJOB", "GOODBYE")),
      "a waiting client neither polls nor hangs up")

server.job("demo", blend, 1, 30)
latency = measure(lambda: any("got frame" in c.log() for c in clients),
                  PATIENCE)
check(latency is not None, "a new job reached a waiting client")
print("new job to first frame in a client's hands: %.3f s" % latency)
# Generous for a busy machine, and far below none_wait (60 s), after which
# a client that polled instead of waiting would ask again.
check(latency < 20.0, "within 20 s of the job file appearing")

check(wait_for(lambda: "rendering complete" in server.joblog("demo"),
               4 * PATIENCE), "the two clients rendered the whole job")
received = frames_received(server.joblog("demo"))
check(sorted(received) == list(range(1, 31)) and
      all(len(h) == 1 for h in received.values()),
      "every frame arrived exactly once")
hosts = {h[0] for h in received.values()}
check(hosts == {host_of(c) for c in clients},
      "both clients rendered, named host#pid")
folder = server.framedir("demo")
check(all(png_size(os.path.join(folder, "%04d.png" % n)) == (16, 9)
          for n in range(1, 31)), "every stored frame is a valid PNG")

log = server.log()
progress = re.findall(r"frame (\d+) at (\d+)/1000 on (\S+)", log)
check(progress and {h for _, _, h in progress} <= hosts,
      "progress figures reached the server")
check(any(0 < int(p) < 1000 for _, p, _ in progress),
      "including figures between the start and the end of a frame")
starts = 0
for conn, timed in zip(proxy.per_connection(),
                       proxy.timed_per_connection()):
    facts = commands(conn, ("FACTS",))
    check(len(facts) == 1, "FACTS is sent once on a connection")
    t = facts[0].split()
    check(t[1] == "1" and int(t[2]) == os.cpu_count() and t[3] == "3.4.1",
          "FACTS gives renderers, cores and Blender's version (%s)"
          % facts[0])
    # A frame's start (0) and end (1000) are always told. Between them,
    # a frame of 0.2 s gets one report or two, but a busy machine may
    # stretch it over seconds: count the reports against their span.
    per_frame = {}
    for t, l in timed:
        if l.startswith("PROGRESS "):
            permille = int(l.split()[4])
            starts += permille == 0
            if 0 < permille < 1000:
                per_frame.setdefault(l.split()[3], []).append(t)
    check(all(len(v) <= 2 + (v[-1] - v[0]) for v in per_frame.values()),
          "at most about one progress report a second per frame")
    check(all(conn[i + 1] == "PNG" for i, l in enumerate(conn)
              if l.startswith("RESULTS ")),
          "nothing comes between RESULTS and the frame's bytes")
check(starts > 0, "the start of a frame is told as PROGRESS 0")
lines = proxy.lines()
check(not commands(lines, ("REQUESTJOB", "FAILED")),
      "no REQUESTJOB, no failure reports")
# A client deletes its copy once it reads the server's thanks, which may
# be a moment after the server logged the job complete. A warm Blender
# that waits for more frames keeps its folders there (its output folder
# and its scene folder), but the frames are files of their own.
def frames_left(i):
    render = os.path.join(top, "work%d" % i, "render")
    return [n for n in os.listdir(render)
            if not os.path.isdir(os.path.join(render, n))]


check(wait_for(lambda: all(frames_left(i) == [] for i in (1, 2)), PATIENCE),
      "each client deleted its frames once thanked")

# Told to stop (SIGUSR1, as the console's X key), the server says so on
# the open connections: each client finishes and exits 0 by itself.
server.signal(signal.SIGUSR1)
for c in clients:
    check(c.wait(PATIENCE) == 0,
          "a waiting client exits 0 once the server stops its clients")
    check("bad answer" not in c.log() and "server is stopping" in c.log(),
          "it understood the STOPPING pushed on its connection")
proxy.close()
server.stop()
server.cleanup()
