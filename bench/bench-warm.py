#!/usr/bin/env python3
# bench-warm.py: what the farm costs against Blender alone, with warm
# Blenders and the old way (fresh_blender, one Blender per batch of 4).
# It builds a scene of --frames frames (24 by default) of 160x90, times
# `blender -b SCENE -o OUT/#### -f 1` once, as what loading the scene and
# rendering one frame costs, and `blender -b SCENE -o OUT/#### -a`, then
# the same frames through an original-style server (tests/oldserver.py)
# with one and with two clients on this machine, from the clients' start
# to the last frame stored (the clients fetch the .blend from the server
# first, as on a farm).
#
# --scene picks the scene. "demo", the default, is data/demo-scene.py: it
# loads in a moment, and a Blender's start is most of what a batch costs.
# "heavy" is the demo scene to which bench/heavy-scene.py adds a library
# of large meshes that no render uses: the same frames, but Blender really
# takes about 10 s to open the file (about 420 MB, built in about 30 s
# before the figures). With --load S, Blender is started through a wrapper
# that waits S seconds first, standing in for a scene that takes that long
# to load; `blender -a` pays it once too. --load adds to either scene.
#
# Each figure is the best of --repeat runs, for a shared machine makes
# single runs noisy. It prints figures and asserts nothing. The heavy
# scene at 24 frames takes about 5 minutes for one run of every case on a
# 2-core machine, most of it in the fresh cases' Blender starts.
#
#   cd _build && BDFARM=$PWD/bdfarm BDFARM_SRCDIR=$(realpath ..) \
#       PYTHONPATH=../tests python3 ../bench/bench-warm.py \
#       [--scene heavy] [--frames 24] [--load 10] [--repeat 3]

import argparse
import os
import stat
import subprocess
import time

from clienttest import (Client, demo_scene, real_blender, scratch, wait_for,
                        write_config)
from oldserver import OldServer

HEAVY_SCENE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "heavy-scene.py")


def wrapper(top, blender, load):
    """A Blender that waits load seconds before it starts, but for
    --version."""
    path = os.path.join(top, "blender-slow")
    with open(path, "w") as f:
        f.write('#!/bin/sh\n[ "$1" = --version ] || sleep %s\n'
                'exec "%s" "$@"\n' % (load, blender))
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path


def heavy_scene(blender, folder, name, frames):
    """Build the heavy scene as folder/name: the demo scene, to which
    bench/heavy-scene.py adds what makes it slow to open."""
    demo = demo_scene(blender, folder, "light-" + name, "--frames",
                      str(frames))
    path = os.path.join(folder, name)
    subprocess.run([blender, "-b", demo, "--python", HEAVY_SCENE, "--",
                    path], check=True, timeout=600,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.unlink(demo)
    return path


def alone(top, blender, demo, name, *frames):
    """Seconds `blender -b demo` takes for frames, Blender's options for
    them."""
    out = os.path.join(top, name, "####")
    started = time.time()
    subprocess.run([blender, "--disable-autoexec", "-b", demo, "-o", out] +
                   list(frames), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.time() - started


def farm(top, blender, demo, frames, name, clients, **settings):
    """Seconds the farm takes for a job of frames frames of the scene demo
    with clients clients."""
    part = os.path.join(top, name)
    os.makedirs(part)
    conf = write_config(os.path.join(part, "bdfarm.conf"), batch_frames=4,
                        **settings)
    server = OldServer(demo, 1, frames, os.path.join(part, "render")).start()
    started = time.time()
    running = [Client(server.port, os.path.join(part, "work%d" % i), conf,
                      blender=blender) for i in range(clients)]
    if not wait_for(server.complete, 1800, step=0.05):
        raise SystemExit("%s: the job did not finish" % name)
    took = time.time() - started
    for c in running:
        c.stop()
    server.close()
    return took


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--load", type=float, default=0,
                   help="seconds each Blender start waits, as a slow scene")
    p.add_argument("--repeat", type=int, default=1,
                   help="runs of each case; the best is shown")
    p.add_argument("--scene", choices=("demo", "heavy"), default="demo",
                   help="the demo scene, or one that takes ~10 s to load")
    p.add_argument("--frames", type=int, default=24,
                   help="frames of the job")
    args = p.parse_args()
    if args.frames < 1:
        p.error("--frames must be 1 or more")
    top = scratch()
    blender = real_blender()
    started = time.time()
    if args.scene == "heavy":
        demo = heavy_scene(blender, top, "heavy.blend", args.frames)
    else:
        demo = demo_scene(blender, top, "demo.blend", "--frames",
                          str(args.frames))
    print("%s: %.1f MB, built in %.0f s" %
          (os.path.basename(demo), os.path.getsize(demo) / 1e6,
           time.time() - started), flush=True)
    if args.load > 0:
        blender = wrapper(top, blender, args.load)
    first = alone(top, blender, demo, "first", "-f", "1")
    base = min(alone(top, blender, demo, "alone%d" % run, "-a")
               for run in range(args.repeat))
    print("%d frames of the %s scene, each Blender start %s:" %
          (args.frames, args.scene, "%.0f s slower" % args.load
           if args.load else "as it is"))
    for name, took in (("blender -b -f 1 alone:", first),
                       ("blender -b -a alone:", base)):
        print("  %-29s %6.1f s" % (name, took), flush=True)
    for name, clients, settings in (
            ("warm, one client", 1, {}),
            ("fresh, one client", 1, {"fresh_blender": True}),
            ("warm, two clients", 2, {}),
            ("fresh, two clients", 2, {"fresh_blender": True})):
        folder = name.replace(", ", "-").replace(" ", "-")
        took = min(farm(top, blender, demo, args.frames,
                        "%s-%d" % (folder, run), clients, **settings)
                   for run in range(args.repeat))
        print("  %-29s %6.1f s  (%+.0f %% against Blender alone)" %
              (name + ":", took, 100 * (took - base) / base), flush=True)


if __name__ == "__main__":
    main()
