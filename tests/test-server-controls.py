"""Control characters a peer sends never reach the server's log, a job's
log or the state file: a host name, FACTS or a .blend name with an escape
sequence or bytes that are not UTF-8 closes the connection, an image name
with one is refused, and in a failure's reason and Blender's lines they
come out as '?'."""

import os
import re

from bdfarmtest import PATIENCE, check, eq, main, wait_for
from exttest import ExtFarm

ESC = '\x1b'
# C0 controls but the line ends, DEL, C1 controls in UTF-8 and as bare
# bytes, and UTF-8 cut short.
FORBIDDEN = re.compile(rb'[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|'
                       rb'(?<![\xc0-\xf4])[\x80-\xbf]')


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def assert_clean(what, data):
    """Fail if data holds a control character or is not UTF-8."""
    m = FORBIDDEN.search(data)
    check(m is None, '%s holds %r at %d: %r', what, m and m.group(0),
          m and m.start(), m and data[max(0, m.start() - 60):m.end() + 20])
    try:
        data.decode('utf-8')
    except UnicodeDecodeError as e:
        raise AssertionError('%s is not UTF-8: %s' % (what, e))


def test_escapes_from_a_peer_reach_no_log():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('a', 1, 3)
        # Names with escapes, or bytes that are not UTF-8, are refused, and
        # the refusal names the peer by its address.
        evil = 'evil%s[31m%s]0;owned\x07.example' % (ESC, ESC)
        bad = [('HELO %s bdfarm/2 1' % evil, 'bad name'),
               ('HELO caf\udce9.example', 'bad name'),
               ('FACTS 1 2 4.2%s[2J' % ESC, 'bad facts'),
               ('RESULTS x%s[31m.blend %s 1 0001.png 4' % (ESC, md5),
                'bad name'),
               ('RESULTS c1\u009b.blend %s 1 0001.png 4' % md5, 'bad name')]
        for line, why in bad:
            with farm.bdfarm('bad.example', hello=not line.startswith('HELO')
                             ) as c:
                mark = farm.log_size()
                c.send_line(line)
                closed, got = c.closed_within(PATIENCE)
                check(closed, 'the connection stayed open after %r', line)
                farm.wait_log(r'closing the connection: %s' % why,
                              since=mark)
        with farm.bdfarm('plain.example', instance='1') as c:
            c.facts(blender='4.2.0')
            eq(c.next_job(), (name, md5, 1), 'first frame')
            output = ['plain line', 'red %s[31mline%s[0m' % (ESC, ESC),
                      'c1 \u009b2J and a bare \udc9b byte',
                      'bell\x07 backspace\x08 tab\there del\x7f']
            eq(c.failed(name, md5, 1, 'boom%s[2J\r\x0b clear' % ESC,
                        output), 'OK', 'answer to FAILED')
            eq(c.next_job(), (name, md5, 1), 'the frame again')
            # An image name with an escape: refused, the frame goes back.
            eq(c.results(name, md5, 1, '0001%s[1m.png' % ESC, b'data'),
               'NOK', 'a result under an image name with an escape')
            wait_for(lambda: re.search(
                r'(?s)frame 1 failed on plain\.example#1: boom\?\[2J   '
                r'clear.*red \?\[31mline\?\[0m.*c1 \?\?2J and a bare \? '
                r'byte.*bell\? backspace\? tab here del\?',
                farm.joblog('a')), PATIENCE,
                what='the failure in the job log, its escapes replaced')
            state = os.path.join(farm.jobdir, '.bdfarm.state')
            wait_for(lambda: os.path.exists(state) and
                     b'failure 1 plain.example#1' in read(state),
                     PATIENCE, what='the failure in the state file')
            c.goodbye()
        eq(farm.stop(), 0, 'exit status after SIGTERM')
        assert_clean('the server log', read(farm.errlog))
        assert_clean('the job log', read(farm.joblog_path('a')))
        assert_clean('the state file', read(state))


if __name__ == '__main__':
    main([test_escapes_from_a_peer_reach_no_log])
