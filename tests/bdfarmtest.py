"""Shared harness for the integration tests of the bdfarm server.

A Farm is one server process on a free loopback port with its own job
folder, render folder and configuration file; if another process takes
the port before the server binds it, the server is started on another. An
OldClient speaks the old client's side of the farm protocol over one
connection, byte for byte. The helpers write job files and stand-in .blend
files, and main() runs a file's test functions one after the other, each
under a time bound, and makes sure that no process started here outlives
the test. Every wait is for a sign (a log line, a file, an answer) with a
generous limit, so that tests pass on a busy machine.
"""

import atexit
import hashlib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

# How long to wait for something that happens at once on an idle machine:
# tests must pass while other builds and tests keep every core busy, and
# waiting longer for a sign costs nothing when it comes.
PATIENCE = 30

# How many times to start a server on a new port when another process
# took the one it was to listen on.
PORT_ATTEMPTS = 5

SERVER_DEFAULTS = {
    # An old client held open by a test may sit idle while the test waits
    # for something else; only tests of the timeout itself set it short.
    'peer_timeout': 60,
    'redistribute_delay': 600,
    'rescan_interval': 1,
    'blend_check_interval': 1,
    'state_save_delay': 50,
    # Every test's clients come from the loopback, some tests' by the
    # dozen; only the tests of the cap itself set one.
    'max_peers_per_address': 0,
}

_live = []


def bdfarm_path():
    """The program under test: $BDFARM, or the build folder's binary."""
    path = os.environ.get('BDFARM')
    if not path:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(os.path.dirname(here), 'bdfarm')
    if not os.access(path, os.X_OK):
        sys.stderr.write('bdfarm program not found: %s\n' % path)
        sys.exit(99)
    return path


def md5_bytes(data):
    """The MD5 of some bytes, as 32 lower-case hexadecimal digits."""
    return hashlib.md5(data).hexdigest()


def md5_file(path):
    """The MD5 of a file's contents."""
    h = hashlib.md5()
    with open(path, 'rb') as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
    return h.hexdigest()


def write_file(path, data, mode='wb'):
    """Write a whole file under a temporary name, then rename it into
    place, so that a reader never sees half of it."""
    d = os.path.dirname(path)
    if d:
        os.makedirs(d, exist_ok=True)
    tmp = os.path.join(d or '.', '.tmp-%d-%s.part'
                       % (os.getpid(), os.path.basename(path)))
    with open(tmp, mode) as f:
        f.write(data)
    os.rename(tmp, path)
    return path


def write_blend(path, data=None, size=None, seed=None):
    """Write a stand-in .blend file of the given bytes (or size) and return
    its bytes."""
    if data is None:
        rnd = random.Random(seed if seed is not None else path)
        data = bytes(rnd.getrandbits(8) for _ in range(size or 1000))
    write_file(path, data)
    return data


def write_job(jobdir, name, blend, first, last, crlf=False):
    """Write JOBDIR/NAME.job: three lines, the .blend's absolute path, the
    first frame and the last frame. Written under a temporary name first so
    that the server never sees half of it."""
    end = '\r\n' if crlf else '\n'
    text = '%s%s%d%s%d%s' % (os.path.abspath(blend), end, first, end, last,
                             end)
    return write_raw_job(jobdir, name, text.encode())


def write_raw_job(jobdir, name, data):
    """Write JOBDIR/NAME.job with exactly these bytes, atomically."""
    return write_file(os.path.join(jobdir, name + '.job'), data)


def read_joblog(jobdir, name):
    """The text of JOBDIR/NAME.log, or '' while it does not exist."""
    try:
        with open(os.path.join(jobdir, name + '.log'), 'rb') as f:
            return f.read().decode('utf-8', 'replace')
    except FileNotFoundError:
        return ''


def wait_for(pred, timeout, interval=0.05, what='condition'):
    """Call pred until it returns something true, or fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %.1f s waiting for %s'
                                 % (timeout, what))
        time.sleep(interval)


def free_port():
    """A TCP port that is free on both 127.0.0.1 and ::1 right now; another
    process may take it before the server binds it (Farm.start then moves
    to another)."""
    for _ in range(200):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
        s.close()
        if have_ipv6():
            s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            try:
                s6.bind(('::1', port))
            except OSError:
                continue
            finally:
                s6.close()
        return port
    raise RuntimeError('no free port found')


_ipv6 = None


def have_ipv6():
    """Whether the loopback interface has ::1."""
    global _ipv6
    if _ipv6 is None:
        try:
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s.bind(('::1', 0))
            s.close()
            _ipv6 = True
        except OSError:
            _ipv6 = False
    return _ipv6


def _kill_all():
    """Kill every server process still alive."""
    for p in list(_live):
        if p.poll() is None:
            try:
                p.kill()
                p.wait(5)
            except Exception:
                pass
    _live.clear()


atexit.register(_kill_all)


def _on_signal(signum, frame):
    _kill_all()
    os._exit(128 + signum)


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


class ServerExited(AssertionError):
    """The server ended when it should have been running."""


class Farm:
    """A server on a free loopback port with its own folders."""

    def __init__(self, settings=None, listen='127.0.0.1', program=None,
                 root=None):
        self.program = program or bdfarm_path()
        self.root = root or tempfile.mkdtemp(prefix='bdfarm-test-')
        self.jobdir = os.path.join(self.root, 'jobs')
        self.renderdir = os.path.join(self.root, 'renders')
        self.blenddir = os.path.join(self.root, 'blends')
        for d in (self.jobdir, self.renderdir, self.blenddir):
            os.makedirs(d, exist_ok=True)
        self.conf = os.path.join(self.root, 'bdfarm.conf')
        self.errlog = os.path.join(self.root, 'server.log')
        self.settings = dict(SERVER_DEFAULTS)
        if listen:
            self.settings['listen'] = listen
        self.settings.update(settings or {})
        self.port = free_port()
        self.proc = None
        self.starts = 0
        self.write_conf()

    def write_conf(self, **more):
        """Write the configuration file from self.settings (and more)."""
        self.settings.update(more)
        lines = ['server = {']
        for k, v in self.settings.items():
            if isinstance(v, str):
                lines.append('  %s = "%s";' % (k, v))
            elif isinstance(v, list):
                lines.append('  %s = [%s];'
                             % (k, ', '.join('"%s"' % x for x in v)))
            elif isinstance(v, bool):
                lines.append('  %s = %s;' % (k, 'true' if v else 'false'))
            elif isinstance(v, int) and abs(v) > 2**31 - 1:
                lines.append('  %s = %dL;' % (k, v))
            else:
                lines.append('  %s = %s;' % (k, v))
        lines.append('};')
        write_file(self.conf, ('\n'.join(lines) + '\n').encode())

    def argv(self, jobdir=None, renderdir=None, port=None):
        """The server's command line."""
        return [self.program, '--headless', '--config', self.conf,
                '--port', str(port or self.port),
                jobdir or self.jobdir, renderdir or self.renderdir]

    def spawn(self, argv, as_user=None):
        """Start a process with stderr to the log file and remember it."""
        if shutil.which('setpriv'):
            pre = ['setpriv', '--pdeathsig', 'KILL']
            if as_user is not None:
                pre += ['--reuid=%d' % as_user, '--regid=%d' % as_user,
                        '--clear-groups']
            argv = pre + ['--'] + argv
        elif as_user is not None:
            raise RuntimeError('setpriv is needed to drop privileges')
        with open(self.errlog, 'ab') as err:
            err.write(b'=== start %d: %s\n'
                      % (self.starts, ' '.join(argv).encode()))
            err.flush()
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                 stdout=err, stderr=err)
        self.starts += 1
        _live.append(p)
        return p

    def start(self, wait=True, timeout=60):
        """Start the server and wait until it listens. When it cannot
        listen because another process took its port meanwhile (the port
        of a stopped server is anyone's until it starts again), start it
        again on a new port: tests reach the server through self.port."""
        assert self.proc is None or self.proc.poll() is not None
        attempt = 1
        while True:
            mark = self.log_size()
            self.proc = self.spawn(self.argv())
            if not wait:
                return self
            try:
                self.wait_listening(mark, timeout)
                return self
            except ServerExited:
                if attempt >= PORT_ATTEMPTS or not self.port_taken(mark):
                    raise
            attempt += 1
            self.port = free_port()

    def port_taken(self, since):
        """Whether the server, started at log offset since, said that its
        port is in use."""
        return re.search(r'port %d: .*in use' % self.port,
                         self.log_since(since)) is not None

    def wait_listening(self, since, timeout=60):
        """Wait until the server started at log offset since says it
        listens on its port and the port accepts connections; fail if the
        server ends first. Its own line is the sign: a connection alone
        could reach another process that took the port."""
        rx = re.compile(r'listening on \S*:%d;' % self.port)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise ServerExited('server exited with %s before listening;'
                                   ' its log:\n%s'
                                   % (self.proc.returncode, self.log_tail()))
            if rx.search(self.log_since(since)):
                try:
                    s = socket.create_connection(('127.0.0.1', self.port),
                                                 PATIENCE)
                    s.close()
                    return
                except OSError:
                    pass
            if time.monotonic() > deadline:
                raise AssertionError('server not listening on port %d after '
                                     '%.0f s; its log:\n%s'
                                     % (self.port, timeout, self.log_tail()))
            time.sleep(0.05)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def assert_alive(self):
        if not self.alive():
            raise ServerExited('server died (exit %s); its log:\n%s'
                               % (self.proc.returncode, self.log_tail()))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=60):
        """SIGTERM, then SIGKILL after the bound; return the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(PATIENCE)
        return self.proc.returncode

    def kill9(self):
        """Kill the server with SIGKILL and wait for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(PATIENCE)

    def cleanup(self):
        """Stop the server and remove the folders."""
        self.kill9()
        if os.environ.get('BDFARM_KEEP'):
            sys.stderr.write('kept %s\n' % self.root)
            return
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            sys.stderr.write('--- server log (%s) ---\n%s\n'
                             % (self.errlog, self.log_tail()))
        self.stop()
        report = self.sanitizer_report()
        self.cleanup()
        if report and exc[0] is None:
            raise AssertionError('the server reported a sanitizer error:\n'
                                 + report)
        return False

    def sanitizer_report(self, since=0):
        """The first AddressSanitizer, LeakSanitizer or UBSan report in
        the server log, or None."""
        text = self.log_since(since) if os.path.exists(self.errlog) else ''
        m = re.search(r'(?m)^.*(ERROR: (Address|Leak|Thread|Memory)'
                      r'Sanitizer|runtime error: ).*$', text)
        if m is None:
            return None
        return '\n'.join(text[m.start():].splitlines()[:30])

    # Logs.

    def log(self):
        """Everything the server wrote on stderr so far."""
        try:
            with open(self.errlog, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except FileNotFoundError:
            return ''

    def log_size(self):
        try:
            return os.path.getsize(self.errlog)
        except FileNotFoundError:
            return 0

    def log_since(self, offset):
        with open(self.errlog, 'rb') as f:
            f.seek(offset)
            return f.read().decode('utf-8', 'replace')

    def log_tail(self, n=40):
        return '\n'.join(self.log().splitlines()[-n:])

    def wait_log(self, pattern, timeout=PATIENCE, since=0):
        """Wait until the server log (from offset since) matches pattern."""
        rx = re.compile(pattern)
        return wait_for(lambda: rx.search(self.log_since(since)), timeout,
                        what='server log to match %r' % pattern)

    def joblog_path(self, name):
        return os.path.join(self.jobdir, name + '.log')

    def joblog(self, name):
        return read_joblog(self.jobdir, name)

    # Jobs and files.

    def blend(self, name, data=None, size=1000, seed=None):
        """Write a stand-in .blend under the farm's blend folder; return
        (path, bytes)."""
        path = os.path.join(self.blenddir, name)
        return path, write_blend(path, data=data, size=size, seed=seed)

    def job(self, name, blend, first, last, crlf=False):
        return write_job(self.jobdir, name, blend, first, last, crlf)

    def framedir(self, name):
        return os.path.join(self.renderdir, name + '.job')

    def frame_path(self, name, image):
        return os.path.join(self.framedir(name), image)

    def client(self, host='127.0.0.1', timeout=PATIENCE):
        return OldClient(self.port, host=host, timeout=timeout)

    def wait_ready(self, timeout=PATIENCE, fqdn='probe.example'):
        """Wait until HELO says a frame can be handed out now."""
        def ready():
            self.assert_alive()
            with self.client() as c:
                todo = c.helo(fqdn)[1]
                c.goodbye()
            return todo == '1'
        wait_for(ready, timeout, interval=0.1,
                 what='HELO to announce work')

    def poll_job(self, n=1, timeout=PATIENCE, fqdn='poll.example'):
        """Ask REQUESTJOB until it hands out a frame; return it."""
        def ask():
            self.assert_alive()
            with self.client() as c:
                c.helo(fqdn)
                j = c.requestjob(n)
                c.goodbye()
            return j
        return wait_for(ask, timeout, interval=0.1,
                        what='REQUESTJOB to hand out a frame')


class ProtocolError(AssertionError):
    """The server answered something the protocol does not allow here."""


class ConnectionClosed(AssertionError):
    """The server closed the connection."""


class OldClient:
    """The old client's side of the protocol over one connection: lines end
    in CR LF, payloads follow their size line, every read has a timeout."""

    def __init__(self, port, host='127.0.0.1', timeout=PATIENCE):
        self.host = host
        self.port = port
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout)
        self.sock.settimeout(timeout)
        self.buf = b''
        self.fqdn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def local_port(self):
        return self.sock.getsockname()[1]

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None

    def abort(self):
        """Close with a reset, as a peer that dies would."""
        if self.sock is not None:
            import struct
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack('ii', 1, 0))
            self.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send_line(self, line):
        if isinstance(line, str):
            line = line.encode('utf-8', 'surrogateescape')
        self.sock.sendall(line + b'\r\n')

    def _fill(self):
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b''
        except socket.timeout:
            raise ProtocolError('no answer within %.1f s' % self.timeout)
        if not data:
            raise ConnectionClosed('connection closed by the server')
        self.buf += data

    def read_line(self):
        """One line without its end (CR optional), as text."""
        while b'\n' not in self.buf:
            if len(self.buf) > 1 << 20:
                raise ProtocolError('line too long from server')
            self._fill()
        line, self.buf = self.buf.split(b'\n', 1)
        if line.endswith(b'\r'):
            line = line[:-1]
        return line.decode('utf-8', 'surrogateescape')

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_sized(self):
        """A size line, then that many bytes."""
        line = self.read_line()
        if not re.fullmatch(r'[0-9]+', line.strip()):
            raise ProtocolError('expected a size, got %r' % line)
        return self.read_exact(int(line))

    def helo(self, fqdn='peer.example', extra=None):
        """HELO; return the answer's tokens."""
        self.fqdn = fqdn
        self.send_line('HELO %s%s' % (fqdn, ' ' + extra if extra else ''))
        return self.read_line().split()

    def requestjob(self, available=1):
        """REQUESTJOB; return (blend-name, blend-md5, frame) or None."""
        self.send_line('REQUESTJOB %d' % available)
        line = self.read_line()
        t = line.split()
        if t == ['None']:
            return None
        if len(t) != 3 or not re.fullmatch(r'[0-9a-f]{32}', t[1]) or \
                not re.fullmatch(r'-?[0-9]+', t[2]):
            raise ProtocolError('bad REQUESTJOB answer %r' % line)
        return (t[0], t[1], int(t[2]))

    def requestblenderfile(self, name, md5):
        self.send_line('REQUESTBLENDERFILE %s %s' % (name, md5))
        return self.read_sized()

    def requestblenderdist(self):
        self.send_line('REQUESTBLENDERDIST')
        return self.read_sized()

    # The answers to RESULTS after which no bytes are sent.
    refusals = ('NOK',)

    def results(self, name, md5, frame, image, data, size=None,
                chunks=1, pause=0.0):
        """RESULTS; on OK send the bytes (in chunks, pausing between them)
        and return the final answer ('THANKYOU'), or return the refusal."""
        self.send_line('RESULTS %s %s %s %s %d'
                       % (name, md5, frame, image,
                          len(data) if size is None else size))
        answer = self.read_line()
        if answer in self.refusals:
            return answer
        if answer != 'OK':
            raise ProtocolError('RESULTS answered %r' % answer)
        step = max(1, -(-len(data) // chunks))
        for i in range(0, len(data), step):
            if i and pause:
                time.sleep(pause)
            self.sock.sendall(data[i:i + step])
        answer = self.read_line()
        if answer != 'THANKYOU':
            raise ProtocolError('after the bytes, the server said %r'
                                % answer)
        return answer

    def goodbye(self):
        try:
            self.send_line('GOODBYE')
        except OSError:
            pass
        self.close()

    def closed_within(self, timeout):
        """Whether the server closes the connection within timeout seconds
        without sending anything more. Return (closed, bytes received)."""
        got = self.buf
        self.buf = b''
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False, got
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                return True, got
            except socket.timeout:
                return False, got
            if not data:
                return True, got
            got += data

    def still_open(self):
        """Whether the connection is still open (nothing pending, no EOF)."""
        self.sock.setblocking(False)
        try:
            data = self.sock.recv(1, socket.MSG_PEEK)
            return bool(data)
        except BlockingIOError:
            return True
        except OSError:
            return False
        finally:
            self.sock.setblocking(True)
            self.sock.settimeout(self.timeout)


def assert_closed(c, timeout=PATIENCE,
                  what='the server to close the connection'):
    """Fail unless the server closes c within timeout, sending nothing."""
    closed, got = c.closed_within(timeout)
    if not closed:
        raise AssertionError('expected %s; it stayed open%s' % (
            what, ', after sending %r' % got[:200] if got else ''))
    if got:
        raise AssertionError('expected %s with no answer; it sent %r first'
                             % (what, got[:200]))


def check(cond, msg, *args):
    """Fail with msg % args unless cond."""
    if not cond:
        raise AssertionError(msg % args if args else msg)


def eq(got, want, what):
    if got != want:
        raise AssertionError('%s: expected %r, got %r' % (what, want, got))


def main(tests, bound=180):
    """Run the test functions in order, each at most bound seconds (a
    guard against a test that hangs, far above what a test takes on a busy
    machine); print one line each; exit 0 if all pass, 1 otherwise."""
    only = sys.argv[1:]
    failed = 0

    def alarm(signum, frame):
        raise AssertionError('test exceeded its bound of %d s' % bound)

    signal.signal(signal.SIGALRM, alarm)
    for t in tests:
        if only and t.__name__ not in only:
            continue
        start = time.monotonic()
        signal.alarm(bound)
        try:
            t()
            status = 'PASS'
        except Exception:
            status = 'FAIL'
            failed += 1
            traceback.print_exc()
        finally:
            signal.alarm(0)
            _kill_all()
        print('%s: %s (%.1f s)' % (status, t.__name__,
                                    time.monotonic() - start), flush=True)
    sys.exit(1 if failed else 0)
