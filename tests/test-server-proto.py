"""The server's side of the old protocol, request by request: HELO in both
forms, REQUESTJOB order, REQUESTBLENDERFILE, RESULTS and its refusals,
REQUESTBLENDERDIST, and both address families."""

import sys
sys.dont_write_bytecode = True
import os
import re

from bdfarmtest import (PATIENCE, Farm, OldClient, assert_closed, check, eq,
                        have_ipv6, main, md5_bytes, md5_file, wait_for)


def test_helo():
    with Farm() as farm:
        farm.start()
        digest = md5_file(farm.program)
        with farm.client() as c:
            eq(c.helo('render1.example.org'), [digest, '0'],
               'HELO answer with no job')
            c.goodbye()
        path, _ = farm.blend('scene.blend')
        farm.job('a', path, 1, 3)
        farm.wait_ready()
        with farm.client() as c:
            eq(c.helo('render1.example.org'), [digest, '1'],
               'HELO answer with a job ready')
            c.goodbye()
        with farm.client() as c:
            eq(c.helo('render1.example.org', 'bdfarm/1'),
               [digest, '1', 'bdfarm/1'], 'HELO answer to a bdfarm peer')
            c.goodbye()
        # The old form never gets a third token, whatever came before.
        with farm.client() as c:
            eq(c.helo('render2'), [digest, '1'], 'HELO answer, old peer')
            # A session may make several requests after one HELO.
            j = c.requestjob(1)
            check(j is not None, 'no frame after HELO said 1')
            c.goodbye()


def test_requestjob_order():
    with Farm() as farm:
        farm.start()
        pa, _ = farm.blend('a.blend', seed=1)
        pb, _ = farm.blend('b.blend', seed=2)
        farm.job('first', pa, 5, 7)
        farm.wait_ready()
        farm.job('second', pb, 1, 2)
        # The later job is only looked at once the earlier has nothing.
        got = []
        with farm.client() as c:
            c.helo('order.example')
            for _ in range(3):
                got.append(c.requestjob(1))
            c.goodbye()
        eq([(n, f) for n, _, f in got],
           [('a.blend', 5), ('a.blend', 6), ('a.blend', 7)],
           'frames of the first job')
        eq(got[0][1], md5_file(pa), 'blend digest')
        j = farm.poll_job()
        eq((j[0], j[1], j[2]), ('b.blend', md5_file(pb), 1),
           'first frame of the second job')
        with farm.client() as c:
            c.helo('order.example')
            eq(c.requestjob(3)[2], 2, 'next frame of the second job')
            eq(c.requestjob(3), None, 'REQUESTJOB with everything out')
            c.goodbye()


def test_requestblenderfile():
    with Farm() as farm:
        farm.start()
        path, data = farm.blend('shot.blend', size=300000, seed=7)
        farm.job('shot', path, 1, 1)
        farm.wait_ready()
        digest = md5_bytes(data)
        with farm.client() as c:
            c.helo('fetch.example')
            name, md5, frame = c.requestjob(1)
            eq((name, md5, frame), ('shot.blend', digest, 1), 'job')
            got = c.requestblenderfile(name, md5)
            check(got == data, 'REQUESTBLENDERFILE returned %d bytes that '
                  'differ from the %d-byte file', len(got), len(data))
            # Twice on the same connection, to be sure nothing is left over.
            got = c.requestblenderfile(name, md5)
            check(got == data, 'second REQUESTBLENDERFILE differs')
            c.goodbye()
        # A job's frames all out does not make its file unavailable.
        with farm.client() as c:
            c.helo('fetch.example')
            check(c.requestblenderfile('shot.blend', digest) == data,
                  'file differs when no frame is left')
            c.goodbye()
        for name, md5 in (('nosuch.blend', digest),
                          ('shot.blend', md5_bytes(b'other')),
                          ('shot.blend', 'x' * 32)):
            with farm.client() as c:
                c.helo('fetch.example')
                c.send_line('REQUESTBLENDERFILE %s %s' % (name, md5))
                assert_closed(c, what='REQUESTBLENDERFILE %s %s to close '
                              'the connection' % (name, md5))
        farm.assert_alive()


def test_results():
    with Farm() as farm:
        farm.start()
        path, _ = farm.blend('r.blend')
        farm.job('r', path, 1, 4)
        farm.wait_ready()
        image = bytes(range(256)) * 1000 + b'end'
        with farm.client() as c:
            c.helo('up.example')
            name, md5, frame = c.requestjob(1)
            eq(frame, 1, 'first frame')
            eq(c.results(name, md5, frame, '0001.png', image), 'THANKYOU',
               'RESULTS of a frame that is out')
            # The same connection goes on. A rendered frame is never
            # empty: an empty one is refused.
            name, md5, frame = c.requestjob(1)
            eq(frame, 2, 'second frame')
            eq(c.results(name, md5, 2, '0002.png', b'', chunks=1),
               'NOK', 'RESULTS of an empty image')
            c.goodbye()
        p = farm.frame_path('r', '0001.png')
        with open(p, 'rb') as f:
            check(f.read() == image, '%s does not hold the bytes sent', p)
        check(not os.path.exists(farm.frame_path('r', '0002.png')),
              'an empty frame was stored')
        log = farm.joblog('r')
        check(re.search(r'(?m)^.*\b1\b.*up\.example', log) or
              re.search(r'(?m)^.*up\.example.*\b1\b', log),
              'job log does not name frame 1 and its host:\n%s', log)


def test_results_refused():
    with Farm({'max_frame_size': 1000}) as farm:
        farm.start()
        path, data = farm.blend('n.blend')
        farm.job('n', path, 1, 20)
        farm.wait_ready()
        md5 = md5_bytes(data)
        with farm.client() as c:
            c.helo('nok.example')
            out = [c.requestjob(1) for _ in range(3)]
            eq([j[2] for j in out], [1, 2, 3], 'frames handed out')
            # Unknown blend name, wrong digest, frame never handed out.
            eq(c.results('other.blend', md5, 1, '0001.png', b'x'), 'NOK',
               'RESULTS for an unknown blend name')
            eq(c.results('n.blend', md5_bytes(b'no'), 1, '0001.png', b'x'),
               'NOK', 'RESULTS with a wrong digest')
            eq(c.results('n.blend', md5, 9, '0009.png', b'x'), 'NOK',
               'RESULTS for a frame never handed out')
            eq(c.results('n.blend', md5, 21, '0021.png', b'x'), 'NOK',
               'RESULTS for a frame outside the job')
            # Bad image names and sizes, for a frame that is out.
            bad = ['..', '../../x.png', 'sub/x.png', '/abs.png',
                   '.hidden.png', 'a\x01b.png', 'a\x7fb.png',
                   'a' * 252 + '.png']
            for image in bad:
                eq(c.results('n.blend', md5, 1, image, b'x'), 'NOK',
                   'RESULTS with image name %r' % image[:40])
            eq(c.results('n.blend', md5, 1, '0001.png', b'y' * 1001), 'NOK',
               'RESULTS with a size over max_frame_size')
            # None of these wrote anything, nor spoiled the connection.
            eq(c.results('n.blend', md5, 1, '0001.png', b'z' * 1000),
               'THANKYOU', 'RESULTS at exactly max_frame_size')
            eq(c.results('n.blend', md5, 1, '0001b.png', b'z'), 'NOK',
               'RESULTS for a frame already done')
            eq(c.results('n.blend', md5, 2, 'a' * 251 + '.png', b'2'),
               'THANKYOU', 'RESULTS with an image name of 255 bytes')
            c.goodbye()
        for root, dirs, files in os.walk(farm.root):
            for f in files:
                check(not f.endswith('x.png') and f not in ('0009.png',
                      '0021.png', '0001b.png'),
                      'a refused result was written: %s',
                      os.path.join(root, f))
        eq(sorted(os.listdir(farm.framedir('n'))),
           ['0001.png', '0002.png'], 'render folder')
        eq(open(farm.frame_path('n', '0001.png'), 'rb').read(), b'z' * 1000,
           'frame 1')
        # A refused result is logged in the job log as discarded.
        log = farm.joblog('n')
        check(re.search(r'(?i)discard|refus|reject', log),
              'job log does not record a discarded result:\n%s', log)


def test_blenderdist():
    with Farm() as farm:
        farm.start()
        with open(farm.program, 'rb') as f:
            program = f.read()
        # No HELO, and an old HELO: the connection is closed, nothing sent.
        with farm.client() as c:
            c.send_line('REQUESTBLENDERDIST')
            assert_closed(c, what='REQUESTBLENDERDIST before HELO to close')
        with farm.client() as c:
            c.helo('old.example')
            c.send_line('REQUESTBLENDERDIST')
            assert_closed(c, what='REQUESTBLENDERDIST from an old peer to '
                          'close the connection')
        with farm.client() as c:
            eq(len(c.helo('new.example', 'bdfarm/1')), 3, 'HELO tokens')
            got = c.requestblenderdist()
            check(got == program, 'REQUESTBLENDERDIST sent %d bytes that '
                  'differ from the %d-byte program', len(got), len(program))
            eq(c.requestjob(1), None, 'REQUESTJOB after the program')
            c.goodbye()
        farm.assert_alive()


def test_both_families():
    if not have_ipv6():
        print('no ::1 here; IPv4 only')
    # The default: every address, IPv6 and IPv4 (the one test that does
    # not bind loopback only).
    with Farm(listen=None) as farm:
        farm.start()
        digest = md5_file(farm.program)
        hosts = ['127.0.0.1'] + (['::1'] if have_ipv6() else [])
        for h in hosts:
            with OldClient(farm.port, host=h) as c:
                eq(c.helo('fam.example'), [digest, '0'], 'HELO over %s' % h)
                c.goodbye()


def test_many_sessions_one_peer():
    # The old client connects again for every batch; nothing may leak or
    # slow down across a few hundred sessions.
    with Farm() as farm:
        farm.start()
        path, data = farm.blend('m.blend')
        farm.job('m', path, 1, 300)
        farm.wait_ready()
        for i in range(300):
            with farm.client() as c:
                c.helo('loop.example')
                name, md5, frame = c.requestjob(1)
                eq(frame, i + 1, 'frame')
                eq(c.results(name, md5, frame, '%04d.png' % frame,
                             b'%d' % frame), 'THANKYOU', 'RESULTS')
                c.goodbye()
        with farm.client() as c:
            eq(c.helo('loop.example')[1], '0', 'HELO todo when done')
            eq(c.requestjob(1), None, 'REQUESTJOB when done')
            c.goodbye()
        eq(len(os.listdir(farm.framedir('m'))), 300, 'frames stored')
        log = wait_for(lambda: 'rendering complete' in farm.joblog('m') and
                       farm.joblog('m'), PATIENCE, what='rendering complete')
        tail = log[log.index('rendering complete'):]
        check(re.search(r'loop\.example\D{0,30}\b300\b|\b300\b\D{0,30}'
                        r'loop\.example', tail),
              'completion does not say loop.example rendered 300 frames:\n%s',
              tail)


if __name__ == '__main__':
    main([test_helo, test_requestjob_order, test_requestblenderfile,
          test_results, test_results_refused, test_blenderdist,
          test_both_families, test_many_sessions_one_peer])
