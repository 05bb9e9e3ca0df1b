"""A client's page in the console, and its busy and waiting frames in the
clients pane, driven through tmux with a scripted bdfarm client: it says
it has one renderer, takes six frames and starts one, and tells of its
warm Blenders (BLENDER column, from 100 columns up, kept for a session
that takes over); Enter on it in the clients pane opens its page, which
lists its facts, its warm Blenders, its frames, and its latest failure
and result; Esc goes back. Skipped without tmux."""

import re
import shutil
import sys

import bdfarmtest as bt
import exttest

from consoletest import Console, setup_farm, wait_ready, job_of


def client_rows(screen):
    """The lines of the clients pane below its titles, top down."""
    rows, inside = [], False
    for line in screen:
        if line.startswith('CLIENT '):
            inside = True
        elif inside and (line.startswith(' EVENTS') or not line.strip()):
            break
        elif inside:
            rows.append(line)
    return rows


def frame_rows(screen, jobs):
    """The page's frame rows as (job, frame, state), top down."""
    names = '|'.join(re.escape(job_of(j[0])) for j in jobs)
    rows = []
    for line in screen:
        m = re.match(r'\s+(%s)\s+(\d+)\s+(rendering \d+%%|waiting|'
                     r'rendered)\s+for \S+\s*$' % names, line)
        if m:
            rows.append((m.group(1), int(m.group(2)), m.group(3)))
    return rows


def test_client_page():
    farm = setup_farm()
    con = None
    c = None
    try:
        con = Console(farm)
        wait_ready(farm, con)
        c = exttest.BdfarmClient(farm.port, name='page.example')
        t = c.helo(extra='bdfarm/4 %s' % c.instance)
        bt.eq(t[2:], ['bdfarm/4'], 'version answered to bdfarm/4')
        c.facts(renderers=1, cores=4, blender='3.6.2')
        jobs = [c.next_job() for _ in range(6)]
        who = re.escape(c.ident)

        # Its warm Blender: loading its scene, then with frames rendered.
        con.wait_screen(lambda s: any(
            re.search(r'%s\s+bdfarm\s.*\s-\s*$' % who, l) or
            re.search(r'%s\s+bdfarm\s.*\snow\s+-\s' % who, l)
            for l in client_rows(s)), what='no word of warm Blenders yet')
        c.send_line('WARM -')
        con.wait_screen(lambda s: any(
            re.search(r'%s\s.*\snow\s+loading\s' % who, l)
            for l in client_rows(s)), what='BLENDER loading')
        c.send_line('WARM 37')
        con.wait_screen(lambda s: any(
            re.search(r'%s\s.*\snow\s+warm 37\s' % who, l)
            for l in client_rows(s)), what='BLENDER warm 37')

        # It has started one frame of six: one renderer of one at work,
        # five frames waiting; not "6/1".
        c.progress(jobs[0][0], jobs[0][1], jobs[0][2], 0)
        con.wait_screen(lambda s: any(
            re.search(r'%s\s+bdfarm\s+1/1\s+5\s' % who, l)
            for l in client_rows(s)), what='busy 1/1 and 5 waiting')
        bt.check('6/1' not in con.text(), 'frames out shown as busy:\n%s',
                 con.text())
        con.wait_screen(lambda s: re.search(r'renderers busy 1\s*$', s[0]),
                        what='one renderer busy in the header')

        # The columns still fit at 80 columns, without BLENDER.
        con.tmux('resize-window', '-t', 'farm', '-x', '80', '-y', '24')
        con.wait_screen(lambda s: any(
            l.startswith('CLIENT ') and 'BLENDER' not in l for l in s) and
            any(re.search(r'%s\s+bdfarm\s+1/1\s+5\s+0\s' % who, l)
                for l in client_rows(s)), what='the client row at 80 columns')

        # Select it in the clients pane and open its page.
        con.keys('Tab')
        at = [i for i, l in enumerate(client_rows(con.screen()))
              if c.ident in l]
        bt.eq(len(at), 1, 'rows of the client')
        con.keys(*(['Down'] * at[0]))
        con.keys('Enter')
        con.wait_screen(lambda s: 'client %s' % c.ident in s[0],
                        what='the client page')
        text = con.text()
        for fact in ('1 renderer,', '4 cores', 'Blender 3.6.2',
                     'bdfarm extension', '1 of 1 at work, 5 frames waiting',
                     '1 open now', 'warm Blenders  37 frames rendered'):
            bt.check(fact in text, 'no %r on the page:\n%s', fact, text)
        rows = frame_rows(con.screen(), jobs)
        bt.eq(sorted(r[:2] for r in rows),
              sorted((job_of(j[0]), j[2]) for j in jobs), 'frames listed')
        bt.eq([r[1] for r in rows if r[2].startswith('rendering')],
              [jobs[0][2]], 'the frame being rendered')

        # A second warm Blender that loads; then none.
        c.send_line('WARM 38 -')
        con.wait_screen(lambda s: '38 frames rendered, loading its scene'
                        in '\n'.join(s), what='two warm Blenders on the page')
        c.send_line('WARM')
        con.wait_screen(lambda s: re.search(r'warm Blenders\s+none now',
                                            '\n'.join(s)),
                        what='no warm Blender on the page')

        # Live progress shows.
        c.progress(jobs[0][0], jobs[0][1], jobs[0][2], 420)
        con.wait_screen(lambda s: (job_of(jobs[0][0]), jobs[0][2],
                                   'rendering 42%') in frame_rows(s, jobs),
                        what='progress on the page')

        # A failure shows with its reason, and a frame done as done.
        bad = jobs[1]
        bt.eq(c.failed(bad[0], bad[1], bad[2], 'Error: out of memory',
                       ['Fra:%d Mem:9999M' % bad[2], 'Killed']), 'OK',
              'FAILED answer')
        con.wait_screen(lambda s: any(re.search(
            r'\s%s\s+%d\s+failed: Error: out of memory'
            % (re.escape(job_of(bad[0])), bad[2]), l) for l in s),
            what='the failure on the page')
        con.wait_screen(lambda s: len(frame_rows(s, jobs)) == 5,
                        what='the failed frame gone from the frames')
        bt.eq(c.render(jobs[0]), 'THANKYOU', 'upload')
        con.wait_screen(lambda s: any(re.search(
            r'\s%s\s+%d\s+done in \S+' % (re.escape(job_of(jobs[0][0])),
                                          jobs[0][2]), l) for l in s),
            what='the frame done on the page')
        con.wait_screen(lambda s: '1 done, 1 failed' in '\n'.join(s),
                        what='the tallies on the page')

        # K: a client that proved no key has none to revoke.
        con.keys('K')
        con.wait_screen(lambda s: '%s has no key to revoke' % c.ident
                        in '\n'.join(s), what='no key to revoke')

        # Esc goes back to the panes.
        con.keys('Escape')
        con.wait_screen(lambda s: any(c.ident in l for l in client_rows(s))
                        and con.job_rows(), what='back on the main page')
        c.alive()
        con.assert_alive()

        # At 100 columns BLENDER is back; a list too long for it is cut
        # between numbers, never within one.
        con.tmux('resize-window', '-t', 'farm', '-x', '100', '-y', '30')
        c.send_line('WARM 250 37 -')
        con.wait_screen(lambda s: any(
            re.search(r'%s\s.*\snow\s+warm 250\+2\s' % who, l)
            for l in client_rows(s)), what='BLENDER warm 250+2')

        # A session waiting under the same name says its own; it shows
        # once the first has gone and it speaks for the client.
        b = exttest.BdfarmClient(farm.port, name='page.example',
                                 instance=c.instance)
        t = b.helo(extra='bdfarm/4 %s' % b.instance)
        bt.eq(t[2:], ['bdfarm/4'], 'version answered to the second session')
        b.send_line('WARM 9')
        c.close()
        c = b
        con.wait_screen(lambda s: any(
            re.search(r'%s\s.*\s+warm 9\s' % who, l)
            for l in client_rows(s)), what='BLENDER of the session that '
            'took over')
        c.alive()
        con.assert_alive()
    finally:
        if c is not None:
            c.close()
        if con is not None:
            con.close()
        farm.cleanup()


if __name__ == '__main__':
    if shutil.which('tmux') is None:
        print('tmux is not installed')
        sys.exit(77)
    bt.main([test_client_page], bound=300)
