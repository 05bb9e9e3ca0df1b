"""Slow links: a transfer times out only when no byte of it moves for
peer_timeout seconds, in both directions. A frame sent in chunks with
pauses shorter than the limit, and a .blend or the program read as slowly,
take far longer than the limit as a whole and arrive whole; a peer that
stops mid-transfer for longer than the limit is cut off, and nothing
partial is stored.

A slow reader here has a small receive buffer, as the far end of a slow
link has in effect: the bytes not yet read wait on the server's side of
the link, where the server sees them move, and not in megabytes of the
reader's own buffer on loopback."""

import sys
sys.dont_write_bytecode = True
import os
import socket
import time

from bdfarmtest import PATIENCE, Farm, check, eq, main, md5_bytes, wait_for
from exttest import ExtFarm

TIMEOUT = 2         # peer_timeout, in seconds
PAUSE = 0.5         # between chunks: well below the limit


def slow_reader(c):
    """Give c's connection a small receive buffer."""
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
    return c


def slow_read(c, n, chunk, pause=PAUSE):
    """Read n bytes of c's connection, chunk bytes at a time with a pause
    after each; return them and how long it took."""
    data = c.buf[:n]
    c.buf = c.buf[n:]
    start = time.monotonic()
    while len(data) < n:
        time.sleep(pause)
        got = b''
        while len(got) < min(chunk, n - len(data)):
            more = c.sock.recv(min(chunk, n - len(data)) - len(got))
            if not more:
                raise AssertionError('connection closed after %d of %d '
                                     'bytes, %.1f s into a slow read'
                                     % (len(data) + len(got), n,
                                        time.monotonic() - start))
            got += more
        data += got
    return data, time.monotonic() - start


def read_size(c):
    """The size line before a payload."""
    line = c.read_line()
    check(line.isdigit(), 'expected a size, got %r', line)
    return int(line)


def render_files(farm, job):
    d = farm.framedir(job)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def test_slow_upload_arrives():
    with Farm({'peer_timeout': TIMEOUT}) as farm:
        farm.start()
        path, data = farm.blend('u.blend')
        md5 = md5_bytes(data)
        farm.job('u', path, 1, 2)
        farm.wait_ready()
        image = os.urandom(6 << 20)
        with farm.client(timeout=20) as c:
            c.helo('slow-up.example')
            eq(c.requestjob(1), ('u.blend', md5, 1), 'frame')
            start = time.monotonic()
            eq(c.results('u.blend', md5, 1, '0001.exr', image, chunks=12,
                         pause=PAUSE), 'THANKYOU', 'a slow upload')
            took = time.monotonic() - start
            c.goodbye()
        print('6 MiB sent in 12 chunks in %.1f s' % took)
        check(took > 2 * TIMEOUT, 'the upload took %.1f s, not more than '
              'the limit: it proves nothing', took)
        with open(farm.frame_path('u', '0001.exr'), 'rb') as f:
            check(f.read() == image, 'the frame on disk is not what was sent')


def test_slow_blend_download_arrives():
    with Farm({'peer_timeout': TIMEOUT}) as farm:
        farm.start()
        blend = os.urandom(8 << 20)
        path, _ = farm.blend('d.blend', data=blend)
        md5 = md5_bytes(blend)
        farm.job('d', path, 1, 1)
        farm.wait_ready()
        with slow_reader(farm.client(timeout=20)) as c:
            c.helo('slow-down.example')
            c.send_line('REQUESTBLENDERFILE d.blend %s' % md5)
            n = read_size(c)
            eq(n, len(blend), 'size of the .blend')
            got, took = slow_read(c, n, 256 << 10)
            print('8 MiB read in 256 KiB chunks in %.1f s' % took)
            check(got == blend, 'the .blend read is not the file')
            # The connection goes on after it.
            eq(c.requestjob(1), ('d.blend', md5, 1), 'frame after the .blend')
            c.goodbye()
        check(took > 2 * TIMEOUT, 'the download took %.1f s, not more than '
              'the limit: it proves nothing', took)
        farm.assert_alive()


def test_slow_program_download_arrives():
    with ExtFarm({'peer_timeout': TIMEOUT, 'client_timeout': TIMEOUT}) \
            as farm:
        farm.start()
        with open(farm.program, 'rb') as f:
            program = f.read()
        with slow_reader(farm.bdfarm('slow-prog.example', timeout=20)) as c:
            c.send_line('REQUESTBLENDERDIST')
            n = read_size(c)
            eq(n, len(program), 'size of the program')
            # In ten chunks, whatever the size of the program.
            got, took = slow_read(c, n, max(64 << 10, n // 10))
            print('%d KiB of program read in ten chunks in %.1f s'
                  % (n >> 10, took))
            check(got == program, 'the program read is not the file')
            c.alive()
            c.goodbye()
        check(took > 2 * TIMEOUT, 'the download took %.1f s, not more than '
              'the limit: it proves nothing', took)
        farm.assert_alive()


def test_stalled_upload_cut_off():
    with Farm({'peer_timeout': TIMEOUT, 'redistribute_delay': 600}) as farm:
        farm.start()
        path, data = farm.blend('s.blend')
        md5 = md5_bytes(data)
        farm.job('s', path, 1, 1)
        farm.wait_ready()
        image = os.urandom(4 << 20)
        c = farm.client(timeout=20)
        c.helo('stall-up.example')
        eq(c.requestjob(1), ('s.blend', md5, 1), 'frame')
        c.send_line('RESULTS s.blend %s 1 0001.png %d' % (md5, len(image)))
        eq(c.read_line(), 'OK', 'answer to RESULTS')
        # Half of it slowly, which is fine, then nothing more.
        for i in range(4):
            if i > 0:
                time.sleep(PAUSE)
            c.send_raw(image[i * (512 << 10):(i + 1) * (512 << 10)])
        stalled = time.monotonic()
        check(c.still_open(), 'a slow upload was cut off while it moved')
        closed, _ = c.closed_within(TIMEOUT + 10)
        gone = time.monotonic() - stalled
        check(closed, 'a stalled upload was not cut off within %.1f s', gone)
        check(gone >= TIMEOUT - 0.5, 'a stalled upload was cut off %.1f s '
              'after its last byte, before peer_timeout (%d s)', gone,
              TIMEOUT)
        c.close()
        farm.wait_log(r'stall-up\.example: (closing|upload)', PATIENCE)
        eq(render_files(farm, 's'), [], 'files left by a stalled upload')
        farm.assert_alive()


def test_stalled_download_cut_off():
    with Farm({'peer_timeout': TIMEOUT}) as farm:
        farm.start()
        blend = os.urandom(16 << 20)
        path, _ = farm.blend('t.blend', data=blend)
        md5 = md5_bytes(blend)
        farm.job('t', path, 1, 1)
        farm.wait_ready()
        c = slow_reader(farm.client(timeout=20))
        c.helo('stall-down.example')
        c.send_line('REQUESTBLENDERFILE t.blend %s' % md5)
        n = read_size(c)
        slow_read(c, 1 << 20, 256 << 10)
        # It stops reading: once the buffers between are full, nothing
        # moves, and after peer_timeout the server lets it go.
        mark = time.monotonic()
        farm.wait_log(r'stall-down\.example: closing the connection', 20)
        gone = time.monotonic() - mark
        check(gone >= TIMEOUT - 0.5, 'a stalled download was cut off after '
              '%.1f s, before peer_timeout (%d s)', gone, TIMEOUT)
        c.close()
        check(n == len(blend), 'size of the .blend')
        # Others are served on.
        with farm.client() as other:
            other.helo('other.example')
            eq(other.requestjob(1), ('t.blend', md5, 1), 'frame for another')
            other.goodbye()
        farm.assert_alive()


if __name__ == '__main__':
    main([test_slow_upload_arrives, test_slow_blend_download_arrives,
          test_slow_program_download_arrives, test_stalled_upload_cut_off,
          test_stalled_download_cut_off], bound=90)
