"""The server's console, driven through tmux: a server with three jobs runs
in a detached tmux session on a private socket, scripted old clients take
frames, keys are sent with send-keys and the screen is read back with
capture-pane. Skipped when tmux is not installed."""

import os
import re
import shutil
import subprocess
import sys
import time

import bdfarmtest as bt
import exttest
import filescene
import tlstest

from consoletest import (JOBS, Console, setup_farm, render, wait_ready,
                         job_of)


def test_console():
    farm = setup_farm()
    con = None
    try:
        con = Console(farm)
        names = [n + '.job' for n, _ in JOBS]
        con.wait_screen(lambda s: all(any(n in l for l in s)
                                      for n in names) and
                        'no client' in '\n'.join(s),
                        what='the three jobs')
        wait_ready(farm, con)
        order = [r[1] for r in con.job_rows()]
        bt.eq(sorted(order), sorted(names), 'jobs on screen')
        text = con.text()
        bt.check('frames 0/23' in text, 'header total:\n%s', text)
        bt.check(re.search(r'rate -\s+queue ETA -', text),
                 'no rate before any frame:\n%s', text)

        # One client renders two frames and keeps one out.
        got = render(farm, 'render1.example', 2, keep=1)
        first = order[0]
        bt.eq([job_of(g[0]) for g in got], [first] * 3, 'hand-out order')
        con.wait_screen(lambda s: con.row(first) and
                        re.search(r'rendering .* 2/\d+\s+1 ',
                                  con.row(first)[2]),
                        what='progress of %s' % first)
        row = con.row(first)[2]
        bt.check(re.search(r'\s\d+(\.\d)?[smhd]\S*\s+\S+\s*$', row),
                 'no average frame time: %r', row)
        con.wait_screen(lambda s: any(
            re.search(r'render1\.example\s+old\s+1\s+0\s+2\s.*%s:%d'
                      % (re.escape(first), got[2][2]), l) for l in s),
            what='the client row')
        text = con.text()
        bt.check('frames 2/23' in text, 'header done:\n%s', text)
        # Frames out and in are listed among the latest events.
        con.wait_screen(lambda s: any(
            '%s: frame %d from render1.example' % (first, got[0][2]) in l
            for l in s), what='the frame-received event')
        bt.check('%s: frame %d to render1.example' % (first, got[2][2])
                 in con.text(), 'no frame-out event:\n%s', con.text())
        bt.check(re.search(r'rate \d+\.\d/min', text),
                 'a measured rate:\n%s', text)
        bt.check('\u2588' in text, 'UTF-8 bar:\n%s', text)

        # s on the second job: its .suspend file, then gone again.
        second = order[1]
        spath = os.path.join(farm.jobdir, second + '.suspend')
        con.keys('j', 's')
        bt.wait_for(lambda: os.path.exists(spath), bt.PATIENCE, what=spath)
        con.wait_screen(lambda s: 'suspended' in con.row(second)[2],
                        what='%s suspended' % second)
        con.keys('s')
        bt.wait_for(lambda: not os.path.exists(spath), bt.PATIENCE,
                    what='%s removed' % spath)
        con.wait_screen(lambda s: 'suspended' not in con.row(second)[2],
                        what='%s resumed' % second)

        # A .suspend made by hand shows.
        third = order[2]
        hand = os.path.join(farm.jobdir, third + '.suspend')
        open(hand, 'w').close()
        t0 = time.monotonic()
        con.wait_screen(lambda s: 'suspended' in con.row(third)[2],
                        what='hand-made suspension of %s' % third)
        print('hand-made .suspend shown after %.2f s'
              % (time.monotonic() - t0))
        os.unlink(hand)
        con.wait_screen(lambda s: 'suspended' not in con.row(third)[2],
                        what='hand-made suspension lifted')

        # + on the last job: it goes first, on screen and in the hand-out.
        con.keys('G', '+')
        con.wait_screen(lambda s: con.job_rows() and
                        con.job_rows()[0][:2] == (1, third),
                        what='%s first with priority 1' % third)
        got = render(farm, 'render2.example', 1)
        bt.eq(job_of(got[0][0]), third, 'job of the next frame handed out')

        # A client that proved a key shows as TLS, by its key's name; one
        # that spoke plain text does not.
        _, token = tlstest.invite(farm, 'alice')
        tlstest.s_client(farm.port, 'alice', tlstest.key_of(token),
                         ['HELO render3.example bdfarm/2 5', 'GOODBYE'])
        con.wait_screen(lambda s: any(re.search(r'alice#5\s+TLS\s', l)
                                      for l in s), what='the TLS client row')
        bt.check(re.search(r'render2\.example\s+old\s', con.text()),
                 'the plain client row:\n%s', con.text())

        # The help screen, and back.
        con.keys('?')
        con.wait_screen(lambda s: 'suspend or resume' in '\n'.join(s),
                        what='the help')
        con.keys('Escape')
        con.wait_screen(lambda s: con.row(first) is not None,
                        what='back from the help')

        # Small, then large again.
        con.tmux('resize-window', '-t', 'farm', '-x', '40', '-y', '10')
        con.wait_screen(lambda s: len(s) <= 11 and 'clients' in s[0],
                        what='drawn at 40x10')
        con.assert_alive()
        bt.check(max(len(l) for l in con.screen()) <= 40, 'too wide')
        con.tmux('resize-window', '-t', 'farm', '-x', '120', '-y', '40')
        con.wait_screen(lambda s: len(s) >= 40 and
                        all(con.row(n) for n in names),
                        what='drawn at 120x40 again')

        # Stopping the clients asks first while frames are out.
        con.keys('X')
        con.wait_screen(lambda s: 'Tell every client to stop?' in s[-1] or
                        'Tell every client to stop?' in '\n'.join(s),
                        what='the stop question')
        con.keys('n')
        with farm.client() as c:
            bt.check(c.helo('probe.example')[1] != 'STOPPING',
                     'stopped after n')
            c.goodbye()
        # A bdfarm client keeps its connection open: it is told at once.
        ext = exttest.BdfarmClient(farm.port, name='waiting.example')
        ext.hello()
        ext.waitjob()
        con.keys('X')
        con.wait_screen(lambda s: 'stop?' in '\n'.join(s),
                        what='the stop question again')
        con.keys('y')
        con.wait_screen(lambda s: 'STOPPING' in s[1], what='STOPPING shown')
        ext.alive()
        bt.eq(ext.read_line(), 'STOPPING', 'line pushed to a bdfarm client')
        ext.close()
        with farm.client() as c:
            bt.eq(c.helo('probe.example')[1], 'STOPPING', 'HELO answer')
            c.goodbye()

        # Quit: asks while frames are out, saves, exits 0.
        state = os.path.join(farm.jobdir, '.bdfarm.state')
        before = os.stat(state).st_mtime_ns if os.path.exists(state) else 0
        con.keys('q')
        con.wait_screen(lambda s: 'Quit anyway?' in '\n'.join(s),
                        what='the quit question')
        con.assert_alive()
        con.keys('y')
        bt.wait_for(lambda: con.dead() is not None, bt.PATIENCE,
                    what='the server to exit')
        bt.eq(con.dead(), 0, 'exit status')
        bt.check(os.stat(state).st_mtime_ns > before, 'state not written')
        with open(state) as f:
            saved = f.read()
        bt.check(re.search(r'priority 1\b', saved), 'priority not saved:\n%s',
                 saved)
        with open(farm.settings['log_file']) as f:
            log = f.read()
        bt.check('new job' in log and 'quitting' in log,
                 'log file:\n%s', log)
    finally:
        if con is not None:
            con.close()
        farm.cleanup()


def test_console_failures():
    """What bdfarm clients report shows: their facts, live progress, a
    client blocked on a job (u lifts it), a job done with failed frames
    and their numbers (r hands them out again)."""
    farm = setup_farm()
    con = None
    clients = []
    try:
        con = Console(farm)
        wait_ready(farm, con)
        first = con.job_rows()[0][1]
        for n in range(3):
            c = exttest.BdfarmClient(farm.port, name='ext%d.example' % n)
            c.hello()
            c.facts(renderers=2, cores=8, blender='3.4.1')
            clients.append(c)
        a, b, d = clients
        con.wait_screen(lambda s: '[Blender 3.4.1, 8 cores]' in
                        '\n'.join(s), what='the facts of a client')

        # Live progress of a frame out.
        job = b.next_job()
        b.progress(job[0], job[1], job[2], 420)
        con.wait_screen(lambda s: any(
            '%s#' % 'ext1.example' in l and '%s:%d 42%%' % (first, job[2])
            in l for l in s), what='the progress of a frame')
        bt.eq(b.failed(job[0], job[1], job[2], 'Error: first'), 'OK',
              'FAILED answer')

        # Three failures of one client on the job: it is blocked there.
        for i in range(3):
            job = a.next_job()
            bt.eq(job_of(job[0]), first, 'the job the client fails')
            bt.eq(a.failed(job[0], job[1], job[2], 'Error: again %d' % i,
                           ['line %d' % i]), 'OK', 'FAILED answer')
        con.wait_screen(lambda s: any(
            a.ident in l and '[blocked on %s]' % first in l for l in s),
            what='the blocked client')

        # The same frame failing on a third client sets it aside; the
        # rest is rendered and the job shows as done with a failed frame.
        job = d.next_job()
        failed_frame = job[2]
        bt.eq(d.failed(job[0], job[1], job[2], 'Error: third'), 'OK',
              'FAILED answer')
        # Another client renders every frame left, of every job.
        def all_done():
            rows = con.job_rows()
            return len(rows) == len(JOBS) and \
                all('done' in row[2] for row in rows)
        deadline = time.monotonic() + bt.PATIENCE
        while not all_done():
            bt.check(time.monotonic() < deadline, 'jobs not done after '
                     '%d s; screen:\n%s', bt.PATIENCE, con.text())
            if not b.waiting:
                b.waitjob()
            got = b.wait_job(0.2)
            if got is not None:
                bt.eq(b.render(got), 'THANKYOU', 'upload')
        con.wait_screen(lambda s: con.row(first) and re.search(
            r'done, 1 failed\s+failed: %d \(r retries\)' % failed_frame,
            con.row(first)[2]), what='the failed frame of %s' % first)

        # r hands the failed frame out again; u lifts the block. The
        # client still waiting would take the frame: it leaves first.
        b.close()
        con.keys('g', 'r')
        con.wait_screen(lambda s: 'failed' not in con.row(first)[2],
                        what='the failed frame queued again')
        con.keys('u')
        con.wait_screen(lambda s: not any('[blocked on' in l for l in s),
                        what='the block lifted')
        job = a.next_job(what='a frame for the unblocked client')
        bt.eq((job_of(job[0]), job[2]), (first, failed_frame),
              'the retried frame goes to the unblocked client')
        con.assert_alive()
    finally:
        for c in clients:
            c.close()
        if con is not None:
            con.close()
        farm.cleanup()


def test_console_ascii():
    """Without UTF-8, bars are ASCII; and a busy console keeps up."""
    farm = setup_farm()
    con = None
    try:
        con = Console(farm, 80, 24, lang='C')
        con.wait_screen(lambda s: len(con.job_rows()) == 3, what='the jobs')
        wait_ready(farm, con)
        render(farm, 'r.example', 3)
        con.wait_screen(lambda s: any(re.search(r'#+\.+', l) for l in s),
                        what='an ASCII bar')
        text = con.text()
        bt.check(all(ord(ch) < 128 for ch in text), 'non-ASCII:\n%s', text)
        con.keys('q')
        bt.wait_for(lambda: con.dead() is not None, bt.PATIENCE,
                    what='the server to exit without asking')
        bt.eq(con.dead(), 0, 'exit status')
    finally:
        if con is not None:
            con.close()
        farm.cleanup()


def test_console_files():
    """The FILES column: how many files a job needs (its .blend included)
    and their size, or how many are missing on the server; the selected
    job's row names the missing one."""
    farm = bt.Farm(settings={'log_file': ''})
    farm.settings['log_file'] = os.path.join(farm.root, 'console.log')
    farm.write_conf()
    con = None
    try:
        top = os.path.join(farm.root, 'scene')
        filescene.build_scene(top)
        farm.job('shot', os.path.join(top, 'proj', 'scene.blend'), 1, 3)
        con = Console(farm)
        con.wait_screen(lambda s: con.row('shot.job') is not None and
                        '1 missing' in con.row('shot.job')[2],
                        what='one file missing')
        con.wait_screen(lambda s: 'missing: /' in con.row('shot.job')[2],
                        what='the selected job naming it')
        bt.check('FILES' in con.text(), 'a FILES column:\n%s', con.text())
        gone = os.path.join(top, 'proj', 'tex', 'gone.png')
        shutil.copy(os.path.join(top, 'proj', 'tex', 'rel.png'), gone)
        con.wait_screen(lambda s: re.search(r' 11 [0-9.]+K ',
                                            con.row('shot.job')[2]),
                        what='eleven files and their size')
        bt.check('missing' not in con.row('shot.job')[2],
                 'nothing missing any more: %r', con.row('shot.job'))
        # The help says what travels with a job.
        con.keys('?')
        con.wait_screen(lambda s: any(l.strip().startswith(
            "FILES: the files a job's .blend needs") for l in s),
            what='the help on files')
        con.keys('Escape')
        con.wait_screen(lambda s: con.row('shot.job') is not None,
                        what='back from the help')
        con.keys('q')
        bt.wait_for(lambda: con.dead() is not None, bt.PATIENCE,
                    what='the server to exit')
    finally:
        if con is not None:
            con.close()
        farm.cleanup()


def keyed_client(farm, name, token, host):
    """A TLS client under the key name that says HELO as host and stays
    connected until the server closes; an `openssl s_client` process."""
    p = subprocess.Popen([tlstest.openssl(), 's_client', '-quiet', '-tls1_3',
                          '-connect', '127.0.0.1:%d' % farm.port,
                          '-psk_identity', name,
                          '-psk', tlstest.key_of(token)],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    bt._live.append(p)
    p.stdin.write(('HELO %s bdfarm/2 7\r\n' % host).encode())
    p.stdin.flush()
    return p


def test_console_revoke():
    """K on a TLS client's row revokes its key once confirmed: the line
    leaves the keys file and the client's connection is cut at once."""
    farm = setup_farm()
    con = None
    alice = None
    try:
        con = Console(farm)
        log = farm.settings['log_file']
        keys = os.path.join(farm.jobdir, '.bdfarm.keys')
        _, token = tlstest.invite(farm, 'alice')
        tlstest.invite(farm, 'bob')
        with farm.client() as c:
            c.helo('plain.example')
            c.goodbye()
        alice = keyed_client(farm, 'alice', token, 'laptop.example')
        con.wait_screen(lambda s: any(re.search(r'alice#7\s+TLS\s+.*now', l)
                                      for l in s), what='the TLS client row')
        # The help names the key.
        con.keys('?')
        con.wait_screen(lambda s: "revoke the selected TLS client's key" in
                        '\n'.join(s), what='K in the help')
        con.keys('Escape')
        con.wait_screen(lambda s: 'plain.example' in '\n'.join(s),
                        what='back from the help')
        con.keys('Tab', 'g')

        # A client that spoke plain text has no key to revoke.
        con.keys('K')
        con.wait_screen(lambda s: 'plain.example has no key to revoke' in
                        '\n'.join(s), what='no key on a plain row')

        # Answering anything but y keeps the key.
        con.keys('G', 'K')
        con.wait_screen(lambda s: 'Revoke the key alice and cut its '
                        'connections? (y/n)' in '\n'.join(s),
                        what='the question')
        con.keys('n')
        con.wait_screen(lambda s: 'cancelled' in '\n'.join(s),
                        what='cancelled')
        with open(keys) as f:
            bt.check(re.search(r'^alice ', f.read(), re.M),
                     'the key stays when the question is not confirmed')
        bt.eq(alice.poll(), None, 'alice still connected')

        with open(log) as f:
            mark = len(f.read())
        con.keys('K')
        con.wait_screen(lambda s: 'Revoke the key alice' in '\n'.join(s),
                        what='the question again')
        began = time.monotonic()
        con.keys('y')

        def cut():
            with open(log) as f:
                return 'alice#7: closing the connection: its key was ' \
                       'revoked' in f.read()[mark:]
        bt.wait_for(cut, bt.PATIENCE, what='the server to cut alice')
        bt.wait_for(lambda: alice.poll() is not None, bt.PATIENCE,
                    what='the TLS client to see its connection closed')
        elapsed = time.monotonic() - began
        print('confirmed revocation to cut connection: %.2f s' % elapsed)
        bt.check(elapsed < 10, 'cut at once, not after %.2f s', elapsed)
        with open(keys) as f:
            left = f.read()
        bt.check(not re.search(r'^alice ', left, re.M) and
                 re.search(r'^bob ', left, re.M),
                 'only alice\'s line left the keys file:\n%s', left)
        bt.eq(os.stat(keys).st_mode & 0o777, 0o600, 'keys file mode')
        bt.check(not os.path.exists(keys + '.previous'),
                 'no copy of the revoked key is left beside the file')
        con.wait_screen(lambda s: 'the key alice is revoked' in
                        '\n'.join(s), what='the outcome in the footer')

        # The key no longer lets alice in.
        got = tlstest.s_client(farm.port, 'alice', tlstest.key_of(token),
                               ['HELO laptop.example bdfarm/2 7', 'GOODBYE'])
        bt.check('JOB' not in got and 'OK' not in got,
                 'a revoked key is refused: %r', got)
        con.assert_alive()
    finally:
        if alice is not None and alice.poll() is None:
            alice.kill()
            alice.wait()
        if con is not None:
            con.close()
        farm.cleanup()


if __name__ == '__main__':
    if shutil.which('tmux') is None:
        print('tmux is not installed')
        sys.exit(77)
    bt.main([test_console, test_console_failures, test_console_ascii,
             test_console_files,
             test_console_revoke],
            bound=300)
