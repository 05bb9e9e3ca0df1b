"""kill -9 of the server at random moments while peers upload, then a
restart, several times: every frame arrives exactly once, and no frame
that was stored is ever handed out again. The moments come from a fixed
seed; BDFARM_SEED chooses another."""

import sys
sys.dont_write_bytecode = True
import os
import random
import re
import threading
import time

from bdfarmtest import PATIENCE, Farm, check, eq, main, wait_for

FRAMES = 120
PEERS = 3
KILLS = 5
# The redistribution delay: frames out to sessions a kill cut off come
# back after it. A peer takes a fraction of a second to upload a frame;
# one that took longer than the delay, on a busy machine, would upload a
# frame that went out again meanwhile, and both uploads would be thanked.
DELAY = 4


class Ledger:
    """What the peers saw, shared between their threads."""

    def __init__(self, farm, image_name):
        self.farm = farm
        self.image_name = image_name
        self.rehanded = []      # stored but never thanked, handed out again
        self.lock = threading.Lock()
        self.thanks = {}        # frame -> number of OK+THANKYOU
        self.handouts = []      # (frame, host)
        self.violations = []
        self.errors = []

    def handed(self, frame, host):
        path = self.farm.frame_path('k', number_name(frame))
        with self.lock:
            self.handouts.append((frame, host))
            if self.thanks.get(frame):
                self.violations.append('frame %d handed out to %s after '
                                       'its upload was thanked'
                                       % (frame, host))
            elif os.path.exists(path):
                self.rehanded.append(frame)

    def thanked(self, frame):
        with self.lock:
            self.thanks[frame] = self.thanks.get(frame, 0) + 1


def payload(frame, host):
    head = ('frame %d from %s\n' % (frame, host)).encode()
    return head + bytes(range(256)) * 64 + head


def peer(farm, ledger, host, stop, rnd):
    """Render until stopped; on any network error, drop the frame in hand
    (never upload it again) and come back shortly."""
    while not stop.is_set():
        try:
            with farm.client(timeout=3) as c:
                c.helo(host)
                j = c.requestjob(1)
                if j is None:
                    c.goodbye()
                    time.sleep(0.1)
                    continue
                name, md5, frame = j
                ledger.handed(frame, host)
                time.sleep(rnd.random() * 0.05)
                r = c.results(name, md5, frame, ledger.image_name(frame),
                              payload(frame, host), chunks=4,
                              pause=rnd.random() * 0.01)
                if r == 'THANKYOU':
                    ledger.thanked(frame)
                c.goodbye()
            time.sleep(0.01 + rnd.random() * 0.04)
        except Exception:
            time.sleep(0.1)


def number_name(frame):
    """An image name as Blender makes it, and the name the server stores
    every frame under, whatever its image name."""
    return '%04d.png' % frame


def letter_name(frame):
    word = ''
    while True:
        word = 'abcdefghijklmnopqrstuvwxyz'[frame % 26] + word
        frame //= 26
        if frame == 0:
            return 'frame-%s.png' % word


def test_kill9_mid_job():
    # Image names carry the frame number, as Blender's do: a frame stored
    # just before a kill is found on disk again.
    kill9_run(number_name, strict=True)


def test_kill9_names_without_numbers():
    # Image names without a number, which the server does not use: it
    # stores frames under names of its own. A frame thanked must never be
    # handed out again.
    kill9_run(letter_name, strict=False)


def kill9_run(image_name, strict):
    seed = int(os.environ.get('BDFARM_SEED', '1'))
    print('seed', seed, flush=True)
    rnd = random.Random(seed)
    with Farm({'redistribute_delay': DELAY, 'peer_timeout': 3}) as farm:
        path, data = farm.blend('k.blend')
        farm.job('k', path, 1, FRAMES)
        farm.start()
        farm.wait_ready()
        ledger = Ledger(farm, image_name)
        stop = threading.Event()
        threads = [threading.Thread(target=peer, daemon=True,
                                    args=(farm, ledger, 'peer%d.example' % i,
                                          stop, random.Random(seed + i)))
                   for i in range(PEERS)]
        for t in threads:
            t.start()
        try:
            mid = 0
            for k in range(KILLS):
                time.sleep(0.2 + rnd.random() * 0.4)
                farm.kill9()
                n = len(ledger.thanks)
                mid += n < FRAMES
                print('killed after %d thanked' % n, flush=True)
                time.sleep(rnd.random() * 0.3)
                farm.start()
            check(mid >= 3, 'only %d kills fell in the middle of the job; '
                  'the job is too short for this machine', mid)
            wait_for(lambda: len(ledger.thanks) == FRAMES or
                     'rendering complete' in farm.joblog('k'), 4 * PATIENCE,
                     interval=0.2, what='all frames to come back')
        finally:
            # Each peer ends the session in hand, if any, before it stops.
            stop.set()
            for t in threads:
                t.join(PATIENCE)
        check(not any(t.is_alive() for t in threads), 'a peer is still '
              'in a session %d s after being told to stop', PATIENCE)
        farm.assert_alive()
        check(not ledger.violations, 'thanked frames handed out again:\n%s',
              '\n'.join(ledger.violations))
        check(not strict or not ledger.rehanded, 'frames stored on disk '
              'handed out again: %r', ledger.rehanded)
        print('stored but not thanked, handed out again: %r'
              % ledger.rehanded)
        twice = {f: n for f, n in ledger.thanks.items() if n > 1}
        check(not twice, 'frames thanked more than once: %r', twice)
        files = sorted(os.listdir(farm.framedir('k')))
        eq(files, sorted(number_name(f) for f in range(1, FRAMES + 1)),
           'render folder after %d kills' % KILLS)
        for f in range(1, FRAMES + 1):
            with open(farm.frame_path('k', number_name(f)), 'rb') as fh:
                got = fh.read()
            m = re.match(rb'frame (\d+) from (\S+)\n', got)
            check(m and int(m.group(1)) == f and
                  got == payload(f, m.group(2).decode()),
                  'frame %d on disk is not a whole upload of it', f)
        # Frames the server stored just before a kill, without having
        # said THANKYOU, are the only ones not thanked.
        missing = [f for f in range(1, FRAMES + 1) if f not in ledger.thanks]
        print('thanked %d of %d; stored but not thanked: %r'
              % (len(ledger.thanks), FRAMES, missing))
        with farm.client() as c:
            eq(c.helo('end.example')[1], '0', 'HELO todo at the end')
            eq(c.requestjob(1), None, 'REQUESTJOB at the end')
            c.goodbye()
        # The job log does not show a frame received twice.
        wait_for(lambda: 'rendering complete' in farm.joblog('k'), PATIENCE,
                 what='rendering complete in the job log')
        received = {}
        for line in farm.joblog('k').splitlines():
            m = re.search(r'(?i)frame (\d+) received', line)
            if m:
                f = int(m.group(1))
                received[f] = received.get(f, 0) + 1
        check(received, 'no "frame N received" line in the job log:\n%s',
              farm.joblog('k')[-3000:])
        twice = {f: n for f, n in received.items() if n > 1}
        check(not twice, 'job log shows frames received twice: %r', twice)
        eq(farm.stop(), 0, 'exit code on SIGTERM')


if __name__ == '__main__':
    main([test_kill9_mid_job, test_kill9_names_without_numbers], bound=300)
