"""A big job folder: peers are served while it is read, and when nothing
changes it costs nothing. The server's own writes there (job logs, the
state file) start no scan; a changed job file is looked at alone."""

import sys
sys.dont_write_bytecode = True
import os
import re
import socket
import subprocess

import bdfarmtest as bt
from bdfarmtest import check, eq, main, md5_bytes, wait_for
from exttest import ExtFarm


def write_jobs(farm, blend, n):
    """n job files naming one .blend, written straight into place."""
    for i in range(n):
        with open(os.path.join(farm.jobdir, 'job%05d.job' % i), 'w') as f:
            f.write('%s\n1\n1\n' % blend)


def start_with_waiting_peer(farm, line):
    """Start the server on a listening socket made here, on which a peer
    has connected and sent line before the server runs; return the peer."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', farm.port))
    ls.listen(16)
    ls.setblocking(False)
    peer = farm.client(timeout=30)
    peer.send_line(line)
    env = dict(os.environ, BDFARM_LISTEN_FDS=str(ls.fileno()))
    with open(farm.errlog, 'ab') as err:
        farm.proc = subprocess.Popen(farm.argv(), env=env,
                                     pass_fds=(ls.fileno(),),
                                     stdin=subprocess.DEVNULL, stdout=err,
                                     stderr=err)
    bt._live.append(farm.proc)
    ls.close()
    return peer


def test_helo_while_the_folder_is_read():
    jobs = 3000
    with ExtFarm(verbose=True) as farm:
        path, _ = farm.blend('s.blend')
        write_jobs(farm, path, jobs)
        peer = start_with_waiting_peer(farm, 'HELO early.example')
        answer = peer.read_line().split()
        peer.goodbye()
        eq(len(answer), 2, 'tokens of the HELO answer')
        wait_for(lambda: len(re.findall(r': new job', farm.log())) == jobs,
                 60, what='every job read')
        log = farm.log()
        connected = log.find('127.0.0.1: connected')
        check(connected >= 0, 'the connection is not in the log')
        before = len(re.findall(r': new job', log[:connected]))
        print('%d of %d jobs read when the peer was served' % (before, jobs))
        check(before < jobs, 'the peer was served only once all %d jobs '
              'were read', jobs)


def take_and_send(farm, n, host='t.example'):
    """Take n frames and send each back."""
    with farm.client() as c:
        c.helo(host)
        for _ in range(n):
            name, md5, frame = c.requestjob(1)
            eq(c.results(name, md5, frame, '%04d.png' % frame, b'x'),
               'THANKYOU', 'RESULTS answer')
        c.goodbye()


def test_own_writes_start_no_scan():
    # No periodic scan within the test: only what happens counts.
    with ExtFarm(verbose=True, settings={'rescan_interval': 3600}) as farm:
        pa, _ = farm.blend('a.blend', seed=1)
        pb, _ = farm.blend('b.blend', seed=2)
        farm.job('a', pa, 1, 50)
        farm.job('b', pb, 1, 5)
        farm.start()
        farm.wait_ready()
        eq(len(re.findall(r'reading the folder', farm.log())), 1,
           'scans at start')

        # Frames out and in: job logs and the state file are written.
        take_and_send(farm, 10)
        wait_for(lambda: 'frame 10 received' in farm.joblog('a'), bt.PATIENCE,
                 what='the job log to record frame 10')
        state = os.path.join(farm.jobdir, '.bdfarm.state')
        wait_for(lambda: re.search(r'(?m)^done 1-10$', open(state).read()),
                 5, what='the state file to record frame 10')

        # One job file changed, one suspended: each looked at alone.
        mark = farm.log_size()
        farm.job('b', pb, 1, 6)
        farm.wait_log(r'b\.job changed', bt.PATIENCE, since=mark)
        open(os.path.join(farm.jobdir, 'a.job.suspend'), 'w').close()
        farm.wait_log(r'a\.job: suspended', bt.PATIENCE, since=mark)

        log = farm.log()
        eq(len(re.findall(r'reading the folder', log)), 1,
           'scans in all, with inotify watching')
        looked = re.findall(r'(?m)^\S+ \S+ (\S+) changed$', log)
        check(all(n.endswith('.job') for n in looked),
              'entries looked at: %r', looked)


if __name__ == '__main__':
    main([test_helo_while_the_folder_is_read, test_own_writes_start_no_scan],
         bound=120)
