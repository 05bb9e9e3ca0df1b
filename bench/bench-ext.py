#!/usr/bin/env python3
"""Benchmark of bdfarm's protocol extension, client and server together,
with the stand-in Blender (tests/fake-blender) on loopback.

1. Dispatch latency: the time from a new .job file to its first frame in
   a waiting client's hands (the client logs "got frame"), median over
   --tries tries, with the extension (WAITJOB) and without it (the client
   with `extensions = false` polls as an old client does, every
   --poll seconds after None). Each try starts at a random moment.
2. Makespan: --frames frames of --frame-time seconds each, rendered by
   --clients clients with one renderer each, from the .job file to the
   job log's "rendering complete", against the ideal
   frames x frame-time / renderers, with and without the extension; once
   with tests/fake-blender (a Python program: about 0.1 s of start-up per
   Blender run on a slow machine, which the ideal does not count) and once
   with a shell stand-in that starts in a few milliseconds; and the shell
   stand-in alone, one client's share in batches of 4 with no farm at all,
   so that what the farm itself adds can be told apart.

    bench/bench-ext.py [--program PATH] [--tries N] [--poll S]
                       [--frames N] [--frame-time S] [--clients N]

The program is --program, else $BDFARM, else ./bdfarm. Not part of make
check: it prints figures, it asserts nothing.
"""

import argparse
import os
import random
import statistics
import struct
import subprocess
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

import bdfarmtest                                        # noqa: E402
import clienttest                                        # noqa: E402


SHELL_BLENDER = r"""#!/bin/sh
# A stand-in for Blender that starts quickly: -b FILE -o PATTERN -f LIST.
while [ $# -gt 0 ]; do
    case "$1" in
    -o) pattern=$2; shift 2 ;;
    -f) list=$2; shift 2 ;;
    *) shift ;;
    esac
done
echo "Blender 3.4.1 (shell)"
for n in $(echo "$list" | tr , ' '); do
    out=$(printf '%s%04d.png' "${pattern%%####}" "$n")
    echo "Fra:$n Mem:1M | Time:00:00.00 | Scene, ViewLayer | Sample 0/4"
    sleep @TIME@
    echo "Fra:$n Mem:1M | Time:00:00.20 | Scene, ViewLayer | Sample 4/4"
    cp "@PNG@" "$out"
    echo "Saved: '$out'"
done
echo "Blender quit"
"""


def bench_png(width, height):
    """A small valid grey PNG."""
    def chunk(kind, data):
        body = kind + data
        return (struct.pack(">I", len(data)) + body +
                struct.pack(">I", zlib.crc32(body) & 0xffffffff))
    raw = b"".join(b"\0" + b"\x80" * 3 * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0,
                                       0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def bench_shell_blender(top, frame_time):
    """Write the shell stand-in and the PNG it copies; return its path."""
    png = os.path.join(top, "frame.png")
    with open(png, "wb") as f:
        f.write(bench_png(16, 9))
    path = os.path.join(top, "shell-blender")
    with open(path, "w") as f:
        f.write(SHELL_BLENDER.replace("@TIME@", "%g" % frame_time)
                .replace("@PNG@", png))
    os.chmod(path, 0o755)
    return path


def bench_clients(farm, top, n, ext, poll, fake, name,
                  blender=clienttest.FAKE_BLENDER):
    """n clients of one renderer each, with or without the extension."""
    os.makedirs(top, exist_ok=True)
    conf = clienttest.write_config(
        os.path.join(top, name + ".conf"), extensions=ext,
        none_wait=int(poll), busy_wait=int(poll),
        heartbeat_interval=5, retry_min=1, retry_max=2)
    return [clienttest.Client(farm.port, os.path.join(top, "%s%d" % (name, i)),
                              conf, env={"FAKE_BLENDER_CONFIG": fake},
                              args=["--renderers", "1"], blender=blender)
            for i in range(n)]


def bench_wait(pred, timeout, step=0.002):
    """Seconds until pred() is true; None after timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if pred():
            return time.monotonic() - start
        time.sleep(step)
    return None


def bench_latency(args, top, ext):
    """Median seconds from a new .job to its frame in the client's hands."""
    with bdfarmtest.Farm(program=args.program,
                         root=os.path.join(top, "lat-%d" % ext)) as farm:
        farm.start()
        blend, _ = farm.blend("scene.blend", size=10000)
        fake = clienttest.write_fake_config(os.path.join(farm.root,
                                                         "fake.json"),
                                            delay=0.01)
        client, = bench_clients(farm, os.path.join(top, "lat-c%d" % ext), 1,
                                ext, args.poll, fake, "lat")
        time.sleep(1.5)
        times = []
        for i in range(args.tries):
            time.sleep(random.uniform(0.2, args.poll + 0.2))
            before = client.log().count("got frame")
            farm.job("try%02d" % i, blend, 1, 1)
            t = bench_wait(lambda: client.log().count("got frame") > before,
                           args.poll * 3 + 10)
            if t is None:
                print("  try %d: no frame" % i)
                continue
            times.append(t)
            bench_wait(lambda: "rendering complete" in
                       farm.joblog("try%02d" % i), 10)
        client.stop()
    return times


def bench_alone(args, top):
    """Seconds the shell stand-in takes for one client's share of the
    frames, run in batches of 4 one after another with no farm at all:
    the part of the makespan that is the stand-in's own."""
    blender = bench_shell_blender(top, args.frame_time)
    out = os.path.join(top, "alone")
    os.makedirs(out, exist_ok=True)
    share = list(range(1, -(-args.frames // args.clients) + 1))
    start = time.monotonic()
    for i in range(0, len(share), 4):
        subprocess.run([blender, "-b", "x", "-o", out + "/####", "-f",
                        ",".join(str(n) for n in share[i:i + 4])],
                       stdout=subprocess.DEVNULL, check=True)
    return time.monotonic() - start


def bench_makespan(args, top, ext, shell):
    """Seconds from the .job file to the job's completion."""
    with bdfarmtest.Farm(program=args.program,
                         root=os.path.join(top, "ms-%d-%d" % (ext, shell))
                         ) as farm:
        farm.start()
        blend, _ = farm.blend("scene.blend", size=10000)
        fake = clienttest.write_fake_config(os.path.join(farm.root,
                                                         "fake.json"),
                                            delay=args.frame_time)
        blender = (bench_shell_blender(farm.root, args.frame_time) if shell
                   else clienttest.FAKE_BLENDER)
        clients = bench_clients(farm, os.path.join(top, "ms-c%d-%d"
                                                   % (ext, shell)),
                                args.clients, ext, args.poll, fake, "ms",
                                blender)
        time.sleep(2)
        farm.job("makespan", blend, 1, args.frames)
        t = bench_wait(lambda: "rendering complete" in
                       farm.joblog("makespan"), 600, step=0.01)
        for c in clients:
            c.stop()
    return t


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--program", default=os.environ.get("BDFARM",
                                                       "./bdfarm"))
    p.add_argument("--tries", type=int, default=20)
    p.add_argument("--poll", type=int, default=3)
    p.add_argument("--frames", type=int, default=200)
    p.add_argument("--frame-time", type=float, default=0.2)
    p.add_argument("--clients", type=int, default=8)
    args = p.parse_args()
    args.program = os.path.abspath(args.program)
    os.environ["BDFARM"] = args.program
    clienttest.BDFARM = args.program
    top = clienttest.scratch()

    print("dispatch latency, new .job to first frame in a waiting "
          "client's hands (median of %d):" % args.tries, flush=True)
    for ext, what in ((True, "extension (WAITJOB)"),
                      (False, "polling every %d s" % args.poll)):
        t = bench_latency(args, top, ext)
        if t:
            print("  %-24s median %7.3f s   min %.3f  max %.3f  (%d tries)"
                  % (what, statistics.median(t), min(t), max(t), len(t)),
                  flush=True)

    ideal = args.frames * args.frame_time / args.clients
    print("makespan, %d frames of %.2f s on %d clients of 1 renderer "
          "(ideal %.2f s):" % (args.frames, args.frame_time, args.clients,
                               ideal), flush=True)
    alone = bench_alone(args, top)
    print("  %-38s %7.2f s   %.2f x ideal (%+.1f %%)"
          % ("shell stand-in alone, no farm", alone, alone / ideal,
             (alone / ideal - 1) * 100), flush=True)
    for shell in (False, True):
        for ext in (True, False):
            what = "%s, %s" % ("extension" if ext else
                               "polling every %d s" % args.poll,
                               "shell stand-in" if shell else "fake-blender")
            t = bench_makespan(args, top, ext, shell)
            if t is None:
                print("  %-38s did not finish" % what)
            else:
                print("  %-38s %7.2f s   %.2f x ideal (%+.1f %%)"
                      % (what, t, t / ideal, (t / ideal - 1) * 100),
                      flush=True)


if __name__ == "__main__":
    main()
