#!/usr/bin/env python3
# End to end with real Blender and the real bdfarm server: a job of frames
# -2 to 1 of the demo scene (which itself runs from frame 1 to 8). Blender
# would read "-f -2" as two frames before the scene's end; the client asks
# for the absolute frames, so each stored file is the frame of its name, as
# the "Frame" text that Blender writes into every PNG it saves says.
# Skipped (77) only when blender is not installed.

import os
import struct

from clienttest import Client, demo_scene, png_size, real_blender, scratch, \
    wait_for
from farmclient import check, client_config, farm, frames_received


def png_text(path):
    """The tEXt entries of a PNG, as a dict."""
    with open(path, "rb") as f:
        data = f.read()
    pos, text = 8, {}
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"tEXt":
            key, _, value = data[pos + 8:pos + 8 + length].partition(b"\0")
            text[key.decode("latin-1")] = value.decode("latin-1")
        pos += 12 + length
    return text


blender = real_blender()
top = scratch()
demo = demo_scene(blender, top, "demo.blend", "--frames", "8")
server = farm(client_timeout=30)
conf = client_config(top, batch_frames=4, heartbeat_interval=5)
server.job("negative", demo, -2, 1)
client = Client(server.port, os.path.join(top, "work"), conf,
                blender=blender)
check(wait_for(lambda: "rendering complete" in server.joblog("negative"),
               240, step=0.5), "the job of frames -2 to 1 was rendered")
received = frames_received(server.joblog("negative"))
check(sorted(received) == [-2, -1, 0, 1] and
      all(len(h) == 1 for h in received.values()),
      "every frame arrived exactly once")
folder = os.path.join(server.renderdir, "negative.job")
for n in (-2, -1, 0, 1):
    name = ("-%04d.png" % -n) if n < 0 else "%04d.png" % n
    path = os.path.join(folder, name)
    check(os.path.exists(path) and png_size(path) == (160, 90),
          "frame %d is stored as a valid PNG %s" % (n, name))
    check(png_text(path).get("Frame") == str(n),
          "Blender rendered frame %d for it (it says %r)" %
          (n, png_text(path).get("Frame")))
check(client.stop() == 0, "the client exits 0 on SIGTERM")
server.stop()
server.cleanup()
