"""A state file that cannot be written is tried again until it is: frames
handed out while it failed end up in it once the cause is gone. A client
that sent a frame is thanked only once the state that records the frame
is on disk, and is not dropped for the wait meanwhile. A directory where
the server writes the state's temporary file makes every save fail."""

import sys
sys.dont_write_bytecode = True
import os
import re

from bdfarmtest import PATIENCE, Farm, check, eq, main, md5_bytes, wait_for

TIMEOUT = 2     # peer_timeout, in seconds


def state_text(farm):
    with open(os.path.join(farm.jobdir, '.bdfarm.state')) as f:
        return f.read()


def block_saves(farm):
    """Put a directory where the state's next version is written (the file
    that keeps the previous one); return it."""
    path = os.path.join(farm.jobdir, '.bdfarm.state.previous')
    if os.path.exists(path):
        os.unlink(path)
    os.mkdir(path)
    return path


def test_failed_save_tried_again():
    with Farm() as farm:
        farm.start()
        path, data = farm.blend('a.blend')
        farm.job('a', path, 1, 3)
        farm.wait_ready()
        wait_for(lambda: 'job a.job' in state_text(farm), PATIENCE,
                 what='the job in the state file')
        blocker = block_saves(farm)
        mark = farm.log_size()
        with farm.client() as c:
            c.helo('meanwhile.example')
            eq(c.requestjob(1)[2], 1, 'frame handed out')
            c.goodbye()
        farm.wait_log(r'cannot write .*\.bdfarm\.state', PATIENCE, since=mark)
        check(not re.search(r'(?m)^out 1 ', state_text(farm)),
              'the state was written despite the directory in the way')
        os.rmdir(blocker)
        wait_for(lambda: re.search(r'(?m)^out 1 .*meanwhile\.example$',
                                   state_text(farm)), 10,
                 what='the state file to record the frame handed out while '
                 'saves failed')
        farm.wait_log(r'\.bdfarm\.state written again', PATIENCE, since=mark)
        text = farm.log_since(mark)
        eq(len(re.findall(r'cannot write', text)), 1,
           'lines about the failed saves:\n%s' % text)


def test_thanks_wait_for_the_state():
    with Farm({'peer_timeout': TIMEOUT}) as farm:
        farm.start()
        path, data = farm.blend('b.blend')
        md5 = md5_bytes(data)
        farm.job('b', path, 1, 3)
        farm.wait_ready()
        c = farm.client(timeout=15)
        c.helo('waits.example')
        eq(c.requestjob(1)[2], 1, 'frame handed out')
        blocker = block_saves(farm)
        mark = farm.log_size()
        c.send_line('RESULTS b.blend %s 1 0001.png 5' % md5)
        eq(c.read_line(), 'OK', 'answer to RESULTS')
        c.send_raw(b'frame')
        farm.wait_log(r'cannot write .*\.bdfarm\.state', PATIENCE, since=mark)
        # No thanks while the state cannot record the frame, however long
        # that lasts, and no timeout either: the wait is the server's.
        closed, got = c.closed_within(TIMEOUT + 1.5)
        check(not closed and not got, 'while the state could not be '
              'saved, the client got %r%s', got, ' and was dropped'
              if closed else '')
        os.rmdir(blocker)
        eq(c.read_line(), 'THANKYOU', 'answer once the state is saved')
        check(re.search(r'(?m)^done 1$', state_text(farm)),
              'thanked before the state recorded the frame:\n%s',
              state_text(farm))
        eq(c.requestjob(1)[2], 2, 'the session goes on')
        c.goodbye()


if __name__ == '__main__':
    main([test_failed_save_tried_again, test_thanks_wait_for_the_state])
