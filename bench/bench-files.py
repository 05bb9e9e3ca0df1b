#!/usr/bin/env python3
"""Benchmark of the files that travel with a job: a scene whose .blend
needs --textures files of --size MB each (200 MB in all by default), by
absolute path, rendered by --clients bdfarm clients on loopback with the
stand-in for Blender (bench/blender-stand-in.c, which renders nothing, so
that what is measured is the farm).

1. The first job: the time from its .job file to the first frame stored,
   and the bytes each client fetched (what its work folder grew by).
2. A second job whose .blend (another file) needs the same textures: the
   same figures; only its .blend should travel.
3. The same scene's .blend alone, needing nothing, on fresh clients: the
   time to the first frame, for comparison.

    bench/bench-files.py [--program PATH] [--clients N] [--textures N]
                         [--size MB] [--frame-time S]

The program is --program, else $BDFARM, else ./bdfarm. Blender builds
the scene (its .blend only names the textures; the stand-in never reads
them). Not part of make check: it prints figures, it asserts nothing.
"""

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, HERE)

import importlib.util                                    # noqa: E402

import bdfarmtest                                        # noqa: E402
import clienttest                                        # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "bench_ext", os.path.join(HERE, "bench-ext.py"))
bench_ext = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_ext)
bench_clients = bench_ext.bench_clients
bench_stand_in = bench_ext.bench_stand_in
bench_wait = bench_ext.bench_wait

SCENE = r'''
import bpy, sys
args = sys.argv[sys.argv.index('--') + 1:]
out, textures = args[0], args[1:]
bpy.ops.wm.save_as_mainfile(filepath=out + '/alone.blend')
for i, path in enumerate(textures):
    im = bpy.data.images.new('tex%d' % i, 4, 4)
    im.source = 'FILE'
    im.filepath = path
    im.use_fake_user = True
bpy.ops.wm.save_as_mainfile(filepath=out + '/first.blend')
bpy.ops.wm.save_as_mainfile(filepath=out + '/second.blend', copy=True)
'''


def folder_bytes(path):
    total = 0
    for root, dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def run_job(farm, name, blend, frames, clients, workdirs):
    """Seconds to the first stored frame and to completion, and the bytes
    each client's work folder grew by."""
    before = [folder_bytes(w) for w in workdirs]
    start = time.monotonic()
    farm.job(name, blend, 1, frames)
    first = bench_wait(lambda: os.path.isdir(farm.framedir(name)) and
                       os.listdir(farm.framedir(name)), 600)
    bench_wait(lambda: "rendering complete" in farm.joblog(name), 600)
    total = time.monotonic() - start
    grown = [folder_bytes(w) - b for w, b in zip(workdirs, before)]
    return first, total, grown


def report(what, first, total, grown):
    mb = [g / 1e6 for g in grown]
    print("%s: first frame after %.2f s, complete after %.2f s; fetched "
          "per client %s MB (mean %.1f MB)" % (
              what, first or -1, total or -1,
              ", ".join("%.1f" % m for m in mb), sum(mb) / len(mb)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--program")
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--textures", type=int, default=20)
    p.add_argument("--size", type=float, default=10.0)
    p.add_argument("--frame-time", type=float, default=0.2)
    p.add_argument("--frames", type=int, default=8)
    args = p.parse_args()
    if args.program:
        os.environ["BDFARM"] = args.program
    top = clienttest.scratch()      # removed at exit, after the clients
    tex = os.path.join(top, "textures")
    os.makedirs(tex)
    paths = []
    for i in range(args.textures):
        path = os.path.join(tex, "tex%02d.png" % i)
        with open(path, "wb") as f:
            f.write(os.urandom(int(args.size * 1e6)))
        paths.append(path)
    script = os.path.join(top, "scene.py")
    with open(script, "w") as f:
        f.write(SCENE)
    subprocess.run(["blender", "-b", "--factory-startup", "--python",
                    script, "--", top] + paths, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stand_in = bench_stand_in(top)
    print("%d clients, %d textures of %.1f MB (%.0f MB), %d frames of "
          "%.1f s" % (args.clients, args.textures, args.size,
                      args.textures * args.size, args.frames,
                      args.frame_time))
    for case in ("files", "alone"):
        root = os.path.join(top, case)
        with bdfarmtest.Farm(program=args.program, root=root) as farm:
            farm.start()
            clients = bench_clients(farm, root + "-clients",
                                    args.clients, True, 5, stand_in,
                                    args.frame_time, "c")
            workdirs = [os.path.join(root + "-clients", "c%d" % i)
                        for i in range(args.clients)]
            time.sleep(2)
            if case == "files":
                r = run_job(farm, "first", os.path.join(
                    top, "first.blend"), args.frames, clients, workdirs)
                report("first job, with its textures", *r)
                r = run_job(farm, "second", os.path.join(
                    top, "second.blend"), args.frames, clients,
                    workdirs)
                report("second job, sharing the textures", *r)
            else:
                r = run_job(farm, "alone", os.path.join(
                    top, "alone.blend"), args.frames, clients, workdirs)
                report("the .blend alone, needing nothing", *r)
            for c in clients:
                c.stop()


if __name__ == "__main__":
    main()
