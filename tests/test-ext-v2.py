"""Version 2 of the extension, server side: the version answered, RETURN,
HOLD and HELD after a reconnection, the frames of a client that left kept
for client_timeout, frames out kept across a clean stop, and backup copies
with CANCEL for the slower copy."""

import os
import re
import signal
import time

import bdfarmtest
from bdfarmtest import check, eq
from exttest import ExtFarm, ProtocolError, V2Client

BOUND = 10


class CancelClient(V2Client):
    """A version 2 client that notes the CANCEL lines it is sent."""

    def __init__(self, port, **kw):
        V2Client.__init__(self, port, **kw)
        self.cancels = []

    def _take_line(self):
        while True:
            line = V2Client._take_line(self)
            if line is None or not line.startswith('CANCEL '):
                return line
            self.cancels.append(line)

    def read_line(self):
        while True:
            line = V2Client.read_line(self)
            if not line.startswith('CANCEL '):
                return line
            self.cancels.append(line)

    def wait_cancel(self, timeout):
        """Wait until a CANCEL line has come; return it."""
        deadline = time.monotonic() + timeout
        while not self.cancels:
            if time.monotonic() > deadline:
                raise AssertionError('no CANCEL for %s within %.1f s'
                                     % (self.ident, timeout))
            self.sock.settimeout(0.2)
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = None
            finally:
                self.sock.settimeout(self.timeout)
            if data == b'':
                raise AssertionError('connection closed')
            if data:
                self.buf += data
            while self._take_line() is not None:
                pass
        return self.cancels.pop(0)


def client(farm, name, instance=None):
    c = CancelClient(farm.port, name=name, instance=instance)
    c.hello2()
    return c


def test_version_answered():
    with ExtFarm().start() as farm:
        for extra, want in (('bdfarm/2 1', ['bdfarm/2']),
                            ('bdfarm/1 2', ['bdfarm/1']),
                            ('bdfarm/3 4', ['bdfarm/3']),
                            ('bdfarm/4 5', ['bdfarm/4']),
                            ('bdfarm/9 3', ['bdfarm/4']),
                            (None, [])):
            with farm.client() as c:
                line = 'HELO v.example' + (' ' + extra if extra else '')
                c.send_line(line)
                eq(c.read_line().split()[2:], want, 'answer to %r' % line)
        # A bdfarm/1 client may not use version 2's requests.
        with farm.bdfarm('one.example') as c:
            c.send_line('HELD')
            check(bdfarmtest.OldClient.closed_within(c, 3)[0],
                  'HELD from a bdfarm/1 client was accepted')
        # WARM is version 4's, and must be well formed.
        for version, line, closes in ((3, 'WARM 2', True),
                                      (4, 'WARM 2 - 0', False),
                                      (4, 'WARM' + ' 1' * 17, True),
                                      (4, 'WARM -2', True)):
            with farm.client() as c:
                c.send_line('HELO w.example bdfarm/%d 1' % version)
                c.read_line()
                c.send_line(line)
                if closes:
                    check(bdfarmtest.OldClient.closed_within(c, 3)[0],
                          '%r in a bdfarm/%d session was accepted', line,
                          version)
                else:
                    c.send_line('REQUESTJOB 1')
                    eq(c.read_line(), 'None', 'the answer after %r' % line)


def test_return_goes_back_at_once():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('r', 1, 1)
        a = client(farm, 'a.example')
        b = client(farm, 'b.example')
        job = a.next_job(BOUND)
        b.waitjob(1)
        b.expect_no_job(0.5, 'frame out to a')
        a.give_back(job)
        eq(b.expect_job(BOUND, 'frame given back'), job, 'frame')
        log = farm.joblog('r')
        check('frame 1 handed back by %s: given back by the client'
              % a.ident in log, 'job log:\n%s', log)
        check('failed' not in log, 'a RETURN counted as a failure')
        a.close()
        b.close()


def test_reconnect_hold_held():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('h', 1, 3)
        a = client(farm, 'a.example', instance=7)
        a.facts(renderers=3)
        one = a.next_job(BOUND)
        two = a.next_job(BOUND)
        three = a.next_job(BOUND)
        a.give_back(three)
        a.close()
        # Back within client_timeout: it holds frame 1, no longer 2, and
        # 3, which it gave back and which only it may take again so.
        b = client(farm, 'b.example')
        eq(b.hold(three), 'NOK', 'HOLD of a frame it never had')
        a = client(farm, 'a.example', instance=7)
        eq(a.hold(one), 'OK', 'HOLD of a frame still out to it')
        eq(a.hold(three), 'OK', 'HOLD of its frame in the queue')
        eq(a.hold(('nosuch.blend', md5, 1)), 'NOK', 'HOLD of no job')
        eq(b.hold(one), 'NOK', 'HOLD of a frame out to another')
        b.waitjob(1)
        b.expect_no_job(0.3, 'a frame before HELD')
        a.held()
        eq(b.expect_job(BOUND, 'the frame a no longer holds'), two, 'frame')
        eq(a.render(one), 'THANKYOU', 'frame kept across the reconnection')
        eq(a.render(three), 'THANKYOU', 'frame given again')
        eq(b.render(two), 'THANKYOU', 'frame handed back')
        farm.wait_log(r'h\.job: rendering complete', BOUND)
        a.close()
        b.close()


def test_left_client_keeps_frames_a_while():
    # client_timeout is 2 s: a client that left gets that long to return.
    with ExtFarm(settings={'client_timeout': 3}).start() as farm:
        name, md5 = farm.ready_job('k', 1, 1)
        a = client(farm, 'a.example')
        job = a.next_job(BOUND)
        b = client(farm, 'b.example')
        b.waitjob(1)
        left = time.monotonic()
        a.close()
        got = b.expect_job(BOUND, 'the frame of a client that left')
        eq(got, job, 'frame')
        waited = time.monotonic() - left
        check(waited >= 2.5, 'the frame went to b %.1f s after a left, '
              'before client_timeout', waited)
        farm.wait_log(r'%s is lost; 1 frames handed back'
                      % re.escape(a.ident), BOUND)
        b.close()


def test_clean_stop_keeps_frames_out():
    with ExtFarm(settings={'client_timeout': 30}).start() as farm:
        name, md5 = farm.ready_job('s', 1, 4)
        a = client(farm, 'a.example', instance=5)
        a.facts(renderers=3)
        job = a.next_job(BOUND)
        with farm.client() as old:
            old.helo('old.example')
            eq(old.requestjob(1), (name, md5, 2), 'old client frame')
            old.goodbye()
        # A bdfarm/1 client, connected while the server stops.
        one = farm.bdfarm('one.example', instance=6)
        eq(one.next_job(BOUND), (name, md5, 3), 'bdfarm/1 client frame')
        a.close()
        eq(farm.stop(), 0, 'exit status after SIGTERM')
        one.close()
        with open(os.path.join(farm.jobdir, '.bdfarm.state')) as f:
            state = f.read()
        check(re.search(r'\nout 1 \d+ 1 2 a\.example#5\n', state) and
              re.search(r'\nout 2 \d+ 1 0 old\.example\n', state) and
              re.search(r'\nout 3 \d+ 1 1 one\.example#6\n', state),
              'frames out not saved as out:\n%s', state)
        farm.start()
        # The v2 client comes back: its frame is still its own.
        a = client(farm, 'a.example', instance=5)
        eq(a.hold(job), 'OK', 'HOLD after the restart')
        a.held()
        b = client(farm, 'b.example')
        eq(b.next_job(BOUND), (name, md5, 4), 'the only fresh frame')
        b.waitjob(1)
        b.expect_no_job(0.5, 'a frame still out')
        eq(a.render(job), 'THANKYOU', 'result after the restart')
        one = farm.bdfarm('one.example', instance=6)
        eq(one.render((name, md5, 3)), 'THANKYOU', 'bdfarm/1 client result '
           'after the restart')
        one.close()
        # The old client's result is taken after the restart too.
        with farm.client() as old:
            old.helo('old.example')
            eq(old.results(name, md5, 2, '0002.png', b'old frame'),
               'THANKYOU', 'old client result after the restart')
            old.goodbye()
        eq(b.render((name, md5, 4)), 'THANKYOU', 'fresh frame')
        farm.wait_log(r's\.job: rendering complete', BOUND)
        log = farm.joblog('s')
        check('handed out again' not in log, 'a frame went out twice:\n%s',
              log)
        a.close()
        b.close()


def test_restored_client_that_never_returns():
    with ExtFarm(settings={'client_timeout': 2}).start() as farm:
        name, md5 = farm.ready_job('n', 1, 1)
        a = client(farm, 'a.example', instance=9)
        job = a.next_job(BOUND)
        a.close()
        farm.stop()
        start = time.monotonic()
        farm.start()
        b = client(farm, 'b.example')
        eq(b.next_job(BOUND), job, 'frame of the client that never came '
           'back')
        # Counted from the restart, which came after start.
        check(time.monotonic() - start >= 1.9, 'handed out before '
              'client_timeout')
        b.close()


def test_backup_copy_and_cancel():
    with ExtFarm(verbose=True).start() as farm:
        name, md5 = farm.ready_job('b', 1, 3)
        slow = client(farm, 'slow.example')
        fast = client(farm, 'fast.example')
        # Slow takes a second for frame 1, then starts on frame 2.
        one = slow.next_job(BOUND)
        time.sleep(1.0)   # how slow it is: the input of this test
        eq(slow.render(one), 'THANKYOU', 'slow frame')
        two = slow.next_job(BOUND)
        eq(two, (name, md5, 2), 'second frame')
        three = fast.next_job(BOUND)
        eq(fast.render(three), 'THANKYOU', 'fast frame')
        # Nothing fresh is left: fast renders a copy of frame 2.
        eq(fast.next_job(BOUND), two, 'backup copy')
        eq(fast.render(two), 'THANKYOU', 'the copy, first')
        cancel = slow.wait_cancel(BOUND)
        eq(cancel, 'CANCEL %s %s 2' % (name, md5), 'slow told to drop it')
        eq(slow.render(two), 'HAVE', 'the slow copy, second')
        farm.wait_log(r'b\.job: rendering complete', BOUND)
        log = farm.joblog('b')
        check('frame 2 handed out to %s as a backup copy of the one on %s'
              % (fast.ident, slow.ident) in log, 'job log:\n%s', log)
        check('backup copies handed out: 1' in log, 'job log:\n%s', log)
        slow.close()
        fast.close()


if __name__ == '__main__':
    bdfarmtest.main([test_version_answered, test_return_goes_back_at_once,
                     test_reconnect_hold_held,
                     test_left_client_keeps_frames_a_while,
                     test_clean_stop_keeps_frames_out,
                     test_restored_client_that_never_returns,
                     test_backup_copy_and_cancel], bound=60)
