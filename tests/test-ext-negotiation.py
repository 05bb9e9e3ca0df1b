"""The extension is negotiated: only a client that greets with bdfarm/1
gets the third token and may use the extension's requests; an old client
sees the old protocol and nothing else."""

import signal

from bdfarmtest import PATIENCE, assert_closed, check, eq, main
from exttest import EXT, ExtFarm, closed_by_server


def test_bdfarm_helo_gets_third_token():
    with ExtFarm().start() as farm:
        digest = farm.digest()
        with farm.bdfarm(hello=False) as c:
            eq(c.helo(), [digest, '0', EXT], 'HELO bdfarm/1 with no work')
        farm.ready_job('a', 1, 3)
        with farm.bdfarm(hello=False) as c:
            eq(c.helo(), [digest, '1', EXT], 'HELO bdfarm/1 with work')
            c.facts(2, 8, '4.2.1')
            c.alive()
            job = c.next_job()
            eq(job[2], 1, 'first frame to a bdfarm client')
            check(c.still_open(), 'the session stays open after JOB')
        with farm.bdfarm(hello=False) as c:
            # A HELO with the extension but no instance is still bdfarm.
            c.send_line('HELO bare.example %s' % EXT)
            eq(c.read_line().split(), [digest, '1', EXT],
               'HELO bdfarm/1 without an instance')


def test_old_helo_gets_two_tokens():
    with ExtFarm().start() as farm:
        digest = farm.digest()
        name, md5 = farm.ready_job('a', 1, 3)
        for extra in (None, 'other/1 7', 'bdfarm 7', 'bdfarm/0 7',
                      'bdfarm/x 7', 'Bdfarm/1 7'):
            with farm.client() as c:
                eq(c.helo('old.example', extra), [digest, '1'],
                   'HELO answer for %r' % extra)
                c.goodbye()


def test_old_session_sees_nothing_extra():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('a', 1, 2)
        with farm.client() as old:
            eq(len(old.helo('old.example')), 2, 'HELO tokens')
            job = old.requestjob(1)
            eq(job, (name, md5, 1), 'REQUESTJOB answer')
            data = old.requestblenderfile(name, md5)
            eq(len(data), 1000, '.blend size')
            # Work appears while the old client is connected: the server
            # sends it nothing unasked. A bdfarm client waiting for work
            # would be sent it as the server takes the job in, before or
            # just after it logs the job: half a second from the log line
            # is plenty to see anything sent.
            mark = farm.log_size()
            path, _ = farm.blend('b.blend', size=500)
            farm.job('b', path, 1, 1)
            farm.wait_log(r'b\.job: new job', since=mark)
            closed, got = old.closed_within(0.5)
            check(not closed and got == b'',
                  'an old client got %r (closed: %s) unasked', got, closed)
            eq(old.results(name, md5, 1, '0001.png', b'img1'), 'THANKYOU',
               'first upload')
            eq(old.results(name, md5, 1, '0001.png', b'img1'), 'NOK',
               'second upload of a stored frame from an old client')
            eq(old.requestjob(1), (name, md5, 2), 'next frame')
            eq(old.requestjob(1)[0::2], ('b.blend', 1),
               'first frame of the new job')
            eq(old.requestjob(1), None, 'nothing left')
            # Anything sent unasked after an answer would follow it at
            # once.
            closed, got = old.closed_within(0.3)
            check(not closed and got == b'',
                  'an old client got %r (closed: %s) unasked', got, closed)
            old.goodbye()


def test_extension_requests_close_an_old_client():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('a', 1, 3)
        with farm.client() as old:
            old.helo('holder.example')
            eq(old.requestjob(1), (name, md5, 1), 'frame for the holder')
            old.goodbye()
        requests = [
            'FACTS 1 2 4.2.0',
            'ALIVE',
            'WAITJOB 1',
            'PROGRESS %s %s 1 500' % (name, md5),
            'FAILED %s %s 1 0 Blender crashed' % (name, md5),
            'FAILED %s %s 1 1 Blender crashed' % (name, md5),
        ]
        for req in requests:
            with farm.client() as old:
                eq(len(old.helo('holder.example')), 2, 'HELO tokens')
                old.send_line(req)
                assert_closed(old, what='the server to close an old '
                              'client that sent %r' % req)
            with farm.client() as raw:
                raw.send_line(req)
                assert_closed(raw, what='the server to close a peer '
                              'that sent %r before HELO' % req)
        farm.assert_alive()
        # The old client's FAILED did not hand frame 1 back.
        with farm.bdfarm('taker.example') as c:
            eq(c.next_job()[2], 2, 'next frame after refused FAILED')
        log = farm.joblog('a')
        check('failed' not in log, 'the job log records a refused FAILED:'
              '\n%s', log)


def test_old_client_never_gets_the_program():
    with ExtFarm().start() as farm:
        with farm.client() as old:
            old.helo('old.example', 'bdfarm/0 1')
            old.send_line('REQUESTBLENDERDIST')
            assert_closed(old, what='the server to refuse the program '
                          'to an old client')
        with farm.bdfarm() as c:
            data = c.requestblenderdist()
            eq(data[:4], b'\x7fELF', 'the program sent to a bdfarm client')
            # A server that ended the session would do so right after
            # the program's last byte.
            check(closed_by_server(c, 0.2) is False,
                  'the session ended after REQUESTBLENDERDIST')


def test_host_name_too_long_with_its_instance():
    # host#instance must stay a valid host name, or the state file that
    # records it could not be read back: such a greeting is refused.
    with ExtFarm().start() as farm:
        farm.ready_job('a', 1, 3)
        with farm.bdfarm('h' * 250, instance=123456, hello=False) as c:
            c.send_line('HELO %s %s 123456' % ('h' * 250, EXT))
            assert_closed(c)
        with farm.bdfarm('h' * 240, instance=12345) as c:
            c.waitjob()
            c.expect_job()
        farm.signal(signal.SIGTERM)
        farm.proc.wait(PATIENCE)
        farm.start()
        farm.wait_ready()
        check('cannot be used' not in farm.log(),
              'the state file was set aside:\n%s', farm.log_tail())


if __name__ == '__main__':
    main([test_bdfarm_helo_gets_third_token,
          test_host_name_too_long_with_its_instance,
          test_old_helo_gets_two_tokens,
          test_old_session_sees_nothing_extra,
          test_extension_requests_close_an_old_client,
          test_old_client_never_gets_the_program], bound=120)
