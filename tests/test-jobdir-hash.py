"""Many jobs, one .blend: each distinct file is hashed once for all the
jobs that name it, and only a few files are hashed at once, as the
server's --verbose log shows."""

import sys
sys.dont_write_bytecode = True
import os
import re

from bdfarmtest import check, eq, main, md5_bytes, wait_for
from exttest import ExtFarm

MIB = 1 << 20


def hash_lines(farm, since=0):
    """The hasher's lines in the log: ('hashing' or 'done hashing', path),
    in order."""
    return re.findall(r'(?m)\b(hashing|done hashing) (/\S+)$',
                      farm.log_since(since))


def most_at_once(lines):
    """The most files being hashed at one time, by the log's order."""
    now = most = 0
    for what, _ in lines:
        now += 1 if what == 'hashing' else -1
        most = max(most, now)
    return most


def frames_of(farm, n, host='t.example'):
    """Ask for n frames in one session; return the answers."""
    with farm.client() as c:
        c.helo(host)
        got = [c.requestjob(1) for _ in range(n)]
        c.goodbye()
    return got


def test_many_jobs_one_blend():
    jobs = 200
    # One host takes a frame of every job.
    with ExtFarm({'max_frames_held': jobs}, verbose=True) as farm:
        path, data = farm.blend('shared.blend', data=os.urandom(3 * MIB))
        md5 = md5_bytes(data)
        for i in range(jobs):
            farm.job('job%03d' % i, path, 1, 1)
        farm.start()
        # Every job gets its frame out with the file's digest.
        got = []
        wait_for(lambda: got.extend(j for j in frames_of(farm, 50) if j) or
                 len(got) >= jobs, 20, what='a frame of every job')
        eq(len(got), jobs, 'frames handed out')
        check(all(j[1] == md5 for j in got), 'a frame with another digest')
        lines = hash_lines(farm)
        eq([p for w, p in lines if w == 'hashing'], [path],
           'files hashed for %d jobs naming one .blend' % jobs)

        # Touched, same bytes: hashed again once, and no job starts over.
        mark = farm.log_size()
        os.utime(path, (1, 1))
        farm.wait_log(r'done hashing ' + re.escape(path), 10, since=mark)
        eq([p for w, p in hash_lines(farm, mark) if w == 'hashing'], [path],
           'files hashed after the touch')
        check('starting over' not in farm.log_since(mark),
              'a job started over for a touch:\n%s', farm.log_since(mark))


def test_few_hashes_at_once():
    files = 6
    with ExtFarm(verbose=True) as farm:
        paths = []
        for i in range(files):
            path, _ = farm.blend('b%d.blend' % i, data=os.urandom(4 * MIB))
            paths.append(path)
            # Two jobs for each file.
            farm.job('one%d' % i, path, 1, 1)
            farm.job('two%d' % i, path, 1, 1)
        farm.start()
        wait_for(lambda: len([l for l in hash_lines(farm)
                              if l[0] == 'done hashing']) == files, 30,
                 what='every file hashed')
        lines = hash_lines(farm)
        eq(sorted(p for w, p in lines if w == 'hashing'), sorted(paths),
           'each file hashed once')
        at_once = most_at_once(lines)
        check(1 <= at_once <= 2, 'files hashed at once: %d\n%s', at_once,
              '\n'.join('%s %s' % l for l in lines))
        farm.wait_ready()


if __name__ == '__main__':
    main([test_many_jobs_one_blend, test_few_hashes_at_once], bound=90)
