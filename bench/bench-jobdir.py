#!/usr/bin/env python3
"""Benchmark of the job folder: how soon a server with many job files
answers its first peer, what it costs once nothing changes, and what many
jobs sharing one large .blend cost.

Two cases, each on a fresh server with the default settings:

  folder  --jobs job files (10000), each naming one of --blends small
          .blend files (1: all the same). Prints the time from start to
          the first HELO answer, to the first HELO that announces work and
          to the last job read, then the server's CPU use while idle for
          --idle seconds, and its peak memory.
  shared  --shared jobs (1000) naming one .blend of --blend-mb MiB (8).
          Prints the time to the first HELO answer and until work is
          announced, the round trips of HELO meanwhile (median, worst),
          and the server's peak memory (VmHWM).

    bench/bench-jobdir.py [--program PATH] [--dir DIR] [--jobs N]
                          [--blends N] [--idle S] [--shared N]
                          [--blend-mb N] [folder] [shared]

The program is --program, else $BDFARM, else ./bdfarm. Not part of make
check: it prints figures, it asserts nothing.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from benchproc import free_port, proc_cpu, proc_status


class Server:
    """A server on a job folder filled by the caller, killed on every way
    out."""

    def __init__(self, program, where=None):
        self.program = program
        self.root = tempfile.mkdtemp(prefix='bdfarm-bench-', dir=where)
        self.jobdir = os.path.join(self.root, 'jobs')
        self.renderdir = os.path.join(self.root, 'renders')
        self.blenddir = os.path.join(self.root, 'blends')
        for d in (self.jobdir, self.renderdir, self.blenddir):
            os.mkdir(d)
        self.conf = os.path.join(self.root, 'bdfarm.conf')
        with open(self.conf, 'w') as f:
            f.write('server = {\n  listen = "127.0.0.1";\n};\n')
        self.port = free_port()
        self.logpath = os.path.join(self.root, 'server.log')
        self.proc = None

    def blend(self, name, size):
        path = os.path.join(self.blenddir, name)
        with open(path, 'wb') as f:
            left = size
            while left > 0:
                chunk = os.urandom(min(left, 1 << 20))
                f.write(chunk)
                left -= len(chunk)
        return path

    def job(self, name, blend):
        with open(os.path.join(self.jobdir, name + '.job'), 'w') as f:
            f.write('%s\n1\n10\n' % blend)

    def start(self):
        argv = [self.program, '--headless', '--config', self.conf,
                '--port', str(self.port), self.jobdir, self.renderdir]
        if shutil.which('setpriv'):
            argv = ['setpriv', '--pdeathsig', 'KILL', '--'] + argv
        self.log = open(self.logpath, 'wb')
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)

    def helo(self, timeout=60):
        """Connect (retrying until the port is open) and send one HELO;
        return (seconds since start when answered, todo token)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise SystemExit('the server exited:\n' + self.logtext())
            try:
                with socket.create_connection(('127.0.0.1', self.port),
                                              timeout) as s:
                    s.sendall(b'HELO bench.example\r\n')
                    answer = b''
                    while not answer.endswith(b'\n'):
                        data = s.recv(200)
                        if not data:
                            raise OSError('closed')
                        answer += data
                    s.sendall(b'GOODBYE\r\n')
                    return (time.monotonic() - self.started,
                            answer.split()[1])
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.001)

    def logtext(self):
        with open(self.logpath, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def until_work(server, timeout=120):
    """Send HELO until it announces work; return the time since start and
    the round trip of each HELO meanwhile."""
    trips = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        t0 = time.monotonic()
        at, todo = server.helo()
        trips.append(time.monotonic() - t0)
        if todo == b'1':
            return at, trips
    raise SystemExit('no work announced after %d s' % timeout)


def bench_folder(a):
    server = Server(a.program, a.dir)
    try:
        blends = [server.blend('b%d.blend' % i, 4096)
                  for i in range(a.blends)]
        for i in range(a.jobs):
            server.job('job%05d' % i, blends[i % len(blends)])
        server.start()
        first, _ = server.helo()
        ready, _ = until_work(server)
        deadline = time.monotonic() + 300
        while len(re.findall(r': new job', server.logtext())) < a.jobs:
            if time.monotonic() > deadline:
                raise SystemExit('not every job was read')
            time.sleep(0.05)
        read = time.monotonic() - server.started
        # Let the first checks and saves pass, then measure the idle.
        time.sleep(3)
        pid = server.proc.pid
        cpu0 = proc_cpu(pid)
        time.sleep(a.idle)
        idle = proc_cpu(pid) - cpu0
        hwm = proc_status(pid, 'VmHWM')
        print('folder: %d jobs, %d .blend: first HELO answered %.2f s, '
              'work announced %.2f s, every job read %.2f s; idle CPU '
              '%.2f %% of a core over %.0f s; VmHWM %.1f MB'
              % (a.jobs, a.blends, first, ready, read,
                 100 * idle / a.idle, a.idle, (hwm or 0) / 1024),
              flush=True)
        server.stop()
    finally:
        server.cleanup()


def bench_shared(a):
    server = Server(a.program, a.dir)
    try:
        blend = server.blend('shared.blend', a.blend_mb << 20)
        for i in range(a.shared):
            server.job('job%04d' % i, blend)
        server.start()
        first, _ = server.helo()
        ready, trips = until_work(server)
        ms = sorted(t * 1000 for t in trips)
        time.sleep(1)
        hwm = proc_status(server.proc.pid, 'VmHWM')
        print('shared: %d jobs, one .blend of %d MiB: first HELO answered '
              '%.2f s, work announced %.2f s; %d HELO meanwhile: median '
              '%.1f ms, worst %.1f ms; VmHWM %.1f MB'
              % (a.shared, a.blend_mb, first, ready, len(ms),
                 statistics.median(ms), ms[-1], (hwm or 0) / 1024),
              flush=True)
        server.stop()
    finally:
        server.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--program', default=os.environ.get('BDFARM',
                                                        './bdfarm'))
    ap.add_argument('--dir', default=None,
                    help='where the folders go (default: the system '
                    'temporary folder)')
    ap.add_argument('--jobs', type=int, default=10000)
    ap.add_argument('--blends', type=int, default=1)
    ap.add_argument('--idle', type=float, default=20.0)
    ap.add_argument('--shared', type=int, default=1000)
    ap.add_argument('--blend-mb', type=int, default=8)
    ap.add_argument('cases', nargs='*', default=['folder', 'shared'])
    a = ap.parse_args()
    if not os.access(a.program, os.X_OK):
        ap.error('no program at %s (give --program or $BDFARM)' % a.program)
    print('program %s, in %s' % (a.program, a.dir or tempfile.gettempdir()))
    for case in a.cases:
        {'folder': bench_folder, 'shared': bench_shared}[case](a)


if __name__ == '__main__':
    sys.exit(main())
