"""What the tests of the protocol extension share (doc/protocol.md).

A BdfarmClient speaks the bdfarm client's side of the extension over one
connection that stays open: HELO with bdfarm/1 and an instance, FACTS,
ALIVE, WAITJOB, PROGRESS, FAILED with Blender's output lines, and RESULTS
answered OK, NOK or HAVE. The server may send `JOB name md5 frame` between
any two of its answers, so every line read is looked at for it. An ExtFarm
is a bdfarmtest.Farm that may run with --verbose. Run as a program, this
file is a small bdfarm client that waits for one frame, prints it and then
keeps in touch until it is killed, printing when it last spoke, so that a
test can stop a real process with SIGSTOP.
"""

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time

import bdfarmtest
from bdfarmtest import (PATIENCE, ConnectionClosed, Farm, OldClient,
                        ProtocolError, eq, md5_file)

EXT = 'bdfarm/1'

EXT_DEFAULTS = {
    # A test client speaks only while the test drives it, and a busy
    # machine may keep a test from driving it for seconds; tests of
    # liveness set a short timeout of their own.
    'client_timeout': 60,
    # Far longer than any test waits for new work: what makes a new job
    # or a lifted suspension visible must be the watch on the folder.
    'rescan_interval': 600,
}

_DIGEST = re.compile(r'[0-9a-f]{32}')
_FRAME = re.compile(r'-?[0-9]+')


class ExtFarm(Farm):
    """A server for extension tests: a long client_timeout, the job folder
    rescanned only every 10 minutes (so that inotify is what makes new work
    visible), and --verbose on request."""

    def __init__(self, settings=None, verbose=False, **kw):
        merged = dict(EXT_DEFAULTS)
        merged.update(settings or {})
        self.verbose = verbose
        Farm.__init__(self, settings=merged, **kw)

    def argv(self, jobdir=None, renderdir=None, port=None):
        argv = Farm.argv(self, jobdir, renderdir, port)
        if self.verbose:
            argv.insert(1, '--verbose')
        return argv

    def digest(self):
        """The MD5 of the program, as HELO answers it."""
        return md5_file(self.program)

    def bdfarm(self, name='node.example', instance=None, timeout=PATIENCE,
               hello=True, keepalive=0.5):
        """A BdfarmClient connected to this farm, greeted unless told.
        It sends ALIVE while it waits for a JOB, unless keepalive is None."""
        c = BdfarmClient(self.port, name=name, instance=instance,
                         timeout=timeout, keepalive=keepalive)
        if hello:
            c.hello()
        return c

    def ready_job(self, name, first, last, blend=None, size=1000):
        """Write a .blend and a job for it and wait until a frame of the
        farm can be handed out; return (blend-name, blend-md5)."""
        blend = blend or name + '.blend'
        path, data = self.blend(blend, size=size)
        self.job(name, path, first, last)
        self.wait_ready()
        return blend, bdfarmtest.md5_bytes(data)


class BdfarmClient(OldClient):
    """The bdfarm client's side of the extension over one connection."""

    def __init__(self, port, name='node.example', instance=None,
                 host='127.0.0.1', timeout=PATIENCE, keepalive=0.5):
        OldClient.__init__(self, port, host=host, timeout=timeout)
        # A request sent in several writes (FAILED and its lines) must
        # not wait for the server's delayed acknowledgement.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.name = name
        self.instance = str(instance if instance is not None
                            else os.getpid())
        self.jobs = []          # JOB answers not yet taken by the test
        self.waiting = False    # a WAITJOB is outstanding
        self.waitjob_sent = None
        self.job_received = None
        # While it waits for a JOB, the client sends ALIVE when it has
        # sent nothing for this long (None: it stays silent).
        self.keepalive = keepalive
        # When the last request started to go out: the server cannot have
        # heard from the client later than the end of that request, nor
        # earlier than this.
        self.last_sent = time.monotonic()

    @property
    def ident(self):
        """The name the server knows this client by: host#instance."""
        return '%s#%s' % (self.name, self.instance)

    # Reading: every line is looked at for JOB.

    def _take_line(self):
        """One whole line from the buffer without its end, or None."""
        if b'\n' not in self.buf:
            return None
        line, self.buf = self.buf.split(b'\n', 1)
        if line.endswith(b'\r'):
            line = line[:-1]
        return line.decode('utf-8', 'surrogateescape')

    def _note_job(self, line):
        """Record a JOB line; fail if it is malformed or unasked for."""
        t = line.split()
        if len(t) != 4 or not _DIGEST.fullmatch(t[2]) or \
                not _FRAME.fullmatch(t[3]):
            raise ProtocolError('malformed JOB line %r' % line)
        if not self.waiting:
            raise ProtocolError('JOB %r arrived with no WAITJOB outstanding'
                                % line)
        self.waiting = False
        self.job_received = time.monotonic()
        self.jobs.append((t[1], t[2], int(t[3])))

    @staticmethod
    def _is_job(line):
        return line == 'JOB' or line.startswith('JOB ')

    def read_line(self):
        """The next answer line; JOB lines met on the way are recorded."""
        while True:
            line = OldClient.read_line(self)
            if self._is_job(line):
                self._note_job(line)
                continue
            return line

    def _pump(self, deadline):
        """Read until a JOB is recorded or the deadline passes. Anything
        else the server sends unasked is a protocol error."""
        while not self.jobs:
            line = self._take_line()
            if line is not None:
                if not self._is_job(line):
                    raise ProtocolError('unsolicited line %r from the server'
                                        % line)
                self._note_job(line)
                continue
            now = time.monotonic()
            if now >= deadline:
                return
            left = deadline - now
            if self.keepalive is not None:
                due = self.last_sent + self.keepalive
                if now >= due:
                    self.alive()
                    continue
                left = min(left, due - now)
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                data = b''
            finally:
                self.sock.settimeout(self.timeout)
            if not data:
                raise ConnectionClosed('connection closed by the server '
                                       'while %s waited' % self.ident)
            self.buf += data

    def wait_job(self, timeout):
        """The next JOB as (blend-name, blend-md5, frame), waiting at most
        timeout seconds for it; None if none came."""
        if not self.jobs:
            self._pump(time.monotonic() + timeout)
        if not self.jobs:
            return None
        return self.jobs.pop(0)

    def expect_job(self, timeout=PATIENCE, what='a JOB'):
        """Like wait_job, but fail if nothing comes."""
        j = self.wait_job(timeout)
        if j is None:
            raise AssertionError('%s: no JOB for %s within %.1f s'
                                 % (what, self.ident, timeout))
        return j

    def expect_no_job(self, duration, what='no JOB'):
        """Fail if a JOB (or anything else) arrives within duration. The
        server answers WAITJOB in the same turn of its loop in which work
        appears (tests print that latency: milliseconds), so
        a short watch after the moment that matters is enough; a test that
        waits for a timer to pass watches past it."""
        j = self.wait_job(duration)
        if j is not None:
            raise AssertionError('%s: %s was handed %r' % (what, self.ident,
                                                          j))

    # Requests.

    def send_line(self, line):
        self.last_sent = time.monotonic()
        OldClient.send_line(self, line)

    def helo(self, fqdn=None, extra=None):
        """HELO with the extension token and the instance; return the
        answer's tokens."""
        if fqdn is not None:
            self.name = fqdn
        self.fqdn = self.name
        if extra is None:
            extra = '%s %s' % (EXT, self.instance)
        self.send_line('HELO %s %s' % (self.name, extra))
        return self.read_line().split()

    def hello(self):
        """HELO, checking that the server answered with bdfarm/1; return
        the answer's tokens."""
        t = self.helo()
        if len(t) != 3 or not _DIGEST.fullmatch(t[0]) or \
                t[1] not in ('0', '1', 'STOPPING') or t[2] != EXT:
            raise ProtocolError('HELO with %s answered %r' % (EXT, t))
        return t

    def facts(self, renderers=1, cores=2, blender='4.2.0'):
        self.send_line('FACTS %d %d %s' % (renderers, cores, blender))

    def alive(self):
        self.send_line('ALIVE')

    def waitjob(self, available=1):
        """WAITJOB; the JOB comes later, through wait_job."""
        if self.waiting:
            raise AssertionError('a WAITJOB is already outstanding')
        self.waiting = True
        self.waitjob_sent = time.monotonic()
        self.send_line('WAITJOB %d' % available)

    def next_job(self, timeout=PATIENCE, available=1, what='a JOB'):
        """WAITJOB and wait for its answer."""
        self.waitjob(available)
        return self.expect_job(timeout, what)

    def progress(self, name, md5, frame, permille):
        self.send_line('PROGRESS %s %s %d %d' % (name, md5, frame, permille))

    def failed(self, name, md5, frame, reason, output=()):
        """FAILED with Blender's output lines; return the answer."""
        self.send_line('FAILED %s %s %d %d %s'
                       % (name, md5, frame, len(output), reason))
        for line in output:
            self.send_line(line)
        return self.read_line()

    # A bdfarm client is also told HAVE for a frame the server has.
    refusals = ('NOK', 'HAVE')

    def render(self, job, data=None):
        """Send back a frame handed out as job: (name, md5, frame)."""
        name, md5, frame = job
        if data is None:
            data = ('frame %d of %s\n' % (frame, name)).encode()
        return self.results(name, md5, frame, '%04d.png' % frame, data)


class V2Client(BdfarmClient):
    """A bdfarm client that greets with bdfarm/2 and speaks its requests."""

    def hello2(self):
        t = self.helo(extra='bdfarm/2 %s' % self.instance)
        eq(t[2:], ['bdfarm/2'], 'version answered to bdfarm/2')
        return t

    def give_back(self, job):
        self.send_line('RETURN %s %s %d' % job)

    def hold(self, job):
        self.send_line('HOLD %s %s %d' % job)
        return self.read_line()

    def held(self):
        self.send_line('HELD')


def closed_by_server(c, timeout):
    """Whether the server closed c within timeout; fail if it sent
    anything but JOB lines first."""
    closed, got = c.closed_within(timeout)
    for line in got.decode('utf-8', 'replace').splitlines():
        if not BdfarmClient._is_job(line.strip()):
            raise AssertionError('%s got %r before the connection ended'
                                 % (getattr(c, 'ident', 'client'), got))
    return closed


def latency(what, start, end):
    """Print and return how long something took, in seconds."""
    took = end - start
    print('%s: %.1f ms' % (what, took * 1000), flush=True)
    return took


class Agent:
    """This file run as a bdfarm client process (see _agent). It prints
    `JOB name md5 frame ident` once it has a frame, and `SENT t` after
    each request, t being time.monotonic() as the request started to go
    out (the clock is the same in every process)."""

    def __init__(self, farm, name, instance=None):
        argv = [sys.executable, os.path.abspath(__file__), 'agent',
                str(farm.port), name]
        if instance is not None:
            argv.append(str(instance))
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=None)
        bdfarmtest._live.append(self.proc)
        self.buf = b''
        self.last_sent = None

    def _lines(self, timeout):
        """The whole lines printed so far but SENT lines, which set
        last_sent; waits at most timeout for a line when none is there."""
        fd = self.proc.stdout.fileno()
        while True:
            wait = 0 if b'\n' in self.buf else timeout
            r, _, _ = select.select([fd], [], [], wait)
            if not r:
                break
            data = os.read(fd, 65536)
            if not data:
                break
            self.buf += data
            timeout = 0
        lines = []
        while b'\n' in self.buf:
            line, self.buf = self.buf.split(b'\n', 1)
            t = line.decode().split()
            if t[:1] == ['SENT']:
                self.last_sent = float(t[1])
            else:
                lines.append(t)
        return lines

    def job(self, timeout=PATIENCE):
        """The frame the process took, as a tuple, and its host#instance."""
        deadline = time.monotonic() + timeout
        while True:
            for t in self._lines(max(0.0, deadline - time.monotonic())):
                if len(t) != 5 or t[0] != 'JOB':
                    raise AssertionError('the client process printed %r'
                                         % t)
                return (t[1], t[2], int(t[3])), t[4]
            if self.proc.poll() is not None:
                raise AssertionError('the client process exited with %d '
                                     'before it printed a JOB'
                                     % self.proc.returncode)
            if time.monotonic() >= deadline:
                raise AssertionError('the client process printed no JOB '
                                     'within %.1f s' % timeout)

    def stop(self):
        """Stop the process with SIGSTOP; once it is stopped, return when
        it last started to send something."""
        self.proc.send_signal(signal.SIGSTOP)
        bdfarmtest.wait_for(self._stopped, PATIENCE,
                            what='the client process to stop')
        self._lines(0)
        return self.last_sent

    def _stopped(self):
        """Whether the process is stopped."""
        with open('/proc/%d/stat' % self.proc.pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] in ('T', 't')

    def end(self):
        """Let the process go on and kill it."""
        self.proc.send_signal(signal.SIGCONT)
        self.proc.kill()
        self.proc.wait(PATIENCE)
        self.proc.stdout.close()


def _agent(argv):
    """The program: a client that takes one frame and keeps in touch."""
    port, name = int(argv[0]), argv[1]
    instance = argv[2] if len(argv) > 2 else None
    c = BdfarmClient(port, name=name, instance=instance)
    c.hello()
    c.facts()
    j = c.next_job()
    sys.stdout.write('JOB %s %s %d %s\nSENT %f\n'
                     % (j[0], j[1], j[2], c.ident, c.last_sent))
    sys.stdout.flush()
    end = time.monotonic() + 600
    while time.monotonic() < end:
        time.sleep(0.5)
        try:
            c.alive()
        except OSError:
            return 3
        sys.stdout.write('SENT %f\n' % c.last_sent)
        sys.stdout.flush()
    return 0


if __name__ == '__main__':
    if len(sys.argv) >= 4 and sys.argv[1] == 'agent':
        sys.exit(_agent(sys.argv[2:]))
    sys.stderr.write('usage: exttest.py agent PORT NAME [INSTANCE]\n')
    sys.exit(2)
