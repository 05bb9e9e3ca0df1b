"""A job's page in the console, driven through tmux: the frame map against
the farm's state, a failed frame's reason and Blender's lines, R renders a
frame or a marked range again with the old files moved aside, and the
mouse selects rows and frames."""

import os
import re
import struct
import zlib

import bdfarmtest as bt
import exttest
from consoletest import Console, setup_farm, render, wait_ready


def map_row(con, label):
    """The cells of the frame map's row that starts at frame label."""
    for line in con.screen():
        m = re.match(r'\s*%d ([DROF.]+)\s*(?:\s PICTURE.*)?$' % label, line)
        if m:
            return m.group(1)
    return None


def wait_map(con, cells, what):
    con.wait_screen(lambda s: map_row(con, 1) == cells, what=what)


def click(con, x, y, double=False):
    """A left click (two for a double click) at column x, row y, as an
    xterm reports it to a program that asked for mouse events."""
    def event(button):
        return '\x1b[M' + chr(32 + button) + chr(33 + x) + chr(33 + y)
    for _ in range(2 if double else 1):
        con.tmux('send-keys', '-t', 'farm', '-l', event(0) + event(3))


def test_job_page():
    """The map, the selected frame's story, R on one frame and on a
    marked range, and Esc back to the main page."""
    farm = setup_farm()
    con = None
    ext = None
    try:
        con = Console(farm)
        wait_ready(farm, con)
        job = 'alpha.job'
        bt.eq(con.job_rows()[0][1], job, 'the first job')
        # Frames 1-3 done, 4 out to an old client, 5 failed once.
        got = render(farm, 'old.example', 3, keep=1)
        bt.eq([g[2] for g in got], [1, 2, 3, 4], 'the frames handed out')
        ext = exttest.BdfarmClient(farm.port, name='ext.example')
        ext.hello()
        ext.facts(renderers=1, cores=4, blender='3.4.1')
        j = ext.next_job()
        bt.eq(j[2], 5, 'the frame the bdfarm client takes')
        bt.eq(ext.failed(j[0], j[1], j[2], 'Error: out of memory',
                         ['Read blend: alpha.blend', 'Blender quit']),
              'OK', 'FAILED answer')

        con.keys('g', 'Enter')
        wait_map(con, 'DDDO......', 'the frame map')
        text = con.text()
        bt.check(con.screen()[0].startswith(' %s  /' % job),
                 'the title names the job and its .blend; screen:\n%s',
                 text)
        bt.check('3 done, 1 out, 0 failed, 6 waiting' in text,
                 'the counts; screen:\n%s', text)
        # The first frame not done is selected: frame 4, out.
        con.wait_screen(lambda s: ' FRAME 4' in '\n'.join(s) and
                        'out to old.example for' in '\n'.join(s),
                        what='frame 4 out to the old client')
        bt.check('old.example 3' in text, 'the job\'s tally per client')

        # Frame 5: the failure, its reason and Blender's lines.
        con.keys('Right')
        con.wait_screen(lambda s: re.search(
            r'failed on ext\.example\S* at \d\d:\d\d:\d\d: Error: out of '
            r'memory', '\n'.join(s)), what='the failure of frame 5')
        text = con.text()
        bt.check('  Read blend: alpha.blend' in text and
                 '  Blender quit' in text, 'Blender\'s lines; screen:\n%s',
                 text)

        # Frame 2: who rendered it, and its file.
        con.keys('Left', 'Left', 'Left')
        con.wait_screen(lambda s: re.search(
            r'done by old\.example at \d\d:\d\d:\d\d in ', '\n'.join(s)),
            what='who rendered frame 2')
        stored = os.path.join(farm.renderdir, job)
        bt.check('%s/0002.png, 100B' % stored in con.text(),
                 'frame 2\'s file and size; screen:\n%s', con.text())

        # R on frame 2: its file goes aside, it waits again.
        con.keys('R')
        wait_map(con, 'D.DO......', 'frame 2 waiting again')
        aside = os.path.join(stored, '.replaced')
        bt.wait_for(lambda: os.path.exists(os.path.join(aside, '0002.png')),
                    bt.PATIENCE, what='the file moved aside')
        bt.eq(sorted(os.listdir(aside)), ['0002.png'], 'the moved file')
        bt.check(not os.path.exists(os.path.join(stored, '0002.png')),
                 'frame 2\'s file left the render folder')
        bt.eq(open(os.path.join(aside, '0002.png'), 'rb').read(),
              b'x' * 100, 'the moved file\'s bytes')

        # A marked range 1-3 asks first; frames 1 and 3 go back, 2 was
        # waiting already.
        con.keys('Home', 'm', 'Right', 'Right')
        con.wait_screen(lambda s: 'FRAMES 1-3 marked' in '\n'.join(s),
                        what='the marked range')
        con.keys('R')
        con.wait_screen(lambda s: 'Render frames 1-3 of alpha.job again?'
                        in '\n'.join(s), what='the question')
        con.keys('n')
        con.wait_screen(lambda s: ' cancelled' in s, what='cancelled')
        bt.eq(map_row(con, 1), 'D.DO......', 'nothing queued on "n"')
        con.keys('R')
        con.wait_screen(lambda s: 'Render frames 1-3' in '\n'.join(s),
                        what='the question again')
        con.keys('y')
        wait_map(con, '...O......', 'frames 1-3 waiting')
        bt.wait_for(lambda: len(os.listdir(aside)) == 3, bt.PATIENCE,
                    what='three files moved aside')
        bt.eq(sorted(os.listdir(aside)), ['0001.png', '0002.png',
                                          '0003.png'], 'the moved files')

        # Rendered again and sent back again: no old file is lost.
        got = render(farm, 'old2.example', 1)
        bt.eq(got[0][2], 1, 'frame 1 handed out again')
        wait_map(con, 'D..O......', 'frame 1 done again')
        con.keys('Home', 'R')
        wait_map(con, '...O......', 'frame 1 waiting again')
        bt.wait_for(lambda: len(os.listdir(aside)) == 4, bt.PATIENCE,
                    what='a second copy of frame 1 moved aside')
        bt.eq(sorted(os.listdir(aside)), ['0001.png', '0001.png.1',
                                          '0002.png', '0003.png'],
              'both copies of frame 1 kept')

        # A click on a cell selects its frame.
        y = [i for i, line in enumerate(con.screen())
             if map_row_line(line)][0]
        x = con.screen()[y].index('...O') + 4
        click(con, x, y)
        con.wait_screen(lambda s: ' FRAME 5' in '\n'.join(s),
                        what='frame 5 selected by a click')

        # The help lists the keys of every page.
        con.keys('?')
        con.wait_screen(lambda s: s[1].startswith(' EVERY PAGE'),
                        what='the help')
        con.keys('End')
        con.wait_screen(lambda s: any(
            re.match(r'\s+R\s+render the selected frame or the marked '
                     r'range again', line) for line in s) and
            " A CLIENT'S PAGE" in s and ' ADDING A JOB (a)' in s,
            what='the keys of the job page, the client page and adding')
        con.keys('x')
        wait_map(con, '...O......', 'the job page again')

        con.keys('Escape')
        con.wait_screen(lambda s: con.row('alpha.job') is not None,
                        what='the main page again')
        con.assert_alive()
    finally:
        if ext is not None:
            ext.close()
        if con is not None:
            con.close()
        farm.cleanup()


def test_job_again_restart():
    """A frame rendered again stays queued after a crash, with its old
    file aside: the checkpoint that queues it is written before the file
    moves, however long the server waits to save its state otherwise."""
    farm = setup_farm()
    farm.settings['state_save_delay'] = 60000
    farm.write_conf()
    con = None
    try:
        con = Console(farm)
        wait_ready(farm, con)
        render(farm, 'old.example', 3)
        con.keys('g', 'Enter')
        wait_map(con, 'DDD.......', 'three frames done')
        con.keys('Home', 'Right', 'R')
        wait_map(con, 'D.D.......', 'frame 2 waiting again')
        aside = os.path.join(farm.renderdir, 'alpha.job', '.replaced',
                             '0002.png')
        bt.wait_for(lambda: os.path.exists(aside), bt.PATIENCE,
                    what='the file moved aside')
        con.close()
        con = Console(farm)
        wait_ready(farm, con)
        con.keys('g', 'Enter')
        wait_map(con, 'D.D.......', 'frame 2 still waiting after a crash')
        con.assert_alive()
    finally:
        if con is not None:
            con.close()
        farm.cleanup()


def map_row_line(line):
    return re.match(r'\s*1 [DROF.]+', line) is not None


def selected(con, name):
    """Whether the job row of name is drawn in reverse video, as the
    selected row of the pane with the keys is."""
    for line in con.tmux('capture-pane', '-p', '-e', '-t',
                         'farm').split('\n'):
        m = re.match(r'((?:\x1b\[[0-9;]*m)*)\s*0 ' + re.escape(name), line)
        if m:
            return re.search(r'\x1b\[(?:[0-9;]*;)?7[;m]', m.group(1)) \
                is not None
    return False


def png(width, height, pixel):
    """A PNG image, 8-bit RGB, whose pixel at x, y is pixel(x, y)."""
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + \
            struct.pack('>I', zlib.crc32(kind + data))
    rows = b''.join(b'\0' + b''.join(bytes(pixel(x, y)) for x in range(width))
                    for y in range(height))
    return b'\x89PNG\r\n\x1a\n' + \
        chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)) \
        + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b'')


def test_job_picture():
    """A frame's picture in the terminal's 256 colours: a PNG whose left
    half is red and right half blue shows both colours, in half blocks;
    a frame of another format is named with its resolution."""
    farm = setup_farm()
    con = None
    try:
        con = Console(farm)
        wait_ready(farm, con)
        image = png(64, 32, lambda x, y: (255, 0, 0) if x < 32 else
                    (0, 0, 255))
        bmp = b'BM' + struct.pack('<IHHI', 54, 0, 0, 54) + \
            struct.pack('<IiiHHIIiiII', 40, 1920, 1080, 1, 24, 0, 0, 0, 0,
                        0, 0)
        with farm.client() as c:
            c.helo('old.example')
            for data, ext in ((image, 'png'), (bmp, 'bmp')):
                name, md5, n = c.requestjob(1)
                bt.eq(c.results(name, md5, n, '%04d.%s' % (n, ext), data),
                      'THANKYOU', 'RESULTS answer')
            c.goodbye()
        con.keys('g', 'Enter', 'Home')
        con.wait_screen(lambda s: 'PICTURE: frame 1, 0001.png' in s[2],
                        what='the picture of frame 1')

        def colours():
            return con.tmux('capture-pane', '-p', '-e', '-t', 'farm')
        bt.wait_for(lambda: '38;5;196m' in colours() and
                    '38;5;21m' in colours(), bt.PATIENCE,
                    what='red and blue in the pane')
        text = colours()
        bt.check('\u2580' in text, 'half blocks drawn')
        bt.check('48;5;196m' in text and '48;5;21m' in text,
                 'both halves of each cell in colour')
        # Frame 2 is a BMP: its format, size and resolution instead.
        con.keys('Right')
        con.wait_screen(lambda s: 'PICTURE: frame 2, 0002.bmp' in s[2] and
                        re.search(r'BMP 1920.1080', '\n'.join(s)),
                        what='the BMP named with its resolution')
        con.assert_alive()
    finally:
        if con is not None:
            con.close()
        farm.cleanup()


def test_job_page_mouse():
    """A click selects a job's row, a double click opens its page."""
    farm = setup_farm()
    con = None
    try:
        con = Console(farm)
        wait_ready(farm, con)
        y = [i for i, line in enumerate(con.screen())
             if re.match(r'\s*0 gamma\.job', line)][0]
        con.wait_screen(lambda s: selected(con, 'alpha.job'),
                        what='the first row selected')
        bt.check(not selected(con, 'gamma.job'), 'gamma.job not selected')
        click(con, 5, y)
        con.wait_screen(lambda s: selected(con, 'gamma.job'),
                        what='the clicked row selected')
        con.keys('Enter')
        con.wait_screen(lambda s: s[0].startswith(' gamma.job'),
                        what='the page of the clicked job')
        con.keys('Escape')
        con.wait_screen(lambda s: con.row('alpha.job') is not None,
                        what='the main page again')
        y = [i for i, line in enumerate(con.screen())
             if re.match(r'\s*0 beta\.job', line)][0]
        click(con, 5, y, double=True)
        con.wait_screen(lambda s: s[0].startswith(' beta.job'),
                        what='the page of the double-clicked job')
        con.assert_alive()
    finally:
        if con is not None:
            con.close()
        farm.cleanup()


if __name__ == '__main__':
    bt.main([test_job_page, test_job_again_restart, test_job_picture,
             test_job_page_mouse])
