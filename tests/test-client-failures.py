#!/usr/bin/env python3
# Frames that Blender does not really render are never sent: a failing
# exit, a crash, an "Error:" line with exit 0, a "Saved:" line without a
# file, an empty file, and a hang past render_timeout (whose whole process
# group is killed). Frames of a failed batch that were not finished are
# retried one by one; the server hands the bad ones out again after its
# (shortened) delay and they still never arrive.

import collections
import os
import time

from clienttest import (Client, blender_runs, check, pid_alive, scratch,
                        wait_for, write_config, write_fake_config)
from oldserver import OldServer

top = scratch()
blend = os.path.join(top, "scene.blend")
with open(blend, "wb") as f:
    f.write(b"BLENDER-v304 fake scene\n" * 10)
runlog = os.path.join(top, "runs.log")
pids = os.path.join(top, "pids")
bad = {"fail": [3], "crash": [5], "error": [7], "nofile": [9],
       "empty": [10], "hang": [11]}
fakecfg = write_fake_config(os.path.join(top, "fake.json"), log=runlog,
                            pids=pids, delay=0.05, **bad)
conf = write_config(os.path.join(top, "bdfarm.conf"), render_timeout=2)
server = OldServer(blend, 1, 12, os.path.join(top, "render"),
                   redistribute=2).start()
client = Client(server.port, os.path.join(top, "work"), conf,
                env={"FAKE_BLENDER_CONFIG": fakecfg})

good = {1, 2, 4, 6, 8, 12}
badframes = {3, 5, 7, 9, 10, 11}
check(wait_for(lambda: good <= set(server.done), 60),
      "every good frame arrived")
check(wait_for(lambda: "took longer than 2 s" in client.log(), 30),
      "the hanging render was stopped by the time limit")
check(wait_for(lambda: os.path.exists(pids) and
               not any(pid_alive(int(p)) for p in open(pids).read().split()),
               10), "the hanging run's whole process group was killed")
again = lambda: all(sum(1 for f, h in server.handed if f == b) >= 2
                    for b in badframes)
check(wait_for(again, 60), "the server handed every bad frame out again")
time.sleep(1)
check(not (badframes & set(server.done)), "no bad frame was ever sent")
stored = set(os.listdir(os.path.join(top, "render", "demo.job")))
check(stored == {"%04d.png" % n for n in good},
      "only the good frames are stored")
counts = collections.Counter(f for f, h, i in server.received)
check(max(counts.values()) == 1, "no frame arrived twice")

runs = blender_runs(runlog)
alone = {r["argv"][-1] for r in runs}
check("4" in alone and "3" in alone,
      "the unfinished frames of a failed batch were retried alone")
log = client.log()
for why in ("status 1", "signal 11", "Blender reported: Build without",
            "no file", "empty file"):
    check(why in log, "the log gives the reason '%s'" % why)
check(client.proc.poll() is None, "the client carries on")
check(client.stop() == 0, "SIGTERM ends the client with exit code 0")
server.close()
