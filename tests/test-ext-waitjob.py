"""WAITJOB replaces polling: it is answered at once when there is work,
and a client that waits gets a frame as soon as one becomes available: a
new job, a resumed job, a frame handed back by a failure report or by a
lost client. The bound asserted is 10 s, generous for a busy machine and
still far below the slower ways work could otherwise come (the rescan of
the job folder every 10 minutes, the client timeout of a minute); the
measured figures are printed."""

import os
import time

from bdfarmtest import PATIENCE, check, eq, main, wait_for
from exttest import ExtFarm, latency

BOUND = 10.0


def test_answered_at_once_when_there_is_work():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('a', 1, 3)
        with farm.bdfarm('w.example') as c:
            c.waitjob(1)
            job = c.expect_job(what='WAITJOB with work')
            latency('WAITJOB with work waiting', c.waitjob_sent,
                    c.job_received)
            eq(job, (name, md5, 1), 'first JOB')
            eq(c.next_job(), (name, md5, 2), 'second JOB')
            eq(c.next_job(), (name, md5, 3), 'third JOB')
            c.waitjob(1)
            c.expect_no_job(0.3, 'every frame is out')


def test_new_job_reaches_waiting_clients():
    with ExtFarm().start() as farm:
        a = farm.bdfarm('a.example')
        b = farm.bdfarm('b.example')
        a.waitjob(1)
        b.waitjob(1)
        a.expect_no_job(0.3, 'no job yet')
        path, _ = farm.blend('new.blend')
        start = time.monotonic()
        farm.job('new', path, 1, 2)
        ja = a.expect_job(what='new job, first waiting client')
        jb = b.expect_job(what='new job, second waiting client')
        for c in (a, b):
            took = latency('new .job to JOB at %s' % c.ident, start,
                           c.job_received)
            check(took < BOUND, 'JOB took %.3f s', took)
        eq(sorted([ja[2], jb[2]]), [1, 2], 'frames of the waiting clients')
        eq(ja[0], 'new.blend', 'blend name')
        a.close()
        b.close()


def test_resumed_job_reaches_waiting_client():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('a', 1, 3)
        with farm.bdfarm('first.example') as first:
            eq(first.next_job()[2], 1, 'frame before suspension')
            suspend = os.path.join(farm.jobdir, 'a.job.suspend')
            open(suspend, 'w').close()
            wait_for(lambda: 'suspended' in farm.joblog('a'), PATIENCE,
                     what='the job log to note the suspension')
            with farm.bdfarm('w.example') as w:
                w.waitjob(1)
                w.expect_no_job(0.5, 'job suspended')
                start = time.monotonic()
                os.unlink(suspend)
                job = w.expect_job(what='resumed job')
                took = latency('.suspend removed to JOB', start,
                               w.job_received)
                check(took < BOUND, 'JOB took %.3f s', took)
                eq(job, (name, md5, 2), 'frame after resumption')


def test_failed_frame_reaches_waiting_client():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('a', 1, 1)
        with farm.bdfarm('r.example') as r, farm.bdfarm('w.example') as w:
            job = r.next_job()
            w.waitjob(1)
            w.expect_no_job(0.3, 'the only frame is out')
            start = time.monotonic()
            eq(r.failed(name, md5, 1, 'Blender crashed',
                        ['Error: segmentation fault']), 'OK',
               'answer to FAILED')
            eq(w.expect_job(what='frame after FAILED'), job,
               'frame handed back')
            took = latency('FAILED to JOB at another client', start,
                           w.job_received)
            check(took < BOUND, 'JOB took %.3f s', took)


def test_lost_client_frames_reach_waiting_client():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('a', 1, 2)
        closer = farm.bdfarm('closer.example')
        dier = farm.bdfarm('dier.example')
        eq(closer.next_job()[2], 1, 'frame of the closing client')
        eq(dier.next_job()[2], 2, 'frame of the dying client')
        with farm.bdfarm('w.example') as w:
            w.waitjob(1)
            w.expect_no_job(0.3, 'both frames are out')
            for c, frame, how in ((closer, 1, 'closed'),
                                  (dier, 2, 'reset')):
                start = time.monotonic()
                if how == 'closed':
                    c.close()
                else:
                    c.abort()
                eq(w.expect_job(what='frame of a lost client'),
                   (name, md5, frame), 'frame handed back')
                took = latency('connection %s to JOB at another client'
                               % how, start, w.job_received)
                check(took < BOUND, 'JOB took %.3f s', took)
                w.waitjob(1)
            w.expect_no_job(0.3, 'every frame is out again')


if __name__ == '__main__':
    main([test_answered_at_once_when_there_is_work,
          test_new_job_reaches_waiting_clients,
          test_resumed_job_reaches_waiting_client,
          test_failed_frame_reaches_waiting_client,
          test_lost_client_frames_reach_waiting_client], bound=120)
