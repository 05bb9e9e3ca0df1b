"""Liveness: a bdfarm client that goes silent past client_timeout (3 s
here) is dropped and its frames go to a waiting client at once; a client
that keeps sending ALIVE keeps its frame; an old client's frame still
waits for redistribute_delay (6 s here)."""

import re
import time

from bdfarmtest import PATIENCE, check, eq, main
from exttest import Agent, ExtFarm, closed_by_server, latency

TIMEOUT = 3.0
REDISTRIBUTE = 6.0
# How late a timer of the server may act and still count as on time: on a
# busy machine the server waits its turn for a core; a server that used
# another delay would be off by whole seconds.
LATE = 5.0
# How often the clients that keep in touch speak: far more often than
# TIMEOUT, so that a test process kept from running for a while does not
# make them look lost.
ALIVE_EVERY = 0.5


def keep_in_touch(keeper, waiter, until, enough):
    """Until the monotonic time until, or until waiter has been handed
    enough JOBs, have keeper send ALIVE every ALIVE_EVERY seconds while
    waiter waits for work; return what waiter was handed as (job, time
    received)."""
    got = []
    while len(got) < enough and time.monotonic() < until:
        j = waiter.wait_job(max(0.0, min(ALIVE_EVERY,
                                         until - time.monotonic())))
        if j is not None:
            got.append((j, waiter.job_received))
            waiter.waitjob(1)
        if time.monotonic() - keeper.last_sent >= ALIVE_EVERY:
            keeper.alive()
    return got


def test_silent_dropped_alive_kept_old_waits():
    with ExtFarm({'redistribute_delay': int(REDISTRIBUTE),
                  'client_timeout': int(TIMEOUT)}).start() as farm:
        name, md5 = farm.ready_job('a', 1, 3)
        with farm.client() as old:
            old.helo('old.example')
            # The server hands the frame out after this moment: a lower
            # bound that holds however late its answer reaches the test.
            t_old = time.monotonic()
            eq(old.requestjob(1), (name, md5, 1), 'frame of the old client')
            old.goodbye()
        silent = farm.bdfarm('silent.example')
        eq(silent.next_job(), (name, md5, 2), 'frame of the silent one')
        keeper = farm.bdfarm('keeper.example')
        eq(keeper.next_job(), (name, md5, 3), 'frame of the keeper')
        t_keeper = time.monotonic()
        waiter = farm.bdfarm('waiter.example')
        waiter.waitjob(1)

        # The keeper sends ALIVE while the waiter collects what it gets:
        # the silent client's frame, then the old client's.
        got = keep_in_touch(keeper, waiter,
                            t_old + REDISTRIBUTE + LATE + PATIENCE, 2)
        eq([j for j, _ in got], [(name, md5, 2), (name, md5, 1)],
           'frames handed to the waiting client, in order')
        # The server last heard from the silent client no earlier than
        # its last request started to go out.
        took = latency('silent client\'s frame handed on after',
                       silent.last_sent, got[0][1])
        check(TIMEOUT - 0.1 <= took <= TIMEOUT + LATE,
              'the silent client\'s frame went out again after %.2f s; '
              'client_timeout is %.0f s', took, TIMEOUT)
        took = latency('old client\'s frame handed on after', t_old,
                       got[1][1])
        check(REDISTRIBUTE - 0.1 <= took <= REDISTRIBUTE + LATE,
              'the old client\'s frame went out again after %.2f s; '
              'redistribute_delay is %.0f s', took, REDISTRIBUTE)
        check(closed_by_server(silent, PATIENCE),
              'the silent client\'s connection is still open')
        check(keeper.still_open(), 'the server dropped a client that sent '
              'ALIVE every %.1f s', ALIVE_EVERY)
        # The keeper's frame is as old as redistribute_delay, but its host
        # keeps in touch: it is not handed out again. The server hands out
        # a frame that is due within a second of it falling due (the old
        # client's frame above); watch until that second and more have
        # passed for the keeper's frame too.
        eq(keep_in_touch(keeper, waiter, t_keeper + REDISTRIBUTE + 2.0, 1),
           [], 'frames handed out while the keeper kept in touch')
        eq(keeper.render((name, md5, 3)), 'THANKYOU', 'keeper\'s upload')
        farm.wait_log(r'silent\.example#\d+ is lost; 1 frames')
        check(not re.search(r'(keeper|waiter)\.example#\d+ is lost',
                            farm.log()),
              'a client that kept in touch was reported lost:\n%s',
              farm.log_tail())
        for c in (silent, keeper, waiter):
            c.close()


def test_stopped_process_is_lost():
    with ExtFarm({'client_timeout': int(TIMEOUT)}).start() as farm:
        name, md5 = farm.ready_job('a', 1, 1)
        agent = Agent(farm, 'stopped.example')
        try:
            job, ident = agent.job()
            eq(job, (name, md5, 1), 'frame of the client process')
            seen = time.monotonic()
            waiter = farm.bdfarm('waiter.example')
            waiter.waitjob(1)
            # The process asked for its frame before it printed it: had it
            # not kept in touch since, it would be lost within TIMEOUT of
            # that, and its frame handed to the waiter at once.
            waiter.expect_no_job(max(1.0, seen + TIMEOUT + 1.0 -
                                     time.monotonic()),
                                 'the client process keeps in touch')
            last = agent.stop()
            stopped = time.monotonic()
            j = waiter.expect_job(what='frame of a stopped client')
            eq(j, (name, md5, 1), 'frame handed on')
            took = latency('stopped client process last spoke, its frame '
                           'handed on after', last, waiter.job_received)
            check(took >= TIMEOUT - 0.1,
                  'the stopped client\'s frame went out again %.2f s after '
                  'it last spoke; client_timeout is %.0f s', took, TIMEOUT)
            took = latency('stopped client process detected and its frame '
                           'handed on after', stopped, waiter.job_received)
            check(took <= TIMEOUT + LATE,
                  'the stopped client\'s frame went out again %.2f s after'
                  ' it stopped; client_timeout is %.0f s', took, TIMEOUT)
            farm.wait_log(r'%s: closing the connection: silent' %
                          ident.replace('.', r'\.'))
            farm.wait_log(r'%s is lost; 1 frames' % ident.replace('.', r'\.'))
            waiter.close()
        finally:
            agent.end()


if __name__ == '__main__':
    main([test_silent_dropped_alive_kept_old_waits,
          test_stopped_process_is_lost], bound=120)
