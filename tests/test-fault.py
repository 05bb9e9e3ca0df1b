"""A farm broken on purpose: a real server, four bdfarm clients with the
stand-in Blender and one scripted old-protocol client render one job of a
few hundred frames through a proxy (tests/faultproxy.py), while, at
random moments drawn from one seed, the stand-in fails and crashes, the
proxy throttles, delays, cuts and refuses connections, the server and the
clients are killed (SIGKILL) or stopped (SIGTERM) and started again, the
old client dies, the .blend is touched without changing its content, and
the server's disk fills up for a moment (a file size limit set on the
running server with prlimit, then lifted).

Then the faults stop and the farm gets a generous bound to finish. At the
end: every frame is on disk exactly once, whole, with the colour the
stand-in gives that frame, and nothing else is in the job's render folder;
the job log says rendering is complete; the frames received according to
the job log are the ones the state file has done, host by host, and the
per-host counts add up to the frame count; no log holds a sanitizer
report; no process died that the test did not kill, and each one stopped
with SIGTERM exited 0. Every broken invariant is listed, with the frame
and what the logs say about it. The faults of each kind are counted and
printed.

In make check it runs about a minute with a fixed seed. FAULT_SEED
(default 1) and FAULT_SECONDS (default 45) choose another run, FAULT_FRAMES
the size of the job (default 400, or 6 a second of faults for long runs).
BDFARM_KEEP keeps the folder with every log.
"""

import sys
sys.dont_write_bytecode = True
import collections
import importlib.machinery
import importlib.util
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import threading
import time
import zlib

import bdfarmtest
from bdfarmtest import Farm, OldClient, md5_bytes
from clienttest import BDFARM, FAKE_BLENDER, write_config, write_fake_config
from faultproxy import FaultProxy

SEED = int(os.environ.get('FAULT_SEED', '1'))
SECONDS = float(os.environ.get('FAULT_SECONDS', '45'))
FRAMES = int(os.environ.get('FAULT_FRAMES',
                            str(max(400, int(SECONDS * 6)))))
JOB = 'fault'
CLIENTS = 4
OLD_HOST = 'oldclient.example'
PNG_SIZE = (96, 64)     # 18.5 kB a frame, stored uncompressed
BLEND_SIZE = 64 * 1024

SERVER = {
    'peer_timeout': 10,
    'client_timeout': 10,
    'redistribute_delay': 10,
    'rescan_interval': 1,
    'blend_check_interval': 1,
    'state_save_delay': 50,
}
CLIENT = dict(heartbeat_interval=1, prefetch=2, batch_frames=4, none_wait=5,
              busy_wait=1, retry_min=1, retry_max=2, cache_idle=3600)
STAND_IN = dict(delay=0.25, size=list(PNG_SIZE), compress=0,
                fail_rate=0.02, crash_rate=0.02, random_limit=2)

# How often each fault is drawn.
FAULTS = (('proxy', 6), ('server-kill9', 1), ('server-term', 1),
          ('client-kill9', 2), ('client-term', 2), ('old-client-dies', 1),
          ('touch-blend', 1), ('disk-full', 1))

# Bounds once the faults stop: no frame received for STALL seconds means
# the farm is stuck (the longest wait the farm may take on purpose is the
# redistribution delay or the client timeout, 10 s); FINISH seconds in
# all at most.
STALL = 90
FINISH = 240 + FRAMES // 2
EXIT_BOUND = 30         # for a process told to stop with SIGTERM


def load_stand_in():
    """The stand-in Blender as a module, for the bytes it would write."""
    loader = importlib.machinery.SourceFileLoader('fake_blender',
                                                  FAKE_BLENDER)
    spec = importlib.util.spec_from_loader('fake_blender', loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


STAND_IN_MODULE = load_stand_in()


def frame_png(frame):
    """The bytes the stand-in writes for a frame."""
    return STAND_IN_MODULE.fake_png(PNG_SIZE[0], PNG_SIZE[1], frame,
                                    STAND_IN['compress'])


def signal_name(code):
    """An exit code as people read it: 'exit 1' or 'SIGXFSZ'."""
    if code is None:
        return 'running'
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return 'signal %d' % -code
    return 'exit %d' % code


class Report:
    """What went wrong, in the order it was found, and what was done."""

    def __init__(self):
        self.lock = threading.Lock()
        self.violations = []
        self.faults = collections.Counter()
        self.history = []           # (elapsed, what was done)
        self.start = time.monotonic()

    def broken(self, text):
        with self.lock:
            self.violations.append((self.elapsed(), text))
        print('BROKEN at %.1f s: %s' % (self.elapsed(),
                                        text.splitlines()[0]), flush=True)

    def grouped(self):
        """The violations, one entry for each first line: the first in
        full, with when the others happened."""
        groups = collections.OrderedDict()
        for when, text in self.violations:
            groups.setdefault(text.splitlines()[0], []).append((when, text))
        out = []
        for same in groups.values():
            text = same[0][1]
            if len(same) > 1:
                text += '\n  (%d times in all, at %s s)' % (
                    len(same), ', '.join('%.1f' % w for w, _ in same))
            out.append(text)
        return out

    def fault(self, kind, detail=None):
        with self.lock:
            self.faults[kind] += 1
            self.history.append((self.elapsed(), detail or kind))

    def note(self, detail):
        """A fault counted elsewhere (the proxy counts its own)."""
        with self.lock:
            self.history.append((self.elapsed(), detail))

    def recent(self, n=4):
        """The last faults injected, for a message."""
        with self.lock:
            last = self.history[-n:]
        return '  the last faults injected (now %.1f s):\n%s' % (
            self.elapsed(), '\n'.join('    %.1f s: %s' % h for h in last))

    def elapsed(self):
        return time.monotonic() - self.start


class Server(Farm):
    """The bdfarm server, with --verbose and its stderr read through a
    pipe, so that a file size limit on it does not touch its own log."""

    def __init__(self, **kw):
        Farm.__init__(self, **kw)
        self.readers = []
        self.log_start = 0

    def argv(self, *args, **kw):
        argv = Farm.argv(self, *args, **kw)
        return argv[:1] + ['--verbose'] + argv[1:]

    def spawn(self, argv, as_user=None):
        argv = ['setpriv', '--pdeathsig', 'KILL', '--'] + argv
        with open(self.errlog, 'ab') as err:
            err.write(b'=== start %d: %s\n'
                      % (self.starts, ' '.join(argv).encode()))
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        self.starts += 1
        bdfarmtest._live.append(p)
        t = threading.Thread(target=self._copy, args=(p.stdout,),
                             daemon=True)
        t.start()
        self.readers.append(t)
        return p

    def _copy(self, pipe):
        with open(self.errlog, 'ab') as err:
            for line in iter(pipe.readline, b''):
                err.write(line)
                err.flush()
        pipe.close()

    def start(self, wait=True, timeout=10):
        self.log_start = self.log_size()
        return Farm.start(self, wait, timeout)

    def settled(self):
        """Whether it has started up and handles SIGTERM."""
        return 'listening on ' in self.log_since(self.log_start)

    def drain(self):
        """Wait until every line the servers wrote is in the log."""
        for t in self.readers:
            t.join(10)


class Node:
    """One `bdfarm --client` with its own work folder and log, which
    keeps the lines of every start."""

    def __init__(self, index, root, port, conf, fake):
        self.name = 'client%d' % index
        self.workdir = os.path.join(root, self.name)
        self.logpath = os.path.join(root, self.name + '.log')
        self.argv = [BDFARM, '--client', '--config', conf, '--workdir',
                     self.workdir, '--blender', os.path.abspath(FAKE_BLENDER),
                     '-v', '127.0.0.1', str(port)]
        self.env = dict(os.environ, FAKE_BLENDER_CONFIG=fake)
        self.proc = None
        self.starts = 0
        self.log_start = 0
        self.pids = []
        self.down_until = None      # kept down by the test until then
        self.stop_deadline = None   # told to stop; must exit by then

    def start(self):
        with open(self.logpath, 'ab') as log:
            self.log_start = log.tell()
            log.write(b'=== start %d\n' % self.starts)
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         env=self.env,
                                         start_new_session=True)
        self.starts += 1
        self.pids.append(self.proc.pid)
        bdfarmtest._live.append(self.proc)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.logpath, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except FileNotFoundError:
            return ''

    def log_tail(self, n=25):
        return '\n'.join(self.log().splitlines()[-n:])

    def settled(self):
        """Whether it has started up (and handles SIGTERM): a process
        stopped before it even began dies of the signal, rightly."""
        with open(self.logpath, 'rb') as f:
            f.seek(self.log_start)
            return b'rendering for ' in f.read()

    def kill(self):
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait(10)


class OldPeer(threading.Thread):
    """An old client, scripted: it greets, sends what it has rendered,
    asks for one frame and its .blend, says GOODBYE, renders (the bytes
    the stand-in would write), and starts over. A network error keeps
    its rendered frames for the next session; dying forgets everything."""

    def __init__(self, port, seed):
        threading.Thread.__init__(self, daemon=True, name='old-client')
        self.port = port
        self.rnd = random.Random(seed)
        self.halt = threading.Event()
        self.dying = threading.Event()
        self.conn = None
        self.conn_lock = threading.Lock()
        self.blends = {}            # digest -> bytes
        self.rendered = []          # [name, md5, frame, tries]
        self.counts = collections.Counter()

    def die(self):
        """Die at once, as a killed process: the connection closes, the
        frames in hand are forgotten."""
        self.dying.set()
        with self.conn_lock:
            if self.conn is not None and self.conn.sock is not None:
                try:
                    self.conn.sock.shutdown(2)
                except OSError:
                    pass

    def stop(self):
        self.halt.set()
        self.die()
        self.join(60)

    def run(self):
        while not self.halt.is_set():
            try:
                self.session()
            except Exception as e:
                self.counts['errors'] += 1
                self.counts['error: %s' % type(e).__name__] += 1
                self.halt.wait(self.rnd.uniform(0.2, 1.0))
            finally:
                with self.conn_lock:
                    if self.conn is not None:
                        self.conn.close()
                    self.conn = None
            if self.dying.is_set():
                self.blends.clear()
                self.rendered.clear()
                self.counts['deaths'] += 1
                self.halt.wait(self.rnd.uniform(0.2, 2.0))
                self.dying.clear()

    def session(self):
        c = OldClient(self.port, timeout=40)
        with self.conn_lock:
            self.conn = c
            if self.dying.is_set():
                return
        self.counts['sessions'] += 1
        c.helo(OLD_HOST)
        while self.rendered:
            item = self.rendered[0]
            name, md5, frame, tries = item
            item[3] += 1
            if tries >= 3:
                self.rendered.pop(0)
                self.counts['results given up'] += 1
                continue
            answer = c.results(name, md5, frame, '%04d.png' % frame,
                               frame_png(frame))
            self.rendered.pop(0)
            self.counts['results ' + answer] += 1
        job = c.requestjob(1)
        if job is None:
            c.goodbye()
            self.counts['None'] += 1
            self.halt.wait(self.rnd.uniform(0.3, 1.0))
            return
        name, md5, frame = job
        self.counts['frames'] += 1
        if md5 not in self.blends:
            data = c.requestblenderfile(name, md5)
            if md5_bytes(data) != md5:
                raise AssertionError('a .blend whose digest is not %s'
                                     % md5)
            self.blends[md5] = data
        c.goodbye()
        # Render.
        if self.halt.wait(self.rnd.uniform(0.05, 0.3)) or \
                self.dying.is_set():
            return
        self.rendered.append([name, md5, frame, 0])


class FaultRun:
    """The farm, the faults, and the checks at the end."""

    def __init__(self, report):
        self.report = report
        self.rnd = random.Random(SEED)
        self.server = Server(settings=SERVER)
        self.root = self.server.root
        self.blend, _ = self.server.blend('scene.blend', size=BLEND_SIZE,
                                          seed=SEED)
        self.server.job(JOB, self.blend, 1, FRAMES)
        self.attempts = os.path.join(self.root, 'attempts')
        fake = dict(STAND_IN, seed=SEED, attempts=self.attempts,
                    log=os.path.join(self.root, 'stand-in-runs'))
        self.fake = write_fake_config(os.path.join(self.root, 'fake.json'),
                                      **fake)
        self.conf = write_config(os.path.join(self.root, 'client.conf'),
                                 **CLIENT)
        self.proxy = FaultProxy(self.server.port, seed=SEED + 1)
        self.nodes = [Node(i, self.root, self.proxy.port, self.conf,
                           self.fake) for i in range(1, CLIENTS + 1)]
        self.old = OldPeer(self.proxy.port, SEED + 2)
        self.server_down_until = None
        self.server_stopping = None  # deadline of a SIGTERM
        self.limited = None         # the pid with a file size limit
        self.stuck = None           # the state when the farm got stuck
        self.stuck_pids = []        # the clients running then

    def state_path(self):
        return os.path.join(self.server.jobdir, '.bdfarm.state')

    # Starting, supervising, and stopping.

    def start(self):
        self.server.start(timeout=60)
        self.proxy.start()
        for n in self.nodes:
            n.start()
        self.old.start()

    def supervise(self):
        """Restart what is due, and note every process that died by
        itself or does not stop when told to."""
        now = time.monotonic()
        s = self.server
        if self.server_stopping is not None:
            if not s.alive():
                if s.proc.returncode != 0:
                    self.report.broken(
                        'the server exited with %s on SIGTERM; its log:\n%s'
                        % (signal_name(s.proc.returncode), s.log_tail(30)))
                self.server_stopping = None
            elif now > self.server_stopping:
                self.report.broken('the server did not exit within %d s of '
                                   'SIGTERM; its log:\n%s'
                                   % (EXIT_BOUND, s.log_tail(30)))
                s.kill9()
                self.server_stopping = None
        elif not s.alive():
            if self.server_down_until is None:
                s.drain()
                self.report.broken('the server died by itself (%s)\n%s\n'
                                   '  its log:\n%s' % (
                                       signal_name(s.proc.returncode),
                                       self.report.recent(),
                                       s.log_tail(30)))
                self.server_down_until = now
            if now >= self.server_down_until:
                self.start_server()
        for n in self.nodes:
            if n.stop_deadline is not None:
                if not n.alive():
                    if n.proc.returncode != 0:
                        self.report.broken(
                            '%s exited with %s on SIGTERM; its log:\n%s'
                            % (n.name, signal_name(n.proc.returncode),
                               n.log_tail()))
                    n.stop_deadline = None
                elif now > n.stop_deadline:
                    self.report.broken('%s did not exit within %d s of '
                                       'SIGTERM; its log:\n%s'
                                       % (n.name, EXIT_BOUND, n.log_tail()))
                    n.kill()
                    n.stop_deadline = None
            elif not n.alive():
                if n.down_until is None:
                    self.report.broken('%s died by itself (%s)\n%s\n  its '
                                       'log:\n%s' % (
                                           n.name,
                                           signal_name(n.proc.returncode),
                                           self.report.recent(),
                                           n.log_tail()))
                    n.down_until = now
                if now >= n.down_until:
                    n.down_until = None
                    n.start()

    def start_server(self):
        """Start the server again; a server that cannot start is a
        violation, tried again a few times."""
        for attempt in range(3):
            try:
                self.server.start(timeout=60)
                self.server_down_until = None
                return
            except AssertionError as e:
                self.server.drain()
                self.report.broken('the server did not start again: %s' % e)
        raise AssertionError('the server cannot be started any more')

    def idle(self, seconds):
        """Let time pass, supervising."""
        end = time.monotonic() + seconds
        while True:
            self.supervise()
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(0.05, left))

    def lift_limit(self):
        if self.limited is not None:
            subprocess.run(['prlimit', '--pid', str(self.limited),
                            '--fsize=unlimited:'], stderr=subprocess.DEVNULL)
            self.limited = None

    def cleanup(self):
        """End every process this test started, whatever happened."""
        self.lift_limit()
        try:
            self.old.halt.set()
            self.old.die()
        except Exception:
            pass
        try:
            self.proxy.close()
        except Exception:
            pass
        for n in self.nodes:
            n.kill()
        self.server.kill9()
        self.server.drain()
        # The stand-in dies with its client; any that did not goes now.
        for pid in self.stand_in_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.old.join(10)

    def stand_in_pids(self):
        path = os.path.join(self.root, 'stand-in-runs')
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [r['pid'] for r in map(STAND_IN_MODULE.fake_record, f)
                    if 'pid' in r]

    # The faults.

    def inject(self, kind):
        """Inject one fault. Its parameters are drawn first, whether it
        applies or not, so that the draws do not depend on timing."""
        r = self.rnd
        down = r.uniform(0, 3)
        pick = r.choice(self.nodes)
        limit = r.choice((0, 1, 100, 4096))
        window = r.uniform(0.3, 3)
        server_up = self.server.alive() and self.server_stopping is None
        if kind == 'server-term' and not self.server.settled() or \
                kind == 'client-term' and not pick.settled():
            return
        if kind == 'proxy':
            self.report.note('proxy: ' + self.proxy.random_fault())
        elif kind in ('server-kill9', 'server-term') and server_up:
            if kind == 'server-kill9':
                self.server.kill9()
            else:
                self.server.signal(signal.SIGTERM)
                self.server_stopping = time.monotonic() + EXIT_BOUND
            self.server_down_until = time.monotonic() + down
            self.report.fault(kind, '%s, down for %.1f s' % (kind, down))
            # The restart waits for a SIGTERM to end.
            deadline = time.monotonic() + EXIT_BOUND + 1
            while self.server_stopping is not None and \
                    time.monotonic() < deadline:
                self.idle(0.05)
        elif kind in ('client-kill9', 'client-term') and pick.alive() and \
                pick.stop_deadline is None and pick.down_until is None:
            if kind == 'client-kill9':
                pick.kill()
            else:
                pick.proc.send_signal(signal.SIGTERM)
                pick.stop_deadline = time.monotonic() + EXIT_BOUND
            pick.down_until = time.monotonic() + down
            self.report.fault(kind, '%s of %s (pid %d), down for %.1f s'
                              % (kind, pick.name, pick.proc.pid, down))
        elif kind == 'old-client-dies':
            self.old.die()
            self.report.fault(kind)
        elif kind == 'touch-blend':
            os.utime(self.blend)
            self.report.fault(kind)
        elif kind == 'disk-full' and server_up:
            pid = self.server.proc.pid
            if subprocess.run(['prlimit', '--pid', str(pid),
                               '--fsize=%d:' % limit],
                              stderr=subprocess.DEVNULL).returncode != 0:
                return
            self.limited = pid
            self.report.fault(kind, 'disk-full: file size limit %d on the '
                              'server (pid %d) for %.1f s'
                              % (limit, pid, window))
            self.idle(window)
            self.lift_limit()

    def faults(self):
        """Inject faults at random moments for SECONDS seconds."""
        kinds = [k for k, _ in FAULTS]
        weights = [w for _, w in FAULTS]
        end = time.monotonic() + SECONDS
        while time.monotonic() < end:
            self.idle(self.rnd.uniform(0.1, 1.5))
            self.inject(self.rnd.choices(kinds, weights)[0])
        self.lift_limit()
        self.proxy.clear()
        # Everything up again: the restarts that are due come at once.
        if self.server_down_until is not None:
            self.server_down_until = time.monotonic()
        for n in self.nodes:
            if n.down_until is not None:
                n.down_until = time.monotonic()
        self.idle(0)

    def finish(self):
        """Wait until the job log says the job is complete, or until no
        frame has come for STALL seconds; return whether it completed."""
        end = time.monotonic() + FINISH
        last_count, last_change = -1, time.monotonic()
        while True:
            self.supervise()
            log = self.server.joblog(JOB)
            if 'rendering complete' in log:
                return True
            count = len(re.findall(r'frame -?\d+ received', log))
            now = time.monotonic()
            if count != last_count:
                last_count, last_change = count, now
            if now - last_change > STALL or now > end:
                self.stuck = State(self.state_path(), JOB + '.job')
                self.stuck_pids = [n.proc.pid for n in self.nodes
                                   if n.alive()]
                return False
            time.sleep(0.2)

    def settle(self, done, bound, what):
        """Supervise until done() is true; a violation after bound s."""
        end = time.monotonic() + bound
        while True:
            self.supervise()
            if done():
                return True
            if time.monotonic() > end:
                self.report.broken('timed out after %d s waiting for %s'
                                   % (bound, what))
                return False
            time.sleep(0.1)

    def stop_all(self):
        """Stop every client, the old one and the server, with SIGTERM,
        so that the state file and the logs are final."""
        for n in self.nodes:
            n.down_until = float('inf')
        self.settle(lambda: all(n.settled() or not n.alive()
                                for n in self.nodes), EXIT_BOUND,
                    'the clients to start up')
        for n in self.nodes:
            if n.alive() and n.stop_deadline is None:
                n.proc.send_signal(signal.SIGTERM)
                n.stop_deadline = time.monotonic() + EXIT_BOUND
        self.old.stop()
        self.settle(lambda: all(n.stop_deadline is None for n in self.nodes),
                    EXIT_BOUND + 5, 'the clients to exit on SIGTERM')
        self.proxy.close()
        self.server_down_until = float('inf')
        self.settle(lambda: self.server.settled() or not self.server.alive(),
                    EXIT_BOUND, 'the server to start up')
        if self.server.alive() and self.server_stopping is None:
            self.server.signal(signal.SIGTERM)
            self.server_stopping = time.monotonic() + EXIT_BOUND
        self.settle(lambda: self.server_stopping is None, EXIT_BOUND + 5,
                    'the server to exit on SIGTERM')
        self.server.drain()

    # The checks.

    def frame_history(self, frame, joblog, limit=12):
        """What the job log says about a frame, its last lines."""
        rx = re.compile(r'\bframe %d\b' % frame)
        lines = [l for l in joblog.splitlines() if rx.search(l)]
        if not lines:
            return '    (the job log never mentions frame %d)' % frame
        shown = lines[-limit:]
        more = '    (%d earlier lines)\n' % (len(lines) - len(shown)) \
            if len(lines) > len(shown) else ''
        return more + '\n'.join('    ' + l for l in shown)

    def server_lines(self, frame, limit=8):
        rx = re.compile(r'\bframe %d\b' % frame)
        lines = [l for l in self.server.log().splitlines() if rx.search(l)]
        return '\n'.join('    ' + l for l in lines[-limit:]) or \
            '    (the server log never mentions frame %d)' % frame

    def client_lines(self, host, frame, limit=8):
        """What the client that goes by host says about a frame."""
        m = re.fullmatch(r'.*#(\d+)', host or '')
        node = next((n for n in self.nodes if m and
                     int(m.group(1)) in n.pids), None)
        if node is None:
            return ''
        rx = re.compile(r'\bframes? (?:[-\d]+,)*%d\b' % frame)
        lines = []
        start = None
        for l in node.log().splitlines():
            if l.startswith('=== start'):
                start = l
            elif start is not None and node.pids[int(start.split()[2])] == \
                    int(m.group(1)) and (rx.search(l) or 'server ' in l):
                lines.append(l)
        shown = [l for l in lines if rx.search(l)]
        if shown:
            # From its first word of the frame on, with what happened to
            # its connection.
            first = lines.index(shown[0])
            lines = lines[first:first + limit]
        running = ', which was still running and in touch' \
            if self.stuck and int(m.group(1)) in self.stuck_pids else ''
        return '\n  %s (%s%s) says:\n%s' % (
            host, node.name, running, '\n'.join('    ' + l for l in lines)
            or '    nothing about frame %d' % frame)

    def found_on_disk(self):
        """The server's lines on frames it found already rendered at a
        start, which it counts done without a host."""
        lines = [l for l in self.server.log().splitlines()
                 if 'found already rendered' in l]
        return '' if not lines else \
            '\n  the server found frames on disk at a start:\n' + \
            '\n'.join('    ' + l for l in lines[:10])

    def check_disk(self, joblog, state):
        """One whole file per frame with the right colour; nothing else."""
        folder = self.server.framedir(JOB)
        try:
            names = sorted(os.listdir(folder))
        except FileNotFoundError:
            names = []
        per_frame = collections.defaultdict(list)
        stray = []
        for name in names:
            m = re.fullmatch(r'(-?\d{4,})(\.[A-Za-z0-9]+)?', name)
            if m is None:
                stray.append(name)
            else:
                per_frame[int(m.group(1))].append(name)
        if stray:
            self.report.broken('stray or partial files in %s: %s'
                               % (folder, ', '.join(stray[:20])))
        outside = sorted(f for f in per_frame if not 1 <= f <= FRAMES)
        if outside:
            self.report.broken('files for frames outside 1-%d: %s'
                               % (FRAMES, ', '.join(
                                   per_frame[f][0] for f in outside[:20])))
        twice = sorted(f for f, v in per_frame.items() if len(v) > 1)
        if twice:
            self.report.broken('frames on disk more than once: %s' % '; '.join(
                '%d as %s' % (f, ', '.join(per_frame[f])) for f in twice[:20]))
        missing = [f for f in range(1, FRAMES + 1) if f not in per_frame]
        if missing:
            self.report.broken(
                '%d frames are not on disk: %s\n%s'
                % (len(missing), ranges(missing), '\n'.join(
                    'frame %d (state: %s):\n%s\n  server log:\n%s'
                    % (f, state.describe(f), self.frame_history(f, joblog),
                       self.server_lines(f)) for f in missing[:5])))
        bad = []
        for f in sorted(per_frame):
            for name in per_frame[f]:
                why = png_problem(os.path.join(folder, name), f)
                if why is not None:
                    bad.append((f, name, why))
        if bad:
            self.report.broken(
                '%d frames on disk are not whole or not the right frame:\n%s'
                % (len(bad), '\n'.join(
                    '%s: %s\n%s' % (name, why, self.frame_history(f, joblog))
                    for f, name, why in bad[:5])))

    def check_log(self, joblog, state):
        """Complete, and in agreement with the state file."""
        if 'rendering complete' not in joblog:
            then = self.stuck or state
            todo = [f for f in range(1, FRAMES + 1) if f not in state.done]
            self.report.broken(
                'no "rendering complete" in the job log: %d frames not done'
                ' (%s), none received in the last %d s or %d s in all; '
                'the first of them, as the state file had them then:\n%s'
                % (len(todo), ranges(todo), STALL, FINISH, '\n'.join(
                    'frame %d (state: %s):\n%s%s'
                    % (f, then.describe(f), self.frame_history(f, joblog),
                       self.client_lines(then.host_of(f), f))
                    for f in todo[:5])))
        received = collections.defaultdict(list)
        for m in re.finditer(r'(?m)^(\S+ \S+) frame (-?\d+) received from '
                             r'(\S+)$', joblog):
            received[int(m.group(2))].append((m.group(3), m.group(1)))
        starts_over = re.findall(r'(?m)^.*rendering started over.*$', joblog)
        context = '' if not starts_over else \
            '\n  the job log shows the job started over:\n' + '\n'.join(
                '    ' + l for l in starts_over[:5])
        several = sorted(f for f, v in received.items() if len(v) > 1)
        if several:
            self.report.broken(
                '%d frames received more than once according to the job '
                'log: %s%s' % (len(several), '; '.join(
                    'frame %d from %s' % (f, ', '.join(
                        '%s at %s' % hv for hv in received[f]))
                    for f in several[:10]), context))
        log_done = set(received)
        if log_done != state.done:
            only_log = sorted(log_done - state.done)
            only_state = sorted(state.done - log_done)
            self.report.broken(
                'the job log and the state file disagree on the frames '
                'done:%s%s%s' % (
                    '\n  received according to the log, not done in the '
                    'state: %s' % ranges(only_log) if only_log else '',
                    '\n  done in the state, never received according to '
                    'the log: %s\n%s' % (ranges(only_state), '\n'.join(
                        'frame %d:\n%s\n  server log:\n%s'
                        % (f, self.frame_history(f, joblog),
                           self.server_lines(f)) for f in only_state[:3]))
                    if only_state else '', context + self.found_on_disk()))
        log_hosts = collections.Counter(h for v in received.values()
                                        for h, _ in v)
        if dict(log_hosts) != state.hosts:
            diff = sorted(h for h in set(log_hosts) | set(state.hosts)
                          if log_hosts.get(h, 0) != state.hosts.get(h, 0))
            self.report.broken(
                'per-host counts differ between the job log and the state '
                'file: %s' % '; '.join(
                    '%s: log %d, state %d' % (h, log_hosts.get(h, 0),
                                              state.hosts.get(h, 0))
                    for h in diff[:10]))
        if sum(state.hosts.values()) != FRAMES:
            self.report.broken('the state file\'s per-host counts add up to '
                               '%d, not %d (%d frames done): %s%s'
                               % (sum(state.hosts.values()), FRAMES,
                                  len(state.done), state.hosts,
                                  self.found_on_disk()))
        complete = re.findall(r'rendering complete; frames per host: (.*)',
                              joblog)
        if complete:
            counts = dict((h, int(c)) for h, c in
                          re.findall(r'(\S+): (\d+)', complete[-1]))
            if sum(counts.values()) != FRAMES:
                self.report.broken('the job log\'s "rendering complete" '
                                   'line counts %d frames, not %d: %s'
                                   % (sum(counts.values()), FRAMES,
                                      complete[-1]))

    def check_sanitizers(self):
        report = self.server.sanitizer_report()
        if report:
            self.report.broken('a sanitizer report in the server log:\n'
                               + report)
        for n in self.nodes:
            text = n.log()
            m = re.search(r'(?m)^.*(ERROR: (Address|Leak|Thread|Memory)'
                          r'Sanitizer|runtime error: ).*$', text)
            if m:
                self.report.broken('a sanitizer report in %s:\n%s'
                                   % (n.logpath, '\n'.join(
                                       text[m.start():].splitlines()[:30])))

    def check(self):
        joblog = self.server.joblog(JOB)
        state = State(self.state_path(), JOB + '.job')
        if state.error:
            self.report.broken('the state file: %s' % state.error)
        self.check_log(joblog, state)
        self.check_disk(joblog, state)
        self.check_sanitizers()

    # Counting.

    def stand_in_faults(self):
        """The random failures and crashes that struck, the renders, and
        how many frames were rendered more than once, from the
        stand-in's attempts folder."""
        counts = collections.Counter()
        renders = again = 0
        if os.path.isdir(self.attempts):
            for name in os.listdir(self.attempts):
                n = 0
                with open(os.path.join(self.attempts, name)) as f:
                    for r in map(STAND_IN_MODULE.fake_record, f):
                        if 'struck' in r:
                            counts['stand-in ' + r['struck']] += 1
                        elif 'attempt' in r:
                            n += 1
                renders += n
                again += n > 1
        return counts, renders, again

    def summary(self, took_faults, took_finish):
        counts = collections.Counter(self.report.faults)
        stand_in, renders, again = self.stand_in_faults()
        counts.update(stand_in)
        counts.update(dict(('proxy ' + k, v)
                           for k, v in self.proxy.counts.items()))
        print('seed %d, %.0f s of faults, %d frames; finished %.1f s after '
              'the faults stopped' % (SEED, took_faults, FRAMES, took_finish))
        print('faults injected:')
        for kind in sorted(counts):
            print('  %-24s %5d' % (kind, counts[kind]))
        print('  %-24s %5d' % ('total', sum(counts.values())))
        print('renders by the stand-in: %d (%d frames more than once); '
              'server starts: %d; client starts: %s'
              % (renders, again, self.server.starts,
                 ', '.join(str(n.starts) for n in self.nodes)))
        print('the proxy: %s' % dict(self.proxy.stats))
        print('the old client: %s' % dict(self.old.counts), flush=True)


class State:
    """One job of the state file: done frames, frames out, host counts."""

    def __init__(self, path, name):
        self.done, self.failed = set(), set()
        self.out = {}               # frame -> host
        self.since = {}             # frame -> (since, sends)
        self.hosts = {}
        self.error = None
        try:
            with open(path, encoding='utf-8', errors='replace') as f:
                text = f.read()
        except OSError as e:
            self.error = str(e)
            return
        inside = False
        for line in text.splitlines():
            t = line.split()
            if not t:
                continue
            if t[0] == 'job':
                inside = line[4:] == name
            elif not inside:
                continue
            elif t[0] == 'end':
                inside = False
            elif t[0] in ('done', 'failed'):
                into = self.done if t[0] == 'done' else self.failed
                for r in t[1:]:
                    a, _, b = r[1:].partition('-')
                    a = int(r[0] + a)
                    into.update(range(a, int(b) + 1 if b else a + 1))
            elif t[0] == 'out' and len(t) == 5:
                self.out[int(t[1])] = t[4]
                self.since[int(t[1])] = (int(t[2]), int(t[3]))
            elif t[0] == 'host' and len(t) == 3:
                self.hosts[t[2]] = self.hosts.get(t[2], 0) + int(t[1])
        if not self.done and not self.out and not self.hosts:
            self.error = 'no job %s in %s' % (name, path)

    def describe(self, frame):
        if frame in self.done:
            return 'done'
        if frame in self.failed:
            return 'failed for good'
        if frame in self.out:
            since, sends = self.since[frame]
            return 'out to %s for %.0f s, handed out %d times' % (
                self.out[frame], time.time() - since / 1000.0, sends)
        return 'to do'

    def host_of(self, frame):
        return self.out.get(frame)


def ranges(frames):
    """Frame numbers as short ranges: 1-4, 7, 9-10."""
    out, frames = [], sorted(frames)
    i = 0
    while i < len(frames):
        j = i
        while j + 1 < len(frames) and frames[j + 1] == frames[j] + 1:
            j += 1
        out.append('%d' % frames[i] if i == j else
                   '%d-%d' % (frames[i], frames[j]))
        i = j + 1
    return ', '.join(out)


def png_problem(path, frame):
    """Why the file is not the stand-in's whole PNG of frame, or None."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        return 'not a PNG (%d bytes, starting %r)' % (len(data), data[:16])
    pos, header, idat, ended = 8, None, b'', False
    while pos + 8 <= len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 4:pos + 8 + length]
        crc = data[pos + 8 + length:pos + 12 + length]
        if len(crc) != 4 or \
                struct.unpack('>I', crc)[0] != zlib.crc32(body) & 0xffffffff:
            return 'cut short or damaged at byte %d of %d' % (pos, len(data))
        if kind == b'IHDR':
            header = struct.unpack('>IIBBBBB', body[4:17])
        elif kind == b'IDAT':
            idat += body[4:]
        elif kind == b'IEND':
            ended = True
            break
        pos += 12 + length
    if not ended or header is None:
        return 'cut short (%d bytes, no IEND)' % len(data)
    width, height, depth, colour = header[:4]
    if (width, height) != PNG_SIZE or depth != 8 or colour != 2:
        return 'a %dx%d PNG of depth %d and colour type %d' % (
            width, height, depth, colour)
    try:
        raw = zlib.decompress(idat)
    except zlib.error as e:
        return 'pixels do not decompress: %s' % e
    stride = width * 3
    if len(raw) != height * (stride + 1):
        return 'pixels of the wrong length'
    want = bytes(STAND_IN_MODULE.fake_colour(frame))
    prev = bytearray(stride)
    for y in range(height):
        row = unfilter(raw[y * (stride + 1)], raw[y * (stride + 1) + 1:
                                                  (y + 1) * (stride + 1)],
                       prev)
        if row is None:
            return 'unknown PNG filter in row %d' % y
        if bytes(row) != want * width:
            got = tuple(row[:3])
            return 'row %d has colour %r, frame %d is %r%s' % (
                y, got, frame, tuple(want), guess_frame(got))
        prev = row
    return None


def unfilter(kind, line, prev):
    """Undo a PNG row filter (3 bytes a pixel)."""
    row = bytearray(line)
    for i in range(len(row)):
        a = row[i - 3] if i >= 3 else 0
        b = prev[i]
        c = prev[i - 3] if i >= 3 else 0
        if kind == 0:
            break
        elif kind == 1:
            row[i] = (row[i] + a) & 0xff
        elif kind == 2:
            row[i] = (row[i] + b) & 0xff
        elif kind == 3:
            row[i] = (row[i] + (a + b) // 2) & 0xff
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
            row[i] = (row[i] + pred) & 0xff
        else:
            return None
    return row


def guess_frame(colour):
    """Which frames of the job have this colour, as a hint."""
    hits = [f for f in range(1, FRAMES + 1)
            if tuple(STAND_IN_MODULE.fake_colour(f)) == colour]
    return ' (the colour of frame %s)' % ', '.join(map(str, hits[:5])) \
        if hits else ''


def test_fault():
    for tool in ('prlimit', 'setpriv'):
        if shutil.which(tool) is None:
            print('SKIP: %s (util-linux) is needed' % tool)
            sys.exit(77)
    print('seed %d, %g s of faults, %d frames (FAULT_SEED, FAULT_SECONDS, '
          'FAULT_FRAMES)' % (SEED, SECONDS, FRAMES), flush=True)
    report = Report()
    run = FaultRun(report)
    took_faults = took_finish = 0.0
    try:
        run.start()
        start = time.monotonic()
        run.faults()
        took_faults = time.monotonic() - start
        print('faults stopped after %.1f s; waiting for the job to finish'
              % took_faults, flush=True)
        start = time.monotonic()
        run.finish()
        took_finish = time.monotonic() - start
        run.stop_all()
        run.check()
    finally:
        run.cleanup()
        run.summary(took_faults, took_finish)
        if os.environ.get('BDFARM_KEEP'):
            print('kept %s' % run.root)
        else:
            shutil.rmtree(run.root, ignore_errors=True)
    if report.violations:
        kinds = report.grouped()
        raise AssertionError(
            'seed %d: %d invariants broken, %d different (run again with '
            'FAULT_SEED=%d FAULT_SECONDS=%g):\n\n%s'
            % (SEED, len(report.violations), len(kinds), SEED, SECONDS,
               '\n\n'.join('%d. %s' % (i + 1, v) for i, v in
                           enumerate(kinds))))


if __name__ == '__main__':
    bdfarmtest.main([test_fault], bound=int(SECONDS + FINISH + 180))
