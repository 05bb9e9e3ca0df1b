"""Adding a job from the console with the a key, driven through tmux: the
bottom line asks for the .blend (Tab completes it), the frames and the
name, refuses bad answers with a message and writes nothing for them, and
writes NAME.job into the job folder, where the server's watch picks it up.
Skipped when tmux is not installed."""

import contextlib
import os
import shutil
import sys

import bdfarmtest as bt
from consoletest import JOBS, Console, setup_farm


# What a .blend starts with; the rest of a stand-in does not matter.
BLEND_HEAD = b'BLENDER-v300REND'


def blend(farm, name):
    """A stand-in .blend under the blend folder that looks like one."""
    path = os.path.join(farm.blenddir, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    bt.write_blend(path, data=BLEND_HEAD + b'\0' * 200)
    return path


def jobdir_files(farm):
    """Every entry of the job folder, hidden ones too, with its bytes, but
    for the server's own state, its consoles' socket and job logs."""
    files = {}
    for name in os.listdir(farm.jobdir):
        if name.startswith('.bdfarm.state') or name.endswith('.log') or \
                name == '.bdfarm.console':
            continue
        with open(os.path.join(farm.jobdir, name), 'rb') as f:
            files[name] = f.read()
    return files


@contextlib.contextmanager
def console():
    """A farm and its server in a console that shows its jobs, both gone
    afterwards."""
    farm = setup_farm()
    con = None
    try:
        con = Console(farm)
        names = [n + '.job' for n, _ in JOBS]
        con.wait_screen(lambda s: all(con.row(n) for n in names),
                        what='the jobs')
        yield farm, con
    finally:
        if con is not None:
            con.close()
        farm.cleanup()


def bottom(screen):
    """The bottom line of the screen's lines."""
    return screen[-2] if screen[-1] == '' else screen[-1]


def wait_bottom(con, words, end=False):
    """Wait until the bottom line holds words (at its end, if end: the
    field's text, with nothing after it); return the line."""
    def found(screen):
        line = bottom(screen).rstrip()
        return line.endswith(words) if end else words in line
    con.wait_screen(found, what='%r in the bottom line' % words)
    return bottom(con.screen())


def begin(con):
    """Press a and wait for the first question."""
    con.keys('a')
    wait_bottom(con, 'Blend file:')


def cancel(con, key='Escape'):
    """Give up adding with key."""
    con.keys(key)
    wait_bottom(con, 'cancelled')


def answer(con, text, then):
    """Clear the field, type text, press Enter and wait for then."""
    con.keys('C-u')
    con.keys('-l', text)
    con.keys('Enter')
    return wait_bottom(con, then)


def test_add_refused():
    with console() as (farm, con):
        before = jobdir_files(farm)
        notblend = os.path.join(farm.root, 'notes.txt')
        with open(notblend, 'w') as f:
            f.write('not a scene\n')
        good = blend(farm, 'shot.blend')

        begin(con)
        answer(con, os.path.join(farm.root, 'nothere.blend'),
               'No such file or directory')
        line = answer(con, notblend, 'not a .blend file')
        # The answer refused stays in the field to be put right.
        bt.check(notblend in line, 'the field lost the path: %r', line)
        answer(con, farm.blenddir, 'not a regular file')
        answer(con, good, 'First frame:')
        answer(con, 'abc', '"abc" is not a whole number')
        answer(con, '10', 'Last frame:')
        answer(con, '5', 'before the first frame')
        answer(con, '1.5', 'not a whole number')
        answer(con, '2000000', 'more than')
        bt.eq(jobdir_files(farm), before, 'the job folder after refusals')

        # Esc gives up at any step, writing nothing.
        cancel(con)
        begin(con)
        con.keys('-l', good)
        cancel(con, 'C-g')
        bt.eq(jobdir_files(farm), before, 'the job folder after cancelling')
        con.assert_alive()


def test_add_complete():
    with console() as (farm, con):
        before = jobdir_files(farm)
        only = blend(farm, 'scenes/one/sc\u00e8ne.blend')
        blend(farm, 'scenes/two/a.blend')
        blend(farm, 'scenes/two/b.blend')
        blend(farm, 'scenes/two/.hidden.blend')
        top = os.path.join(farm.blenddir, 'scenes')

        begin(con)
        # A folder completes with a '/', then its one .blend in full.
        con.keys('-l', os.path.join(top, 'o'))
        con.keys('Tab')
        wait_bottom(con, os.path.join(top, 'one') + '/', end=True)
        con.keys('Tab')
        wait_bottom(con, only, end=True)
        # Two matches: both are named, the hidden one is not.
        con.keys('C-u')
        con.keys('-l', os.path.join(top, 'two') + '/')
        con.keys('Tab')
        line = wait_bottom(con, '2 matches: a.blend b.blend')
        bt.check('hidden' not in line, 'a hidden file offered: %r', line)
        bt.eq(jobdir_files(farm), before, 'the job folder while completing')
        cancel(con)


def test_add_job():
    with console() as (farm, con):
        shot = blend(farm, 'shot.blend')
        taken = blend(farm, 'other/alpha.blend')
        before = jobdir_files(farm)

        # The name offered is the .blend's; it is a job already.
        begin(con)
        answer(con, taken, 'First frame:')
        answer(con, '1', 'Last frame:')
        answer(con, '4', 'Job name [alpha]:')
        con.keys('Enter')
        wait_bottom(con, 'alpha.job exists already')
        answer(con, '.sneaky', "cannot start with '.'")
        answer(con, 'a/b', "cannot hold '/'")
        bt.eq(jobdir_files(farm), before, 'the job folder after refusals')
        cancel(con)

        # A relative path is taken from the server's folder, typed with
        # slips put right in the field; Enter on an empty name takes the
        # one offered.
        begin(con)
        rel = os.path.relpath(shot, os.readlink('/proc/%d/cwd' % con.pid))
        con.keys('-l', rel[1:] + 'xy')
        con.keys('BSpace', 'Left', 'DC', 'Home')
        con.keys('-l', rel[0])
        wait_bottom(con, rel, end=True)
        con.keys('Enter')
        wait_bottom(con, 'First frame:')
        answer(con, ' 1 ', 'Last frame:')
        answer(con, '250', 'Job name [shot]:')
        con.keys('Enter')
        wait_bottom(con, 'shot.job added: frames 1 to 250')
        after = jobdir_files(farm)
        bt.eq(sorted(after), sorted(list(before) + ['shot.job']),
              'the job folder after adding')
        bt.eq(after['shot.job'].decode(),
              '%s\n1\n250\n' % os.path.realpath(shot),
              'the job file written')
        con.wait_screen(lambda s: con.row('shot.job') is not None and
                        '0/250' in con.row('shot.job')[2],
                        what='the new job in the jobs pane')
        con.assert_alive()


def test_add_help():
    with console() as (farm, con):
        con.keys('?')
        con.wait_screen(lambda s: any('add a job' in l for l in s),
                        what='the a key in the help')


if __name__ == '__main__':
    if shutil.which('tmux') is None:
        print('tmux is not installed')
        sys.exit(77)
    bt.main([test_add_refused, test_add_complete, test_add_job,
             test_add_help], bound=300)
