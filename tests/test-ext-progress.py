"""Live progress: PROGRESS lines reach the server, which logs them at debug
level ("frame N at P/1000 on HOST", seen with --verbose), answers nothing,
and counts them as a sign of life."""

import re
import time

from bdfarmtest import check, eq, main
from exttest import ExtFarm

BOUND = 1.0


def test_progress_reaches_the_server():
    with ExtFarm(verbose=True).start() as farm:
        name, md5 = farm.ready_job('a', 1, 2)
        with farm.bdfarm('p.example') as c, farm.bdfarm('w.example') as w:
            # Two renderers: p's share of the job is both its frames.
            c.facts(renderers=2)
            job = c.next_job(BOUND)
            eq(job, (name, md5, 1), 'frame')
            since = farm.log_size()
            host = re.escape(c.ident)
            for permille in (0, 250, 999, 1000):
                c.progress(name, md5, 1, permille)
                farm.wait_log(r'a\.job: frame 1 at %d/1000 on %s'
                              % (permille, host), 2, since)
            # Nothing is answered: the next answer is the one to WAITJOB.
            eq(c.next_job(BOUND), (name, md5, 2), 'JOB after PROGRESS')

            # PROGRESS alone keeps the client in touch: one a second for
            # half as long again as client_timeout; its frames stay with it.
            w.waitjob(1)
            end = time.monotonic() + 3.2
            permille = 0
            while time.monotonic() < end:
                permille += 100
                c.progress(name, md5, 2, permille)
                w.expect_no_job(1.0, 'frame of a client sending PROGRESS')
            check(c.still_open(), 'the server dropped a client that sent '
                  'PROGRESS every second')
            farm.wait_log(r'frame 2 at %d/1000 on %s' % (permille, host), 2,
                          since)

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
            farm.assert_alive()


if __name__ == '__main__':
    main([test_progress_reaches_the_server], bound=20)
