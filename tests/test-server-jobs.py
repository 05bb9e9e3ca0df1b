"""The job folder as the server sees it: suspension by file, the order of
jobs, a job that starts over when its .job or .blend changes, and the
names under which .blend files are handed out."""

import sys
sys.dont_write_bytecode = True
import os
import re
import time

from bdfarmtest import (PATIENCE, Farm, check, eq, main, md5_bytes,
                        md5_file, wait_for, write_blend)


def take(farm, n=1, host='t.example', available=1):
    """Ask for n frames in one session; return the answers."""
    with farm.client() as c:
        c.helo(host)
        got = [c.requestjob(available) for _ in range(n)]
        c.goodbye()
    return got


def upload(farm, job, frame, image=None, host='t.example', data=None):
    name, md5, f = job[0], job[1], frame
    with farm.client() as c:
        c.helo(host)
        r = c.results(name, md5, f, image or '%04d.png' % f,
                      data or b'frame %d' % f)
        c.goodbye()
    return r


def test_suspend():
    with Farm() as farm:
        farm.start()
        pa, _ = farm.blend('a.blend', seed=1)
        pb, _ = farm.blend('b.blend', seed=2)
        frames = 1000
        farm.job('a', pa, 1, frames)
        farm.wait_ready()
        eq(take(farm)[0][2], 1, 'first frame of a')
        suspend = os.path.join(farm.jobdir, 'a.job.suspend')
        open(suspend, 'w').close()
        # a's frames stop coming while a has frames left.
        start = time.monotonic()
        last = 1
        while True:
            j = take(farm)[0]
            if j is None:
                break
            eq(j[0], 'a.blend', 'job handed out')
            eq(j[2], last + 1, 'frame of a')
            last = j[2]
            check(time.monotonic() - start < PATIENCE, 'a.job.suspend '
                  'ignored for %.1f s', time.monotonic() - start)
            time.sleep(0.05)
        check(last < frames, 'every frame of a was handed out: '
              'a.job.suspend ignored')
        with farm.client() as c:
            eq(c.helo('t.example')[1], '0', 'HELO todo with a suspended')
            c.goodbye()
        # Another job goes on meanwhile.
        farm.job('b', pb, 1, 2)
        j = farm.poll_job()
        eq((j[0], j[2]), ('b.blend', 1), 'frame of b while a is suspended')
        eq(take(farm, 2), [('b.blend', md5_file(pb), 2), None],
           'rest of b, then nothing')
        # Results for a's frames are still taken while it is suspended.
        eq(upload(farm, ('a.blend', md5_file(pa)), 1), 'THANKYOU',
           'upload of a frame of a suspended job')
        # Removing the file resumes a where it was.
        os.unlink(suspend)
        j = farm.poll_job()
        eq((j[0], j[2]), ('a.blend', last + 1), 'first frame after resuming')


def wait_todo(farm, want, timeout=PATIENCE):
    """Wait until HELO's second token is want."""
    def ok():
        with farm.client() as c:
            t = c.helo('probe.example')[1]
            c.goodbye()
        return t == want
    wait_for(ok, timeout, interval=0.1, what='HELO todo %s' % want)


def test_job_order_by_age():
    with Farm() as farm:
        farm.start()
        blends = [farm.blend('o%d.blend' % i, seed=i)[0] for i in range(3)]
        # Created one after the other, each set aside once it is known:
        # older jobs come first, whatever their names.
        names = ['zz', 'mm', 'aa']
        for i, name in enumerate(names):
            farm.job(name, blends[i], 10 * i + 1, 10 * i + 2)
            j = farm.poll_job()
            eq(j[2], 10 * i + 1, 'first frame of %s' % name)
            open(os.path.join(farm.jobdir, name + '.job.suspend'), 'w')\
                .close()
            wait_todo(farm, '0')
        for name in reversed(names):
            os.unlink(os.path.join(farm.jobdir, name + '.job.suspend'))
        wait_for(lambda: all('resumed' in farm.joblog(name)
                             for name in names), PATIENCE,
                 what='every job to be resumed')
        eq([j and j[2] for j in take(farm, 4)], [2, 12, 22, None],
           'frames in order of job age')


def test_priority_in_state():
    # Priority is part of the saved state (the console changes it): raised
    # there for the newer job, it goes before the older one.
    with Farm() as farm:
        farm.start()
        pa, _ = farm.blend('pa.blend', seed=1)
        pb, _ = farm.blend('pb.blend', seed=2)
        farm.job('older', pa, 1, 3)
        farm.wait_ready()
        farm.job('newer', pb, 11, 13)
        farm.wait_log(r'newer\.job')
        eq(take(farm)[0][2], 1, 'older job first while priorities are equal')
        eq(farm.stop(), 0, 'exit code on SIGTERM')
        state = os.path.join(farm.jobdir, '.bdfarm.state')
        with open(state) as f:
            text = f.read()
        # Raise the priority of the job named on the nearest job line.
        out, job = [], None
        for line in text.splitlines():
            if line.startswith('job '):
                job = line.split(None, 1)[1]
            if job == 'newer.job' and re.fullmatch(r'priority -?\d+', line):
                line = 'priority 5'
            out.append(line)
        check('priority 5' in out, 'no priority line for newer.job in the '
              'state:\n%s', text)
        with open(state, 'w') as f:
            f.write('\n'.join(out) + '\n')
        farm.start()
        farm.wait_ready()
        eq([j and j[2] for j in take(farm, 6)], [11, 12, 13, 2, 3, None],
           'frames when the newer job has the higher priority')


def test_restart_on_job_change():
    with Farm() as farm:
        farm.start()
        path, _ = farm.blend('c.blend')
        farm.job('c', path, 1, 50)
        farm.wait_ready()
        got = take(farm, 2)
        eq([j[2] for j in got], [1, 2], 'first frames')
        eq(upload(farm, got[0], 1), 'THANKYOU', 'upload of frame 1')
        mark = len(farm.joblog('c'))
        # Same meaning, other bytes: still a change of contents.
        with open(os.path.join(farm.jobdir, 'c.job'), 'ab') as f:
            f.write(b'\n')
        wait_for(lambda: len(farm.joblog('c')) > mark, PATIENCE,
                 what='the job log to record the change')
        text = farm.joblog('c')[mark:]
        check(re.search(r'(?i)restart|start|over|chang', text),
              'the job log does not say the job starts over:\n%s', text)
        # All frames to do again, from the first.
        j = farm.poll_job()
        eq(j[2], 1, 'first frame after the .job changed')
        eq(take(farm)[0][2], 2, 'second frame after the .job changed')
        # A new range: frames come from the new range only.
        farm.job('c', path, 101, 103)
        deadline = time.monotonic() + PATIENCE
        while True:
            j = take(farm)[0]
            if j is not None and j[2] > 100:
                break
            check(time.monotonic() < deadline, 'the new range of c.job '
                  'not seen after %d s', PATIENCE)
            time.sleep(0.05)
        eq(j[2], 101, 'first frame of the new range')
        eq([j[2] for j in take(farm, 2)], [102, 103], 'rest of the range')


def test_restart_on_blend_change():
    with Farm() as farm:
        farm.start()
        path, data = farm.blend('d.blend', seed=1)
        farm.job('d', path, 1, 200)
        farm.wait_ready()
        old = md5_bytes(data)
        got = take(farm, 3)
        eq([j[2] for j in got], [1, 2, 3], 'first frames')
        eq(upload(farm, got[0], 1), 'THANKYOU', 'upload of frame 1')
        mark = len(farm.joblog('d'))
        # Another size: a change whatever the file system's clock.
        new = md5_bytes(write_blend(path, size=1500, seed=99))
        # Poll until frames come with the new digest: the first one is 1.
        deadline = time.monotonic() + PATIENCE
        while True:
            j = take(farm)[0]
            if j is not None and j[1] == new:
                break
            check(j is None or j[1] == old, 'unexpected digest %r', j)
            check(time.monotonic() < deadline, 'new .blend not seen after '
                  '%d s', PATIENCE)
            time.sleep(0.05)
        eq((j[0], j[2]), ('d.blend', 1), 'first frame after the change')
        eq(take(farm)[0], ('d.blend', new, 2), 'second frame after it')
        # A result made from the old file is refused.
        eq(upload(farm, ('d.blend', old), 2), 'NOK',
           'upload of a frame rendered from the old .blend')
        eq(upload(farm, ('d.blend', new), 2), 'THANKYOU',
           'upload of a frame rendered from the new .blend')
        text = farm.joblog('d')[mark:]
        check(re.search(r'(?i)restart|start|over|chang', text),
              'the job log does not say the job starts over:\n%s', text)
        with farm.client() as c:
            c.helo('t.example')
            got = c.requestblenderfile('d.blend', new)
            check(md5_bytes(got) == new, 'REQUESTBLENDERFILE sends the old '
                  'file')
            c.goodbye()


def test_blend_names():
    with Farm() as farm:
        farm.start()
        d1 = os.path.join(farm.blenddir, 'one', 'scene.blend')
        d2 = os.path.join(farm.blenddir, 'two', 'scene.blend')
        b1 = write_blend(d1, seed=1)
        b2 = write_blend(d2, seed=2)
        farm.job('j1', d1, 1, 1)
        j1 = farm.poll_job()
        eq(j1, ('scene.blend', md5_bytes(b1), 1), 'first scene.blend')
        farm.job('j2', d2, 1, 1)
        j2 = farm.poll_job()
        check(re.fullmatch(r'scene-[0-9a-f]{8}\.blend', j2[0]),
              'name of the second scene.blend: %r', j2[0])
        eq(j2[1], md5_bytes(b2), 'digest of the second scene.blend')
        farm.job('j3', d1, 5, 5)
        j3 = farm.poll_job()
        eq(j3, ('scene.blend', md5_bytes(b1), 5), 'a job sharing the first '
           'scene.blend')
        # Odd base names become one safe token.
        odd = {}
        for i, base in enumerate(['my scene.blend', '.hidden.blend',
                                  'tab\there.blend', 'caf\u00e9 \u00e9.blend']):
            p = os.path.join(farm.blenddir, 'odd%d' % i, base)
            odd[i] = (p, write_blend(p, seed=10 + i))
            farm.job('odd%d' % i, p, 1, 1)
            j = farm.poll_job()
            check(re.fullmatch(r'[^\s/.][^\s/]*', j[0]),
                  'blend name %r for %r is not one safe token', j[0], base)
            eq(j[1], md5_bytes(odd[i][1]), 'digest for %r' % base)
            odd[i] += (j[0],)
        names = [j1[0], j2[0]] + [odd[i][2] for i in odd]
        eq(len(set(names)), len(names), 'distinct names %r' % names)
        with farm.client() as c:
            c.helo('t.example')
            for (name, data) in [(j1[0], b1), (j2[0], b2)] + \
                    [(odd[i][2], odd[i][1]) for i in odd]:
                check(c.requestblenderfile(name, md5_bytes(data)) == data,
                      'REQUESTBLENDERFILE %s sends other bytes', name)
            c.goodbye()
        # Results are told apart by name.
        eq(upload(farm, j2, 1, image='x.png', data=b'two',
                  host='poll.example'), 'THANKYOU', 'upload for j2')
        eq(upload(farm, j1, 1, image='x.png', data=b'one',
                  host='poll.example'), 'THANKYOU', 'upload for j1')
        eq(open(farm.frame_path('j1', '0001.png'), 'rb').read(), b'one', 'j1')
        eq(open(farm.frame_path('j2', '0001.png'), 'rb').read(), b'two', 'j2')


def test_shared_blend_uploads():
    # Two jobs of one .blend, frame 1 of each out to a different client;
    # the slow upload ends after the fast one: each frame lands in its own
    # job's folder and both jobs complete.
    with Farm() as farm:
        path, _ = farm.blend('s.blend')
        farm.job('a', path, 1, 1)
        farm.job('b', path, 1, 1)
        farm.start()
        farm.wait_ready()
        with farm.client() as h1, farm.client() as h2:
            h1.helo('h1.example')
            h2.helo('h2.example')
            ja = h1.requestjob(1)
            jb = h2.requestjob(1)
            h2.send_line('RESULTS %s %s 1 0001.png 10' % (jb[0], jb[1]))
            eq(h2.read_line(), 'OK', 'answer to the slow upload')
            h2.sock.sendall(b'B' * 5)
            eq(h1.results(ja[0], ja[1], 1, '0001.png', b'A' * 10),
               'THANKYOU', 'the fast upload')
            h2.sock.sendall(b'B' * 5)
            eq(h2.read_line(), 'THANKYOU', 'the slow upload')
        for job, data in (('a', b'A' * 10), ('b', b'B' * 10)):
            with open(farm.frame_path(job, '0001.png'), 'rb') as f:
                eq(f.read(), data, 'frame 1 of %s' % job)
            wait_for(lambda: 'rendering complete' in farm.joblog(job),
                     PATIENCE, what='%s complete' % job)


if __name__ == '__main__':
    main([test_suspend, test_job_order_by_age, test_priority_in_state,
          test_restart_on_job_change, test_restart_on_blend_change,
          test_blend_names, test_shared_blend_uploads])
