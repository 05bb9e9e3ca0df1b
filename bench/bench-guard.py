#!/usr/bin/env python3
"""What peers that connect properly can do to a bdfarm server, measured.

Two scenarios, each on a fresh server on a free loopback port with one
job of 1000 frames:

- flood: three peers greet as bdfarm clients under invented names and
  each sends FAILED reports of every frame as fast as it can, short ones
  (reason only) or long ones (a 3000-byte reason and 20 lines of 4000
  bytes), for a fixed time. Meanwhile a real client greets every 0.2 s.
  Printed: reports sent and answered, failures the job log stored, frames
  set aside, whether the log called the job complete, how much the job
  log and the server's log grew, and how long the real client's HELO
  waited (median and worst).
- greedy: one bdfarm client sends WAITJOB again after every JOB and
  keeps in touch; printed: how many frames of the job it was handed.

    bench/bench-guard.py [--program PATH] [--duration S] [--dir DIR]

The program is --program, else $BDFARM, else ./bdfarm. Not part of make
check: it prints figures, it asserts nothing.
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from benchproc import free_port, wait_work

FRAMES = 1000


class Server:
    """One server with its own folders, killed on every way out."""

    def __init__(self, program, where=None):
        self.root = tempfile.mkdtemp(prefix='bdfarm-bench-', dir=where)
        self.jobdir = os.path.join(self.root, 'jobs')
        self.renderdir = os.path.join(self.root, 'renders')
        os.mkdir(self.jobdir)
        os.mkdir(self.renderdir)
        blend = os.path.join(self.root, 'bench.blend')
        with open(blend, 'wb') as f:
            f.write(os.urandom(4096))
        self.blend_name = 'bench.blend'
        import hashlib
        with open(blend, 'rb') as f:
            self.md5 = hashlib.md5(f.read()).hexdigest()
        with open(os.path.join(self.jobdir, 'bench.job'), 'w') as f:
            f.write('%s\n1\n%d\n' % (blend, FRAMES))
        self.conf = os.path.join(self.root, 'bdfarm.conf')
        with open(self.conf, 'w') as f:
            f.write('server = {\n  listen = "127.0.0.1";\n'
                    '  redistribute_delay = 86400;\n  peer_timeout = 60;\n'
                    '  client_timeout = 60;\n};\n')
        self.port = free_port()
        argv = [program, '--headless', '--config', self.conf, '--port',
                str(self.port), self.jobdir, self.renderdir]
        if shutil.which('setpriv'):
            argv = ['setpriv', '--pdeathsig', 'KILL', '--'] + argv
        self.logpath = os.path.join(self.root, 'server.log')
        self.log = open(self.logpath, 'wb')
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)

    def joblog(self):
        return os.path.join(self.jobdir, 'bench.log')

    def size(self, path):
        try:
            return os.path.getsize(path)
        except OSError:
            return 0

    def wait_ready(self, timeout=30):
        """Until HELO says a frame can be handed out."""
        if not wait_work(self.port, timeout=timeout):
            raise RuntimeError('the server never had work')

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)


def helo_time(port):
    """Seconds a real client's HELO waits for its answer."""
    start = time.monotonic()
    with socket.create_connection(('127.0.0.1', port), 30) as s:
        s.sendall(b'HELO real.example\r\n')
        s.makefile('rb').readline()
        took = time.monotonic() - start
        s.sendall(b'GOODBYE\r\n')
    return took


def flood(program, long_reports, duration, where):
    """Three invented names report every frame failed; print figures."""
    srv = Server(program, where)
    try:
        srv.wait_ready()
        job0, log0 = srv.size(srv.joblog()), srv.size(srv.logpath)
        reason = 'x' * 3000 if long_reports else 'crash'
        lines = [b'E' * 4000] * 20 if long_reports else []
        sent = [0, 0, 0]
        answered = [0, 0, 0]
        stop = threading.Event()
        socks = []

        def sender(i, s):
            for frame in range(1, FRAMES + 1):
                if stop.is_set():
                    return
                msg = ('FAILED %s %s %d %d %s\r\n' % (
                    srv.blend_name, srv.md5, frame, len(lines),
                    reason)).encode() + b''.join(l + b'\r\n' for l in lines)
                try:
                    s.sendall(msg)
                except OSError:
                    return
                sent[i] += 1

        def reader(i, f):
            try:
                for line in f:
                    if line.strip() == b'OK':
                        answered[i] += 1
            except (OSError, ValueError):
                pass

        threads = []
        for i in range(3):
            s = socket.create_connection(('127.0.0.1', srv.port), 30)
            s.sendall(b'HELO invented%d.example bdfarm/1 %d\r\n' % (i, i))
            f = s.makefile('rb')
            f.readline()
            socks.append(s)
            threads.append(threading.Thread(target=sender, args=(i, s),
                                            daemon=True))
            threads.append(threading.Thread(target=reader, args=(i, f),
                                            daemon=True))
        start = time.monotonic()
        for t in threads:
            t.start()
        helos = []
        while time.monotonic() - start < duration:
            helos.append(helo_time(srv.port))
            if sum(answered) >= 3 * FRAMES:
                break
            time.sleep(0.2)
        took = time.monotonic() - start
        stop.set()
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        time.sleep(0.5)
        text = open(srv.joblog(), 'rb').read().decode('utf-8', 'replace')
        stored = len(re.findall(r'frame \d+ failed on (?!\d+ hosts)',
                                text))
        aside = len(re.findall(r'failed on 3 hosts', text))
        complete = 'rendering complete' in text
        print('flood of %s reports from 3 invented names, %.1f s: %d sent, '
              '%d answered; %d failures stored, %d frames set aside, job '
              '%s; job log +%d bytes, server log +%d bytes; a real HELO '
              'waited %.1f ms (median), %.1f ms (worst) over %d tries'
              % ('long' if long_reports else 'short', took, sum(sent),
                 sum(answered), stored, aside,
                 'called complete' if complete else 'not complete',
                 srv.size(srv.joblog()) - job0,
                 srv.size(srv.logpath) - log0,
                 statistics.median(helos) * 1000, max(helos) * 1000,
                 len(helos)), flush=True)
    finally:
        srv.close()


def greedy(program, where):
    """One client asks again after every JOB; print how many it got."""
    srv = Server(program, where)
    try:
        srv.wait_ready()
        s = socket.create_connection(('127.0.0.1', srv.port), 30)
        s.settimeout(1.0)
        f = s.makefile('rb')
        s.sendall(b'HELO greedy.example bdfarm/1 1\r\n')
        f.readline()
        got = 0
        while got < FRAMES:
            s.sendall(b'WAITJOB 1\r\nALIVE\r\n')
            try:
                line = f.readline()
            except socket.timeout:
                break
            if not line.startswith(b'JOB '):
                break
            got += 1
        s.close()
        print('greedy client asking again after every JOB: handed %d of %d '
              'frames' % (got, FRAMES), flush=True)
    finally:
        srv.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--program', default=os.environ.get('BDFARM',
                                                       './bdfarm'))
    p.add_argument('--duration', type=float, default=10.0)
    p.add_argument('--dir', default=None)
    a = p.parse_args()
    print('program: %s' % a.program, flush=True)
    flood(a.program, False, a.duration, a.dir)
    flood(a.program, True, a.duration, a.dir)
    greedy(a.program, a.dir)


if __name__ == '__main__':
    sys.exit(main())
