"""A job whose files cannot be read for a while is paused, not started
over: no frame of it goes out, results for it are still taken, the console
says it is unavailable and why, its frames are kept (in the state file too)
and it goes on where it was once the files can be read again. Only a
change of content starts it over, and the state read at start does not
come back for a job file removed and added again."""

import sys
sys.dont_write_bytecode = True
import importlib.util
import os
import re
import shutil
import time

import bdfarmtest as bt
from bdfarmtest import (Farm, check, eq, main, md5_bytes, wait_for,
                        write_blend, write_file)

NOBODY = 65534


def take(farm, n=1, host='t.example'):
    """Ask for n frames in one session; return their numbers (None for
    no frame)."""
    with farm.client() as c:
        c.helo(host)
        got = [c.requestjob(1) for _ in range(n)]
        c.goodbye()
    return [j and j[2] for j in got]


def todo(farm):
    """HELO's second token: whether a frame could be handed out now."""
    with farm.client() as c:
        t = c.helo('probe.example')[1]
        c.goodbye()
    return t


def upload(farm, name, md5, frame, host='t.example'):
    with farm.client() as c:
        c.helo(host)
        r = c.results(name, md5, frame, '%04d.png' % frame,
                      b'frame %d' % frame)
        c.goodbye()
    return r


def wait_unavailable(farm, job, since, what):
    """Wait for the log line that pauses job, naming what it says."""
    farm.wait_log(r'%s: unavailable: .*%s' % (re.escape(job), what),
                  bt.PATIENCE, since=since)
    bt.wait_for(lambda: todo(farm) == '0', bt.PATIENCE, what='HELO todo 0')


def no_restart(farm, name):
    text = farm.joblog(name)
    check(not re.search(r'(?i)started over', text),
          'the job started over:\n%s', text)


def test_blend_unreadable_for_a_while():
    with Farm() as farm:
        farm.start()
        path, data = farm.blend('a.blend')
        md5 = md5_bytes(data)
        farm.job('a', path, 1, 100)
        farm.wait_ready()
        eq(take(farm, 3), [1, 2, 3], 'first frames')
        eq(upload(farm, 'a.blend', md5, 1), 'THANKYOU', 'frame 1')

        # The file goes away (a network blip, or the first half of a save
        # by rename): the job pauses, keeping its frames.
        mark = farm.log_size()
        os.rename(path, path + '~')
        wait_unavailable(farm, 'a.job', mark, re.escape(path))
        eq(take(farm, 2), [None, None], 'frames of an unavailable job')
        # A frame rendered meanwhile is still taken.
        eq(upload(farm, 'a.blend', md5, 2), 'THANKYOU',
           'a result while the job is unavailable')
        # Logged once, however long it lasts.
        time.sleep(2.5)
        eq(len(re.findall(r'a\.job: unavailable', farm.log_since(mark))), 1,
           'unavailable lines in the log')

        # Back as it was: the job goes on where it was.
        mark = farm.log_size()
        os.rename(path + '~', path)
        farm.wait_log(r'a\.job: available again', bt.PATIENCE, since=mark)
        eq(farm.poll_job()[2], 4, 'first frame after the file is back')

        # A save by rename with the same content: a new file, not a new
        # job.
        mark = farm.log_size()
        os.rename(path, path + '~')
        wait_unavailable(farm, 'a.job', mark, re.escape(path))
        write_blend(path, data=data)
        farm.wait_log(r'a\.job: available again', bt.PATIENCE, since=mark)
        j = farm.poll_job()
        eq((j[1], j[2]), (md5, 5), 'frame after a save by rename')
        no_restart(farm, 'a')

        # Other content: that starts the job over.
        mark = farm.log_size()
        new = md5_bytes(write_blend(path, size=1500, seed=7))
        farm.wait_log(r'a\.job: starting over', bt.PATIENCE, since=mark)
        j = farm.poll_job()
        eq((j[1], j[2]), (new, 1), 'first frame of the changed .blend')


def run_as_nobody(farm):
    """Start the server as an unprivileged user when running as root, so
    that a file without read permission cannot be read by it."""
    if os.geteuid() != 0:
        farm.start()
        return
    if not shutil.which('setpriv'):
        raise AssertionError('setpriv is needed to drop privileges')
    os.chmod(farm.root, 0o755)
    os.chmod(farm.conf, 0o644)
    for d in (farm.jobdir, farm.renderdir):
        os.chmod(d, 0o777)
    mark = farm.log_size()
    farm.proc = farm.spawn(farm.argv(), as_user=NOBODY)
    farm.wait_listening(mark)


def test_job_file_unreadable_for_a_while():
    with Farm() as farm:
        path, data = farm.blend('b.blend')
        md5 = md5_bytes(data)
        job = farm.job('b', path, 1, 100)
        os.chmod(job, 0o644)
        run_as_nobody(farm)
        farm.wait_ready()
        eq(take(farm, 3), [1, 2, 3], 'first frames')
        eq(upload(farm, 'b.blend', md5, 1), 'THANKYOU', 'frame 1')

        # Touched and unreadable: it must be read again, and cannot be.
        mark = farm.log_size()
        os.chmod(job, 0)
        os.utime(job, (1, 1))
        wait_unavailable(farm, 'b.job', mark, r'b\.job')
        eq(take(farm), [None], 'a frame of a job whose file is unreadable')
        eq(upload(farm, 'b.blend', md5, 3), 'THANKYOU',
           'a result while the job file is unreadable')

        mark = farm.log_size()
        os.chmod(job, 0o644)
        farm.wait_log(r'b\.job: available again', bt.PATIENCE, since=mark)
        eq(farm.poll_job()[2], 4, 'first frame once the file is readable')
        no_restart(farm, 'b')
        # A file that does not parse is still refused as before.
        mark = farm.log_size()
        write_file(job, b'not a job\n')
        os.chmod(job, 0o644)
        farm.wait_log(r'b\.job: skipped', bt.PATIENCE, since=mark)
        eq(take(farm), [None], 'a frame of an invalid job')


def test_job_file_saved_by_rename():
    # An editor renames the file aside, then writes it anew: for a moment
    # there is no file, and the job must not be dropped for it.
    with Farm() as farm:
        farm.start()
        path, _ = farm.blend('c.blend')
        job = farm.job('c', path, 1, 100)
        farm.wait_ready()
        eq(take(farm, 2), [1, 2], 'first frames')
        with open(job, 'rb') as f:
            text = f.read()
        mark = farm.log_size()
        os.rename(job, job + '~')
        time.sleep(0.1)
        write_file(job, text)
        os.unlink(job + '~')
        time.sleep(1)
        log = farm.log_since(mark)
        check('removed' not in log and 'new job' not in log,
              'the job was dropped for a moment:\n%s', log)
        eq(farm.poll_job()[2], 3, 'next frame after the save')
        no_restart(farm, 'c')


def test_unavailable_job_kept_across_a_restart():
    with Farm() as farm:
        farm.start()
        path, data = farm.blend('d.blend')
        md5 = md5_bytes(data)
        farm.job('d', path, 1, 100)
        farm.wait_ready()
        eq(take(farm, 3), [1, 2, 3], 'first frames')
        eq(upload(farm, 'd.blend', md5, 1), 'THANKYOU', 'frame 1')
        mark = farm.log_size()
        os.rename(path, path + '~')
        wait_unavailable(farm, 'd.job', mark, re.escape(path))
        eq(farm.stop(), 0, 'exit code on SIGTERM')
        state = os.path.join(farm.jobdir, '.bdfarm.state')
        with open(state) as f:
            text = f.read()
        check(re.search(r'(?m)^job d\.job\n(.*\n)*?done 1\n(.*\n)*?out 2 ',
                        text),
              'the unavailable job is not in the state file:\n%s', text)

        # Started while the .blend is still away: the job is there,
        # paused, with its frames.
        mark = farm.log_size()
        farm.start()
        farm.wait_log(r'd\.job: unavailable', bt.PATIENCE, since=mark)
        eq(take(farm), [None], 'a frame while the .blend is away')
        os.rename(path + '~', path)
        farm.wait_log(r'd\.job: available again', bt.PATIENCE, since=mark)
        eq(farm.poll_job()[2], 4, 'first frame after the restart')
        no_restart(farm, 'd')


def test_saved_state_only_for_jobs_found_at_start():
    with Farm() as farm:
        farm.start()
        path, _ = farm.blend('e.blend')
        job = farm.job('e', path, 1, 100)
        farm.wait_ready()
        eq(take(farm, 3), [1, 2, 3], 'first frames')
        eq(farm.stop(), 0, 'exit code on SIGTERM')
        with open(job, 'rb') as f:
            text = f.read()

        # Found at start: it goes on where it was (1 to 3 are out).
        farm.start()
        farm.wait_ready()
        eq(take(farm), [4], 'next frame after a restart')
        # Removed, then added again within the run: a fresh job.
        mark = farm.log_size()
        os.unlink(job)
        farm.wait_log(r'e\.job: job file removed', bt.PATIENCE, since=mark)
        write_file(job, text)
        farm.wait_log(r'e\.job: new job', bt.PATIENCE, since=mark)
        eq(farm.poll_job()[2], 1, 'first frame of the job added again')


def load_console_harness():
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        'consoletest', os.path.join(here, 'test-console.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_console_shows_unavailable():
    harness = load_console_harness()
    # The console's log file is where the harness sees the server listen.
    farm = Farm()
    farm.settings['log_file'] = os.path.join(farm.root, 'console.log')
    farm.write_conf()
    con = None
    try:
        path, _ = farm.blend('f.blend')
        farm.job('f', path, 1, 10)
        con = harness.Console(farm)
        con.wait_screen(lambda s: con.row('f.job') is not None and
                        'queued' in con.row('f.job')[2], 10, 'f.job queued')
        os.rename(path, path + '~')
        con.wait_screen(lambda s: con.row('f.job') is not None and
                        re.search(r'unavailable\s+the \.blend file',
                                  con.row('f.job')[2]), 10,
                        'f.job unavailable, with the reason')
        os.rename(path + '~', path)
        con.wait_screen(lambda s: con.row('f.job') is not None and
                        'queued' in con.row('f.job')[2], 10,
                        'f.job queued again')
    finally:
        if con is not None:
            con.close()
        farm.cleanup()


if __name__ == '__main__':
    main([test_blend_unreadable_for_a_while,
          test_job_file_unreadable_for_a_while,
          test_job_file_saved_by_rename,
          test_unavailable_job_kept_across_a_restart,
          test_saved_state_only_for_jobs_found_at_start,
          test_console_shows_unavailable], bound=60)
