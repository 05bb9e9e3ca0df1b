#!/usr/bin/env python3
# Two clients that share a work folder never remove a .blend copy the
# other one uses. With cache_idle at 1 s, one client renders frames of a
# .blend for several seconds while the other, idle, looks for idle copies
# every second: the copy stays for as long as the first client has frames
# of it, every frame renders at the first try, and the copy goes once the
# job is over. A client killed with SIGKILL leaves no lock behind: its
# copy is removed by the other once idle.

import collections
import os
import signal
import time

from clienttest import (Client, blender_runs, check, scratch, wait_for,
                        write_config, write_fake_config)
from oldserver import OldServer, md5_of

top = scratch()
work = os.path.join(top, "work")
# The second client names the same folder otherwise, for a log of its own.
os.makedirs(work)
shared = os.path.join(top, "shared")
os.symlink(work, shared)
conf = write_config(os.path.join(top, "bdfarm.conf"), cache_idle=1,
                    batch_frames=1)


def make_blend(name):
    path = os.path.join(top, name)
    with open(path, "wb") as f:
        f.write(b"BLENDER-v304 fake scene %s\n" % name.encode() * 100)
    return path


def copy_of(blend):
    with open(blend, "rb") as f:
        digest = md5_of(f.read())
    return os.path.join(work, "cache", digest, os.path.basename(blend))


# The idle client, for a server that has nothing to hand out.
blend = make_blend("scene.blend")
idle_server = OldServer(blend, 1, 0, os.path.join(top, "render-idle")).start()
idle = Client(idle_server.port, work, conf, args=["--renderers", "1"])

runlog = os.path.join(top, "runs.log")
slow = write_fake_config(os.path.join(top, "slow.json"), log=runlog,
                         delay=2)
server = OldServer(blend, 1, 3, os.path.join(top, "render")).start()
worker = Client(server.port, shared, conf,
                args=["--renderers", "1"],
                env={"FAKE_BLENDER_CONFIG": slow})
copy = copy_of(blend)
check(wait_for(lambda: blender_runs(runlog), 30), "the first frame renders")
gone = False
end = time.time() + 60
while not server.complete() and time.time() < end:
    gone = gone or not os.path.exists(copy)
    time.sleep(0.05)
check(server.complete(), "the job was rendered")
check(not gone, "the copy stayed while the worker had frames of it")
counts = collections.Counter(f for f, h, i in server.received)
check(sorted(counts) == [1, 2, 3] and max(counts.values()) == 1,
      "every frame arrived once")
handed = collections.Counter(f for f, h in server.handed)
check(max(handed.values()) == 1 and "Blender exited" not in worker.log(),
      "every frame rendered at the first try")
check(wait_for(lambda: not os.path.exists(os.path.dirname(copy)), 30),
      "the copy was removed once the job was over")
check(worker.stop() == 0, "the worker exits 0 on SIGTERM")
server.close()

# A worker killed in the middle of a frame: its lock goes with it.
other = make_blend("other.blend")
runlog2 = os.path.join(top, "runs2.log")
hang = write_fake_config(os.path.join(top, "hang.json"), log=runlog2,
                         delay=600)
server = OldServer(other, 1, 2, os.path.join(top, "render2")).start()
worker = Client(server.port, shared, conf, args=["--renderers", "1"],
                env={"FAKE_BLENDER_CONFIG": hang})
copy = copy_of(other)
check(wait_for(lambda: blender_runs(runlog2), 30), "a frame renders")
time.sleep(3)
check(os.path.exists(copy),
      "the idle client left the copy alone for three times cache_idle")
os.kill(worker.proc.pid, signal.SIGKILL)
worker.proc.wait()
check(wait_for(lambda: not os.path.exists(os.path.dirname(copy)), 30),
      "once the worker was killed, its idle copy was removed")
check(wait_for(lambda: "removed the idle cached copy %s"
               % os.path.dirname(copy) in idle.log(), 30),
      "by the other client")
check(idle.stop() == 0, "the idle client exits 0 on SIGTERM")
server.close()
idle_server.close()
