#!/usr/bin/env python3
# Version 4 of the extension, with a scripted bdfarm/4 server: a client
# tells the server of its warm Blender (WARM), the frames it has rendered
# growing with each frame, says WARM alone once the Blender is stopped as
# idle, and says it again after each new greeting. A job whose list says
# fresh-blender is rendered with one Blender per frame, never a warm one
# nor a batch.

import os

from clienttest import (PATIENCE, Client, blender_runs, check, fake_blend,
                        scratch, wait_for, write_config, write_fake_config)
from v3server import V3Server

top = scratch()
FRAMES = 6


def frame_args(run):
    """The -f arguments of a run, [] for a warm Blender."""
    argv = run["argv"]
    return [argv[i + 1] for i, a in enumerate(argv) if a == "-f"]


def farm(name, settings, **server_options):
    """A bdfarm/4 scripted server for FRAMES frames of a stand-in scene
    and a client with settings: (server, client, the stand-in's run
    log)."""
    part = os.path.join(top, name)
    os.makedirs(part)
    blend = fake_blend(part, 10)
    runlog = os.path.join(part, "runs.log")
    fakecfg = write_fake_config(os.path.join(part, "fake.json"), log=runlog,
                                delay=0.05)
    conf = write_config(os.path.join(part, "bdfarm.conf"), **settings)
    server = V3Server(blend, 1, FRAMES, os.path.join(part, "render"),
                      files=[], version=4, **server_options).start()
    client = Client(server.port, os.path.join(part, "work"), conf,
                    env={"FAKE_BLENDER_CONFIG": fakecfg})
    return server, client, runlog


# Warm: the server hears how many frames the warm Blender has rendered.
server, client, runlog = farm("warm", {"warm_idle": 2, "none_wait": 60})
check(wait_for(server.complete, 4 * PATIENCE), "warm: the job arrived")
check(wait_for(lambda: ["%d" % FRAMES] in server.warm_lines(), PATIENCE),
      "warm: the server heard 'WARM %d' (%r)" % (FRAMES,
                                                 server.warm_lines()))
check(wait_for(lambda: server.warm_lines()[-1:] == [[]], 4 * PATIENCE),
      "warm: 'WARM' alone once the idle Blender stopped (%r)"
      % server.warm_lines())
said = server.warm_lines()
counts = [int(t[0]) for t in said if t and t[0] != "-"]
check(all(len(t) <= 1 for t in said),
      "warm: one renderer, at most one warm Blender (%r)" % said)
check(counts == sorted(counts) and counts[-1] == FRAMES,
      "warm: the frames rendered only grew, up to %d (%r)" % (FRAMES, said))
check(all(a != b for a, b in zip(said, said[1:])),
      "warm: WARM is said only when it changes (%r)" % said)
check("idle" in client.log(), "warm: the log says the Blender was idle")
runs = blender_runs(runlog)
check(len(runs) == 1 and frame_args(runs[0]) == [],
      "warm: one warm Blender rendered every frame (%r)" % runs)
check(client.stop() == 0, "warm: SIGTERM ends the client")
server.close()


# A client greets an idle server again every none_wait seconds; the
# server forgets what the session said then, so the client says it again.
def repeated_after_greeting(server):
    """Whether a WARM line was said again after a later HELO on the same
    connection."""
    for lines in server.connections:
        last, greeted = None, False
        for line in lines:
            if line.startswith("HELO "):
                greeted = last is not None
            elif line.split()[:1] == ["WARM"]:
                if greeted and line == last:
                    return True
                last, greeted = line, False
    return False


server, client, runlog = farm("greet", {"warm_idle": 120, "none_wait": 1})
check(wait_for(server.complete, 4 * PATIENCE), "greet: the job arrived")
check(wait_for(lambda: repeated_after_greeting(server), 2 * PATIENCE),
      "greet: WARM said again after a new HELO (%r)" % server.connections)
check(client.stop() == 0, "greet: SIGTERM ends the client")
server.close()

# fresh-blender: a Blender of its own for every frame, never a batch.
server, client, runlog = farm("fresh", {"batch_frames": 4},
                              fresh_blender=True)
check(wait_for(server.complete, 4 * PATIENCE), "fresh: the job arrived")
args = [frame_args(r) for r in blender_runs(runlog)]
check(sorted(args) == sorted([["%d" % n] for n in range(1, FRAMES + 1)]),
      "fresh: one Blender per frame, one frame each (%r)" % args)
check(all(t == [] for t in server.warm_lines()),
      "fresh: no warm Blender was said (%r)" % server.warm_lines())
check(client.stop() == 0, "fresh: SIGTERM ends the client")
server.close()
