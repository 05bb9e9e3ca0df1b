"""Results between bdfarm peers: RESULTS for a frame the server already
has is answered HAVE and no bytes follow (an old client still gets NOK);
a frame that went back to the queue when its client was lost is still
accepted from that client, once."""

import os

from bdfarmtest import PATIENCE, check, eq, main, wait_for
from exttest import ExtFarm


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def test_have_for_a_stored_frame():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('a', 1, 3)
        with farm.bdfarm('r.example') as c:
            eq(c.next_job(), (name, md5, 1), 'first frame')
            eq(c.results(name, md5, 1, '0001.png', b'first'), 'THANKYOU',
               'first upload')
            eq(read(farm.frame_path('a', '0001.png')), b'first',
               'stored frame')
            # HAVE, and the server expects no bytes: the very next line is
            # read as a request, which a server waiting for 100000 bytes
            # would swallow.
            eq(c.results(name, md5, 1, '0001.png', b'', size=100000),
               'HAVE', 'RESULTS for a stored frame')
            eq(c.next_job(), (name, md5, 2), 'JOB right after HAVE')
            eq(c.results(name, md5, 1, 'other.png', b'x' * 10), 'HAVE',
               'RESULTS for a stored frame under another image name')
            check(not os.path.exists(farm.frame_path('a', 'other.png')),
                  'a duplicate was stored')
            # A frame never handed out is NOK, not HAVE.
            eq(c.results(name, md5, 3, '0003.png', b'never'), 'NOK',
               'RESULTS for a frame never handed out')
            eq(c.results('nosuch.blend', md5, 1, '0001.png', b'gone'),
               'NOK', 'RESULTS for no job')
            eq(c.render((name, md5, 2)), 'THANKYOU', 'second upload')
        with farm.client() as old:
            old.helo('old.example')
            eq(old.results(name, md5, 1, '0001.png', b'again'), 'NOK',
               'RESULTS for a stored frame from an old client')
            old.goodbye()
        eq(read(farm.frame_path('a', '0001.png')), b'first',
           'the stored frame after duplicates')


def test_result_of_a_requeued_frame_is_accepted_once():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('a', 1, 3)
        lost = farm.bdfarm('lost.example', instance=7)
        eq(lost.next_job(), (name, md5, 1), 'frame 1 to the lost one')
        eq(lost.next_job(), (name, md5, 2), 'frame 2 to the lost one')
        with farm.bdfarm('w.example') as w:
            eq(w.next_job(), (name, md5, 3), 'frame 3 to the other')
            w.waitjob(1)
            w.expect_no_job(0.3, 'no frame is free')
            lost.abort()
            eq(w.expect_job(what='frame of the lost client'),
               (name, md5, 1), 'frame 1 handed out again')
            farm.wait_log(r'lost\.example#7 is lost; 2 frames')
            # The lost client comes back and uploads both: frame 1 is out
            # again (to w), frame 2 is back in the queue.
            with farm.bdfarm('lost.example', instance=7) as back:
                eq(back.results(name, md5, 1, '0001.png', b'late1'),
                   'THANKYOU', 'upload of a frame handed out again')
                eq(back.results(name, md5, 2, '0002.png', b'late2'),
                   'THANKYOU', 'upload of a frame back in the queue')
                eq(back.results(name, md5, 1, '0001.png', b'late1'),
                   'HAVE', 'second upload of the same frame')
            eq(w.results(name, md5, 1, '0001.png', b'w1'), 'HAVE',
               'upload of the frame the other client also rendered')
            eq(read(farm.frame_path('a', '0001.png')), b'late1',
               'the frame stored once')
            eq(read(farm.frame_path('a', '0002.png')), b'late2',
               'frame 2 stored')
            # Frames 1 and 2 are done: nothing goes out again.
            w.waitjob(1)
            w.expect_no_job(0.3, 'frames done by a client that came back')
            eq(w.render((name, md5, 3)), 'THANKYOU', 'last frame')
            wait_for(lambda: 'rendering complete' in farm.joblog('a'),
                     PATIENCE, what='the job to complete')
            log = farm.joblog('a')
            eq(log.count('received from'), 3, 'frames received, in the '
               'job log:\n%s' % log)


if __name__ == '__main__':
    main([test_have_for_a_stored_frame,
          test_result_of_a_requeued_frame_is_accepted_once], bound=120)
