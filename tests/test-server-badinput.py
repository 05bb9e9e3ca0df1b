"""Bad input from a peer or in the job folder: the peer's connection is
closed and logged, a bad job file is skipped with a reason, and everyone
else carries on."""

import sys
sys.dont_write_bytecode = True
import os

from bdfarmtest import (PATIENCE, ConnectionClosed, Farm, assert_closed,
                        check, eq, main, md5_bytes, wait_for, write_raw_job)


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
                # What the server logs about a request, it logs before it
                # answers: nothing of the session so far comes later.
                mark = farm.log_size()
                try:
                    c.send_raw(raw)
                except OSError:
                    pass
                assert_closed(c, what='the server to close the '
                              'connection after %s' % what)
                port = str(c.local_port())
            try:
                farm.wait_log(r'(%s|%s)' % (host.replace('.', r'\.'), port),
                              since=mark)
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
            try:
                answer = c.read_line()
            except ConnectionClosed:
                answer = None
            check(answer in (None, 'NOK'), 'answer to a negative size: %r',
                  answer)
            if answer is not None:
                eq(c.results(name, md5, frame, '0001.png', b'ok'),
                   'THANKYOU', 'upload after NOK')
        check(not os.path.exists(farm.frame_path('n', '0001.png')) or
              open(farm.frame_path('n', '0001.png'), 'rb').read() == b'ok',
              'a negative size wrote something')
        serves_fresh_client(farm)


def served(farm, n):
    """n connections that each got an answer to HELO, or None (and all
    closed) if the server closed one of them."""
    held = []
    try:
        for i in range(n):
            held.append(farm.client())
            eq(len(held[-1].helo('held%d.example' % i)), 2,
               'HELO of a held peer')
    except (ConnectionClosed, OSError):
        for c in held:
            c.close()
        return None
    return held


def test_max_peers():
    with Farm({'max_peers': 2}) as farm:
        farm.start()
        # The server counts a peer until it has seen its connection end:
        # the start-up probe's for a moment, then the one that leaves.
        held = wait_for(lambda: served(farm, 2), PATIENCE,
                        what='two peers to be served at once')
        mark = farm.log_size()
        extra = farm.client()
        assert_closed(extra, what='a connection over max_peers to be '
                      'closed')
        farm.wait_log(r'max_peers|too many', since=mark)
        held.pop().goodbye()
        again = wait_for(lambda: served(farm, 1), PATIENCE,
                         what='HELO after a peer left')
        again[0].goodbye()
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
            farm.wait_log(r'%s\.job' % name)
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
        farm.wait_log(r'crlf\.job', since=mark)
        farm.assert_alive()


if __name__ == '__main__':
    main([test_bad_lines, test_negative_size, test_max_peers,
          test_bad_job_files])
