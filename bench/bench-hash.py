#!/usr/bin/env python3
"""Benchmark: does hashing a large .blend stall other peers?

Starts the server with a job whose .blend is a large file (2 GB by
default, written as real data so that the hash reads it), and while the
server hashes it, one old-protocol peer sends HELO after HELO. Prints how
long the hash took and the peer's round trips: median, 99th percentile
and worst. Not part of make check: it prints figures, it asserts nothing.

    bench/bench-hash.py [--program PATH] [--size-mb N]
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'tests'))
import bdfarmtest as bt  # noqa: E402


def write_big(path, mb):
    """A file of mb MiB of varied bytes (not sparse: it must be read)."""
    chunk = os.urandom(1 << 20)
    with open(path, 'wb') as f:
        for _ in range(mb):
            f.write(chunk)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--program')
    ap.add_argument('--size-mb', type=int, default=2048)
    args = ap.parse_args()

    with bt.Farm(program=args.program) as farm:
        farm.start()
        path = os.path.join(farm.blenddir, 'big.blend')
        print('writing %d MiB ...' % args.size_mb, flush=True)
        write_big(path, args.size_mb)
        samples = []
        with farm.client() as c:
            c.helo('probe.example')
            start = time.monotonic()
            farm.job('big', path, 1, 10)
            ready = None
            while ready is None and time.monotonic() - start < 300:
                t0 = time.monotonic()
                c.send_line('HELO probe.example')
                todo = c.read_line().split()[1]
                samples.append(time.monotonic() - t0)
                if todo == '1':
                    ready = time.monotonic() - start
            c.goodbye()
        samples.sort()
        ms = [s * 1000 for s in samples]
        print('hashed %d MiB in %.2f s (%.0f MiB/s)'
              % (args.size_mb, ready, args.size_mb / ready))
        print('%d HELO round trips meanwhile: median %.2f ms, p99 %.2f ms, '
              'worst %.2f ms' % (len(ms), statistics.median(ms),
                                 ms[int(len(ms) * 0.99) - 1], ms[-1]))


if __name__ == '__main__':
    main()
