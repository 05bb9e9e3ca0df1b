"""Many peers at once: two peers render a whole job while others stall in
the middle of a session, and the stalled ones are dropped after
peer_timeout, leaving nothing behind."""

import sys
sys.dont_write_bytecode = True
import os
import threading
import time

from bdfarmtest import PATIENCE, Farm, check, eq, main, md5_bytes, wait_for

FRAMES = 12
# peer_timeout: the two peers must render every frame within it, which
# takes a fraction of a second on an idle machine; the rest is the margin
# for a busy one.
TIMEOUT = 8


def peer(farm, host, stop, done, errors):
    """An old client that renders until the job has no frame left."""
    try:
        while not stop.is_set():
            with farm.client() as c:
                c.helo(host)
                j = c.requestjob(1)
                if j is None:
                    c.goodbye()
                    time.sleep(0.05)
                    continue
                name, md5, frame = j
                data = ('%s frame %d\n' % (host, frame)).encode() * 100
                r = c.results(name, md5, frame, '%04d.tga' % frame, data)
                if r == 'THANKYOU':
                    done.append((frame, host, data))
                c.goodbye()
    except Exception as e:
        errors.append('%s: %r' % (host, e))


def test_two_peers_while_others_stall():
    with Farm({'peer_timeout': TIMEOUT, 'redistribute_delay': 1}) as farm:
        farm.start()
        path, blend = farm.blend('p.blend')
        md5 = md5_bytes(blend)
        farm.job('p', path, 1, FRAMES)
        farm.wait_ready()

        # One stalls in the middle of an upload, one after HELO, one in
        # the middle of a line. For each, when it last started to send:
        # the server cannot have heard from it earlier.
        stalled = {}
        upload = farm.client()
        upload.helo('stall-upload.example')
        eq(upload.requestjob(1), ('p.blend', md5, 1), 'stalled peer frame')
        upload.send_line('RESULTS p.blend %s 1 0001.tga 5000' % md5)
        eq(upload.read_line(), 'OK', 'answer to the stalled RESULTS')
        stalled[upload] = time.monotonic()
        upload.send_raw(b'S' * 100)
        idle = farm.client()
        stalled[idle] = time.monotonic()
        idle.helo('stall-idle.example')
        half = farm.client()
        half.helo('stall-half.example')
        stalled[half] = time.monotonic()
        half.send_raw(b'REQUESTJ')

        stop = threading.Event()
        done, errors = [], []
        threads = [threading.Thread(target=peer, daemon=True,
                                    args=(farm, h, stop, done, errors))
                   for h in ('peer-a.example', 'peer-b.example')]
        for t in threads:
            t.start()
        try:
            wait_for(lambda: errors or
                     set(f for f, _, _ in done) >= set(range(2, FRAMES + 1)),
                     TIMEOUT - 0.5, what='two peers to render frames 2-%d'
                     % FRAMES)
            check(not errors, 'peer failed: %s', errors)
            # They did it while the others were still connected.
            for c, what in ((upload, 'mid-upload'), (idle, 'idle'),
                            (half, 'half-line')):
                check(c.still_open(), 'the %s peer was dropped before the '
                      'others finished', what)
            hosts = set(h for _, h, _ in done)
            eq(hosts, {'peer-a.example', 'peer-b.example'},
               'hosts that rendered')

            # Each stalled peer is dropped after peer_timeout.
            for c, what in ((upload, 'mid-upload'), (idle, 'idle'),
                            (half, 'half-line')):
                closed, got = c.closed_within(
                    stalled[c] + TIMEOUT + PATIENCE - time.monotonic())
                gone = time.monotonic() - stalled[c]
                check(closed, 'the %s peer was not dropped within %.1f s',
                      what, gone)
                check(gone >= TIMEOUT - 0.1, 'the %s peer was dropped after'
                      ' %.1f s, before peer_timeout (%d s)', what, gone,
                      TIMEOUT)
                c.close()

            # Frame 1 is handed out again and the job completes.
            wait_for(lambda: errors or 1 in set(f for f, _, _ in done),
                     PATIENCE, what='frame 1 to be rendered again')
            check(not errors, 'peer failed: %s', errors)
        finally:
            stop.set()
            for t in threads:
                t.join(PATIENCE)

        frames = {}
        for f, h, data in done:
            check(f not in frames, 'frame %d acknowledged twice', f)
            frames[f] = data
        eq(sorted(frames), list(range(1, FRAMES + 1)), 'frames acknowledged')
        eq(sorted(os.listdir(farm.framedir('p'))),
           ['%04d.tga' % f for f in range(1, FRAMES + 1)], 'render folder')
        for f, data in frames.items():
            with open(farm.frame_path('p', '%04d.tga' % f), 'rb') as fh:
                check(fh.read() == data, 'frame %d on disk is not what its '
                      'peer sent', f)
        wait_for(lambda: 'rendering complete' in farm.joblog('p'), PATIENCE,
                 what='"rendering complete" in the job log')
        farm.assert_alive()


if __name__ == '__main__':
    main([test_two_peers_while_others_stall])
