#!/usr/bin/env python3
"""Benchmark of the console's cost: a server with one job of 10,000 frames
and 16 scripted old-protocol clients that keep rendering (each frame takes
--render seconds, then its result is sent back), measured for --duration
seconds each: the server headless, then headless with one and with four
consoles attached (bdfarm --attach, each in tmux, 120x40), then in its
own console on the main page, then with the job's page open (frame map,
details, log and picture box). Prints the server's CPU time per second of
wall time in each case, and the top line of the screen at the end of each
console run, to show which page was measured.

    bench/bench-console.py [--program PATH] [--duration S] [--render S]
                           [--clients N] [--frames N] [--dir DIR]

The program is --program, else $BDFARM, else ./bdfarm. Not part of make
check: it prints figures, it asserts nothing.
"""

import argparse
import asyncio
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

from benchproc import free_port, proc_cpu, wait_work


class Farm:
    """Folders, a job and a configuration, and a server started in a tmux
    session of its own or headless."""

    def __init__(self, program, frames, where=None):
        self.program = program
        self.root = tempfile.mkdtemp(prefix='bdfarm-bench-', dir=where)
        self.jobdir = os.path.join(self.root, 'jobs')
        self.renderdir = os.path.join(self.root, 'renders')
        os.mkdir(self.jobdir)
        os.mkdir(self.renderdir)
        blend = os.path.join(self.root, 'long.blend')
        with open(blend, 'wb') as f:
            f.write(os.urandom(4096))
        with open(os.path.join(self.jobdir, 'long.job'), 'w') as f:
            f.write('%s\n1\n%d\n' % (blend, frames))
        self.conf = os.path.join(self.root, 'bdfarm.conf')
        with open(self.conf, 'w') as f:
            f.write('server = {\n  listen = "127.0.0.1";\n'
                    '  redistribute_delay = 86400;\n  peer_timeout = 60;\n'
                    '  log_file = "%s";\n};\n'
                    % os.path.join(self.root, 'server.log'))
        self.socket = os.path.join(self.root, 'tmux.sock')
        self.proc = None
        self.pid = None

    def argv(self, headless):
        self.port = free_port()
        return [self.program] + (['--headless'] if headless else []) + [
            '--config', self.conf, '--port', str(self.port), self.jobdir,
            self.renderdir]

    def start_headless(self):
        self.log = open(os.path.join(self.root, 'headless.log'), 'wb')
        self.proc = subprocess.Popen(self.argv(True),
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        self.pid = self.proc.pid

    def tmux(self, *args):
        return subprocess.run(['tmux', '-S', self.socket, '-f', '/dev/null'] +
                              list(args), check=True, timeout=30,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL).stdout.decode()

    def start_console(self):
        cmd = ' '.join(shlex.quote(a) for a in self.argv(False))
        self.tmux('new-session', '-d', '-s', 'farm', '-x', '120', '-y',
                  '40', 'env TERM=tmux-256color LC_ALL=C.UTF-8 ' + cmd)
        shell = int(self.tmux('display-message', '-p', '-t', 'farm',
                              '#{pane_pid}').strip())
        self.pid = shell
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with open('/proc/%d/cmdline' % shell, 'rb') as f:
                if os.path.basename(f.read().split(b'\0')[0]) == \
                        os.path.basename(self.program).encode():
                    break
            time.sleep(0.05)

    def attach(self, first, n):
        """Attach consoles first .. first + n - 1, each in a tmux session
        of its own, and wait until each shows the farm."""
        cmd = 'env TERM=tmux-256color LC_ALL=C.UTF-8 %s --attach %s' % (
            shlex.quote(self.program), shlex.quote(self.jobdir))
        for i in range(first, first + n):
            name = 'attached%d' % i
            self.tmux('new-session', '-d', '-s', name, '-x', '120', '-y',
                      '40', cmd)
            deadline = time.monotonic() + 20
            while 'long.job' not in self.tmux('capture-pane', '-p', '-t',
                                              name):
                if time.monotonic() > deadline:
                    raise SystemExit('the console did not attach')
                time.sleep(0.05)

    def wait_ready(self):
        if not wait_work(self.port):
            raise SystemExit('the server did not become ready')

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.log.close()
            self.proc = None
        try:
            self.tmux('kill-server')
        except (subprocess.CalledProcessError, OSError):
            pass

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


async def read_line(reader):
    line = await reader.readline()
    if not line.endswith(b'\n'):
        raise ConnectionError('connection closed')
    return line.rstrip(b'\r\n')


async def client(i, port, deadline, render, image):
    """One old-protocol client on one connection: take a frame, render it
    for render seconds, send it back, until the deadline."""
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    writer.write(b'HELO bench%d.example\r\n' % i)
    await read_line(reader)
    while time.monotonic() < deadline:
        writer.write(b'REQUESTJOB 1\r\n')
        t = (await read_line(reader)).split()
        if t == [b'None']:
            await asyncio.sleep(render)
            continue
        name, md5, frame = t
        await asyncio.sleep(render)
        writer.write(b'RESULTS %s %s %s %s.png %d\r\n'
                     % (name, md5, frame, frame, len(image)))
        if await read_line(reader) != b'OK':
            continue
        writer.write(image)
        await read_line(reader)
    writer.write(b'GOODBYE\r\n')
    await writer.drain()
    writer.close()


async def clients(n, port, duration, render, image):
    deadline = time.monotonic() + duration
    await asyncio.gather(*(client(i, port, deadline, render, image)
                           for i in range(n)))


def measure(farm, what, args, image):
    """Run the clients for the duration; print the server's CPU use."""
    cpu0 = proc_cpu(farm.pid)
    start = time.monotonic()
    asyncio.run(clients(args.clients, farm.port, args.duration, args.render,
                        image))
    elapsed = time.monotonic() - start
    cpu = proc_cpu(farm.pid) - cpu0
    print('%-30s %5.1f%% CPU  (%.2f s of CPU in %.1f s)'
          % (what, 100 * cpu / elapsed, cpu, elapsed), flush=True)
    if farm.proc is None or 'attached' in what:
        pane = 'farm' if farm.proc is None else 'attached0'
        top = farm.tmux('capture-pane', '-p', '-t', pane).split('\n')
        print('%30s %s' % ('', top[0].strip()[:60]))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--program', default=os.environ.get('BDFARM',
                                                       './bdfarm'))
    p.add_argument('--duration', type=float, default=20)
    p.add_argument('--render', type=float, default=1.0)
    p.add_argument('--clients', type=int, default=16)
    p.add_argument('--frames', type=int, default=10000)
    p.add_argument('--dir')
    args = p.parse_args()
    if shutil.which('tmux') is None:
        sys.exit('tmux is needed')
    image = os.urandom(2048)
    print('%d frames, %d clients, %.1f s a frame, %.0f s each'
          % (args.frames, args.clients, args.render, args.duration))
    farm = Farm(os.path.abspath(args.program), args.frames, args.dir)
    try:
        farm.start_headless()
        farm.wait_ready()
        measure(farm, 'headless', args, image)
        farm.attach(0, 1)
        measure(farm, 'headless, 1 console attached', args, image)
        farm.attach(1, 3)
        measure(farm, 'headless, 4 consoles attached', args, image)
        farm.stop()
        farm.start_console()
        farm.wait_ready()
        measure(farm, 'console, main page', args, image)
        farm.tmux('send-keys', '-t', 'farm', 'Enter')
        measure(farm, 'console, job page', args, image)
        farm.tmux('send-keys', '-t', 'farm', 'End')
        measure(farm, 'console, job page, last frame', args, image)
    finally:
        farm.cleanup()


if __name__ == '__main__':
    main()
