"""Liveness: a bdfarm client that goes silent past client_timeout (2 s
here) is dropped and its frames go to a waiting client at once; a client
that keeps sending ALIVE keeps its frame; an old client's frame still
waits for redistribute_delay (4 s here)."""

import re
import signal
import time

from bdfarmtest import check, eq, main
from exttest import ExtFarm, agent_job, closed_by_server, latency, \
    spawn_agent

TIMEOUT = 2.0
REDISTRIBUTE = 4.0


def test_silent_dropped_alive_kept_old_waits():
    with ExtFarm({'redistribute_delay': int(REDISTRIBUTE)}).start() as farm:
        name, md5 = farm.ready_job('a', 1, 3)
        with farm.client() as old:
            old.helo('old.example')
            eq(old.requestjob(1), (name, md5, 1), 'frame of the old client')
            t_old = time.monotonic()
            old.goodbye()
        silent = farm.bdfarm('silent.example')
        eq(silent.next_job(1.0), (name, md5, 2), 'frame of the silent one')
        t_silent = silent.job_received
        keeper = farm.bdfarm('keeper.example')
        eq(keeper.next_job(1.0), (name, md5, 3), 'frame of the keeper')
        waiter = farm.bdfarm('waiter.example')
        waiter.waitjob(1)

        # For 2.5 timeouts past the old client's delay, the keeper sends
        # ALIVE every second while the waiter collects what it gets.
        got = []
        end = t_old + REDISTRIBUTE + 1.5
        next_alive = time.monotonic() + 1.0
        while time.monotonic() < end:
            j = waiter.wait_job(max(0.0, min(next_alive, end)
                                    - time.monotonic()))
            if j is not None:
                got.append((j, waiter.job_received))
                waiter.waitjob(1)
            if time.monotonic() >= next_alive:
                keeper.alive()
                next_alive += 1.0

        eq([j for j, _ in got], [(name, md5, 2), (name, md5, 1)],
           'frames handed to the waiting client, in order')
        took = latency('silent client\'s frame handed on after', t_silent,
                       got[0][1])
        check(TIMEOUT - 0.5 <= took <= TIMEOUT + 1.0,
              'the silent client\'s frame went out again after %.2f s; '
              'client_timeout is %.0f s', took, TIMEOUT)
        took = latency('old client\'s frame handed on after', t_old,
                       got[1][1])
        check(REDISTRIBUTE - 0.1 <= took <= REDISTRIBUTE + 1.5,
              'the old client\'s frame went out again after %.2f s; '
              'redistribute_delay is %.0f s', took, REDISTRIBUTE)
        check(closed_by_server(silent, 0.5),
              'the silent client\'s connection is still open')
        check(keeper.still_open(), 'the server dropped a client that sent '
              'ALIVE every second')
        # The keeper's frame is older than redistribute_delay, but its host
        # keeps in touch: it is not handed out again.
        waiter.expect_no_job(0.5, 'frame of a live client')
        eq(keeper.render((name, md5, 3)), 'THANKYOU', 'keeper\'s upload')
        farm.wait_log(r'silent\.example#\d+ is lost; 1 frames', 2)
        check(not re.search(r'(keeper|waiter)\.example#\d+ is lost',
                            farm.log()),
              'a client that kept in touch was reported lost:\n%s',
              farm.log_tail())
        for c in (silent, keeper, waiter):
            c.close()


def test_stopped_process_is_lost():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('a', 1, 1)
        agent = spawn_agent(farm, 'stopped.example')
        try:
            job, ident = agent_job(agent)
            eq(job, (name, md5, 1), 'frame of the client process')
            waiter = farm.bdfarm('waiter.example')
            waiter.waitjob(1)
            waiter.expect_no_job(1.0, 'the client process keeps in touch')
            agent.send_signal(signal.SIGSTOP)
            stopped = time.monotonic()
            j = waiter.expect_job(TIMEOUT + 3.0, 'frame of a stopped client')
            eq(j, (name, md5, 1), 'frame handed on')
            took = latency('stopped client process detected and its frame '
                           'handed on after', stopped, waiter.job_received)
            check(TIMEOUT - 0.6 <= took <= TIMEOUT + 1.0,
                  'the stopped client\'s frame went out again after %.2f s;'
                  ' client_timeout is %.0f s', took, TIMEOUT)
            farm.wait_log(r'%s: closing the connection: silent' %
                          ident.replace('.', r'\.'), 2)
            farm.wait_log(r'%s is lost; 1 frames' % ident.replace('.', r'\.'),
                          2)
            waiter.close()
        finally:
            agent.send_signal(signal.SIGCONT)
            agent.kill()
            agent.wait(5)
            agent.stdout.close()


if __name__ == '__main__':
    main([test_silent_dropped_alive_kept_old_waits,
          test_stopped_process_is_lost], bound=20)
