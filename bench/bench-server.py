#!/usr/bin/env python3
"""Benchmark of the bdfarm server: N scripted old-protocol peers on
loopback hand frames back as fast as they can for a fixed time.

For each N it starts a fresh server on a free loopback port with one job of
many frames and a small .blend, runs N peers (asyncio) that each loop on
connect, HELO, REQUESTJOB 1, RESULTS with a small frame, GOODBYE, and
prints frames handed out per second, MB/s of frames received, the server's
CPU use, its CPU time per frame received (user plus system, not wall
time) and its peak resident memory (VmHWM).

    bench/bench-server.py [--program PATH] [--duration S]
                          [--frame-size BYTES] [--dir DIR] [N ...]
    bench/bench-server.py --hosts N [--program PATH] [--dir DIR]
    bench/bench-server.py --tls [--program PATH] [--duration S]
                          [--frame-size BYTES] [--dir DIR] [N ...]

The program is --program, else $BDFARM, else ./bdfarm. N defaults to
1 16 256. Not part of make check: it prints figures, it asserts nothing.

With --hosts N, one connection first greets the server with N invented
host names, then the cost of one HELO is measured with that many hosts
known: for a new name and for a known one, as the server's CPU time per
HELO and the round trip seen by the peer.

With --tls, the peers are bench/bench-peers.c, compiled here against
bdfarm's own tls.c and keys.c and the config.h next to the program (a
build folder's), because Python before 3.13 cannot offer an external
pre-shared key: one thread per peer, cheap next to the server. For each N,
in plain text and then over TLS 1.3 with a key per peer from the server's
keys file, it measures handshakes per second (connect, TLS handshake, HELO
answered, close) and then frames per second (the loop above), each for
--duration seconds, with the server's CPU use and CPU time per handshake
and per frame, and the peers' own CPU use (when it nears the machine's
cores, the peers are what is measured). As the old client does, every
frame comes in a session of its own, so over TLS every frame costs a
handshake too.
"""

import argparse
import asyncio
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from benchproc import free_port, proc_cpu, proc_status, wait_work


class Server:
    """One server with its own folders, killed on every way out."""

    def __init__(self, program, peers, frames, where=None, keys=0):
        self.root = tempfile.mkdtemp(prefix='bdfarm-bench-', dir=where)
        self.jobdir = os.path.join(self.root, 'jobs')
        self.renderdir = os.path.join(self.root, 'renders')
        os.mkdir(self.jobdir)
        os.mkdir(self.renderdir)
        blend = os.path.join(self.root, 'bench.blend')
        with open(blend, 'wb') as f:
            f.write(os.urandom(4096))
        with open(os.path.join(self.jobdir, 'bench.job'), 'w') as f:
            f.write('%s\n1\n%d\n' % (blend, frames))
        self.keys = None
        if keys:
            # One key per peer, so that each is a host of its own.
            self.keys = os.path.join(self.jobdir, '.bdfarm.keys')
            fd = os.open(self.keys, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(fd, 'w') as f:
                f.write(''.join('bench%d %s\n' % (i, os.urandom(32).hex())
                                for i in range(keys)))
        self.conf = os.path.join(self.root, 'bdfarm.conf')
        with open(self.conf, 'w') as f:
            f.write('server = {\n  listen = "127.0.0.1";\n'
                    '  redistribute_delay = 86400;\n  peer_timeout = 60;\n'
                    '  max_peers = %d;\n  max_peers_per_address = 0;\n'
                    '};\n' % max(1024, 4 * peers))
        self.port = free_port()
        argv = [program, '--headless', '--config', self.conf, '--port',
                str(self.port), self.jobdir, self.renderdir]
        if shutil.which('setpriv'):
            argv = ['setpriv', '--pdeathsig', 'KILL', '--'] + argv
        self.log = open(os.path.join(self.root, 'server.log'), 'wb')
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)

    def wait_ready(self, timeout=20):
        """Wait until HELO says a frame can be handed out."""
        if wait_work(self.port, lambda: self.proc.poll() is None, timeout):
            return
        self.stop()
        with open(os.path.join(self.root, 'server.log'), 'rb') as f:
            sys.stderr.write(f.read().decode('utf-8', 'replace'))
        raise SystemExit('the server did not become ready')

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if os.environ.get("BDFARM_KEEP"):
            print("kept", self.root)
            return
        shutil.rmtree(self.root, ignore_errors=True)


class Counts:
    def __init__(self):
        self.handed = 0
        self.received = 0
        self.bytes = 0
        self.errors = 0
        self.none = 0
        self.kinds = {}


async def read_line(reader):
    line = await reader.readline()
    if not line.endswith(b'\n'):
        raise ConnectionError('connection closed')
    return line.rstrip(b'\r\n')


async def peer(i, port, deadline, image, counts):
    """Loop on one-frame sessions until the deadline."""
    host = b'bench%d.example' % i
    while time.monotonic() < deadline:
        writer = None
        try:
            reader, writer = await asyncio.open_connection('127.0.0.1', port)
            writer.write(b'HELO %s\r\nREQUESTJOB 1\r\n' % host)
            await read_line(reader)
            t = (await read_line(reader)).split()
            if t == [b'None']:
                counts.none += 1
                writer.write(b'GOODBYE\r\n')
                await asyncio.sleep(0.1)
                continue
            counts.handed += 1
            name, md5, frame = t
            writer.write(b'RESULTS %s %s %s %s.png %d\r\n'
                         % (name, md5, frame, frame, len(image)))
            if await read_line(reader) != b'OK':
                counts.errors += 1
                continue
            writer.write(image)
            if await read_line(reader) == b'THANKYOU':
                counts.received += 1
                counts.bytes += len(image)
            else:
                counts.errors += 1
            writer.write(b'GOODBYE\r\n')
            await writer.drain()
        except (OSError, ConnectionError, ValueError) as e:
            counts.errors += 1
            kind = type(e).__name__ + ': ' + str(e)[:60]
            counts.kinds[kind] = counts.kinds.get(kind, 0) + 1
            await asyncio.sleep(0.05)
        finally:
            if writer is not None:
                writer.close()
                try:
                    await writer.wait_closed()
                except (OSError, ConnectionError):
                    pass


async def run_peers(n, port, duration, image):
    counts = Counts()
    deadline = time.monotonic() + duration
    await asyncio.gather(*(peer(i, port, deadline, image, counts)
                           for i in range(n)))
    return counts


def bench(program, n, duration, frame_size, frames, where):
    server = Server(program, n, frames, where)
    try:
        server.wait_ready()
        pid = server.proc.pid
        image = os.urandom(frame_size)
        cpu0 = proc_cpu(pid)
        own0 = sum(os.times()[:2])
        start = time.monotonic()
        counts = asyncio.run(run_peers(n, server.port, duration, image))
        elapsed = time.monotonic() - start
        cpu = proc_cpu(pid) - cpu0
        own = sum(os.times()[:2]) - own0
        hwm = proc_status(pid, 'VmHWM')
        alive = server.proc.poll() is None
        server.stop()
        print('%5d %10.0f %10.1f %9.0f%% %9.0f %9.0f%% %10.1f %7d %7d%s' % (
            n, counts.handed / elapsed, counts.bytes / elapsed / 1e6,
            100 * cpu / elapsed, 1e6 * cpu / max(counts.received, 1),
            100 * own / elapsed, (hwm or 0) / 1024, counts.errors,
            counts.none, '' if alive else '  (server died!)'), flush=True)
        for kind, k in sorted(counts.kinds.items()):
            print('      %d x %s' % (k, kind))
    finally:
        server.cleanup()


def build_peers(program, where):
    """Compile bench/bench-peers.c with bdfarm's TLS code; its path."""
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.join(os.path.dirname(here), 'src')
    builddir = os.path.dirname(program)
    if not os.path.exists(os.path.join(builddir, 'config.h')):
        raise SystemExit('--tls needs the program in a build folder, next '
                         'to its config.h')
    flags = subprocess.run(['pkg-config', '--cflags', '--libs', 'libssl',
                            'libcrypto'], stdout=subprocess.PIPE,
                           check=True, text=True).stdout.split()
    out = tempfile.mkdtemp(prefix='bdfarm-peers-', dir=where)
    path = os.path.join(out, 'bench-peers')
    subprocess.run(['cc', '-O2', '-I' + builddir, '-I' + src, '-o', path,
                    os.path.join(here, 'bench-peers.c')] +
                   [os.path.join(src, u) for u in
                    ('tls.c', 'keys.c', 'log.c', 'xmalloc.c')] +
                   flags + ['-lpthread'], check=True)
    return path


def children_cpu():
    """User plus system CPU seconds of the children waited for so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_helper(helper, server, mode, n, duration, frame_size):
    """Run the C peers for one loop; their counts, the time it took, the
    server's CPU time and the peers' own."""
    pid = server.proc.pid
    cpu0 = proc_cpu(pid)
    peers0 = children_cpu()
    start = time.monotonic()
    out = subprocess.run([helper, mode, str(server.port), str(n),
                          str(duration), server.keys or '-',
                          str(frame_size)], stdout=subprocess.PIPE,
                         check=True, text=True).stdout.split()
    elapsed = time.monotonic() - start
    cpu = proc_cpu(pid) - cpu0
    counts = dict(zip(out[::2], (int(v) for v in out[1::2])))
    return counts, elapsed, cpu, children_cpu() - peers0


def bench_tls(program, helper, n, tls, duration, frame_size, frames, where):
    """Handshakes, then frames, per second, in plain text or over TLS."""
    server = Server(program, n, frames, where, keys=n if tls else 0)
    try:
        server.wait_ready()
        hs, hs_elapsed, hs_cpu, hs_peers = run_helper(
            helper, server, 'handshakes', n, duration, frame_size)
        fr, fr_elapsed, fr_cpu, fr_peers = run_helper(
            helper, server, 'frames', n, duration, frame_size)
        alive = server.proc.poll() is None
        server.stop()
        print('%5d %5s %9.0f %9.0f %7.0f%% %7.0f%% %8.0f %6.1f %7.0f%% '
              '%8.0f %7.0f%% %6d %5d%s' % (
                  n, 'tls' if tls else 'plain',
                  hs['handshakes'] / hs_elapsed,
                  1e6 * hs_cpu / max(hs['handshakes'], 1),
                  100 * hs_cpu / hs_elapsed, 100 * hs_peers / hs_elapsed,
                  fr['frames'] / fr_elapsed, fr['bytes'] / fr_elapsed / 1e6,
                  100 * fr_cpu / fr_elapsed,
                  1e6 * fr_cpu / max(fr['frames'], 1),
                  100 * fr_peers / fr_elapsed,
                  hs['errors'] + fr['errors'], fr['none'],
                  '' if alive else '  (server died!)'), flush=True)
    finally:
        server.cleanup()


def helo_batch(sock, names):
    """Send a HELO for each name, pipelined, and read every answer."""
    sock.sendall(b''.join(b'HELO %s\r\n' % n for n in names))
    want = len(names)
    data = b''
    while data.count(b'\n') < want:
        chunk = sock.recv(1 << 16)
        if not chunk:
            raise SystemExit('the server closed the connection')
        data += chunk


def helo_cost(pid, sock, names):
    """Server CPU and round trip per HELO, in microseconds, one at a time."""
    cpu0 = proc_cpu(pid)
    start = time.monotonic()
    for name in names:
        helo_batch(sock, [name])
    wall = time.monotonic() - start
    cpu = proc_cpu(pid) - cpu0
    return 1e6 * cpu / len(names), 1e6 * wall / len(names)


def bench_hosts(program, nhosts, where, samples=20000):
    """Greet nhosts invented hosts, then time HELOs of new and known ones."""
    server = Server(program, 1, 10, where)
    try:
        server.wait_ready()
        pid = server.proc.pid
        with socket.create_connection(('127.0.0.1', server.port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            start = time.monotonic()
            for first in range(0, nhosts, 1000):
                helo_batch(sock, [b'invented%d.example' % i for i in
                                  range(first, min(first + 1000, nhosts))])
            fill = time.monotonic() - start
            fresh = helo_cost(pid, sock, [b'fresh%d.example' % i
                                          for i in range(samples)])
            known = helo_cost(pid, sock, [b'invented%d.example' % (nhosts // 2)]
                              * samples)
            sock.sendall(b'GOODBYE\r\n')
        hwm = proc_status(pid, 'VmHWM')
        server.stop()
        print('%8d %9.1f %12.2f %12.1f %12.2f %12.1f %9.1f' % (
            nhosts, fill, fresh[0], fresh[1], known[0], known[1],
            (hwm or 0) / 1024), flush=True)
    finally:
        server.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--program', default=os.environ.get('BDFARM',
                                                        './bdfarm'))
    ap.add_argument('--duration', type=float, default=10.0,
                    help='seconds per run (default 10)')
    ap.add_argument('--frame-size', type=int, default=64 * 1024,
                    help='bytes per frame (default 65536)')
    ap.add_argument('--frames', type=int, default=100000,
                    help='frames in the job (default 100000)')
    ap.add_argument('--dir', default=None,
                    help='where the job and render folders go (default: '
                    'the system temporary folder; /dev/shm leaves the disk '
                    'out)')
    ap.add_argument('--hosts', type=int, default=None,
                    help='time HELO with this many hosts known instead')
    ap.add_argument('--tls', action='store_true',
                    help='handshakes and frames per second, plain and over '
                    'TLS, with peers in C')
    ap.add_argument('peers', nargs='*', type=int, default=[1, 16, 256])
    a = ap.parse_args()
    if not os.access(a.program, os.X_OK):
        ap.error('no program at %s (give --program or $BDFARM)' % a.program)
    if a.hosts is not None:
        print('program %s, HELO with hosts known' % a.program)
        print('%8s %9s %12s %12s %12s %12s %9s' % (
            'hosts', 'fill s', 'new cpu us', 'new rtt us', 'known cpu us',
            'known rtt us', 'VmHWM MB'))
        bench_hosts(os.path.abspath(a.program), a.hosts, a.dir)
        return
    print('program %s, %.0f s per run, frames of %d bytes, in %s'
          % (a.program, a.duration, a.frame_size,
             a.dir or tempfile.gettempdir()))
    if a.tls:
        program = os.path.abspath(a.program)
        helper = build_peers(program, a.dir)
        try:
            print('%5s %5s %9s %9s %8s %8s %8s %6s %8s %8s %8s %6s %5s' % (
                'peers', 'mode', 'hshake/s', 'us/hshake', 'srv cpu',
                'peers', 'frames/s', 'MB/s', 'srv cpu', 'us/frame', 'peers',
                'errors', 'None'))
            for n in a.peers:
                for tls in (False, True):
                    bench_tls(program, helper, n, tls, a.duration,
                              a.frame_size, a.frames, a.dir)
        finally:
            shutil.rmtree(os.path.dirname(helper), ignore_errors=True)
        return
    print('%5s %10s %10s %10s %9s %10s %10s %7s %7s' % (
        'peers', 'frames/s', 'MB/s', 'srv cpu', 'us/frame', 'peers cpu',
        'VmHWM MB', 'errors', 'None'))
    for n in a.peers:
        bench(os.path.abspath(a.program), n, a.duration, a.frame_size,
              a.frames, a.dir)


if __name__ == '__main__':
    main()
