"""Consoles attached to a running server with `bdfarm --attach JOBDIR`,
driven through tmux: they show the server's own tables and their keys act
on the server; two at once; closing or killing one leaves the farm
serving; another user is refused; and a hang-up of the server's own
console leaves the server serving without it."""

import array
import os
import re
import signal
import socket
import stat

import bdfarmtest as bt
from consoletest import (Attached, Console, setup_farm, render, wait_ready,
                         job_of)

NOBODY = 65534


def state_text(farm):
    try:
        with open(os.path.join(farm.jobdir, '.bdfarm.state')) as f:
            return f.read()
    except FileNotFoundError:
        return ''


def job_priority(farm, name):
    """The priority the state file records for the job name, or None."""
    m = re.search(r'^job %s\n(?:[^\n]+\n)*?priority (-?\d+)$'
                  % re.escape(name), state_text(farm), re.M)
    return int(m.group(1)) if m else None


def three_jobs(con):
    names = [n for _, n, _ in con.job_rows()]
    return len(names) == 3


def test_attach():
    farm = setup_farm()
    with farm:
        farm.start()
        wait_ready(farm, farm)
        sock = os.path.join(farm.jobdir, '.bdfarm.console')
        mode = stat.S_IMODE(os.stat(sock).st_mode)
        bt.eq(mode, 0o600, 'the socket is its owner\'s alone')

        one = Attached(farm, 'one')
        one.wait_screen(lambda s: three_jobs(one), what='the jobs')
        farm.wait_log(r'a console has attached \(tmux-256color, 120×40\)')
        # The events from before it attached are there.
        one.wait_screen(lambda s: any('listening on 127.0.0.1:%d;'
                                      % farm.port in line for line in s),
                        what='the events before the console')

        # What a client does shows in the attached console.
        got = render(farm, 'render1.example', 2, keep=1)
        first = job_of(got[0][0])
        one.wait_screen(lambda s: 'frames 2/23' in '\n'.join(s) and any(
            re.search(r'render1\.example\s+old\s+1\s+0\s+2\s', line)
            for line in s), what='the frames and the client')
        one.wait_screen(lambda s: any(
            '%s: frame %d from render1.example' % (first, got[0][2]) in line
            for line in s), what='the frame-received event')

        # A second console, smaller, attached at the same time.
        two = Attached(farm, 'two', 80, 24)
        two.wait_screen(lambda s: three_jobs(two) and
                        'frames 2/23' in '\n'.join(s), what='the farm')

        # Keys of the first act on the server; the second sees them.
        top = one.job_rows()[0][1]
        before = one.row(top)[0]
        one.keys('s')
        suspend = os.path.join(farm.jobdir, top + '.suspend')
        bt.wait_for(lambda: os.path.exists(suspend), bt.PATIENCE,
                    what='the .suspend file')
        two.wait_screen(lambda s: two.row(top) and
                        'suspended' in two.row(top)[2],
                        what='the job suspended in the other console')
        one.keys('+')
        two.wait_screen(lambda s: two.row(top) and
                        two.row(top)[0] == before + 1,
                        what='the raised priority in the other console')
        bt.wait_for(lambda: job_priority(farm, top) == before + 1,
                    bt.PATIENCE, what='the priority in the state file')

        # q closes the first console; the server and the other go on.
        one.keys('q')
        bt.wait_for(lambda: one.dead() is not None, bt.PATIENCE,
                    what='the first console to close')
        bt.eq(one.dead(), 0, 'exit status of a closed console')
        farm.wait_log(r'a console has detached')
        farm.assert_alive()
        render(farm, 'render2.example', 1)
        two.wait_screen(lambda s: 'frames 3/23' in '\n'.join(s),
                        what='a frame after the first console closed')

        # Killing the second console outright changes nothing either.
        mark = farm.log_size()
        os.kill(two.pid, signal.SIGKILL)
        bt.wait_for(lambda: 'a console has detached' in
                    farm.log_since(mark), bt.PATIENCE,
                    what='the killed console to be noticed')
        farm.assert_alive()
        wait_ready(farm, farm)
        render(farm, 'render3.example', 1)

        if os.geteuid() == 0:
            refuse_other_user(farm, sock)
        else:
            print('not root: the refusal of another user is not tried')

        # SIGTERM: the state is saved, the socket goes, and an attached
        # console closes as with q.
        three = Attached(farm, 'three')
        three.wait_screen(lambda s: three_jobs(three), what='the jobs')
        bt.eq(farm.stop(), 0, 'the server\'s exit status')
        bt.eq(job_priority(farm, top), before + 1, 'saved priority')
        bt.check(not os.path.exists(sock), 'the socket is left behind')
        bt.wait_for(lambda: three.dead() is not None, bt.PATIENCE,
                    what='the console to close with the server')
        bt.eq(three.dead(), 0, 'exit status when the server stops')


def refuse_other_user(farm, sock):
    """Another user cannot attach: the socket's mode stops it, and past
    the mode the server refuses it."""
    # The folders let another user reach the socket; its mode does not.
    for d in (farm.root, farm.jobdir):
        os.chmod(d, 0o755)
    other = Attached(farm, 'nobody', uid=NOBODY)
    bt.wait_for(lambda: other.dead() is not None, bt.PATIENCE,
                what='the other user\'s attach to fail')
    bt.eq(other.dead(), 1, 'exit status for another user')
    bt.check('Permission denied' in other.messages(),
             'no refusal: %r', other.messages())
    # Past the mode, the server itself refuses another user.
    os.chmod(sock, 0o666)
    mark = farm.log_size()
    other = Attached(farm, 'nobody2', uid=NOBODY)
    bt.wait_for(lambda: other.dead() is not None, bt.PATIENCE,
                what='the other user\'s second attach to fail')
    bt.check(other.dead() != 0, 'another user attached')
    bt.check('refused a console of user %d' % NOBODY in
             farm.log_since(mark), 'no refusal in the log:\n%s',
             farm.log_tail())


def stalled_console(farm, rows, cols):
    """Attach as `bdfarm --attach` would, but never read the screen:
    return the connection and the terminal's socket."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(os.path.join(farm.jobdir, '.bdfarm.console'))
    term, theirs = socket.socketpair()
    # The least buffer the system allows: a draw that waited for room
    # would wait at once.
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1)
    conn.sendmsg([b'attach 1 xterm-256color %d %d 1\n' % (rows, cols)],
                 [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                   array.array('i', [theirs.fileno()]))])
    theirs.close()
    conn.settimeout(bt.PATIENCE)
    bt.eq(conn.recv(3), b'ok\n', 'the answer to the first line')
    return conn, term


def test_stalled_console():
    """A console that takes nothing of what is drawn for it, through a
    socket with the least buffer, while it keeps asking for full redraws
    of a huge screen, never holds the farm up: clients are served and
    another console goes on."""
    farm = setup_farm()
    with farm:
        farm.start()
        watcher = Attached(farm, 'watcher')
        watcher.wait_screen(lambda s: three_jobs(watcher), what='the jobs')
        conn, term = stalled_console(farm, 500, 1000)
        for i in range(12):
            for j in range(10):
                conn.sendall(b'size %d 1000\n' % (500 - (i + j) % 2))
            # Each exchange needs the loop; a blocked loop times out.
            render(farm, 'render%d.example' % i, 1)
        watcher.wait_screen(lambda s: 'frames 12/23' in '\n'.join(s),
                            what='the other console to go on')
        conn.close()
        term.close()
        farm.wait_log(r'a console has detached')
        bt.eq(farm.stop(), 0, 'the server\'s exit status')


def test_server_gone():
    """A server killed outright: the attached console says so and exits
    1, with its terminal given back."""
    farm = setup_farm()
    with farm:
        farm.start()
        con = Attached(farm, 'one')
        con.wait_screen(lambda s: three_jobs(con), what='the jobs')
        farm.kill9()
        bt.wait_for(lambda: con.dead() is not None, bt.PATIENCE,
                    what='the console to notice')
        bt.eq(con.dead(), 1, 'exit status when the server has gone')
        bt.check('the server has gone' in con.messages(), 'no message: %r',
                 con.messages())
        # Out of the alternate screen: the shell's line shows again.
        con.wait_screen(lambda s: not three_jobs(con),
                        what='the console\'s screen to go')
        # The socket the killed server left says nobody listens.
        again = Attached(farm, 'again')
        bt.wait_for(lambda: again.dead() is not None, bt.PATIENCE,
                    what='the attach to a dead server to fail')
        bt.eq(again.dead(), 1, 'exit status without a server')
        bt.check('no server is running on %s' % farm.jobdir in
                 again.messages(), 'no reason: %r', again.messages())
        # A new server takes the place of the socket left behind.
        farm.start()
        again = Attached(farm, 'again')
        again.wait_screen(lambda s: three_jobs(again), what='the jobs')


def test_hangup():
    farm = setup_farm()
    con = Console(farm)
    con.wait_screen(lambda s: three_jobs(con), what='the jobs')
    pid = con.pid
    sock = os.path.join(farm.jobdir, '.bdfarm.console')
    bt.check(os.path.exists(sock), 'no socket beside the own console')

    # The terminal goes: tmux closes and the server gets its hang-up.
    # Its stderr is a file, not the terminal: the log goes on there.
    mark = farm.log_size()
    con.tmux('kill-server')
    farm.wait_log('the terminal has hung up: the server goes on without '
                  'its console', since=mark)
    os.kill(pid, 0)         # still there
    wait_ready(farm, con)
    got = render(farm, 'render1.example', 1)
    bt.check(got, 'no frame after the hang-up')

    # A console attaches to the server that lost its own.
    att = Attached(farm, 'late')
    att.wait_screen(lambda s: three_jobs(att) and
                    'frames 1/23' in '\n'.join(s), what='the farm')
    att.keys('q')
    bt.wait_for(lambda: att.dead() is not None, bt.PATIENCE,
                what='the console to close')
    os.kill(pid, 0)

    # SIGTERM still saves and exits.
    os.kill(pid, signal.SIGTERM)

    def gone():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False
    bt.wait_for(gone, bt.PATIENCE, what='the server to exit')
    bt.check(not os.path.exists(sock), 'the socket is left behind')
    farm.cleanup()


bt.main([test_attach, test_stalled_console, test_server_gone,
         test_hangup])
