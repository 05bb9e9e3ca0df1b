"""Frames that do not come back: handed out again after
redistribute_delay (never for REQUESTJOB 0), and uploads cut off half-way
that leave nothing on disk."""

import sys
sys.dont_write_bytecode = True
import os
import time

from bdfarmtest import PATIENCE, Farm, check, eq, main, md5_bytes, wait_for

# The redistribution delay. The test says a frame is not due yet only when
# it asks well within the delay: at most half of it after the frame went
# out, on an idle machine. The other half is the margin for a busy one.
DELAY = 4
# Past a frame's delay, the time to let pass before saying that it was
# not handed out although due: the server counts in milliseconds.
DUE = 0.3


def ask(farm, available=1, host='r.example'):
    with farm.client() as c:
        c.helo(host)
        j = c.requestjob(available)
        c.goodbye()
    return j


def ask_timed(farm, available=1, host='r.example'):
    """ask(); also return when the question was about to be sent and when
    its answer came: the server handed a frame out between the two."""
    with farm.client() as c:
        c.helo(host)
        before = time.monotonic()
        j = c.requestjob(available)
        after = time.monotonic()
        c.goodbye()
    return j, before, after


def sleep_until(t):
    """Let time pass until t, for a question about what the server does
    not do before or after a moment: there is no sign to wait for."""
    time.sleep(max(0, t - time.monotonic()))


def wait_due(farm, since, what):
    """Wait until HELO says a frame can be handed out, the sign that one
    out since the moment since fell due; fail if that came before the
    delay."""
    farm.wait_ready(DELAY + PATIENCE)
    took = time.monotonic() - since
    check(took >= DELAY - 0.1, '%s fell due after %.2f s; the delay is '
          '%d s', what, took, DELAY)


def test_redistribution():
    with Farm({'redistribute_delay': DELAY}) as farm:
        farm.start()
        path, data = farm.blend('r.blend')
        md5 = md5_bytes(data)
        farm.job('r', path, 1, 3)
        farm.wait_ready()
        # For each frame, when it was handed out: no earlier than sent[f],
        # no later than out[f]. Apart, so that their order is clear.
        sent, out = {}, {}
        for f in (1, 2, 3):
            j, sent[f], out[f] = ask_timed(farm)
            eq(j, ('r.blend', md5, f), 'fresh frame')
            time.sleep(0.4)
        # Nothing fresh left and nothing out long enough.
        eq(ask(farm), None, 'REQUESTJOB 1 right after all were handed out')
        eq(ask(farm, 0), None, 'REQUESTJOB 0 right after')
        sleep_until(sent[1] + DELAY / 2)
        eq(ask(farm), None, 'REQUESTJOB 1 half-way through the delay')
        wait_due(farm, sent[1], 'frame 1')
        # Frame 1 is due, but never for a peer with no free renderer.
        eq(ask(farm, 0), None, 'REQUESTJOB 0 with frame 1 due')
        j = ask(farm, 1, 'again.example')
        eq(j, ('r.blend', md5, 1), 'frame out longest, handed out again')
        # Frame 1 was just handed out again: frame 2 is next once due.
        wait_due(farm, sent[2], 'frame 2')
        eq(ask(farm, 2), ('r.blend', md5, 2), 'frame 2 handed out again')
        # A frame that comes back is never handed out again; the first
        # upload of a frame handed out twice wins.
        with farm.client() as c:
            c.helo('r.example')
            eq(c.results('r.blend', md5, 3, '0003.png', b'3'), 'THANKYOU',
               'upload of frame 3')
            eq(c.results('r.blend', md5, 1, '0001.png', b'1 from again'),
               'THANKYOU', 'upload of frame 1 by its second peer')
            eq(c.results('r.blend', md5, 1, '0001.png', b'1 from first'),
               'NOK', 'a late upload of frame 1 by its first peer')
            c.goodbye()
        # Frames 1 and 3 are done, 3 past its delay: nothing is due until
        # frame 2's second delay ends, which started less than a second
        # before this question on an idle machine.
        sleep_until(out[3] + DELAY + DUE)
        eq(ask(farm), None, 'REQUESTJOB with frame 2 not due again yet')
        with farm.client() as c:
            c.helo('r.example')
            eq(c.results('r.blend', md5, 2, '0002.png', b'2'), 'THANKYOU',
               'upload of frame 2')
            c.goodbye()
        eq(open(farm.frame_path('r', '0001.png'), 'rb').read(),
           b'1 from again', 'frame 1 on disk')
        eq(ask(farm), None, 'REQUESTJOB when every frame is back')
        log = farm.joblog('r')
        check('again.example' in log, 'job log does not name the host that '
              'got frame 1 again:\n%s', log)
        wait_for(lambda: 'rendering complete' in farm.joblog('r'), PATIENCE,
                 what='rendering complete')


def test_upload_cut_off():
    with Farm({'redistribute_delay': DELAY}) as farm:
        farm.start()
        path, data = farm.blend('u.blend')
        md5 = md5_bytes(data)
        farm.job('u', path, 1, 1)
        farm.wait_ready()
        eq(ask(farm), ('u.blend', md5, 1), 'frame 1')
        image = os.urandom(200000)
        target = farm.frame_path('u', '0001.exr')

        def left():
            if not os.path.isdir(farm.framedir('u')):
                return []
            return os.listdir(farm.framedir('u'))
        # A slow upload: never a file under the frame's name before the
        # last byte.
        for how in ('close', 'reset'):
            c = farm.client()
            c.helo('r.example')
            c.send_line('RESULTS u.blend %s 1 0001.exr %d'
                        % (md5, len(image)))
            eq(c.read_line(), 'OK', 'answer to RESULTS')
            for i in range(4):
                c.send_raw(image[i * 25000:(i + 1) * 25000])
                time.sleep(0.1)
                check(not os.path.exists(target), 'a partial frame is '
                      'visible as %s', target)
            if how == 'close':
                c.close()
            else:
                c.abort()
            # The server drops what it received once it sees the end of
            # the connection; a frame stored from it would stay.
            wait_for(lambda: left() == [], PATIENCE, what='the files of an '
                     'upload cut off half-way (%s) to go: %r' % (how, left()))
            farm.assert_alive()
        # The frame is still out: not handed out at once, but after the
        # delay.
        eq(ask(farm), None, 'REQUESTJOB right after the cut-off upload')
        j = farm.poll_job(timeout=DELAY + PATIENCE)
        eq(j, ('u.blend', md5, 1), 'frame handed out again')
        # A whole upload, slowly.
        with farm.client() as c:
            c.helo('poll.example')
            eq(c.results('u.blend', md5, 1, '0001.exr', image, chunks=4,
                         pause=0.1), 'THANKYOU', 'whole upload')
            c.goodbye()
        eq(open(target, 'rb').read() == image, True, 'frame on disk whole')
        eq(os.listdir(farm.framedir('u')), ['0001.exr'], 'render folder')


if __name__ == '__main__':
    main([test_redistribution, test_upload_cut_off])
