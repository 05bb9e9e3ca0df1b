#!/usr/bin/env python3
# Frames that Blender does not really render are never sent: a failing
# exit, a crash, an "Error:" line with exit 0, a "Saved:" line without a
# file, an empty file, and a hang past render_timeout (whose whole process
# group is killed). Frames of a failed batch that were not finished are
# retried one by one; the server hands the bad ones out again after its
# (shortened) delay and they still never arrive. This is Blender started
# for each batch (fresh_blender); test-client-warm.py covers warm ones.

import collections
import os

from clienttest import (PATIENCE, Client, blender_runs, check, fake_blend,
                        pid_alive, scratch, wait_for, write_config,
                        write_fake_config)
from oldserver import OldServer

top = scratch()
blend = fake_blend(top, 10)
runlog = os.path.join(top, "runs.log")
pids = os.path.join(top, "pids")
bad = {"fail": [3], "crash": [5], "error": [7], "nofile": [9],
       "empty": [10], "hang": [11]}
fakecfg = write_fake_config(os.path.join(top, "fake.json"), log=runlog,
                            pids=pids, delay=0.05, **bad)
# Far longer than a good frame takes, even on a busy machine.
RENDER_TIMEOUT = 4
conf = write_config(os.path.join(top, "bdfarm.conf"),
                    render_timeout=RENDER_TIMEOUT, fresh_blender=True)
server = OldServer(blend, 1, 12, os.path.join(top, "render"),
                   redistribute=2).start()
client = Client(server.port, os.path.join(top, "work"), conf,
                env={"FAKE_BLENDER_CONFIG": fakecfg})

good = {1, 2, 4, 6, 8, 12}
badframes = {3, 5, 7, 9, 10, 11}
check(wait_for(lambda: good <= set(server.done), 4 * PATIENCE),
      "every good frame arrived")
check(wait_for(lambda: "took longer than %d s" % RENDER_TIMEOUT
               in client.log(), 2 * PATIENCE),
      "the hanging render was stopped by the time limit")
check(wait_for(lambda: os.path.exists(pids) and
               not any(pid_alive(int(p)) for p in open(pids).read().split()),
               PATIENCE), "the hanging run's whole process group was killed")
again = lambda: all(sum(1 for f, h in server.handed if f == b) >= 2
                    for b in badframes)
check(wait_for(again, 4 * PATIENCE),
      "the server handed every bad frame out again")

# Which frames share a run depends on how fast frames arrive; whatever
# the batches, a run that dies on a frame leaves that frame and the ones
# after it unfinished, and each of them is tried again alone.
runs = [[int(n) for n in r["argv"][-1].split(",")]
        for r in blender_runs(runlog)]
dying = set(bad["fail"] + bad["crash"] + bad["hang"])
failed_batches = 0
for i, run in enumerate(runs):
    cut = [k for k, n in enumerate(run) if n in dying]
    if len(run) < 2 or not cut:
        continue
    failed_batches += 1
    for n in run[cut[0]:]:
        check([n] in runs[i + 1:], "frame %d, unfinished in the failed run "
              "%r, was retried alone" % (n, run))
check(failed_batches > 0, "some runs of several frames failed (%r)" % runs)
log = client.log()
for why in ("status 1", "signal 11", "Blender reported: Build without",
            "no file", "empty file"):
    check(why in log, "the log gives the reason '%s'" % why)
check(client.proc.poll() is None, "the client carries on")
check(client.stop() == 0, "SIGTERM ends the client with exit code 0")
# Whatever the client did, it did before it exited: what reached the
# server now is all it will ever send.
check(not (badframes & set(server.done)), "no bad frame was ever sent")
stored = set(os.listdir(os.path.join(top, "render", "demo.job")))
check(stored == {"%04d.png" % n for n in good},
      "only the good frames are stored")
counts = collections.Counter(f for f, h, i in server.received)
check(max(counts.values()) == 1, "no frame arrived twice")
server.close()
