#!/usr/bin/env python3
# Failure reports between bdfarm clients and the real bdfarm server, with
# the stand-in Blender's failure injection: each failed frame is reported
# at once, and the job log shows the reason and Blender's last lines; a
# client that fails three times on a job gets no more of its frames while
# another client renders the job; a frame that fails on every client is
# set aside after three clients, and the rest of the job completes.

import os
import re

from clienttest import PATIENCE, scratch, wait_for
from farmclient import (check, client_config, farm, frames_received,
                        host_of, start_clients, write_fake_config)

top = scratch()
server = farm()
blend, _ = server.blend("scene.blend", size=5000)
conf = client_config(top, prefetch=2)

# One client fails in three ways: exit status, an "Error:" line, a crash.
bad = write_fake_config(os.path.join(top, "bad.json"), delay=0.05,
                        fail=[1], error=[2], crash=[3])
good = write_fake_config(os.path.join(top, "good.json"), delay=0.05)
server.job("blockme", blend, 1, 6)
x, = start_clients(server.port, top, conf, 1, fake=bad, prefix="x")
xhost = host_of(x)
blocked = "%s failed 3 times; it gets no more frames of this job" % xhost
check(wait_for(lambda: blocked in server.joblog("blockme"), 2 * PATIENCE),
      "after three failures the client is blocked for the job")
log = server.joblog("blockme")
for why, output in (("exit status 1", "Out of luck"),
                    ("Error: Build without OpenImageDenoiser", "Sample 2/4"),
                    ("killed by signal 11", "Writing: /tmp/fake.crash.txt")):
    m = re.search(r"frame \d+ failed on %s: %s\n((?:    .*\n)+)"
                  % (re.escape(xhost), re.escape(why)), log)
    check(m is not None, "the job log gives the reason '%s'" % why)
    shown = m.group(1).splitlines()
    check(output in m.group(1) and 1 <= len(shown) <= 20,
          "and up to 20 of Blender's last lines (%d)" % len(shown))
check("Blender 3.4.1 (fake)" in log, "the report starts with the run's "
      "first lines when it is short")

y, = start_clients(server.port, top, conf, 1, fake=good, prefix="y")
check(wait_for(lambda: "rendering complete" in server.joblog("blockme"),
               2 * PATIENCE),
      "another client rendered the job")
log = server.joblog("blockme")
after = log[log.index(blocked):]
check("handed out to %s" % xhost not in after,
      "the blocked client got no more frames of the job")
received = frames_received(log)
check(sorted(received) == list(range(1, 7)) and
      all(len(h) == 1 for h in received.values()),
      "every frame was rendered once")
check(all(received[n] == [host_of(y)] for n in (1, 2, 3)),
      "the frames that failed were rendered by the other client")
check(x.proc.poll() is None, "the failing client carries on")
for c in (x, y):
    check(c.stop() == 0, "a client exits 0 on SIGTERM")

# Frame 2 fails everywhere: set aside after three clients.
doomed = write_fake_config(os.path.join(top, "doomed.json"), delay=0.05,
                           fail=[2])
# A .blend of its own: the server finds a reported frame by its .blend.
other, _ = server.blend("other.blend", size=5000)
server.job("doomed", other, 1, 5)
clients = start_clients(server.port, top, conf, 3, fake=doomed, prefix="d")
check(wait_for(lambda: "frame 2 failed on 3 hosts" in
               server.joblog("doomed"), 2 * PATIENCE),
      "a frame that failed on three clients is set aside")
check(wait_for(lambda: sorted(frames_received(server.joblog("doomed"))) ==
               [1, 3, 4, 5], 2 * PATIENCE),
      "the rest of the job was rendered")
log = server.joblog("doomed")
failed_on = set(re.findall(r"frame 2 failed on (\S+): exit status 1", log))
check(failed_on == {host_of(c) for c in clients},
      "it failed once on each of the three clients")
check(wait_for(lambda: "rendering complete" in server.joblog("doomed"),
               PATIENCE),
      "the job is complete, with its failed frame")
for c in clients:
    check(c.stop() == 0, "a client exits 0 on SIGTERM")
server.stop()
server.cleanup()
