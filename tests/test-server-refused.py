"""A result the server cannot take, for a reason of its own, never leaves
its frame stuck: when RESULTS is answered NOK for a frame out to that very
client (a bad image name, too big, empty, the file cannot be created, no
descriptor left, the same frame already arriving on another connection),
or the bytes came and could not be stored, the frame goes back to the
queue at once and the next client is handed it. Old clients get the
answers they always got. Empty frames are refused, and only one upload of
a frame is taken at a time."""

import sys
sys.dont_write_bytecode = True
import os
import resource
import threading

from bdfarmtest import PATIENCE, Farm, check, eq, main, md5_bytes
from exttest import ExtFarm


def take(farm, host):
    """One REQUESTJOB from a fresh old client; its answer."""
    with farm.client() as c:
        c.helo(host)
        j = c.requestjob(1)
        c.goodbye()
    return j


def handed_again(farm, job, what):
    """Check that the frame job (name, md5, frame) goes to the next client
    that asks, at once, rather than a later frame or None."""
    eq(take(farm, 'next.example'), job, 'the frame refused (%s), asked for '
       'at once by another client' % what)


def upload_cut(c, job, image, data):
    """RESULTS, OK, every byte, then the server closes the connection
    instead of saying THANKYOU."""
    name, md5, frame = job
    c.send_line('RESULTS %s %s %d %s %d' % (name, md5, frame, image,
                                            len(data)))
    eq(c.read_line(), 'OK', 'answer to RESULTS')
    try:
        c.send_raw(data)
    except OSError:
        pass
    closed, got = c.closed_within(10)
    check(closed and not got, 'after bytes it cannot store, the server '
          'sent %r%s', got[:100], '' if closed else ' and kept the '
          'connection open')


def lowest_free_fd(pid):
    """The lowest descriptor number the process pid does not use."""
    used = set(int(n) for n in os.listdir('/proc/%d/fd' % pid))
    n = 0
    while n in used:
        n += 1
    return n


def test_refusals_before_the_bytes():
    with Farm({'max_frame_size': 1000}) as farm:
        farm.start()
        path, data = farm.blend('r.blend')
        farm.job('r', path, 1, 20)
        farm.wait_ready()
        cases = [('a bad image name', '../x.png', b'x'),
                 ('too big', '0001.png', b'y' * 1001),
                 ('empty', '0001.png', b'')]
        for what, image, payload in cases:
            with farm.client() as c:
                c.helo('refused.example')
                job = c.requestjob(1)
                eq(c.results(job[0], job[1], job[2], image, payload), 'NOK',
                   'RESULTS of a frame %s' % what)
                c.goodbye()
            handed_again(farm, job, what)
        log = farm.joblog('r')
        check('the image is empty' in log, 'the job log does not say why '
              'the empty frame was refused:\n%s', log)
        left = os.listdir(farm.framedir('r')) \
            if os.path.isdir(farm.framedir('r')) else []
        eq(left, [], 'files stored from refused results')


def test_file_cannot_be_created():
    with Farm() as farm:
        farm.start()
        path, data = farm.blend('c.blend')
        farm.job('c', path, 1, 5)
        # A file where the job's render folder would be.
        with open(farm.framedir('c'), 'w') as f:
            f.write('in the way\n')
        farm.wait_ready()
        with farm.client() as c:
            c.helo('nofile.example')
            job = c.requestjob(1)
            eq(c.results(job[0], job[1], job[2], '0001.png', b'frame'),
               'NOK', 'RESULTS when the file cannot be created')
            c.goodbye()
        handed_again(farm, job, 'the file cannot be created')


def test_out_of_descriptors():
    with Farm() as farm:
        farm.start()
        path, data = farm.blend('f.blend')
        farm.job('f', path, 1, 5)
        farm.wait_ready()
        pid = farm.proc.pid
        c = farm.client()
        c.helo('nofd.example')
        other = farm.client()
        other.helo('next.example')
        job = c.requestjob(1)
        soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        resource.prlimit(pid, resource.RLIMIT_NOFILE,
                         (lowest_free_fd(pid), hard))
        try:
            eq(c.results(job[0], job[1], job[2], '0001.png', b'frame'),
               'NOK', 'RESULTS with no descriptor left for the file')
            eq(other.requestjob(1), job, 'the frame refused for want of a '
               'descriptor, asked for at once by another client')
        finally:
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
        c.goodbye()
        other.goodbye()
        farm.assert_alive()


def test_store_fails_after_the_bytes():
    with Farm() as farm:
        farm.start()
        path, data = farm.blend('s.blend')
        farm.job('s', path, 1, 5)
        farm.wait_ready()
        # Something the finished frame cannot be moved onto.
        os.makedirs(os.path.join(farm.frame_path('s', '0001.png'), 'x'))
        with farm.client() as c:
            c.helo('nostore.example')
            job = c.requestjob(1)
            eq(job[2], 1, 'first frame')
            upload_cut(c, job, '0001.png', b'a whole frame')
        handed_again(farm, job, 'it could not be moved into place')
        eq(sorted(os.listdir(farm.framedir('s'))), ['0001.png'],
           'render folder after a failed store')


def test_write_fails_mid_upload():
    with Farm() as farm:
        farm.start()
        path, data = farm.blend('w.blend')
        farm.job('w', path, 1, 5)
        farm.wait_ready()
        pid = farm.proc.pid
        limits = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        with farm.client() as c:
            c.helo('full.example')
            job = c.requestjob(1)
            # The disk fills up: no file may grow past 100 kB.
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (100000, limits[1]))
            try:
                upload_cut(c, job, '0001.png', os.urandom(300000))
                farm.wait_log(r'cannot write', PATIENCE)
            finally:
                resource.prlimit(pid, resource.RLIMIT_FSIZE, limits)
        farm.assert_alive()
        handed_again(farm, job, 'the disk was full')
        check(not os.listdir(farm.framedir('w')),
              'a frame cut short by a full disk left %r',
              os.listdir(farm.framedir('w')))


def test_bdfarm_client_refused():
    with ExtFarm() as farm:
        farm.start()
        name, md5 = farm.ready_job('e', 1, 2)
        with farm.bdfarm('e1.example') as c, farm.bdfarm('e2.example') as w:
            # Two renderers: w's share of the job has room for both frames.
            w.facts(renderers=2)
            job = c.next_job(5)
            eq(job, (name, md5, 1), 'frame 1')
            eq(w.next_job(5), (name, md5, 2), 'frame 2')
            w.waitjob(1)
            eq(c.results(name, md5, 1, '0001.png', b''), 'NOK',
               'RESULTS of an empty frame from a bdfarm client')
            eq(w.expect_job(5, 'the refused frame'), job,
               'the waiting client is handed the refused frame')


def test_one_upload_at_a_time():
    with Farm() as farm:
        farm.start()
        path, data = farm.blend('o.blend')
        md5 = md5_bytes(data)
        farm.job('o', path, 1, 5)
        farm.wait_ready()
        image = os.urandom(100000)
        first = farm.client()
        first.helo('up.example')
        job = first.requestjob(1)
        first.send_line('RESULTS o.blend %s 1 0001.png %d' % (md5,
                                                            len(image)))
        eq(first.read_line(), 'OK', 'the first RESULTS')
        first.send_raw(image[:1000])
        # Twenty more of the same frame at once, from the same host and
        # from others, while it arrives: each is refused.
        answers = []

        def again(i):
            try:
                with farm.client() as c:
                    c.helo('up.example' if i % 2 else 'dup%d.example' % i)
                    answers.append(c.results('o.blend', md5, 1, '0001.png',
                                             b'z' * 1000))
                    c.goodbye()
            except Exception as e:
                answers.append(repr(e))

        threads = [threading.Thread(target=again, args=(i,))
                   for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        eq(answers, ['NOK'] * 20, 'RESULTS of a frame already arriving')
        # The one from the same host gave the frame back, so another client
        # may have it; the first upload is still taken when it is whole.
        handed_again(farm, job, 'it was already arriving')
        first.send_raw(image[1000:])
        eq(first.read_line(), 'THANKYOU', 'the first upload, whole')
        first.goodbye()
        with open(farm.frame_path('o', '0001.png'), 'rb') as f:
            check(f.read() == image, 'frame 1 on disk is not the first '
                  'upload')
        log = farm.joblog('o')
        eq(log.count('frame 1 received'), 1, 'frame 1 received, in the job '
           'log:\n%s' % log)


if __name__ == '__main__':
    main([test_refusals_before_the_bytes, test_file_cannot_be_created,
          test_out_of_descriptors, test_store_fails_after_the_bytes,
          test_write_fails_mid_upload, test_bdfarm_client_refused,
          test_one_upload_at_a_time])
