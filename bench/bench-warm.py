#!/usr/bin/env python3
# bench-warm.py: what the farm costs against Blender alone, with warm
# Blenders and the old way (fresh_blender, one Blender per batch of 4).
# It builds the demo scene (24 frames of 160x90), times
# `blender -b demo.blend -o OUT/#### -a`, then the same 24 frames through
# an original-style server (tests/oldserver.py) with one and with two
# clients on this machine, from the clients' start to the last frame
# stored. With --load S, Blender is started through a wrapper that waits
# S seconds first, standing in for a scene that takes that long to load;
# `blender -a` pays it once too. Each figure is the best of --repeat runs,
# for a shared machine makes single runs noisy. It prints figures and
# asserts nothing.
#
#   cd _build && BDFARM=$PWD/bdfarm BDFARM_SRCDIR=$(realpath ..) \
#       PYTHONPATH=../tests python3 ../bench/bench-warm.py [--load 10] \
#       [--repeat 3]

import argparse
import os
import stat
import subprocess
import time

from clienttest import (Client, demo_scene, real_blender, scratch, wait_for,
                        write_config)
from oldserver import OldServer

FRAMES = 24


def wrapper(top, blender, load):
    """A Blender that waits load seconds before it starts, but for
    --version."""
    path = os.path.join(top, "blender-slow")
    with open(path, "w") as f:
        f.write('#!/bin/sh\n[ "$1" = --version ] || sleep %s\n'
                'exec "%s" "$@"\n' % (load, blender))
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path


def alone(top, blender, demo, run):
    """Seconds `blender -b demo -a` takes."""
    out = os.path.join(top, "alone%d" % run, "####")
    started = time.time()
    subprocess.run([blender, "--disable-autoexec", "-b", demo, "-o", out,
                    "-a"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.time() - started


def farm(top, blender, demo, name, clients, **settings):
    """Seconds the farm takes for the demo job with clients clients."""
    part = os.path.join(top, name)
    os.makedirs(part)
    conf = write_config(os.path.join(part, "bdfarm.conf"), batch_frames=4,
                        **settings)
    server = OldServer(demo, 1, FRAMES, os.path.join(part, "render")).start()
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
    args = p.parse_args()
    top = scratch()
    blender = real_blender()
    demo = demo_scene(blender, top, "demo.blend", "--frames", str(FRAMES))
    if args.load > 0:
        blender = wrapper(top, blender, args.load)
    base = min(alone(top, blender, demo, run) for run in range(args.repeat))
    print("%d frames of the demo scene, each Blender start %s:" %
          (FRAMES, "%.0f s slower" % args.load if args.load else
           "as it is"))
    print("  blender -b -a alone:          %6.1f s" % base)
    for name, clients, settings in (
            ("warm, one client", 1, {}),
            ("fresh, one client", 1, {"fresh_blender": True}),
            ("warm, two clients", 2, {}),
            ("fresh, two clients", 2, {"fresh_blender": True})):
        folder = name.replace(", ", "-").replace(" ", "-")
        took = min(farm(top, blender, demo, "%s-%d" % (folder, run), clients,
                        **settings) for run in range(args.repeat))
        print("  %-29s %6.1f s  (%+.0f %% against Blender alone)" %
              (name + ":", took, 100 * (took - base) / base), flush=True)


if __name__ == "__main__":
    main()
