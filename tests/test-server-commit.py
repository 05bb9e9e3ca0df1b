"""The commit of a stored frame: the checkpoint records the frame with a
journal of what is left to do (move the file into place, write the job
log's lines), which a server that died before doing it does at its next
start; a job log that cannot be written for a while gets its lines once it
can, and never twice."""

import os
import re
import resource

import bdfarmtest
from bdfarmtest import Farm, check, eq, md5_bytes, write_file


def state_text(farm):
    with open(os.path.join(farm.jobdir, '.bdfarm.state')) as f:
        return f.read()


def test_journal_done_at_start():
    with Farm() as farm:
        path, data = farm.blend('j.blend')
        farm.job('j', path, 1, 3)
        farm.start()
        farm.wait_ready()
        farm.stop()
        # The checkpoint of a server that died in the middle of a commit:
        # frame 2 done, its file not yet moved, one of its two log lines
        # written.
        text = state_text(farm)
        text = text.replace('\ndone\n', '\ndone 2\n', 1)
        text = text.replace('\nend\n', '\nhost 1 dead.example\nend\n', 1)
        text += ('rename j.job/.upload-99-1.part j.job/0002.png\n'
                 'joblog 1700000000000 j.job frame 2 received from '
                 'dead.example\n'
                 'joblog 1700000000001 j.job a line already written\n')
        write_file(os.path.join(farm.jobdir, '.bdfarm.state'),
                   text.encode())
        write_file(farm.frame_path('j', '.upload-99-1.part'), b'frame two')
        with open(farm.joblog_path('j'), 'a') as f:
            f.write('%s a line already written\n'
                    % bdfarmtest.time.strftime('%Y-%m-%d %H:%M:%S',
                                               bdfarmtest.time.localtime(
                                                   1700000000.001)))
        farm.start()
        farm.wait_log(r'finished the last commit of the previous run', 10)
        eq(sorted(os.listdir(farm.framedir('j'))), ['0002.png'],
           'render folder after the commit was finished')
        with open(farm.frame_path('j', '0002.png'), 'rb') as f:
            eq(f.read(), b'frame two', 'the frame moved into place')
        log = farm.joblog('j')
        eq(log.count('frame 2 received from dead.example'), 1,
           'the missing log line, written once')
        eq(log.count('a line already written'), 1,
           'a line the log had already')
        # And the farm goes on: frame 2 is done, for the host that sent it.
        with farm.client() as c:
            c.helo('next.example')
            eq(c.requestjob(1)[2], 1, 'first frame left')
            eq(c.requestjob(1)[2], 3, 'second frame left')
            c.goodbye()
        check(re.search(r'\nhost 1 dead\.example\n', state_text(farm)),
              'host count lost:\n%s', state_text(farm))


def test_job_log_full_for_a_while():
    with Farm() as farm:
        path, data = farm.blend('f.blend')
        farm.job('f', path, 1, 2)
        # A log longer than the state file, from an earlier run.
        write_file(farm.joblog_path('f'),
                   b'2020-01-01 00:00:00 an earlier run\n' * 100)
        farm.start()
        farm.wait_ready()
        pid = farm.proc.pid
        limits = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        with farm.client() as c:
            c.helo('full.example')
            job = c.requestjob(1)
            # The job log may not grow: as if its disk were full. The
            # state file, smaller, still can be written.
            size = os.path.getsize(farm.joblog_path('f'))
            check(len(state_text(farm)) < size, 'the state file is larger '
                  'than the job log; the test needs it smaller')
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (size, limits[1]))
            try:
                eq(c.results(job[0], job[1], job[2], '0001.png', b'one'),
                   'THANKYOU', 'frame stored while the job log is full')
                farm.wait_log(r'f\.log: File too large', 10)
                check('frame 1 received' not in farm.joblog('f'),
                      'the line was written into a full log')
                check(re.search(r'\njoblog \d+ f\.job frame 1 received '
                                r'from full\.example\n', state_text(farm)),
                      'the line waiting for the log is not in the state '
                      'file:\n%s', state_text(farm))
            finally:
                resource.prlimit(pid, resource.RLIMIT_FSIZE, limits)
            c.goodbye()
        bdfarmtest.wait_for(
            lambda: 'frame 1 received from full.example' in
            farm.joblog('f'), 10, what='the line once the log has room')
        bdfarmtest.wait_for(lambda: 'joblog' not in state_text(farm), 10,
                            what='the journal to leave the state file')
        eq(farm.joblog('f').count('frame 1 received'), 1,
           'the line, once')
        eq(md5_bytes(open(farm.frame_path('f', '0001.png'), 'rb').read()),
           md5_bytes(b'one'), 'the frame')


def test_saves_swap_two_files():
    # Each save swaps the state file with the one that keeps the previous
    # version: no file is created or deleted per save.
    with Farm() as farm:
        path, data = farm.blend('w.blend')
        farm.job('w', path, 1, 9)
        farm.start()
        farm.wait_ready()
        state = os.path.join(farm.jobdir, '.bdfarm.state')
        previous = state + '.previous'

        def inodes():
            return {os.stat(state).st_ino, os.stat(previous).st_ino}
        with farm.client() as c:
            c.helo('swap.example')
            eq(c.requestjob(1)[2], 1, 'frame handed out')
            bdfarmtest.wait_for(lambda: os.path.exists(previous), 10,
                                what='a second save')
            for n in (2, 3, 4):
                before = state_text(farm)
                was = inodes()
                eq(c.requestjob(1)[2], n, 'frame handed out')
                bdfarmtest.wait_for(lambda: state_text(farm) != before, 10,
                                    what='a save')
                eq(inodes(), was, 'the files the state is saved in')
                with open(previous) as f:
                    eq(f.read(), before, 'the previous version')
            c.goodbye()


if __name__ == '__main__':
    bdfarmtest.main([test_journal_done_at_start,
                     test_job_log_full_for_a_while,
                     test_saves_swap_two_files])
