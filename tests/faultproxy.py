"""faultproxy.py: a loopback TCP proxy that breaks the link on purpose.

A FaultProxy listens on a free loopback port and forwards every connection
to a server's port, one event loop on a thread of its own. On command, or
at random from a random.Random seeded by the test, it throttles each
direction to a rate in bytes per second, delays what it forwards, cuts
connections (a FIN or a reset, at once or after a number of bytes, which
lands in the middle of a payload), and refuses new connections for a
while (a real ECONNREFUSED: the listening socket closes while a bound
socket keeps the port). Given its seed, the faults it draws are the same
from run to run; which connection a cut hits depends on what is open at
that moment.

    proxy = FaultProxy(server_port, seed=1)
    proxy.throttle(up=2000, down=None)      # bytes/s, None: no limit
    proxy.delay(up=0.3, down=0.3)           # seconds added to every byte
    proxy.cut(how='reset', after=5000, direction='up')
    proxy.refuse(2.0)
    kind = proxy.random_fault()             # one of the above, drawn
    proxy.clear()                           # a clean link again
    proxy.counts                            # faults that struck, by kind
    proxy.stats                             # connections, and refused ones
    proxy.close()
"""

import collections
import errno
import heapq
import itertools
import random
import selectors
import socket
import struct
import threading
import time

CHUNK = 65536
BUFFERED = 256 * 1024       # bytes held per direction before reading stops


def _reset(sock):
    """Make close() send a reset instead of a FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack('ii', 1, 0))
    except OSError:
        pass


class _Direction:
    """One direction of a connection: bytes read from src, waiting to be
    written to dst, each with the time it may go."""

    def __init__(self, name):
        self.name = name            # 'up' (to the server) or 'down'
        self.pending = collections.deque()  # [ready time, bytearray]
        self.held = 0               # bytes in pending
        self.eof = False            # src said it sends no more
        self.shut = False           # dst was told so
        self.tokens = 0.0
        self.stamp = time.monotonic()
        self.moved = 0
        self.cut_after = None       # bytes still to forward before a cut
        self.cut_how = None

    def ready_at(self):
        """When the first pending byte may go, or None."""
        return self.pending[0][0] if self.pending else None


class _Connection:
    """A client's connection and the proxy's own to the server."""

    def __init__(self, ident, client):
        self.ident = ident
        self.client = client
        self.server = None
        self.connected = False
        self.up = _Direction('up')
        self.down = _Direction('down')
        self.opened = time.monotonic()
        self.closed = False

    def sides(self):
        """(source, destination, direction) for both directions."""
        return ((self.client, self.server, self.up),
                (self.server, self.client, self.down))


class FaultProxy:
    """A loopback proxy to target_port whose faults a test controls."""

    # How random_fault chooses, with weights.
    KINDS = (('throttle', 3), ('delay', 2), ('cut-close', 2),
             ('cut-reset', 2), ('refuse', 1))
    RATES = (300, 1000, 4000, 16000, 64000)

    def __init__(self, target_port, seed=0, target_host='127.0.0.1'):
        self.target = (target_host, target_port)
        self.rnd = random.Random(seed)
        self.counts = collections.Counter()
        self.stats = collections.Counter()
        self.events = []            # (monotonic time, description)
        self.throttles = []         # [values], the last one rules
        self.delays = []
        self.refusing_until = 0.0
        self.conns = {}
        self.ids = itertools.count(1)
        self.timers = []            # heap of (time, seq, function)
        self.seq = itertools.count()
        self.calls = collections.deque()
        self.lock = threading.Lock()
        self.sel = selectors.DefaultSelector()
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)
        self.sel.register(self.wake_r, selectors.EVENT_READ, None)
        # The holder keeps the port while no listener is open; both set
        # SO_REUSEPORT, so nobody else can take it.
        self.holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self.holder.bind(('127.0.0.1', 0))
        self.port = self.holder.getsockname()[1]
        self.listener = None
        self._listen()
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True,
                                       name='faultproxy')

    # Control, from any thread.

    def start(self):
        self.thread.start()
        return self

    def close(self):
        """Stop the loop and close every socket."""
        if not self.running:
            return
        self._call(self._shutdown)
        self.thread.join(10)

    def throttle(self, up=None, down=None, duration=None):
        """Limit each direction to a rate in bytes/s (None: unlimited),
        for duration seconds or until changed."""
        return self._call(self._throttle, up, down, duration)

    def delay(self, up=0.0, down=0.0, duration=None):
        """Hold every byte for this many seconds before forwarding it."""
        return self._call(self._delay, up, down, duration)

    def cut(self, ident=None, how='close', after=0, direction='up'):
        """Cut a connection (the given one, else one at random) with a FIN
        ('close') or a reset ('reset'), now or once after more bytes have
        gone in direction. Returns its ident, or None if none is open."""
        return self._call(self._cut, ident, how, after, direction)

    def refuse(self, duration):
        """Refuse new connections for duration seconds."""
        return self._call(self._refuse, duration)

    def clear(self):
        """End every throttle, delay and refusal; armed cuts stay."""
        return self._call(self._clear)

    def random_fault(self):
        """Apply one fault drawn from the seeded generator; return what
        it did, in words. A cut after some bytes counts once it strikes;
        one drawn while nothing is open does nothing."""
        return self._call(self._random_fault)

    def open_connections(self):
        return self._call(lambda: len(self.conns))

    # The loop's side.

    def _call(self, fn, *args):
        """Run fn(*args) on the loop's thread and return its result."""
        if threading.current_thread() is self.thread or \
                not self.thread.is_alive():
            return fn(*args)
        done = threading.Event()
        box = []

        def run():
            try:
                box.append((True, fn(*args)))
            except Exception as e:      # handed to the caller
                box.append((False, e))
            done.set()
        with self.lock:
            self.calls.append(run)
        try:
            self.wake_w.send(b'x')
        except OSError:
            pass
        if not done.wait(30):
            raise RuntimeError('the proxy loop did not answer')
        ok, value = box[0]
        if not ok:
            raise value
        return value

    def _note(self, kind, text):
        """Count a fault that struck (kind None: only tell of it)."""
        if kind is not None:
            self.counts[kind] += 1
        self.events.append((time.monotonic(), text))

    def _after(self, delay, fn):
        heapq.heappush(self.timers, (time.monotonic() + delay,
                                     next(self.seq), fn))

    def _listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind(('127.0.0.1', self.port))
        s.listen(64)
        s.setblocking(False)
        self.listener = s
        self.sel.register(s, selectors.EVENT_READ, None)

    def _unlisten(self):
        if self.listener is not None:
            self.sel.unregister(self.listener)
            self.listener.close()
            self.listener = None

    def _limit(self, active, values, duration):
        """Add values to the list of active throttles or delays; the last
        one added rules, each until its own duration ends."""
        entry = [values]
        active.append(entry)
        if duration is not None:
            self._after(duration, lambda: active.remove(entry)
                        if entry in active else None)

    def _throttle(self, up, down, duration):
        self._limit(self.throttles, {'up': up, 'down': down}, duration)
        self._note('throttle', 'throttle up %s down %s B/s for %s'
                   % (up, down, 'ever' if duration is None else
                      '%.1f s' % duration))

    def _delay(self, up, down, duration):
        self._limit(self.delays, {'up': up, 'down': down}, duration)
        self._note('delay', 'delay up %.2f s down %.2f s for %s'
                   % (up, down, 'ever' if duration is None else
                      '%.1f s' % duration))

    @property
    def rate(self):
        """Bytes/s allowed in each direction now (None: no limit)."""
        return self.throttles[-1][0] if self.throttles else \
            {'up': None, 'down': None}

    @property
    def latency(self):
        """Seconds every byte is held in each direction now."""
        return self.delays[-1][0] if self.delays else \
            {'up': 0.0, 'down': 0.0}

    def _cut(self, ident, how, after, direction):
        if ident is None:
            # One draw whatever is open, so that the draws that follow
            # do not depend on it.
            pick = self.rnd.random()
            live = sorted(i for i, c in self.conns.items() if not c.closed)
            if not live:
                return None
            ident = live[int(pick * len(live))]
        c = self.conns.get(ident)
        if c is None or c.closed:
            return None
        kind = 'cut-' + how
        if after <= 0:
            self._note(kind, 'cut connection %d (%s) at once, after %d '
                       'bytes up and %d down'
                       % (ident, how, c.up.moved, c.down.moved))
            self._drop(c, how)
        else:
            d = c.up if direction == 'up' else c.down
            d.cut_after = after
            d.cut_how = how
            self._note(None, 'cut connection %d (%s) after %d more bytes '
                       '%s' % (ident, how, after, direction))
        return ident

    def _refuse(self, duration):
        self.refusing_until = max(self.refusing_until,
                                  time.monotonic() + duration)
        self._unlisten()
        self._note('refuse', 'refuse connections for %.2f s' % duration)

    def _clear(self):
        del self.throttles[:]
        del self.delays[:]
        self.refusing_until = 0.0
        if self.listener is None:
            self._listen()

    def _random_fault(self):
        r = self.rnd
        kind = r.choices([k for k, _ in self.KINDS],
                         [w for _, w in self.KINDS])[0]
        if kind == 'throttle':
            which = r.choice(('up', 'down', 'both'))
            rate = r.choice(self.RATES)
            # Now and then a slow link that lasts, longer than the
            # timeouts a peer may wrongly apply to a whole transfer.
            duration = r.uniform(30, 60) if r.random() < 0.2 else \
                r.uniform(1, 10)
            self._throttle(rate if which != 'down' else None,
                           rate if which != 'up' else None, duration)
        elif kind == 'delay':
            self._delay(r.uniform(0, 1.5), r.uniform(0, 1.5),
                        r.uniform(1, 8))
        elif kind == 'refuse':
            self._refuse(r.uniform(0.3, 5))
        else:
            how = kind[len('cut-'):]
            after = r.choice((0, r.randint(1, 200), r.randint(200, 20000)))
            direction = r.choice(('up', 'down'))
            if self._cut(None, how, after, direction) is None:
                return '%s drawn with no connection open' % kind
        return self.events[-1][1]

    def _shutdown(self):
        self.running = False
        for c in list(self.conns.values()):
            self._drop(c, 'reset')
        self._unlisten()
        self.holder.close()

    def _accept(self):
        while self.listener is not None:
            try:
                s, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c = _Connection(next(self.ids), s)
            self.stats['connections'] += 1
            up = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            up.setblocking(False)
            up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c.server = up
            err = up.connect_ex(self.target)
            if err not in (0, errno.EINPROGRESS):
                self.stats['upstream refused'] += 1
                _reset(s)
                s.close()
                up.close()
                continue
            self.conns[c.ident] = c
            self._watch(up, selectors.EVENT_WRITE, c)

    def _drop(self, c, how):
        """Close both sockets of c, with resets if how is 'reset'."""
        if c.closed:
            return
        c.closed = True
        for s in (c.client, c.server):
            if s is None:
                continue
            self._watch(s, 0, c)
            if how == 'reset':
                _reset(s)
            try:
                s.close()
            except OSError:
                pass
        self.conns.pop(c.ident, None)

    def _refill(self, d, now):
        rate = self.rate[d.name]
        if rate is None:
            d.tokens = float('inf')
        else:
            if d.tokens == float('inf'):
                d.tokens = 0.0
            burst = max(64.0, rate / 10.0)
            d.tokens = min(burst, d.tokens + (now - d.stamp) * rate)
        d.stamp = now

    def _can_read(self, c, d):
        return c.connected and not d.eof and d.held < BUFFERED

    def _can_write(self, d, now):
        return bool(d.pending) and d.pending[0][0] <= now and d.tokens >= 1

    def _read(self, c, src, d, now):
        try:
            data = src.recv(CHUNK)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            self._drop(c, 'reset')
            return False
        if not data:
            d.eof = True
            return True
        d.pending.append([now + self.latency[d.name], bytearray(data)])
        d.held += len(data)
        return True

    def _write(self, c, dst, d, now):
        while d.pending and d.pending[0][0] <= now and d.tokens >= 1:
            chunk = d.pending[0][1]
            n = len(chunk)
            if d.tokens != float('inf'):
                n = min(n, int(d.tokens))
            if d.cut_after is not None:
                n = min(n, d.cut_after)
            try:
                sent = dst.send(chunk[:n]) if n > 0 else 0
            except (BlockingIOError, InterruptedError):
                return True
            except OSError:
                self._drop(c, 'reset')
                return False
            del chunk[:sent]
            if not chunk:
                d.pending.popleft()
            d.held -= sent
            d.moved += sent
            if d.tokens != float('inf'):
                d.tokens -= sent
            if d.cut_after is not None:
                d.cut_after -= sent
                if d.cut_after <= 0:
                    self._note('cut-' + d.cut_how, 'connection %d cut (%s) '
                               'after %d bytes up and %d down'
                               % (c.ident, d.cut_how, c.up.moved,
                                  c.down.moved))
                    self._drop(c, d.cut_how)
                    return False
            if sent < n:
                return True
        return True

    def _finish_connect(self, c):
        err = c.server.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err != 0:
            self.stats['upstream refused'] += 1
            self._drop(c, 'reset')
            return False
        c.connected = True
        return True

    def _pump(self, c, now):
        """Move what can move for one connection; keep its registrations
        in step. Returns the next time something is due, or None."""
        if c.closed:
            return None
        due = None
        for src, dst, d in c.sides():
            self._refill(d, now)
            if not self._write(c, dst, d, now):
                return None
            if d.eof and not d.pending and not d.shut:
                d.shut = True
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            if d.pending:
                t = d.pending[0][0]
                if d.tokens < 1 and self.rate[d.name]:
                    t = max(t, now + (1 - d.tokens) / self.rate[d.name])
                if t > now and (due is None or t < due):
                    due = t
        if c.up.shut and c.down.shut:
            self._drop(c, 'close')
            return None
        for sock, mine, theirs in ((c.client, c.up, c.down),
                                   (c.server, c.down, c.up)):
            ev = 0
            if not c.connected:
                if sock is c.server:
                    ev = selectors.EVENT_WRITE
            else:
                if self._can_read(c, mine):
                    ev |= selectors.EVENT_READ
                if self._can_write(theirs, now):
                    ev |= selectors.EVENT_WRITE
            self._watch(sock, ev, c)
        return due

    def _watch(self, sock, ev, c):
        """Watch sock for the events ev (none: not at all)."""
        try:
            key = self.sel.get_key(sock)
        except KeyError:
            key = None
        if ev == 0:
            if key is not None:
                self.sel.unregister(sock)
        elif key is None:
            self.sel.register(sock, ev, c)
        elif key.events != ev:
            self.sel.modify(sock, ev, c)

    def _loop(self):
        while self.running:
            now = time.monotonic()
            with self.lock:
                calls = list(self.calls)
                self.calls.clear()
            for run in calls:
                run()
            if not self.running:
                break
            while self.timers and self.timers[0][0] <= now:
                heapq.heappop(self.timers)[2]()
            if self.listener is None and self.refusing_until <= now:
                self._listen()
            due = [t for t, _, _ in self.timers[:1]]
            if self.listener is None:
                due.append(self.refusing_until)
            for c in list(self.conns.values()):
                t = self._pump(c, now)
                if t is not None:
                    due.append(t)
            timeout = max(0.0, min(due) - time.monotonic()) if due \
                else 1.0
            for key, events in self.sel.select(min(timeout, 1.0)):
                obj, c = key.fileobj, key.data
                now = time.monotonic()
                if obj is self.wake_r:
                    try:
                        while self.wake_r.recv(4096):
                            pass
                    except (BlockingIOError, InterruptedError):
                        pass
                    continue
                if obj is self.listener:
                    self._accept()
                    continue
                if c is None or c.closed:
                    continue
                if obj is c.server and not c.connected:
                    if events & selectors.EVENT_WRITE:
                        self._finish_connect(c)
                    continue
                if events & selectors.EVENT_READ:
                    d = c.up if obj is c.client else c.down
                    if self._can_read(c, d) and \
                            not self._read(c, obj, d, now):
                        continue
                if events & selectors.EVENT_WRITE and not c.closed:
                    d = c.down if obj is c.client else c.up
                    self._refill(d, now)
                    self._write(c, obj, d, now)
        for c in list(self.conns.values()):
            self._drop(c, 'reset')
        self.sel.close()
        self.wake_r.close()
        self.wake_w.close()
