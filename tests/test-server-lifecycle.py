"""The server's life: start-up errors, SIGTERM and SIGINT that save state,
SIGHUP that rereads the configuration, an unreadable state file, and a
replaced program that re-executes itself without refusing connections."""

import sys
sys.dont_write_bytecode = True
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

from bdfarmtest import (PATIENCE, ConnectionClosed, Farm, check, eq, main,
                        md5_bytes, md5_file, wait_for)


def start_fails(farm, argv, mentions, as_user=None, what=''):
    """Run the server with argv; it must exit non-zero, before it serves,
    with a short message on stderr that matches mentions."""
    mark = farm.log_size()
    p = farm.spawn(argv, as_user=as_user)
    try:
        rc = p.wait(PATIENCE)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise AssertionError('%s: the server did not exit; log:\n%s'
                             % (what, farm.log_since(mark)))
    text = farm.log_since(mark)
    report = farm.sanitizer_report(mark)
    check(report is None, '%s: the server reported a sanitizer error:\n%s',
          what, report)
    lines = [ln for ln in text.splitlines()
             if ln.strip() and not ln.startswith('=== start')]
    check(rc not in (0, None) and rc > 0, '%s: exit code %r', what, rc)
    check(lines, '%s: nothing on stderr', what)
    check(len(lines) <= 3, '%s: more than one clear message:\n%s', what,
          '\n'.join(lines))
    check(re.search(mentions, '\n'.join(lines)),
          '%s: the message does not mention %r:\n%s', what, mentions,
          '\n'.join(lines))


def test_startup_errors():
    with Farm() as farm:
        missing = os.path.join(farm.root, 'missing')
        start_fails(farm, farm.argv(jobdir=missing), re.escape(missing),
                    what='missing JOBDIR')
        start_fails(farm, farm.argv(renderdir=missing), re.escape(missing),
                    what='missing RENDERDIR')
        afile = os.path.join(farm.root, 'afile')
        open(afile, 'w').close()
        start_fails(farm, farm.argv(jobdir=afile), re.escape(afile),
                    what='JOBDIR that is a file')
        start_fails(farm, farm.argv(renderdir=afile), re.escape(afile),
                    what='RENDERDIR that is a file')
        # Not writable: as root, run the server as nobody.
        user = None
        if os.geteuid() == 0:
            if not shutil.which('setpriv'):
                print('root without setpriv: not-writable cases skipped')
                user = -1
            else:
                user = 65534
        if user != -1:
            os.chmod(farm.root, 0o755)
            os.chmod(farm.conf, 0o644)
            ro = os.path.join(farm.root, 'readonly')
            rw = os.path.join(farm.root, 'writable')
            os.mkdir(ro, 0o555)
            os.mkdir(rw, 0o777)
            os.chmod(ro, 0o555)
            os.chmod(rw, 0o777)
            start_fails(farm, farm.argv(jobdir=ro, renderdir=rw),
                        re.escape(ro), as_user=user,
                        what='JOBDIR not writable')
            os.mkdir(os.path.join(farm.root, 'writable2'), 0o777)
            rw2 = os.path.join(farm.root, 'writable2')
            os.chmod(rw2, 0o777)
            start_fails(farm, farm.argv(jobdir=rw2, renderdir=ro),
                        re.escape(ro), as_user=user,
                        what='RENDERDIR not writable')
        # Port in use by another server.
        farm.start()
        other = os.path.join(farm.root, 'other')
        os.mkdir(other)
        os.mkdir(other + '/r')
        start_fails(farm, farm.argv(jobdir=other, renderdir=other + '/r'),
                    r'(?i)%d|in use' % farm.port, what='port in use')
        farm.assert_alive()


def setup_job(farm, frames=5):
    path, data = farm.blend('s.blend')
    farm.job('s', path, 1, frames)
    farm.wait_ready()
    return md5_bytes(data)


def session(farm, fn, host='s.example'):
    with farm.client() as c:
        c.helo(host)
        r = fn(c)
        c.goodbye()
    return r


def stop_and_restart(farm, sig):
    farm.signal(sig)
    try:
        rc = farm.proc.wait(PATIENCE)
    except subprocess.TimeoutExpired:
        raise AssertionError('server still running %d s after %s'
                             % (PATIENCE, sig))
    eq(rc, 0, 'exit code after %s' % signal.Signals(sig).name)
    state = os.path.join(farm.jobdir, '.bdfarm.state')
    check(os.path.isfile(state), 'no state file %s after %s', state,
          signal.Signals(sig).name)
    farm.start()


NAMES = {1: 'one.png', 2: 'two.png', 3: 'three.png'}

# The redistribution delay while a frame stays out across a restart: far
# longer than a stop, a start and a few sessions take on a busy machine,
# so that the frame is surely not due yet when the test asks right after
# the restart.
DELAY = 6


def test_signals_save_state():
    for sig in (signal.SIGTERM, signal.SIGINT):
        with Farm({'redistribute_delay': DELAY}) as farm:
            farm.start()
            md5 = setup_job(farm)
            got = session(farm, lambda c: [c.requestjob(1) for _ in range(3)])
            eq([j[2] for j in got], [1, 2, 3], 'frames handed out')
            # Image names without a frame number; the frames are stored
            # under names the server makes. Made older than the .blend,
            # they do not count as done when the render folder is read:
            # only the state can tell that these frames are done.
            for f in (1, 2):
                eq(session(farm, lambda c: c.results(
                    's.blend', md5, f, NAMES[f], b'x')), 'THANKYOU',
                   'upload of frame %d' % f)
                old = os.stat(os.path.join(farm.blenddir, 's.blend'))
                os.utime(farm.frame_path('s', '%04d.png' % f),
                         (old.st_atime - 100, old.st_mtime - 100))
            stop_and_restart(farm, sig)
            with open(os.path.join(farm.jobdir, '.bdfarm.state'), 'rb') as f:
                text = f.read().decode('utf-8')
            check(re.search(r'\d', text.splitlines()[0]),
                  'first line of the state names no version: %r',
                  text.splitlines()[0])
            farm.wait_ready()
            # 1 and 2 are done, 3 is out: 4 comes next.
            eq(session(farm, lambda c: [c.requestjob(1) for _ in range(3)]),
               [('s.blend', md5, 4), ('s.blend', md5, 5), None],
               'frames after restart')
            eq(session(farm, lambda c: c.results('s.blend', md5, 1,
                                                 NAMES[1], b'again')), 'NOK',
               'upload of a frame done before the restart')
            # Frame 3 is still out: it comes back after the delay, and its
            # first peer may still upload it.
            eq(farm.poll_job(timeout=DELAY + PATIENCE), ('s.blend', md5, 3),
               'frame out before the restart, handed out again')
            eq(session(farm, lambda c: c.results('s.blend', md5, 3,
                                                 NAMES[3], b'3')), 'THANKYOU',
               'upload of the frame out before the restart')
            eq(sorted(os.listdir(farm.framedir('s'))),
               ['0001.png', '0002.png', '0003.png'], 'render folder')


def test_sighup_rereads_config():
    with Farm({'max_frame_size': 1000}) as farm:
        farm.start()
        md5 = setup_job(farm)
        eq(session(farm, lambda c: c.requestjob(1)), ('s.blend', md5, 1),
           'frame')
        eq(session(farm, lambda c: c.results('s.blend', md5, 1, '1.png',
                                             b'x' * 1500)), 'NOK',
           'upload over max_frame_size 1000')
        farm.write_conf(max_frame_size=2000)
        mark = farm.log_size()
        farm.signal(signal.SIGHUP)
        farm.wait_log(r'settings read again from %s' % re.escape(farm.conf),
                      since=mark)
        farm.assert_alive()
        eq(session(farm, lambda c: c.results('s.blend', md5, 1, '1.png',
                                             b'x' * 1500)), 'THANKYOU',
           'upload of 1500 bytes after max_frame_size became 2000')
        # A broken configuration on SIGHUP does not kill the server.
        with open(farm.conf, 'a') as f:
            f.write('server = { nosuchsetting = 1; };\n')
        mark = farm.log_size()
        farm.signal(signal.SIGHUP)
        farm.wait_log(r'keeping the old settings: %s' % re.escape(farm.conf),
                      since=mark)
        farm.assert_alive()
        eq(session(farm, lambda c: c.requestjob(1)), ('s.blend', md5, 2),
           'frame after a bad SIGHUP')


def test_unreadable_state():
    with Farm() as farm:
        farm.start()
        md5 = setup_job(farm)
        for f in (1, 2):
            eq(session(farm, lambda c: c.requestjob(1))[2], f, 'frame')
            eq(session(farm, lambda c: c.results('s.blend', md5, f,
                                                 '%04d.png' % f, b'x')),
               'THANKYOU', 'upload')
        eq(farm.stop(), 0, 'exit code on SIGTERM')
        state = os.path.join(farm.jobdir, '.bdfarm.state')
        garbage = b'\x00\x01 this is not a state file \xff\n' * 3
        with open(state, 'wb') as f:
            f.write(garbage)
        mark = farm.log_size()
        farm.start()
        farm.wait_ready()
        text = farm.log_since(mark)
        check(re.search(r'\.bdfarm\.state', text),
              'no message naming the unreadable state file:\n%s', text)
        kept = [n for n in os.listdir(farm.jobdir)
                if n != '.bdfarm.state' and
                os.path.isfile(os.path.join(farm.jobdir, n)) and
                open(os.path.join(farm.jobdir, n), 'rb').read() == garbage]
        check(kept, 'the unreadable state was not set aside: %r',
              os.listdir(farm.jobdir))
        # Frames on disk, newer than their .blend, count as done.
        eq(session(farm, lambda c: c.requestjob(1))[2], 3,
           'first frame after losing the state')


def test_self_update():
    with Farm() as farm:
        bindir = os.path.join(farm.root, 'bin')
        os.mkdir(bindir)
        prog = os.path.join(bindir, 'bdfarm')
        shutil.copy2(farm.program, prog)
        farm.program = prog
        farm.start()
        md5 = setup_job(farm, frames=10)
        eq(session(farm, lambda c: c.requestjob(1))[2], 1, 'frame')
        eq(session(farm, lambda c: c.results('s.blend', md5, 1, '1.png',
                                             b'1')), 'THANKYOU', 'upload')
        old = md5_file(prog)
        refused = []
        stop = threading.Event()

        def knock():
            while not stop.is_set():
                try:
                    s = socket.create_connection(('127.0.0.1', farm.port), 2)
                    s.close()
                except ConnectionRefusedError:
                    refused.append(time.monotonic())
                except OSError:
                    pass
                time.sleep(0.005)
        t = threading.Thread(target=knock, daemon=True)
        t.start()
        try:
            with open(prog, 'rb') as f:
                data = f.read()
            tmp = prog + '.new'
            with open(tmp, 'wb') as f:
                f.write(data + b'\0bdfarm test update\n')
            os.chmod(tmp, 0o755)
            os.rename(tmp, prog)
            new = md5_file(prog)
            check(new != old, 'digest did not change')

            def digest():
                # A connection the old program accepted but had not
                # answered when it ran the new one ends unanswered; a
                # client connects again.
                try:
                    return session(farm, lambda c: c.helo('u.example'))[0]
                except ConnectionRefusedError:
                    refused.append(time.monotonic())
                except (ConnectionClosed, ConnectionError):
                    pass
                return None
            # Once the new program answers, it listens on the sockets it
            # was handed: no refusal can come after that.
            wait_for(lambda: digest() == new, PATIENCE, interval=0.1,
                     what='HELO to carry the new digest')
        finally:
            stop.set()
            t.join(PATIENCE)
        check(not refused, '%d connections refused during the re-execution',
              len(refused))
        farm.assert_alive()
        eq(session(farm, lambda c: c.requestjob(1))[2], 2,
           'frame after the re-execution')


def test_failed_frame_found_rendered():
    # The state says frame 2 failed for good, but it is in the render
    # folder (rendered after all, just before a crash): it counts as done,
    # and the job has no failed frame left.
    with Farm() as farm:
        path, _ = farm.blend('r.blend')
        farm.job('r', path, 1, 2)
        with open(os.path.join(farm.jobdir, 'r.job'), 'rb') as f:
            jobdigest = md5_bytes(f.read())
        with open(os.path.join(farm.jobdir, '.bdfarm.state'), 'w') as f:
            f.write('bdfarm-state 1\nnextseq 2\njob r.job\njobdigest %s\n'
                    'priority 0\nseq 1\ndone 1\nfailed 2\nend\n'
                    % jobdigest)
        os.makedirs(farm.framedir('r'))
        with open(farm.frame_path('r', '0002.png'), 'wb') as f:
            f.write(b'frame 2')
        farm.start()
        farm.wait_log(r'r\.job: 1 frames found already rendered')
        eq(farm.stop(), 0, 'exit status on SIGTERM')
        with open(os.path.join(farm.jobdir, '.bdfarm.state')) as f:
            state = f.read()
        check('\ndone 1-2\n' in state and '\nfailed' not in state,
              'state after the restart:\n%s', state)


if __name__ == '__main__':
    main([test_startup_errors, test_signals_save_state,
          test_sighup_rereads_config, test_unreadable_state,
          test_self_update, test_failed_frame_found_rendered])
