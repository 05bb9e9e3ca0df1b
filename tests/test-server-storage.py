"""The server names the files of the frames it stores: the frame number,
padded to four digits, and the extension of the client's image name when
it is an image format Blender writes. So no client can store a frame over
another one's file, and when the state file is lost, only those exact
names count as frames already rendered."""

import sys
sys.dont_write_bytecode = True
import os

from bdfarmtest import PATIENCE, Farm, check, eq, main, md5_bytes


def upload(farm, name, md5, frame, image, data, host='up.example'):
    """Send one frame on a fresh old-protocol connection; the answer."""
    with farm.client() as c:
        c.helo(host)
        r = c.results(name, md5, frame, image, data)
        c.goodbye()
    return r


def hand_out(farm, n, host='up.example'):
    """The next n frames handed out to host, as numbers."""
    with farm.client() as c:
        c.helo(host)
        got = [c.requestjob(1) for _ in range(n)]
        c.goodbye()
    return [j and j[2] for j in got]


def files(farm, job):
    return sorted(os.listdir(farm.framedir(job)))


def test_stored_names():
    with Farm() as farm:
        farm.start()
        path, data = farm.blend('n.blend')
        md5 = md5_bytes(data)
        farm.job('n', path, -2, 5)
        farm.wait_ready()
        eq(hand_out(farm, 8), list(range(-2, 6)), 'frames handed out')
        sent = {-2: '-002.png', -1: 'render.EXR', 0: '0000.png',
                1: 'shot_0005_v2.TIF', 2: 'frame.jpeg', 3: '0003.mp4',
                4: 'noextension', 5: '0005.webp'}
        for frame, image in sorted(sent.items()):
            eq(upload(farm, 'n.blend', md5, frame, image,
                      ('frame %d' % frame).encode()), 'THANKYOU',
               'upload of frame %d as %s' % (frame, image))
        eq(files(farm, 'n'), sorted(['-0002.png', '-0001.exr', '0000.png',
                                     '0001.tif', '0002.jpeg', '0003',
                                     '0004', '0005.webp']),
           'render folder')
        with open(farm.frame_path('n', '0001.tif'), 'rb') as f:
            eq(f.read(), b'frame 1', 'frame 1 sent as shot_0005_v2.TIF')


def test_no_frame_lands_on_another():
    with Farm() as farm:
        farm.start()
        path, data = farm.blend('o.blend')
        md5 = md5_bytes(data)
        farm.job('o', path, 1, 3)
        farm.wait_ready()
        eq(hand_out(farm, 3), [1, 2, 3], 'frames handed out')
        eq(upload(farm, 'o.blend', md5, 1, '0001.png', b'frame one'),
           'THANKYOU', 'frame 1')
        # Frame 2 sent under frame 1's name, and frame 3 under a name
        # that climbs nowhere but looks like frame 1's.
        eq(upload(farm, 'o.blend', md5, 2, '0001.png', b'frame two'),
           'THANKYOU', 'frame 2 as 0001.png')
        eq(upload(farm, 'o.blend', md5, 3, '0001.PNG', b'frame three'),
           'THANKYOU', 'frame 3 as 0001.PNG')
        for frame, want in ((1, b'frame one'), (2, b'frame two'),
                            (3, b'frame three')):
            with open(farm.frame_path('o', '%04d.png' % frame), 'rb') as f:
                eq(f.read(), want, 'file of frame %d' % frame)
        eq(files(farm, 'o'), ['0001.png', '0002.png', '0003.png'],
           'render folder')


def test_leftover_of_a_restarted_job_replaced():
    with Farm() as farm:
        farm.start()
        path, data = farm.blend('l.blend', seed=1)
        farm.job('l', path, 1, 1)
        farm.wait_ready()
        eq(hand_out(farm, 1), [1], 'frame 1')
        eq(upload(farm, 'l.blend', md5_bytes(data), 1, '0001.png',
                  b'first version'), 'THANKYOU', 'frame 1 of the first .blend')
        # The .blend changes: the job starts over, and its frames are
        # rendered again over the files of the first version.
        path, data = farm.blend('l.blend', seed=2)
        farm.wait_log(r'l\.job: starting over', 10)
        farm.wait_ready()
        eq(hand_out(farm, 1), [1], 'frame 1 after the job started over')
        eq(upload(farm, 'l.blend', md5_bytes(data), 1, '0001.png',
                  b'second version'), 'THANKYOU',
           'frame 1 of the second .blend')
        with open(farm.frame_path('l', '0001.png'), 'rb') as f:
            eq(f.read(), b'second version', 'frame 1 on disk')
        eq(files(farm, 'l'), ['0001.png'], 'render folder')


def test_lost_state_counts_stored_names_only():
    with Farm() as farm:
        path, data = farm.blend('s.blend')
        farm.job('s', path, -2, 6)
        # Files newer than the .blend, as a lost state file leaves them:
        # only exact stored names are frames.
        os.makedirs(farm.framedir('s'))
        for name in ('-0002.png', '0002.png', '0006', 'shot_0005_v2.png',
                     '0003.PNG', '00004.png', 'x_-1.png', '1.png',
                     '0000.png.part', 'notes.txt'):
            with open(farm.frame_path('s', name), 'wb') as f:
                f.write(b'some image')
        farm.start()
        farm.wait_ready()
        eq(hand_out(farm, 7), [-1, 0, 1, 3, 4, 5, None],
           'frames handed out with -0002.png, 0002.png and 0006 on disk')
        check(farm.wait_log(r'3 frames found already rendered', PATIENCE),
              'the log does not count the frames found')


if __name__ == '__main__':
    main([test_stored_names, test_no_frame_lands_on_another,
          test_leftover_of_a_restarted_job_replaced,
          test_lost_state_counts_stored_names_only])
