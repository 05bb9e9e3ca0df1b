"""What the console tests share: a server in its console in a detached
tmux session on a private socket, read back with capture-pane, and a farm
of three jobs that scripted old clients render."""

import os
import re
import shlex
import signal
import subprocess

import bdfarmtest as bt


JOBS = (('alpha', 10), ('beta', 5), ('gamma', 8))


class _Reaper:
    """Looks like a process to the harness, which kills what it lists
    on a signal or at exit: killing it closes a console."""

    def __init__(self, console):
        self.console = console

    def poll(self):
        return None

    def kill(self):
        self.console.close()

    def wait(self, timeout=None):
        return 0


class Pane:
    """A program in a detached tmux session ('farm') on a private tmux
    socket named name inside the farm's folder: nothing is left behind
    and no other tmux server is touched."""

    def __init__(self, farm, name):
        self.farm = farm
        self.socket = os.path.join(farm.root, name + '.sock')
        self.conf = os.path.join(farm.root, 'tmux.conf')
        # The pane stays when the program exits, so that its exit status
        # and last words can be read.
        with open(self.conf, 'w') as f:
            f.write('set -g default-terminal tmux-256color\n'
                    'set -g history-limit 0\n'
                    'set -g remain-on-exit on\n')
        # The shell keeps the exit status: tmux may see the terminal close
        # before the process has gone and then knows no status.
        self.rcfile = os.path.join(farm.root, name + '.rc')
        self.pid = None
        bt._live.append(_Reaper(self))

    def launch(self, argv, width, height, lang, errlog):
        """Start argv in a new session, its stderr to errlog; wait for
        its process and keep its pid."""
        self.close()
        if os.path.exists(self.rcfile):
            os.unlink(self.rcfile)
        cmd = 'env LC_ALL=%s %s 2>>%s; echo $? >%s' % (
            lang, ' '.join(shlex.quote(a) for a in argv),
            shlex.quote(errlog), shlex.quote(self.rcfile))
        self.tmux('new-session', '-d', '-s', 'farm', '-x', str(width),
                  '-y', str(height), cmd)
        shell = int(self.display('#{pane_pid}'))
        bt.wait_for(lambda: self.child(shell) or self.dead() is not None,
                    bt.PATIENCE, what='the process in tmux')
        self.pid = self.child(shell)

    @staticmethod
    def child(pid):
        """The first child process of pid, or None."""
        try:
            with open('/proc/%d/task/%d/children' % (pid, pid)) as f:
                kids = f.read().split()
        except OSError:
            return None
        return int(kids[0]) if kids else None

    def tmux(self, *args):
        """Run a tmux command on the private server; return its output."""
        r = subprocess.run(['tmux', '-S', self.socket, '-f', self.conf] +
                           list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=bt.PATIENCE)
        if r.returncode != 0:
            raise AssertionError('tmux %s: %s' % (' '.join(args),
                                                  r.stderr.decode()))
        return r.stdout.decode('utf-8', 'replace')

    def display(self, fmt):
        return self.tmux('display-message', '-p', '-t', 'farm', fmt).strip()

    def screen(self):
        """The screen as a list of lines."""
        return self.tmux('capture-pane', '-p', '-t', 'farm').split('\n')

    def text(self):
        return '\n'.join(self.screen())

    def keys(self, *keys):
        self.tmux('send-keys', '-t', 'farm', *keys)

    def dead(self):
        """None while the server runs, else its exit status."""
        try:
            with open(self.rcfile) as f:
                rc = f.read().strip()
        except FileNotFoundError:
            return None
        return int(rc) if rc else None

    def assert_alive(self):
        if self.dead() is not None:
            raise AssertionError('the server exited (%s); screen:\n%s'
                                 % (self.dead(), self.text()))

    def wait_screen(self, pred, timeout=bt.PATIENCE, what='the screen'):
        """Wait until pred(lines) is true; fail showing the screen."""
        try:
            return bt.wait_for(lambda: pred(self.screen()), timeout,
                               what=what)
        except AssertionError as e:
            raise AssertionError('%s; screen:\n%s' % (e, self.text()))

    def job_rows(self):
        """The job rows as (priority, name, rest of the line), top down."""
        rows = []
        for line in self.screen():
            m = re.match(r'\s*(-?\d+) (\S+\.job)\s+(.*)$', line)
            if m:
                rows.append((int(m.group(1)), m.group(2), m.group(3)))
        return rows

    def row(self, name):
        for r in self.job_rows():
            if r[1] == name:
                return r
        return None

    def close(self):
        """Kill the program (a hang-up would not stop a server), then
        tmux."""
        try:
            if self.pid is not None and self.dead() is None:
                os.kill(self.pid, signal.SIGKILL)
                bt.wait_for(lambda: self.dead() is not None, bt.PATIENCE)
        except Exception:
            pass
        self.pid = None
        try:
            self.tmux('kill-server')
        except Exception:
            pass


class Console(Pane):
    """A server in its console, in a tmux session of its own."""

    def __init__(self, farm, width=120, height=40, lang='C.UTF-8'):
        Pane.__init__(self, farm, 'tmux')
        # As bt.Farm.start does: another process may take the port before
        # the server binds it; then the server starts on another.
        attempt = 1
        while not self.start(width, height, lang):
            if attempt >= bt.PORT_ATTEMPTS or \
                    not farm.port_taken(self.mark):
                raise AssertionError('the server exited (%s) before '
                                     'listening; its log:\n%s'
                                     % (self.dead(), farm.log_tail()))
            attempt += 1
            farm.port = bt.free_port()

    def start(self, width, height, lang):
        """Start the server in a new tmux session; return True once it
        listens, False if it exited first. Its messages before the
        console starts go to the farm's log."""
        farm = self.farm
        self.mark = farm.log_size()
        argv = [farm.program, '--config', farm.conf, '--port',
                str(farm.port), farm.jobdir, farm.renderdir]
        self.launch(argv, width, height, lang, farm.errlog)
        listening = re.compile(r'listening on 127\.0\.0\.1:%d;' % farm.port)

        def log():
            try:
                with open(farm.settings['log_file']) as f:
                    return f.read()
            except FileNotFoundError:
                return ''
        bt.wait_for(lambda: self.dead() is not None or
                    listening.search(log()), bt.PATIENCE,
                    what='the server to listen or exit')
        return self.dead() is None


class Attached(Pane):
    """`bdfarm --attach` on the farm's job folder in a tmux session of its
    own called name, run as the user uid if given."""

    def __init__(self, farm, name, width=120, height=40, lang='C.UTF-8',
                 uid=None):
        Pane.__init__(self, farm, name)
        self.errlog = os.path.join(farm.root, name + '.err')
        argv = [farm.program, '--attach', farm.jobdir]
        if uid is not None:
            argv = ['setpriv', '--reuid=%d' % uid, '--regid=%d' % uid,
                    '--clear-groups', '--'] + argv
        self.launch(argv, width, height, lang, self.errlog)

    def messages(self):
        """What it wrote to stderr."""
        try:
            with open(self.errlog) as f:
                return f.read()
        except FileNotFoundError:
            return ''


def setup_farm():
    """A farm with the three jobs and their stand-in .blend files."""
    farm = bt.Farm(settings={'log_file': ''})
    farm.settings['log_file'] = os.path.join(farm.root, 'console.log')
    farm.write_conf()
    for name, n in JOBS:
        path, _ = farm.blend(name + '.blend', size=3000)
        farm.job(name, path, 1, n)
    return farm


def render(farm, host, frames, keep=0):
    """As an old client called host: take frames + keep frames, send back
    the first frames; return what was handed out, in order."""
    got = []
    with farm.client() as c:
        c.helo(host)
        for i in range(frames + keep):
            j = c.requestjob(1)
            bt.check(j is not None, 'no frame for %s', host)
            got.append(j)
        for name, md5, n in got[:frames]:
            eq = c.results(name, md5, n, '%04d.png' % n, b'x' * 100)
            bt.eq(eq, 'THANKYOU', 'RESULTS answer')
        c.goodbye()
    return got


def wait_ready(farm, con, timeout=bt.PATIENCE):
    """Wait until HELO says a frame can be handed out."""
    def ready():
        con.assert_alive()
        try:
            with farm.client() as c:
                todo = c.helo('probe.example')[1]
                c.goodbye()
        except OSError:
            return False
        return todo == '1'
    bt.wait_for(ready, timeout, interval=0.1, what='HELO to announce work')


def job_of(blend):
    """The job name that a protocol blend name belongs to."""
    return blend.replace('.blend', '.job')
