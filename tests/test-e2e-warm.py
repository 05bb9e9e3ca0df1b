#!/usr/bin/env python3
# End to end with real Blender, warm: one client renders the demo scene's
# 24 frames through an original-style server with a warm Blender. Every
# frame arrives as a valid 160x90 PNG; frames 1, 12 and 24 have the same
# pixels as those a fresh `blender -b FILE -o OUT/#### -f N` renders; and
# Blender is started far fewer times than there would be batches. Then the
# denoising scene, which a Blender built without OpenImageDenoise cannot
# render: warm too, no frame of it is stored and the client logs
# Blender's error. Skipped (77) only when blender is not installed.

import os
import stat
import struct
import subprocess
import zlib

from clienttest import (Client, check, check_demo_stored, demo_scene,
                        denoise_stores_nothing, real_blender, scratch,
                        wait_for, write_config)
from oldserver import OldServer

RENDER_WAIT = 900

blender = real_blender()
top = scratch()


def png_pixels(path):
    """The rows of an 8-bit, non-interlaced RGB or RGBA PNG, unfiltered."""
    with open(path, "rb") as f:
        data = f.read()
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    size = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * size
    rows, prior = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - size] if x >= size else 0
            b = prior[x]
            c = prior[x - size] if x >= size else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pred) & 255
        rows.append(bytes(line))
        prior = line
    return width, height, rows


demo = demo_scene(blender, top, "demo.blend", "--frames", "24")
denoise = demo_scene(blender, top, "denoise.blend", "--frames", "2",
                     "--denoise")

# Blender as the client runs it, each start logged.
starts = os.path.join(top, "starts.log")
wrapper = os.path.join(top, "blender")
with open(wrapper, "w") as f:
    f.write('#!/bin/sh\necho "$*" >> "%s"\nexec "%s" "$@"\n' %
            (starts, blender))
os.chmod(wrapper, os.stat(wrapper).st_mode | stat.S_IXUSR)
conf = write_config(os.path.join(top, "bdfarm.conf"), batch_frames=4)

server = OldServer(demo, 1, 24, os.path.join(top, "render")).start()
client = Client(server.port, os.path.join(top, "work"), conf,
                blender=wrapper)
check(wait_for(server.complete, RENDER_WAIT, step=0.5),
      "a warm client rendered the 24-frame demo job")
folder = check_demo_stored(os.path.join(top, "render"))
with open(starts) as f:
    renders = [l for l in f.read().splitlines() if l != "--version"]
check(len(renders) < 24 // 4,
      "Blender started %d time(s) for 24 frames, fewer than the 6 batches "
      "of 4" % len(renders))
check(all(" -f " not in " %s " % l for l in renders),
      "no Blender was started for a batch")
check(client.stop() == 0, "the client exits 0 on SIGTERM")
server.close()

fresh = os.path.join(top, "fresh")
for n in (1, 12, 24):
    subprocess.run([blender, "--disable-autoexec", "-b", demo, "-o",
                    os.path.join(fresh, "####"), "-f", str(n)], check=True,
                   timeout=600, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    warm = png_pixels(os.path.join(folder, "%04d.png" % n))
    cold = png_pixels(os.path.join(fresh, "%04d.png" % n))
    check(warm == cold, "frame %d has the same pixels warm and fresh" % n)
# The cube turns half a turn from frame 1 to 24, which looks the same.
check(png_pixels(os.path.join(fresh, "0001.png")) !=
      png_pixels(os.path.join(fresh, "0012.png")),
      "frames 1 and 12 differ, so that the comparison means something")

log = denoise_stores_nothing(blender, top, denoise,
                             os.path.join(top, "work2"), conf, RENDER_WAIT)
check("starting a warm Blender" in log, "a warm Blender tried them")
