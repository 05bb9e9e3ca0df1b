#!/usr/bin/env python3
# Warm Blenders, with the stand-in Blender speaking the warm loop's
# protocol. One warm Blender renders frame after frame, in increasing
# order; a crash in the middle of a frame fails that frame only, and the
# next frame renders in a new warm Blender; an "Error:" line or a hang past
# render_timeout fails only its frame too, and a hang's whole process group
# is killed. A .blend that changes is loaded again before the next frame;
# a warm Blender is started again after warm_frames frames and past
# warm_memory, and stopped once idle. A Blender whose loop never says it
# is ready (too old), or hangs before it is for warm_start_timeout (then
# killed with its group), has its scene rendered one Blender per batch, as
# does fresh_blender. An "Error:" line printed between frames is logged
# and fails no frame. Stopping the client stops its warm Blender.

import os

from clienttest import (PATIENCE, Client, blender_runs, check, fake_blend,
                        pid_alive, png_size, scratch, wait_for, write_config,
                        write_fake_config)
from oldserver import OldServer, md5_of

top = scratch()


def frames_log(path):
    """The frames the warm loops finished: list of dicts."""
    return blender_runs(path)


def done_with(records, frame):
    """The .blend that frame was last rendered from."""
    return [r["blend"] for r in records if r["frame"] == frame][-1]


def pids_of(records, frame):
    return [r["pid"] for r in records if r["frame"] == frame]


# A crash, an error and a hang, each on a frame of its own.
part = os.path.join(top, "crash")
os.makedirs(part)
blend = fake_blend(part, 10)
runlog = os.path.join(part, "runs.log")
framelog = os.path.join(part, "frames.log")
pids = os.path.join(part, "pids")
fakecfg = write_fake_config(os.path.join(part, "fake.json"), log=runlog,
                            frames_log=framelog, pids=pids, delay=0.05,
                            crash=[5], error=[7], hang=[11])
RENDER_TIMEOUT = 4
conf = write_config(os.path.join(part, "bdfarm.conf"),
                    render_timeout=RENDER_TIMEOUT)
server = OldServer(blend, 1, 12, os.path.join(part, "render"),
                   redistribute=2).start()
client = Client(server.port, os.path.join(part, "work"), conf,
                env={"FAKE_BLENDER_CONFIG": fakecfg})
good = {1, 2, 3, 4, 6, 8, 9, 10, 12}
check(wait_for(lambda: good <= set(server.done), 4 * PATIENCE),
      "every good frame arrived")
check(wait_for(lambda: "took longer than %d s" % RENDER_TIMEOUT
               in client.log(), 2 * PATIENCE),
      "the hanging frame was stopped by the time limit")
check(wait_for(lambda: os.path.exists(pids) and
               not any(pid_alive(int(p)) for p in open(pids).read().split()),
               PATIENCE), "the hanging Blender's whole process group was "
      "killed")


def handed_again():
    return all(sum(1 for f, h in server.handed if f == b) >= 2
               for b in (5, 7, 11))


check(wait_for(handed_again, 4 * PATIENCE),
      "the server handed every bad frame out again")
done = frames_log(framelog)
first = pids_of(done, 1)[0]
check(all(pids_of(done, n) == [first] for n in (1, 2, 3, 4)),
      "one warm Blender rendered frames 1 to 4")
check(pids_of(done, 6) and pids_of(done, 6)[0] != first,
      "the frame after the crash rendered in a new warm Blender")
check([r["frame"] for r in done if r["pid"] == first] == [1, 2, 3, 4],
      "the warm Blender took its frames in increasing order")
runs = blender_runs(runlog)
check(all("-f" not in r["argv"] for r in runs),
      "no Blender was started for a batch")
check(len(runs) < len(good),
      "Blender started %d times for %d good frames" % (len(runs), len(good)))
log = client.log()
for why in ("signal 11", "Blender reported: Build without"):
    check(why in log, "the log gives the reason '%s'" % why)
check(client.proc.poll() is None, "the client carries on")
check(client.stop() == 0, "SIGTERM ends the client with exit code 0")
check(not any(pid_alive(r["pid"]) for r in runs),
      "no warm Blender outlives its client")
check(not ({5, 7, 11} & set(server.done)), "no bad frame was ever sent")
server.close()

# A .blend that changes while a warm Blender has it loaded; warm_frames
# and warm_idle.
part = os.path.join(top, "change")
os.makedirs(part)
blend = fake_blend(part, 10)
runlog = os.path.join(part, "runs.log")
framelog = os.path.join(part, "frames.log")
fakecfg = write_fake_config(os.path.join(part, "fake.json"), log=runlog,
                            frames_log=framelog, delay=0.2)
conf = write_config(os.path.join(part, "bdfarm.conf"), warm_frames=5,
                    warm_idle=2)
# Frames rendered from the old .blend are refused and handed out again.
server = OldServer(blend, 1, 16, os.path.join(part, "render"),
                   redistribute=2).start()
client = Client(server.port, os.path.join(part, "work"), conf,
                env={"FAKE_BLENDER_CONFIG": fakecfg})
old = server.blend_md5
check(wait_for(lambda: len(server.done) >= 3, 2 * PATIENCE),
      "the first frames arrived")
new_data = server.blend_data + b"changed\n"
with server.lock:
    server.blend_data = new_data
    server.blend_md5 = md5_of(new_data)
    after = len(server.handed)
check(wait_for(server.complete, 4 * PATIENCE), "the whole job arrived")
done = frames_log(framelog)
later = [f for f, h in server.handed[after:]]
check(later and all(done_with(done, f) == md5_of(new_data) for f in later),
      "every frame handed out after the change rendered the new .blend")
check(any(r["blend"] == old for r in done),
      "frames before it rendered the old one")
per_pid = {}
for r in done:
    per_pid.setdefault(r["pid"], []).append(r["frame"])
check(max(len(v) for v in per_pid.values()) <= 5,
      "no warm Blender rendered more than warm_frames frames")
check("enough frames" in client.log(),
      "the log says why a warm Blender was started again")
check(wait_for(lambda: "idle" in client.log().split("enough frames")[-1],
               PATIENCE), "a warm Blender with nothing to do is stopped")
runs = blender_runs(runlog)
check(wait_for(lambda: not any(pid_alive(r["pid"]) for r in runs), PATIENCE),
      "and is gone")
check(client.stop() == 0, "SIGTERM ends the client with exit code 0")
server.close()

# warm_memory: a stand-in that holds more than 1 MiB is started again
# after every frame.
part = os.path.join(top, "memory")
os.makedirs(part)
blend = fake_blend(part, 10)
framelog = os.path.join(part, "frames.log")
fakecfg = write_fake_config(os.path.join(part, "fake.json"),
                            frames_log=framelog, delay=0.05)
conf = write_config(os.path.join(part, "bdfarm.conf"), warm_memory=1)
server = OldServer(blend, 1, 4, os.path.join(part, "render")).start()
client = Client(server.port, os.path.join(part, "work"), conf,
                env={"FAKE_BLENDER_CONFIG": fakecfg})
check(wait_for(server.complete, 4 * PATIENCE), "memory: the job arrived")
done = frames_log(framelog)
check(len({r["pid"] for r in done}) == len(done) == 4,
      "memory: each frame rendered in a warm Blender of its own")
check("MiB of memory" in client.log(), "memory: the log says why")
check(client.stop() == 0, "memory: SIGTERM ends the client")
server.close()

# A Blender too old for the loop, and fresh_blender: one Blender a batch.
for name, fake, settings in (("old", {"no_warm": True}, {}),
                             ("fresh", {}, {"fresh_blender": True})):
    part = os.path.join(top, name)
    os.makedirs(part)
    blend = fake_blend(part, 10)
    runlog = os.path.join(part, "runs.log")
    fakecfg = write_fake_config(os.path.join(part, "fake.json"), log=runlog,
                                delay=0.05, **fake)
    conf = write_config(os.path.join(part, "bdfarm.conf"), **settings)
    server = OldServer(blend, 1, 8, os.path.join(part, "render")).start()
    client = Client(server.port, os.path.join(part, "work"), conf,
                    env={"FAKE_BLENDER_CONFIG": fakecfg})
    check(wait_for(server.complete, 4 * PATIENCE),
          "%s: the whole job arrived" % name)
    runs = blender_runs(runlog)
    batches = [r for r in runs if "-f" in r["argv"]]
    check(batches, "%s: Blender rendered batches" % name)
    warm = [r for r in runs if "-f" not in r["argv"]]
    check(len(warm) == (1 if name == "old" else 0),
          "%s: %d warm Blender(s) tried" % (name, len(warm)))
    if name == "old":
        check("ended before it was ready" in client.log(),
              "old: the log says why it renders batches")
    check(client.stop() == 0, "%s: SIGTERM ends the client" % name)
    server.close()

# warm_start_timeout: a warm Blender that hangs before it says it is ready
# (with a grandchild in its group) is killed, group and all, once the time
# is up, and its scene is rendered one Blender per batch. render_timeout
# stays off, so that nothing else ends the hang.
part = os.path.join(top, "start")
os.makedirs(part)
blend = fake_blend(part, 10)
runlog = os.path.join(part, "runs.log")
pids = os.path.join(part, "pids")
fakecfg = write_fake_config(os.path.join(part, "fake.json"), log=runlog,
                            pids=pids, delay=0.05, warm_hang=True)
START_TIMEOUT = 1
conf = write_config(os.path.join(part, "bdfarm.conf"),
                    warm_start_timeout=START_TIMEOUT)
renders = os.path.join(part, "render")
server = OldServer(blend, 1, 8, renders).start()
client = Client(server.port, os.path.join(part, "work"), conf,
                env={"FAKE_BLENDER_CONFIG": fakecfg})
check(wait_for(lambda: "was not ready in %d s" % START_TIMEOUT
               in client.log(), 2 * PATIENCE),
      "start: the log says the warm Blender was not ready in time")
check(wait_for(lambda: os.path.exists(pids) and
               not any(pid_alive(int(p)) for p in open(pids).read().split()),
               PATIENCE), "start: the hung Blender's whole process group was "
      "killed")
check(wait_for(server.complete, 4 * PATIENCE), "start: the whole job arrived")
runs = blender_runs(runlog)
warm = [r for r in runs if "-f" not in r["argv"]]
check(len(warm) == 1 and str(warm[0]["pid"]) in open(pids).read().split(),
      "start: the one warm Blender tried is the one that hung")
batched = set()
for r in runs:
    if "-f" in r["argv"]:
        batched.update(int(n) for n in
                       r["argv"][r["argv"].index("-f") + 1].split(","))
check(batched == set(range(1, 9)), "start: batches rendered every frame")
folder = os.path.join(renders, "demo.job")
check(sorted(os.listdir(folder)) == ["%04d.png" % n for n in range(1, 9)] and
      all(png_size(os.path.join(folder, n)) for n in os.listdir(folder)),
      "start: every frame is stored as a valid PNG")
check("ended before it was ready" in client.log(),
      "start: the log says its scene renders one Blender per batch")
check(client.stop() == 0, "start: SIGTERM ends the client")
server.close()

# An "Error:" line that a warm Blender prints with no frame in hand (here
# right after it answered for frame 2) is logged, and counts against no
# frame: frame 3, handed to it next, renders and is sent the first time.
part = os.path.join(top, "idle-error")
os.makedirs(part)
blend = fake_blend(part, 10)
framelog = os.path.join(part, "frames.log")
fakecfg = write_fake_config(os.path.join(part, "fake.json"),
                            frames_log=framelog, delay=0.05, idle_error=[2])
conf = write_config(os.path.join(part, "bdfarm.conf"))
renders = os.path.join(part, "render")
server = OldServer(blend, 1, 4, renders).start()
client = Client(server.port, os.path.join(part, "work"), conf,
                env={"FAKE_BLENDER_CONFIG": fakecfg})
check(wait_for(lambda: 3 in server.done or
               "Blender reported: " in client.log(), 2 * PATIENCE),
      "idle error: frame 3 came to an end")
check("Blender reported: " not in client.log(),
      "idle error: no frame failed for the error")
check(wait_for(server.complete, 2 * PATIENCE),
      "idle error: the whole job arrived")
check("a handler failed after frame 2" in client.log(),
      "idle error: the log shows Blender's error")
done = frames_log(framelog)
check(sorted(r["frame"] for r in done) == [1, 2, 3, 4] and
      len({r["pid"] for r in done}) == 1,
      "idle error: one warm Blender rendered each frame once")
check(sorted(f for f, h in server.handed) == [1, 2, 3, 4],
      "idle error: each frame was handed out once")
folder = os.path.join(renders, "demo.job")
check(png_size(os.path.join(folder, "0003.png")),
      "idle error: frame 3 is stored as a valid PNG")
check(client.stop() == 0, "idle error: SIGTERM ends the client")
server.close()
