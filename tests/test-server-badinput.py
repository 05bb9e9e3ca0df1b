"""Bad input from a peer or in the job folder: the peer's connection is
closed and logged, a bad job file is skipped with a reason, and everyone
else carries on."""

import sys
sys.dont_write_bytecode = True
import os
import time

from bdfarmtest import (Farm, assert_closed, check, eq, main, md5_bytes,
                        write_raw_job)


def serves_fresh_client(farm, expect_job=True):
    """A fresh old client still gets a HELO answer and a frame."""
    farm.assert_alive()
    with farm.client() as c:
        t = c.helo('fresh.example')
        eq(len(t), 2, 'HELO answer tokens')
        if expect_job:
            check(c.requestjob(1) is not None, 'no frame for a fresh client')
        c.goodbye()


def test_bad_lines():
    with Farm() as farm:
        farm.start()
        path, data = farm.blend('b.blend')
        md5 = md5_bytes(data)
        farm.job('b', path, 1, 1000)
        farm.wait_ready()
        # A peer in the middle of a good session while the others misbehave.
        bystander = farm.client()
        bystander.helo('bystander.example')
        check(bystander.requestjob(1) is not None, 'bystander frame')

        cases = [
            ('binary garbage', b'\x00\xff\xfe\x80garbage\x01\x02\r\n'),
            ('an unknown command', b'FROBNICATE now\r\n'),
            ('a line over 4096 bytes', b'HELO ' + b'h' * 5000 + b'\r\n'),
            ('a line over 4096 bytes without an end', b'R' * 70000),
            ('a size that is not a number',
             b'RESULTS b.blend %s 2 0002.png abc\r\n' % md5.encode()),
            ('a size with trailing letters',
             b'RESULTS b.blend %s 2 0002.png 12x\r\n' % md5.encode()),
            ('RESULTS with too few tokens', b'RESULTS b.blend\r\n'),
        ]
        for i, (what, raw) in enumerate(cases):
            host = 'bad%d.example' % i
            with farm.client() as c:
                c.helo(host)
                if 'RESULTS' in what or 'size' in what:
                    j = c.requestjob(1)
                    check(j is not None, 'no frame for %s', host)
                    raw = raw.replace(b' 2 ', b' %d ' % j[2])
                time.sleep(0.1)
                mark = farm.log_size()
                try:
                    c.send_raw(raw)
                except OSError:
                    pass
                assert_closed(c, 3, 'the server to close the connection '
                              'after %s' % what)
                port = str(c.local_port())
            try:
                farm.wait_log(r'(%s|%s)' % (host.replace('.', r'\.'), port),
                              2, since=mark)
            except AssertionError:
                raise AssertionError('closing the connection after %s was '
                                     'not logged with the peer (%s or port '
                                     '%s); log since:\n%s' % (
                                         what, host, port,
                                         farm.log_since(mark)))
            serves_fresh_client(farm)
        # The bystander's session is untouched.
        name, md5b, frame = bystander.requestjob(1)
        eq(bystander.results(name, md5b, frame, 'f.png', b'ok'), 'THANKYOU',
           'the bystander\'s upload')
        bystander.goodbye()
        # Nothing named by the bad requests was written; the frame is
        # stored under the name the server gives it.
        for f in os.listdir(farm.framedir('b')):
            eq(f, '%04d.png' % frame, 'file in the render folder')


def test_negative_size():
    # A negative size is refused, either with NOK or by closing the
    # connection; nothing is written and the server reads no bytes for it.
    with Farm() as farm:
        farm.start()
        path, data = farm.blend('n.blend')
        md5 = md5_bytes(data)
        farm.job('n', path, 1, 5)
        farm.wait_ready()
        with farm.client() as c:
            c.helo('neg.example')
            name, md5, frame = c.requestjob(1)
            c.send_line('RESULTS n.blend %s %d 0001.png -5' % (md5, frame))
            closed, got = c.closed_within(2)
            check(closed or got == b'NOK\r\n', 'answer to a negative size: '
                  '%r', got)
            if not closed:
                eq(c.results(name, md5, frame, '0001.png', b'ok'),
                   'THANKYOU', 'upload after NOK')
        check(not os.path.exists(farm.frame_path('n', '0001.png')) or
              open(farm.frame_path('n', '0001.png'), 'rb').read() == b'ok',
              'a negative size wrote something')
        serves_fresh_client(farm)


def test_max_peers():
    with Farm({'max_peers': 2}) as farm:
        farm.start()
        time.sleep(0.3)     # the start-up probe's connection is gone
        held = [farm.client(), farm.client()]
        for i, c in enumerate(held):
            eq(len(c.helo('held%d.example' % i)), 2, 'HELO of a held peer')
        mark = farm.log_size()
        extra = farm.client()
        assert_closed(extra, 3, 'a connection over max_peers to be closed')
        farm.wait_log(r'max_peers|too many', 2, since=mark)
        held.pop().goodbye()
        time.sleep(0.3)
        with farm.client() as c:
            eq(len(c.helo('again.example')), 2, 'HELO after a peer left')
            c.goodbye()
        held[0].goodbye()


def test_bad_job_files():
    with Farm() as farm:
        path, data = farm.blend('j.blend')
        bad = {
            'two-lines': b'%s\n1\n' % path.encode(),
            'not-a-number': b'%s\none\n10\n' % path.encode(),
            'backwards': b'%s\n10\n1\n' % path.encode(),
            'relative': b'j.blend\n1\n10\n',
            'missing-blend': b'%s\n1\n10\n'
                             % os.path.join(farm.blenddir, 'no.blend')
                             .encode(),
            'four-lines': b'%s\n1\n10\n11\n' % path.encode(),
        }
        for name, text in bad.items():
            write_raw_job(farm.jobdir, name, text)
        farm.start()
        for name in bad:
            farm.wait_log(r'%s\.job' % name, 3)
        with farm.client() as c:
            eq(c.helo('j.example')[1], '0', 'HELO todo with only bad jobs')
            eq(c.requestjob(1), None, 'REQUESTJOB with only bad jobs')
            c.goodbye()
        # CR LF line ends are fine.
        farm.job('crlf', path, 3, 4, crlf=True)
        j = farm.poll_job()
        eq((j[0], j[2]), ('j.blend', 3), 'frame of the CR LF job')
        with farm.client() as c:
            c.helo('j.example')
            eq(c.requestjob(1)[2], 4, 'second frame of the CR LF job')
            c.goodbye()
        # Fixing a bad job makes it a job.
        write_raw_job(farm.jobdir, 'backwards', b'%s\n7\n7\n' % path.encode())
        j = farm.poll_job()
        eq(j[2], 7, 'frame of the fixed job')
        # A job file that goes bad later is logged with its name too.
        mark = farm.log_size()
        write_raw_job(farm.jobdir, 'crlf', b'garbage\r\n')
        farm.wait_log(r'crlf\.job', 3, since=mark)
        farm.assert_alive()


if __name__ == '__main__':
    main([test_bad_lines, test_negative_size, test_max_peers,
          test_bad_job_files])
