#!/usr/bin/env python3
# Version 2 of the extension, with a scripted bdfarm/2 server: the client
# greets with bdfarm/4, is answered bdfarm/2 and, at the start of every
# connection, says HOLD for every frame it holds and then HELD, before
# anything else. A lost
# connection loses no frame: the client keeps rendering and, once back,
# holds on to what the server still has out to it and drops (unrendered)
# a frame the server says NOK to; nothing of version 3 is sent, though the
# prelude runs as with any server. CANCEL drops a frame: a queued one is
# never rendered, a render of that frame alone is killed, and in a run of
# several frames its result is thrown away while the others are sent.

import collections
import os
import re

from clienttest import (BDFARM, Client, blender_runs, check, fake_blend,
                        pid_alive, scratch, wait_for, write_config,
                        write_fake_config)
from v2server import V2Server

top = scratch()
blend = fake_blend(top)
with open(BDFARM, "rb") as f:
    own = f.read()                  # the server's program: no update


def run_frames(runlog):
    """The frame lists of the stand-in's runs, in order."""
    return [[int(n) for n in r["argv"][r["argv"].index("-f") + 1].split(",")]
            for r in blender_runs(runlog)]


def sent(server, frame):
    return any(l.startswith("RESULTS") and int(l.split()[3]) == frame
               for l in server.commands)


# HOLD and HELD, across a lost connection.
runlog = os.path.join(top, "runs.log")
fake = write_fake_config(os.path.join(top, "slow.json"), log=runlog,
                         delay=2)
# Runs are told apart by their -f argument: Blender per batch.
conf = write_config(os.path.join(top, "one.conf"), heartbeat_interval=1,
                    none_wait=60, batch_frames=1, fresh_blender=True)
server = V2Server(blend, 1, 6, os.path.join(top, "render"),
                  program=own).start()
client = Client(server.port, os.path.join(top, "work"), conf,
                args=["--prefetch", "3"], env={"FAKE_BLENDER_CONFIG": fake})
check(wait_for(lambda: len(server.handed) >= 4 and run_frames(runlog), 20),
      "the client holds four frames and renders one")
first = server.connections[0]
check(re.fullmatch(r"HELO \S+ bdfarm/4 %d" % client.proc.pid, first[0]),
      "it greets with 'HELO host bdfarm/4 pid' (%r)" % first[0])
check(first[1] == "HELD", "holding nothing, it says HELD at once")

last = max(f for f, h in server.handed)
server.deliver_elsewhere(last)
server.drop()
check(wait_for(lambda: len(server.connections) >= 2 and
               "HELD" in server.connections[1], 20),
      "the client connected again and said HELD")
second = server.connections[1]
holds = [int(l.split()[3]) for l in second[1:second.index("HELD")]]
received = {f for f, h, i in server.received}
print("held after the lost connection: %r" % holds)
check(all(l.startswith("HOLD ") for l in second[1:second.index("HELD")]),
      "right after HELO it says only HOLD, then HELD")
check(sorted(holds) == sorted(set(server.handouts[0]) - received),
      "it holds every frame it had, rendering, queued or rendered")
check(wait_for(lambda: "dropping frame %d of scene.blend" % last in
               client.log(), 10),
      "it drops the frame the server said NOK to")
check(wait_for(server.complete, 60), "the job is complete")
counts = collections.Counter(f for f, h, i in server.received)
check(sorted(counts) == [f for f in range(1, 7) if f != last] and
      max(counts.values()) == 1, "every other frame arrived once")
check(len(server.handed) == len({f for f, h in server.handed}),
      "no frame had to be handed out again")
check(all(last not in frames for frames in run_frames(runlog)) and
      not sent(server, last), "the dropped frame was neither rendered nor "
      "sent")
check(not any(l.split()[0] in ("REQUESTFILES", "REQUESTFILE", "MISSING")
              for l in server.commands),
      "nothing of version 3 reached the bdfarm/2 server")
prelude = os.path.join(top, "work", "prelude.py")
check(all(r["argv"][r["argv"].index("-b") + 2:r["argv"].index("-b") + 4] ==
          ["--python", prelude] for r in blender_runs(runlog)),
      "Blender still runs the prelude, right after the .blend")
check(client.stop() == 0, "the client exits 0 on SIGTERM")
server.close()

# CANCEL of a queued frame and of a frame that renders alone.
runlog = os.path.join(top, "runs2.log")
fake = write_fake_config(os.path.join(top, "long.json"), log=runlog,
                         delay=60)
server = V2Server(blend, 1, 4, os.path.join(top, "render2"),
                  program=own).start()
client = Client(server.port, os.path.join(top, "work2"), conf,
                args=["--prefetch", "3"], env={"FAKE_BLENDER_CONFIG": fake})
check(wait_for(lambda: len(server.handed) >= 3 and run_frames(runlog), 20),
      "the client renders one frame and holds others")
rendering = run_frames(runlog)[0][0]
victim = blender_runs(runlog)[0]["pid"]
queued = max(f for f, h in server.handed)
server.cancel(queued)
check(wait_for(lambda: "dropping frame %d of scene.blend" % queued in
               client.log(), 10), "CANCEL drops a queued frame")
server.cancel(rendering)
check(wait_for(lambda: not pid_alive(victim), 10),
      "CANCEL of a frame that renders alone kills its Blender at once")
check(wait_for(lambda: len(run_frames(runlog)) >= 2, 10),
      "and the next frame starts")
check(all(queued not in frames for frames in run_frames(runlog)),
      "the cancelled queued frame is never rendered")
check(not server.failures and "failed" not in client.log(),
      "no failure was reported for the cancelled frames")
check(client.stop() == 0, "the client exits 0 on SIGTERM")
server.close()

# CANCEL of a frame in a run of several: the others are sent.
runlog = os.path.join(top, "runs3.log")
fake = write_fake_config(os.path.join(top, "batch.json"), log=runlog,
                         delay=1)
conf = write_config(os.path.join(top, "batch.conf"), heartbeat_interval=1,
                    none_wait=60, batch_frames=3, fresh_blender=True)
server = V2Server(blend, 1, 8, os.path.join(top, "render3"),
                  program=own).start()
client = Client(server.port, os.path.join(top, "work3"), conf,
                args=["--prefetch", "3"], env={"FAKE_BLENDER_CONFIG": fake})
check(wait_for(lambda: any(len(r) == 3 for r in run_frames(runlog)), 30),
      "a run of three frames starts")
batch = next(r for r in run_frames(runlog) if len(r) == 3)
server.cancel(batch[1])
check(wait_for(lambda: batch[2] in server.done and
               server.done[batch[2]] != "elsewhere", 20),
      "the run's last frame arrives")
check(batch[0] in server.done and not sent(server, batch[1]),
      "its first frame arrived too, its cancelled one was not sent")
check(sum(1 for r in run_frames(runlog) if batch[2] in r) == 1,
      "the run was not cut short: it rendered its last frame itself")
check(wait_for(server.complete, 60), "the job is complete")
check(not server.failures, "no failure was reported")
check(client.stop() == 0, "the client exits 0 on SIGTERM")
server.close()
