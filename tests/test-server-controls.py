"""Control characters a peer sends never reach the server's log, a job's
log or the state file: escape sequences in a host name, in FACTS, in a
failure report and its output lines, and in the names of a result come
out as '?', and what is not UTF-8 too."""

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
        evil = 'evil%s[31m%s]0;owned\x07.example' % (ESC, ESC)
        with farm.bdfarm(evil, instance='1') as c:
            c.facts(blender='4.2%s[2J\x7f' % ESC)
            eq(c.next_job(), (name, md5, 1), 'first frame')
            output = ['plain line', 'red %s[31mline%s[0m' % (ESC, ESC),
                      'c1 \u009b2J and a bare \udc9b byte',
                      'bell\x07 backspace\x08 tab\there']
            eq(c.failed(name, md5, 1, 'boom%s[2J\r clear' % ESC, output),
               'OK', 'answer to FAILED')
            eq(c.next_job(), (name, md5, 1), 'the frame again')
            # A result under a .blend name and an image name with escapes:
            # refused, and logged.
            eq(c.results('x%s[31m.blend' % ESC, md5, 1,
                         '0001%s[1m.png' % ESC, b'data'), 'NOK',
               'a result for no job')
            joblog = wait_for(
                lambda: re.search(r'(?s)frame 1 failed on evil\?\[31m\?\]0;'
                                  r'owned\?\.example#1: boom\?\[2J  clear.*'
                                  r'bell\? backspace\? tab here',
                                  farm.joblog('a')),
                PATIENCE, what='the failure in the job log')
            check(joblog, 'no failure in the job log')
            farm.wait_log(r'result for frame 1 of x\?\[31m\.blend refused')
            state = os.path.join(farm.jobdir, '.bdfarm.state')
            wait_for(lambda: os.path.exists(state) and
                     b'evil?[31m?]0;owned?.example#1' in read(state),
                     PATIENCE, what='the host in the state file')
            c.goodbye()
        eq(farm.stop(), 0, 'exit status after SIGTERM')
        assert_clean('the server log', read(farm.errlog))
        assert_clean('the job log', read(farm.joblog_path('a')))
        assert_clean('the state file', read(state))
        check(b'c1 ??2J and a bare ? byte' in read(farm.joblog_path('a')),
              'the C1 control and the bare byte are not replaced in the job '
              'log')


if __name__ == '__main__':
    main([test_escapes_from_a_peer_reach_no_log])
