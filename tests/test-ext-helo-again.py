"""A connection that greeted with the extension and then greets again
without it speaks the old protocol from then on: the WAITJOB it left
outstanding is forgotten, so it is never sent JOB, which an old client
would take for the answer to its next request."""

import sys
sys.dont_write_bytecode = True

from bdfarmtest import OldClient, eq, main, md5_bytes
from exttest import ExtFarm


def test_second_helo_without_extension():
    with ExtFarm({'peer_timeout': 10}) as farm:
        farm.start()
        with farm.bdfarm('switch.example', keepalive=None) as c:
            c.waitjob(1)
            c.expect_no_job(0.3, 'no job yet')
            c.send_line('HELO switch.example')
            eq(len(OldClient.read_line(c).split()), 2,
               'tokens of the answer to a HELO without the extension')
            # Work appears: a session that waits would be told now.
            path, data = farm.blend('w.blend')
            farm.job('w', path, 1, 3)
            farm.wait_ready()
            c.send_line('REQUESTJOB 1')
            eq(OldClient.read_line(c), 'w.blend %s 1' % md5_bytes(data),
               'the next line on the old session: the answer to '
               'REQUESTJOB')
            c.send_line('GOODBYE')


if __name__ == '__main__':
    main([test_second_helo_without_extension])
