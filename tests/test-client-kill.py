#!/usr/bin/env python3
# A client killed with SIGKILL in the middle of a render takes its Blender
# with it, and another client renders its frame once the server's
# (shortened) redistribution delay has passed: every frame arrives once.

import collections
import os
import signal

from clienttest import (PATIENCE, Client, blender_runs, check, fake_blend,
                        pid_alive, scratch, wait_for, write_config,
                        write_fake_config)
from oldserver import OldServer

top = scratch()
blend = fake_blend(top, 10)
runlog = os.path.join(top, "runs.log")
fakecfg = write_fake_config(os.path.join(top, "fake.json"), log=runlog,
                            delay=1.0)
# The victim's frame is read from its -f argument: Blender per batch.
conf = write_config(os.path.join(top, "bdfarm.conf"), fresh_blender=True)
server = OldServer(blend, 1, 6, os.path.join(top, "render"),
                   redistribute=2).start()
env = {"FAKE_BLENDER_CONFIG": fakecfg}

first = Client(server.port, os.path.join(top, "work1"), conf,
               args=["--prefetch", "0"], env=env)
check(wait_for(lambda: len(blender_runs(runlog)) == 1, PATIENCE),
      "the first client started rendering")
victim = blender_runs(runlog)[0]
check(victim["argv"][-1] == "1", "it renders frame 1 alone (prefetch 0)")
first.proc.send_signal(signal.SIGKILL)
first.proc.wait()
check(wait_for(lambda: not pid_alive(victim["pid"]), PATIENCE),
      "its Blender did not outlive it")

second = Client(server.port, os.path.join(top, "work2"), conf, env=env)
check(wait_for(server.complete, 4 * PATIENCE),
      "the second client finished the job")
handed = collections.Counter(f for f, h in server.handed)
check(handed[1] == 2, "frame 1 was handed out again after the delay")
counts = collections.Counter(f for f, h, i in server.received)
check(sorted(counts) == list(range(1, 7)) and max(counts.values()) == 1,
      "every frame arrived exactly once")
check(second.stop() == 0, "the second client exits 0 on SIGTERM")
server.close()
