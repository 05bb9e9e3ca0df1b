"""Out of file descriptors. At start the server raises its soft limit on
open files to the hard one and, unless max_peers is set, serves as many
peers as the limit leaves room for. When it runs out all the same, it
stops accepting for a second at a time instead of spinning on the waiting
connection, logs it once, keeps serving the peers it has, still saves its
state (a descriptor is kept in reserve for that), and accepts the waiting
connections once descriptors are free again."""

import sys
sys.dont_write_bytecode = True
import os
import re
import resource

from bdfarmtest import (PATIENCE, ConnectionClosed, Farm, check, eq, main,
                        wait_for)

# Runs the server with the given soft and hard limits on open files.
LIMITED = ('import os, resource, sys; '
           'resource.setrlimit(resource.RLIMIT_NOFILE, '
           '(int(sys.argv[1]), int(sys.argv[2]))); '
           'os.execv(sys.argv[3], sys.argv[3:])')


class LimitedFarm(Farm):
    """A farm whose server starts with a limit on open files."""

    def __init__(self, soft, hard, **kw):
        self.limits = (soft, hard)
        Farm.__init__(self, **kw)

    def argv(self, jobdir=None, renderdir=None, port=None):
        return [sys.executable, '-c', LIMITED, str(self.limits[0]),
                str(self.limits[1])] + Farm.argv(self, jobdir, renderdir,
                                                 port)


def open_files_limit(pid):
    """The (soft, hard) limit on open files of process pid."""
    with open('/proc/%d/limits' % pid) as f:
        for line in f:
            if line.startswith('Max open files'):
                t = line.split()
                return int(t[3]), int(t[4])
    raise AssertionError('no open files limit for %d' % pid)


def lowest_free_fd(pid):
    """The lowest descriptor number the process pid does not use."""
    used = set(int(n) for n in os.listdir('/proc/%d/fd' % pid))
    n = 0
    while n in used:
        n += 1
    return n


def greeted(farm, host):
    """A new old-protocol client, greeted."""
    c = farm.client(timeout=10)
    c.helo(host)
    return c


def test_limit_raised_and_max_peers_derived():
    # 200 descriptors: 64 kept for the server, 2 for each peer.
    with LimitedFarm(100, 200) as farm:
        farm.start()
        eq(open_files_limit(farm.proc.pid), (200, 200), 'limits after start')
        peers = [greeted(farm, 'p%d.example' % i) for i in range(68)]
        mark = farm.log_size()
        extra = farm.client()
        closed, got = extra.closed_within(5)
        check(closed and not got, 'a 69th peer was not refused')
        farm.wait_log(r'max_peers is 68\b', PATIENCE, since=mark)
        for c in peers:
            c.goodbye()

        def room():
            with farm.client() as c:
                try:
                    return len(c.helo('again.example')) == 2
                except ConnectionClosed:
                    return False
        wait_for(room, PATIENCE, what='room for a peer once the others left')


def test_pause_when_out_of_descriptors():
    with Farm({'max_peers': 10000}) as farm:
        farm.start()
        path, data = farm.blend('d.blend')
        farm.job('d', path, 1, 5)
        farm.wait_ready()
        pid = farm.proc.pid
        state = os.path.join(farm.jobdir, '.bdfarm.state')
        holders = [greeted(farm, 'h%d.example' % i) for i in range(4)]
        soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        mark = farm.log_size()
        resource.prlimit(pid, resource.RLIMIT_NOFILE,
                         (lowest_free_fd(pid), hard))
        try:
            # Connections the server cannot take: they wait, and one
            # greets in vain for now.
            waiting = [farm.client(timeout=15) for _ in range(3)]
            waiting[0].send_line('HELO waiting.example')
            farm.wait_log(r'cannot accept a connection', PATIENCE,
                          since=mark)
            # The server still serves the peers it has, and saves the
            # frame it hands out, with no descriptor to spare.
            job = holders[0].requestjob(1)
            eq(job[2], 1, 'frame handed out while out of descriptors')
            wait_for(lambda: re.search(r'(?m)^out 1 ',
                                       open(state).read()), 10,
                     what='the state file to record frame 1 out')
            text = farm.log_since(mark)
            lines = len(re.findall(r'cannot accept', text))
            check(lines <= 2, 'out of descriptors, the server logged %d '
                  'lines about accepting:\n%s', lines, text[-2000:])
            check(waiting[0].still_open(), 'a waiting connection was '
                  'closed')
            # Descriptors come free: the waiting connections are taken.
            for c in holders[1:]:
                c.goodbye()
            eq(len(waiting[0].read_line().split()), 2,
               'HELO of a connection that waited')
            farm.wait_log(r'accepting connections again', PATIENCE, since=mark)
        finally:
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
        for c in waiting:
            c.close()
        holders[0].goodbye()
        farm.assert_alive()


if __name__ == '__main__':
    main([test_limit_raised_and_max_peers_derived,
          test_pause_when_out_of_descriptors])
