"""Limits on connections: a connection that sends no whole first line
within greeting_timeout is closed however it drips its bytes, so that
drips cannot hold every place and a real client gets in; and one address
holds no more than max_peers_per_address connections, while another
address is served."""

import socket

from bdfarmtest import (PATIENCE, Farm, OldClient, assert_closed, check,
                        eq, main, wait_for)

DRIPS = 12


def open_drip(port, source='127.0.0.1'):
    """A connection that has begun a HELO it never ends."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.connect(('127.0.0.1', port))
    s.sendall(b'HELO ')
    s.setblocking(False)
    return s


def closed_by_server(s):
    """Whether the server has closed s (EOF or reset); reads nothing else."""
    try:
        data = s.recv(1)
    except BlockingIOError:
        return False
    except OSError:
        return True
    check(not data, 'a dripping connection was answered %r', data)
    return True


def drip(socks, open_):
    """Send one more byte on every connection still open; note those the
    server closed."""
    for i, s in enumerate(socks):
        if i not in open_:
            continue
        if closed_by_server(s):
            open_.discard(i)
            continue
        try:
            s.send(b'x')
        except OSError:
            open_.discard(i)


class SourcedClient(OldClient):
    """An old client that connects from a given address of the loopback,
    one that no other connection of the harness comes from."""

    def __init__(self, port, source, timeout=PATIENCE):
        self.host = '127.0.0.1'
        self.port = port
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.bind((source, 0))
        self.sock.connect(('127.0.0.1', port))
        self.buf = b''
        self.fqdn = None


def test_drips_are_closed_after_the_greeting_timeout():
    # Every place taken by drips that send a byte far more often than
    # peer_timeout: only the deadline for the first line frees them.
    with Farm({'max_peers': DRIPS, 'greeting_timeout': 2,
               'peer_timeout': 60}) as farm:
        farm.start()
        mark = farm.log_size()
        socks = [open_drip(farm.port, '127.0.0.4') for _ in range(DRIPS + 1)]
        open_ = set(range(len(socks)))
        try:
            # One more than max_peers: one is turned away at once (the
            # last, unless the harness's probe still held a place).
            farm.wait_log(r'too many connections \(max_peers is %d\)'
                          % DRIPS, since=mark)

            def all_closed():
                drip(socks, open_)
                return not open_
            wait_for(all_closed, PATIENCE, interval=0.2,
                     what='the server to close every dripping connection')
            text = farm.log_since(mark)
            refused = text.count('too many connections (max_peers')
            eq(text.count('no greeting within greeting_timeout'),
               len(socks) - refused, 'drips closed for their greeting')
            with farm.client() as c:
                eq(len(c.helo('real.example')), 2, 'HELO answer tokens')
                c.goodbye()
        finally:
            for s in socks:
                s.close()


def test_a_greeted_peer_is_not_held_to_the_deadline():
    with Farm({'greeting_timeout': 1}) as farm:
        farm.start()
        with farm.client() as c:
            c.helo('slow.example')
            mark = farm.log_size()
            # Twice the deadline, then another request on the same line.
            closed, got = c.closed_within(2.5)
            check(not closed and not got, 'a greeted peer was closed')
            eq(c.requestjob(1), None, 'REQUESTJOB after the deadline')
            c.goodbye()
        check('greeting' not in farm.log_since(mark),
              'a greeted peer was held to the greeting deadline')


def test_one_address_holds_at_most_its_share():
    with Farm({'max_peers_per_address': 3}) as farm:
        farm.start()
        held = [SourcedClient(farm.port, '127.0.0.3') for _ in range(3)]
        for i, c in enumerate(held):
            eq(len(c.helo('held%d.example' % i)), 2, 'HELO answer')
        mark = farm.log_size()
        extra = SourcedClient(farm.port, '127.0.0.3')
        assert_closed(extra, what='a fourth connection from 127.0.0.3 to '
                      'be closed')
        farm.wait_log(r'too many connections from 127\.0\.0\.3 '
                      r'\(max_peers_per_address is 3\)', since=mark)
        # Another address is served meanwhile.
        with SourcedClient(farm.port, '127.0.0.2') as other:
            eq(len(other.helo('other.example')), 2,
               'HELO answer from 127.0.0.2')
            other.goodbye()
        # One of the three leaves: its place is free again.
        held.pop().goodbye()

        def served():
            with SourcedClient(farm.port, '127.0.0.3') as c:
                try:
                    return len(c.helo('again.example')) == 2
                except AssertionError:
                    return False
        wait_for(served, PATIENCE, interval=0.1,
                 what='a connection from 127.0.0.3 once one has left')
        for c in held:
            c.goodbye()


if __name__ == '__main__':
    main([test_drips_are_closed_after_the_greeting_timeout,
          test_a_greeted_peer_is_not_held_to_the_deadline,
          test_one_address_holds_at_most_its_share])
