"""Live progress: PROGRESS lines reach the server, which logs them at debug
level ("frame N at P/1000 on HOST", seen with --verbose), answers nothing,
and counts them as a sign of life."""

import re
import time

from bdfarmtest import check, eq, main
from exttest import ExtFarm

TIMEOUT = 3
# How often PROGRESS is sent while it alone keeps the client in touch:
# far more often than TIMEOUT, so that a test process kept from running
# for a while on a busy machine does not make the client look lost.
EVERY = 0.5


def test_progress_reaches_the_server():
    with ExtFarm({'client_timeout': TIMEOUT}, verbose=True).start() as farm:
        name, md5 = farm.ready_job('a', 1, 2)
        with farm.bdfarm('p.example') as c:
            job = c.next_job()
            eq(job, (name, md5, 1), 'frame')
            since = farm.log_size()
            host = re.escape(c.ident)
            for permille in (0, 250, 999, 1000):
                c.progress(name, md5, 1, permille)
                farm.wait_log(r'a\.job: frame 1 at %d/1000 on %s'
                              % (permille, host), since=since)
            # Nothing is answered: the next answer is the one to WAITJOB.
            eq(c.next_job(), (name, md5, 2), 'JOB after PROGRESS')

            # PROGRESS alone keeps the client in touch: sent for half as
            # long again as client_timeout; its frames stay with it.
            w = farm.bdfarm('w.example')
            w.waitjob(1)
            end = time.monotonic() + 1.5 * TIMEOUT
            permille = 0
            while time.monotonic() < end:
                permille = min(999, permille + 10)
                c.progress(name, md5, 2, permille)
                w.expect_no_job(EVERY, 'frame of a client sending PROGRESS')
            check(c.still_open(), 'the server dropped a client that sent '
                  'PROGRESS every %.1f s', EVERY)
            farm.wait_log(r'frame 2 at %d/1000 on %s' % (permille, host),
                          since=since)

            # Progress for a job that does not exist is ignored.
            before = farm.log_size()
            c.progress('nosuch.blend', md5, 1, 500)
            c.progress(name, md5, 99, 500)
            eq(c.render((name, md5, 1)), 'THANKYOU', 'upload after PROGRESS')
            check(c.still_open(), 'PROGRESS for an unknown frame ended the '
                  'session')
            after = farm.log_since(before)
            check('at 500/1000' not in after, 'progress of an unknown frame '
                  'logged:\n%s', after)
            w.close()
            farm.assert_alive()


if __name__ == '__main__':
    main([test_progress_reaches_the_server], bound=120)
