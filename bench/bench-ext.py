#!/usr/bin/env python3
"""Benchmark of bdfarm's protocol extension, client and server together,
with a stand-in for Blender on loopback.

1. Dispatch latency: the time from a new .job file to its first frame in
   a waiting client's hands (the client logs "got frame"), median over
   --tries tries, with the extension (WAITJOB) and without it (the client
   with `extensions = false` polls as an old client does, every
   --poll seconds after None). Each try starts at a random moment.
2. Makespan: for each --case FRAMES:CLIENTS, FRAMES frames of
   --frame-time seconds each, rendered by CLIENTS clients with one
   renderer each, from the .job file to the job log's "rendering
   complete", against the ideal FRAMES x frame-time / CLIENTS, with the
   extension and, unless --no-poll, polling. The stand-in is
   bench/blender-stand-in.c, compiled here with cc: it starts in a
   millisecond, so that what is measured is the farm. The stand-in alone
   (one client's share in batches of 4, no farm) is timed too, so that
   its own cost can be told apart.

    bench/bench-ext.py [--program PATH] [--tries N] [--poll S]
                       [--frame-time S] [--case FRAMES:CLIENTS ...]
                       [--no-poll] [--no-latency]

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


def bench_stand_in(top):
    """Compile the stand-in and write the PNG it copies; return both."""
    png = os.path.join(top, "frame.png")
    with open(png, "wb") as f:
        f.write(bench_png(16, 9))
    path = os.path.join(top, "blender-stand-in")
    subprocess.run(["cc", "-O2", "-o", path,
                    os.path.join(HERE, "blender-stand-in.c")], check=True)
    return path, png


def bench_clients(farm, top, n, ext, poll, stand_in, frame_time, name,
                  trace=None):
    """n clients of one renderer each, with or without the extension; with
    trace, the stand-in notes each frame of client i there, as "i pid
    frame start end"."""
    os.makedirs(top, exist_ok=True)
    conf = clienttest.write_config(
        os.path.join(top, name + ".conf"), extensions=ext,
        none_wait=int(poll), busy_wait=int(poll),
        heartbeat_interval=5, retry_min=1, retry_max=2)
    blender, png = stand_in
    clients = []
    for i in range(n):
        env = {"STAND_IN_PNG": png, "STAND_IN_FRAME_TIME": "%g" % frame_time}
        if trace is not None:
            env["STAND_IN_TRACE"] = "%s.%d" % (trace, i)
        clients.append(clienttest.Client(
            farm.port, os.path.join(top, "%s%d" % (name, i)), conf, env=env,
            args=["--renderers", "1"], blender=blender))
    return clients


def bench_timeline(trace, n, start, end, gaps=False):
    """Where the time went, from the stand-in's notes: when the first frame
    started, how long the clients waited between frames in all, and how far
    apart they finished; with gaps, each client's waits too, in ms before
    each frame (* where a new Blender run started)."""
    firsts, lasts, idle, lines, waits = [], [], 0.0, [], []
    for i in range(n):
        try:
            with open("%s.%d" % (trace, i)) as f:
                records = [line.split() for line in f]
        except OSError:
            continue
        spans = sorted((float(t[2]), float(t[3]), int(t[1]), t[0])
                       for t in records if t[0] != "run")
        runs = sorted((float(t[2]), float(t[3])) for t in records
                      if t[0] == "run")
        waits += [b[0] - a[1] for a, b in zip(runs, runs[1:])]
        if not spans:
            continue
        firsts.append(spans[0][0])
        lasts.append(spans[-1][1])
        idle += sum(max(0.0, b[0] - a[1]) for a, b in zip(spans, spans[1:]))
        lines.append("client %d, %d frames, first at %.0f ms: %s" % (
            i, len(spans), (spans[0][0] - start) * 1000, " ".join(
                "%d:%.0f%s" % (b[2], (b[0] - a[1]) * 1000,
                               "*" if a[3] != b[3] else "")
                for a, b in zip(spans, spans[1:]))))
    if not firsts:
        return ""
    text = ("first frame after %.3f s, clients idle between frames %.3f s "
            "in all, last frames ended %.3f s apart, completion logged "
            "%.3f s after the last" % (min(firsts) - start, idle,
                                       max(lasts) - min(lasts),
                                       end - max(lasts)))
    if waits:
        text += ("; %d Blender runs, from one's exit to the next's start "
                 "%.1f ms (median)" % (len(waits) + n,
                                       statistics.median(waits) * 1000))
    return "\n    ".join([text] + lines) if gaps else text


def bench_wait(pred, timeout, step=0.002):
    """Seconds until pred() is true; None after timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if pred():
            return time.monotonic() - start
        time.sleep(step)
    return None


def bench_latency(args, top, ext, stand_in):
    """Median seconds from a new .job to its frame in the client's hands."""
    with bdfarmtest.Farm(program=args.program,
                         root=os.path.join(top, "lat-%d" % ext)) as farm:
        farm.start()
        blend, _ = farm.blend("scene.blend", size=10000)
        client, = bench_clients(farm, os.path.join(top, "lat-c%d" % ext), 1,
                                ext, args.poll, stand_in, 0.01, "lat")
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


def bench_alone(args, top, stand_in, frames, clients):
    """Seconds the stand-in takes for one client's share of the frames, run
    in batches of 4 one after another with no farm at all: the part of the
    makespan that is the stand-in's own."""
    blender, png = stand_in
    out = os.path.join(top, "alone")
    os.makedirs(out, exist_ok=True)
    env = dict(os.environ, STAND_IN_PNG=png,
               STAND_IN_FRAME_TIME="%g" % args.frame_time)
    share = list(range(1, -(-frames // clients) + 1))
    start = time.monotonic()
    for i in range(0, len(share), 4):
        subprocess.run([blender, "-b", "x", "-o", out + "/####", "-f",
                        ",".join(str(n) for n in share[i:i + 4])],
                       stdout=subprocess.DEVNULL, check=True, env=env)
    return time.monotonic() - start


def bench_makespan(args, top, ext, stand_in, frames, clients):
    """Seconds from the .job file to the job's completion, and the number
    of backup copies the job log counts."""
    root = os.path.join(top, "ms-%d-%d-%d" % (ext, frames, clients))
    trace = root + "-trace"
    with bdfarmtest.Farm(program=args.program, root=root) as farm:
        farm.start()
        blend, _ = farm.blend("scene.blend", size=10000)
        procs = bench_clients(farm, root + "-clients", clients,
                              ext, args.poll, stand_in, args.frame_time,
                              "ms", trace)
        time.sleep(2)
        start = time.monotonic()
        farm.job("makespan", blend, 1, frames)
        t = bench_wait(lambda: "rendering complete" in
                       farm.joblog("makespan"), 600, step=0.01)
        log = farm.joblog("makespan")
        for c in procs:
            c.stop()
    backups = 0
    for line in log.splitlines():
        if "backup copies handed out:" in line:
            backups = int(line.rsplit(":", 1)[1])
    timeline = bench_timeline(trace, clients, start, start + t,
                              args.gaps) if t is not None else ""
    return t, backups, timeline


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--program", default=os.environ.get("BDFARM",
                                                       "./bdfarm"))
    p.add_argument("--tries", type=int, default=20)
    p.add_argument("--poll", type=int, default=3)
    p.add_argument("--frame-time", type=float, default=0.2)
    p.add_argument("--case", action="append", default=None,
                   help="FRAMES:CLIENTS (default 200:8 and 100:4)")
    p.add_argument("--no-poll", action="store_true",
                   help="measure the makespan with the extension only")
    p.add_argument("--no-latency", action="store_true",
                   help="skip the dispatch latency")
    p.add_argument("--gaps", action="store_true",
                   help="print each client's waits between frames")
    args = p.parse_args()
    args.program = os.path.abspath(args.program)
    os.environ["BDFARM"] = args.program
    clienttest.BDFARM = args.program
    top = clienttest.scratch()
    stand_in = bench_stand_in(top)

    if not args.no_latency:
        print("dispatch latency, new .job to first frame in a waiting "
              "client's hands (median of %d):" % args.tries, flush=True)
        for ext, what in ((True, "extension (WAITJOB)"),
                          (False, "polling every %d s" % args.poll)):
            t = bench_latency(args, top, ext, stand_in)
            if t:
                print("  %-24s median %7.3f s   min %.3f  max %.3f  "
                      "(%d tries)" % (what, statistics.median(t), min(t),
                                      max(t), len(t)), flush=True)

    for case in args.case or ["200:8", "100:4"]:
        frames, clients = (int(x) for x in case.split(":"))
        ideal = frames * args.frame_time / clients
        print("makespan, %d frames of %.2f s on %d clients of 1 renderer "
              "(ideal %.2f s):" % (frames, args.frame_time, clients, ideal),
              flush=True)
        alone = bench_alone(args, top, stand_in, frames, clients)
        print("  %-30s %7.2f s   %.3f x ideal (%+.1f %%)"
              % ("stand-in alone, no farm", alone, alone / ideal,
                 (alone / ideal - 1) * 100), flush=True)
        for ext in (True, False):
            if not ext and args.no_poll:
                continue
            what = ("extension" if ext else
                    "polling every %d s" % args.poll)
            t, backups, timeline = bench_makespan(args, top, ext, stand_in,
                                                  frames, clients)
            if t is None:
                print("  %-30s did not finish" % what)
            else:
                print("  %-30s %7.2f s   %.3f x ideal (%+.1f %%), %d "
                      "backup copies" % (what, t, t / ideal,
                                         (t / ideal - 1) * 100, backups),
                      flush=True)
                print("    %s" % timeline, flush=True)


if __name__ == "__main__":
    main()
