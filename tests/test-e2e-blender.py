#!/usr/bin/env python3
# End to end with real Blender: the demo scene (data/demo-scene.py) as a
# 24-frame job, rendered by two clients for an original-style server:
# every frame arrives once, as a valid 160x90 PNG, and the job log shows
# completion. Then the same scene with denoising on, which a Blender built
# without OpenImageDenoise cannot render ("Error:", no file): no frame of
# it is ever stored. Skipped (77) only when blender is not installed.

import collections
import os
import time

from clienttest import (Client, check, check_demo_stored, demo_scene,
                        denoise_stores_nothing, real_blender, scratch,
                        wait_for, write_config)
from oldserver import OldServer

# Real Blender renders slowly on a busy machine: 24 frames take half a
# minute on two idle cores.
RENDER_WAIT = 900

blender = real_blender()
top = scratch()


def build(name, *options):
    return demo_scene(blender, top, name, *options)


demo = build("demo.blend", "--frames", "24")
denoise = build("denoise.blend", "--frames", "2", "--denoise")
conf = write_config(os.path.join(top, "bdfarm.conf"), batch_frames=4)

started = time.time()
server = OldServer(demo, 1, 24, os.path.join(top, "render")).start()
clients = [Client(server.port, os.path.join(top, "work%d" % i), conf,
                  blender=blender) for i in (1, 2)]
check(wait_for(server.complete, RENDER_WAIT, step=0.5),
      "two clients rendered the 24-frame demo job")
print("demo job: %.1f s with two clients" % (time.time() - started))
counts = collections.Counter(f for f, h, i in server.received)
check(sorted(counts) == list(range(1, 25)) and max(counts.values()) == 1,
      "every frame arrived exactly once")
check_demo_stored(os.path.join(top, "render"))
check(any(line.endswith("rendering complete") for line in server.log),
      "the job log shows completion")
for c in clients:
    check(c.stop() == 0, "a client exits 0 on SIGTERM")
server.close()

denoise_stores_nothing(blender, top, denoise, os.path.join(top, "work3"),
                       conf, RENDER_WAIT)
