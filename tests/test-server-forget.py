"""Hosts not heard from for forget_hosts seconds that hold nothing are
forgotten, and logged once for all; a host with a frame out is kept, and
the state file still names it."""

import os
import re

from bdfarmtest import PATIENCE, Farm, eq, main, md5_bytes, wait_for


def test_idle_hosts_are_forgotten_holders_kept():
    with Farm({'forget_hosts': 1}) as farm:
        farm.start()
        path, data = farm.blend('a.blend')
        farm.job('a', path, 1, 10)
        farm.wait_ready(fqdn='probe.example')
        with farm.client() as c:
            c.helo('holder.example')
            name, md5, frame = c.requestjob(1)
            eq(md5, md5_bytes(data), 'digest of the frame handed out')
            c.goodbye()
        with farm.client() as c:
            c.helo('passing.example')
            c.goodbye()

        # probe.example and passing.example hold nothing; holder.example
        # has frame 1 out for redistribute_delay.
        def forgotten():
            return sum(int(n) for n in re.findall(
                r'forgot (\d+) hosts? not heard from for 1 s', farm.log()))
        wait_for(lambda: forgotten() >= 2, PATIENCE,
                 what='two hosts forgotten')
        state = os.path.join(farm.jobdir, '.bdfarm.state')
        wait_for(lambda: re.search(r'(?m)^out %d .* holder\.example$'
                                   % frame, open(state).read()),
                 PATIENCE, what='the frame out to holder.example saved')
        eq(forgotten(), 2, 'hosts forgotten, holder.example kept')


if __name__ == '__main__':
    main([test_idle_hosts_are_forgotten_holders_kept])
