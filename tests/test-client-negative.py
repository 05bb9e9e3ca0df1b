#!/usr/bin/env python3
# Negative and zero frame numbers, with the stand-in Blender: Blender reads
# "-f -2" as two frames before the scene's end, so every negative number in
# the -f list must come with a space before its sign (" -2"), which it reads
# as the absolute frame; zero and positive numbers go as they are. A job of
# frames -2 to 1 is rendered whole, each frame stored once under its own
# number (-0002.png ... 0001.png) with the picture of that frame.

import collections
import os
import re
import struct
import zlib

from clienttest import (Client, blender_runs, check, fake_blend, png_size,
                        scratch, wait_for, write_config, write_fake_config)
from oldserver import OldServer


def first_pixel(path):
    """The RGB bytes of the first pixel of an 8-bit RGB PNG."""
    with open(path, "rb") as f:
        data = f.read()
    pos, idat = 8, b""
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    return raw[1:4] if raw[0] == 0 else None


def stand_in_pixel(frame):
    """The colour fake-blender paints frame with."""
    return bytes(((frame * 37) % 256, (frame * 91) % 256, 128))


top = scratch()
blend = fake_blend(top)
renderdir = os.path.join(top, "render")
runlog = os.path.join(top, "runs.log")
fakecfg = write_fake_config(os.path.join(top, "fake.json"), log=runlog,
                            delay=0.2)
# The -f list is what this test looks at: Blender per batch.
conf = write_config(os.path.join(top, "bdfarm.conf"), batch_frames=4,
                    fresh_blender=True)
server = OldServer(blend, -2, 1, renderdir).start()
client = Client(server.port, os.path.join(top, "work"), conf,
                args=["--renderers", "1", "--prefetch", "4"],
                env={"FAKE_BLENDER_CONFIG": fakecfg})

check(wait_for(server.complete, 60), "the job of frames -2 to 1 was rendered")
counts = collections.Counter(f for f, h, i in server.received)
check(sorted(counts) == [-2, -1, 0, 1] and max(counts.values()) == 1,
      "every frame arrived exactly once")

lists = [r["argv"][r["argv"].index("-f") + 1] for r in blender_runs(runlog)]
items = [i for l in lists for i in l.split(",")]
print("-f lists: %r" % lists)
check(sorted(int(i) for i in items) == [-2, -1, 0, 1],
      "Blender was asked for each frame once")
check(all(re.fullmatch(r" -\d+", i) for i in items if int(i) < 0),
      "every negative frame goes with a space before its sign")
check(all(re.fullmatch(r"\d+", i) for i in items if int(i) >= 0),
      "zero and positive frames go as they are")
check(any("," in l for l in lists), "some runs rendered several frames")

folder = os.path.join(renderdir, "demo.job")
names = sorted(os.listdir(folder))
check(names == ["-0001.png", "-0002.png", "0000.png", "0001.png"],
      "the frames are stored as -0002.png, -0001.png, 0000.png, 0001.png")
for n in (-2, -1, 0, 1):
    path = os.path.join(folder, ("-%04d.png" % -n) if n < 0 else
                        "%04d.png" % n)
    check(png_size(path) == (16, 9) and
          first_pixel(path) == stand_in_pixel(n),
          "the file of frame %d holds the picture of frame %d" % (n, n))
check(client.stop() == 0, "the client exits 0 on SIGTERM")
server.close()
