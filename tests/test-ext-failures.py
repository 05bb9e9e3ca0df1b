"""Failure reports: FAILED is answered OK, the frame goes out again at
once and the reason and Blender's lines (each cut to 200 bytes) go to the
job's log; a client that fails three times on a job gets no more of its
frames; a frame that failed on three different clients is set aside, also
across a restart."""

import os
import re

from bdfarmtest import PATIENCE, check, eq, main, wait_for
from exttest import ExtFarm


def wait_joblog(farm, name, pattern, timeout=PATIENCE):
    """Wait until the job's log matches pattern; return the log."""
    rx = re.compile(pattern)
    wait_for(lambda: rx.search(farm.joblog(name)), timeout,
             what='%s.log to match %r' % (name, pattern))
    return farm.joblog(name)


def test_failed_is_logged_and_frame_requeued():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('a', 1, 2)
        with farm.bdfarm('r.example') as r, farm.bdfarm('b.example') as b:
            eq(r.next_job(), (name, md5, 1), 'first frame')
            output = ['Fra:1 Mem:12.00M | Sample 3/64 line %02d' % i
                      for i in range(18)]
            output.append('')
            output.append('Z' * 4090 + ' tail')        # 4096 bytes
            eq(r.failed(name, md5, 1, 'Blender exited with status 139',
                        output), 'OK', 'answer to FAILED with 20 lines')
            # Handed out again at once: the next WAITJOB gets it back.
            eq(b.next_job(), (name, md5, 1), 'frame after FAILED')
            log = wait_joblog(farm, 'a', r'frame 1 failed on %s: Blender '
                              r'exited with status 139' % re.escape(r.ident))
            for line in output[:-1]:
                check(line in log, 'output line %r missing from the job '
                      'log:\n%.3000s', line[:80], log)
            # A long line is cut: the job log keeps its first 200 bytes.
            check('\n    %s...\n' % ('Z' * 200) in log, 'long output line '
                  'not cut to 200 bytes in the job log:\n%.5000s', log)

            # A JOB may come between FAILED and its OK: r waits while
            # every frame is out, then reports frame 2 as failed.
            eq(r.next_job(), (name, md5, 2), 'second frame')
            r.waitjob(1)
            r.expect_no_job(0.3, 'every frame is out')
            eq(r.failed(name, md5, 2, 'out of memory'), 'OK',
               'answer to FAILED with no lines')
            eq(r.expect_job(what='frame 2 back'), (name, md5, 2),
               'JOB read around the answer to FAILED')
            wait_joblog(farm, 'a', r'frame 2 failed on %s: out of memory'
                        % re.escape(r.ident))
            check(r.still_open() and b.still_open(), 'a session ended')


def test_three_failures_block_the_client_for_the_job():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('x', 1, 10)
        bad = farm.bdfarm('bad.example', instance=1)
        for i in range(3):
            job = bad.next_job(what='frame %d to the failing client'
                               % (i + 1))
            eq(bad.failed(name, md5, job[2], 'crash %d' % i), 'OK',
               'answer to FAILED')
        bad.waitjob(1)
        bad.expect_no_job(0.5, 'a client that failed three times')
        with farm.bdfarm('good.example') as good:
            eq(good.next_job(), (name, md5, 1),
               'frame of the blocked job to another client')
        log = wait_joblog(farm, 'x', r'%s failed 3 times; it gets no more '
                          r'frames of this job' % re.escape(bad.ident))
        # The same host reconnecting is still blocked.
        with farm.bdfarm('bad.example', instance=1) as again:
            again.waitjob(1)
            again.expect_no_job(0.3, 'the blocked host, reconnected')
        # The block is for that job only.
        path, _ = farm.blend('y.blend')
        farm.job('y', path, 1, 1)
        eq(bad.expect_job(what='frame of another job')[0::2],
           ('y.blend', 1), 'frame of another job to the blocked client')
        bad.close()
        check('frame 1 failed on 3 hosts' not in log,
              'a frame was set aside after failing on one host:\n%s', log)


def fail_on_three_hosts(farm, name, md5, frame):
    """Have three different clients fail frame, one after the other;
    return them, still connected."""
    clients = []
    for h in ('f1.example', 'f2.example', 'f3.example'):
        c = farm.bdfarm(h)
        eq(c.next_job(), (name, md5, frame), 'frame to %s' % h)
        eq(c.failed(name, md5, frame, 'segfault on %s' % h,
                    ['Error: segmentation fault']), 'OK', 'answer to FAILED')
        clients.append(c)
    return clients


def test_frame_failing_on_three_hosts_is_set_aside():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('a', 1, 3)
        f1, f2, f3 = fail_on_three_hosts(farm, name, md5, 1)
        eq(f1.next_job(), (name, md5, 2), 'next frame to f1')
        eq(f2.next_job(), (name, md5, 3), 'next frame to f2')
        f3.waitjob(1)
        f3.expect_no_job(0.5, 'a frame that failed on three hosts')
        with farm.client() as old:
            eq(old.helo('old.example')[1], '0', 'HELO todo')
            eq(old.requestjob(1), None, 'REQUESTJOB of an old client')
            old.goodbye()
        log = wait_joblog(farm, 'a', r'frame 1 failed on 3 hosts; not '
                          r'handed out again')
        check('rendering complete' not in log, 'complete too early:\n%s',
              log)
        eq(f1.render((name, md5, 2)), 'THANKYOU', 'frame 2')
        eq(f2.render((name, md5, 3)), 'THANKYOU', 'frame 3')
        log = wait_joblog(farm, 'a', r'rendering complete')
        f3.expect_no_job(0.3, 'a complete job with a failed frame')
        for c in (f1, f2, f3):
            c.close()


def test_failed_frames_survive_a_restart():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('a', 1, 3)
        for c in fail_on_three_hosts(farm, name, md5, 1):
            c.close()
        wait_joblog(farm, 'a', r'frame 1 failed on 3 hosts')
        eq(farm.stop(), 0, 'exit status after SIGTERM')
        farm.start()
        with farm.bdfarm('after.example') as c:
            eq(c.next_job(), (name, md5, 2), 'first frame after restart')
            eq(c.next_job(), (name, md5, 3), 'second frame')
            c.waitjob(1)
            c.expect_no_job(0.5, 'the failed frame after a restart')
            eq(c.render((name, md5, 2)), 'THANKYOU', 'frame 2')
            eq(c.render((name, md5, 3)), 'THANKYOU', 'frame 3')
            wait_joblog(farm, 'a', r'rendering complete')
            c.expect_no_job(0.3, 'the failed frame of a complete job')


def test_reports_find_the_job_when_jobs_share_a_blend():
    # Two jobs of one .blend: a report is about the job whose frame is out
    # to the client, not the first job of that .blend.
    with ExtFarm(verbose=True).start() as farm:
        path, data = farm.blend('shared.blend')
        farm.job('first', path, 1, 2)
        farm.wait_ready()
        with farm.bdfarm('r.example') as r:
            name, md5, _ = r.next_job()
            eq(r.render((name, md5, 1)), 'THANKYOU', 'frame 1 of first')
            job = r.next_job()
            eq(r.render(job), 'THANKYOU', 'frame 2 of first')
            wait_joblog(farm, 'first', r'rendering complete')
            farm.job('second', path, 1, 2)
            eq(r.next_job(), (name, md5, 1), 'frame 1 of second')
            r.progress(name, md5, 1, 250)
            eq(r.failed(name, md5, 1, 'Error: in the second job'), 'OK',
               'answer to FAILED')
            wait_joblog(farm, 'second', r'frame 1 failed on %s: Error: in '
                        r'the second job' % re.escape(r.ident))
            check('failed' not in farm.joblog('first'),
                  'the report went to the complete job:\n%s',
                  farm.joblog('first'))
            farm.wait_log(r'second\.job: frame 1 at 250/1000')


def test_job_removed_during_a_failure_report():
    # The job goes while its failure report is still arriving: the report
    # is dropped, and the server carries on.
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('gone', 1, 3)
        with farm.bdfarm('r.example') as r:
            eq(r.next_job(), (name, md5, 1), 'first frame')
            r.send_line('FAILED %s %s 1 2 boom' % (name, md5))
            r.send_line('line one')
            os.unlink(os.path.join(farm.jobdir, 'gone.job'))
            farm.wait_log(r'gone\.job: job file removed')
            r.send_line('line two')
            eq(r.read_line(), 'OK', 'answer to the report of a gone job')
            check('sanitizer' not in farm.log().lower(), 'a sanitizer '
                  'report:\n%s', farm.log_tail())
        farm.assert_alive()


if __name__ == '__main__':
    main([test_failed_is_logged_and_frame_requeued,
          test_job_removed_during_a_failure_report,
          test_reports_find_the_job_when_jobs_share_a_blend,
          test_three_failures_block_the_client_for_the_job,
          test_frame_failing_on_three_hosts_is_set_aside,
          test_failed_frames_survive_a_restart], bound=120)
