"""Who may speak of a frame: nothing but HELO before HELO; a result only
from a host the frame is out to or was out to before, never from one that
never had it; failures, progress, RETURN and HOLD only from the host the
frame is out to; and a second session under the name of a live bdfarm
client waits, taking none of the first one's frames and failing none of
them, until the first one ends; and no peer holds more frames than
max_frames_held, however often it asks."""

import os
import re
import time

from bdfarmtest import (OldClient, assert_closed, check, eq, main,
                        wait_for)
from exttest import ExtFarm, V2Client


def v2(farm, name, instance=None):
    c = V2Client(farm.port, name=name, instance=instance)
    c.hello2()
    return c


def old_take(farm, fqdn):
    """An old client's session that takes one frame."""
    with farm.client() as c:
        c.helo(fqdn)
        job = c.requestjob(1)
        c.goodbye()
    return job


def old_send(farm, fqdn, job, data=b'frame'):
    """An old client's session that sends job back; the answer."""
    name, md5, frame = job
    with farm.client() as c:
        c.helo(fqdn)
        answer = c.results(name, md5, frame, '%04d.png' % frame, data)
        c.goodbye()
    return answer


def test_nothing_before_helo():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('a', 1, 2)
        job = old_take(farm, 'owner.example')
        eq(job, (name, md5, 1), 'frame handed out')
        requests = ['RESULTS %s %s 1 0001.png 5' % (name, md5),
                    'REQUESTJOB 1',
                    'REQUESTBLENDERFILE %s %s' % (name, md5),
                    'REQUESTBLENDERDIST',
                    'WAITJOB 1',
                    'FAILED %s %s 1 0 crash' % (name, md5),
                    'PROGRESS %s %s 1 500' % (name, md5),
                    'RETURN %s %s 1' % (name, md5),
                    'HOLD %s %s 1' % (name, md5)]
        for line in requests:
            mark = farm.log_size()
            with farm.client() as c:
                c.send_line(line)
                assert_closed(c, what='the server to close a session that '
                              'began with %s' % line.split()[0])
            farm.wait_log(r'closing the connection: request before HELO',
                          since=mark)
        check(not os.path.exists(farm.frame_path('a', '0001.png')),
              'a frame was stored from a peer that never greeted')
        # Frame 1 is still out to its host, which alone may send it.
        eq(old_take(farm, 'other.example'), (name, md5, 2), 'next frame')
        eq(old_send(farm, 'owner.example', job), 'THANKYOU',
           'answer to the host the frame is out to')
        check('failed' not in farm.joblog('a'), 'a failure was counted')


def test_result_only_from_a_host_that_had_it():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('b', 1, 1)
        job = old_take(farm, 'owner.example')
        eq(job, (name, md5, 1), 'frame handed out')
        # Old or bdfarm, a host that never had it is told NOK.
        eq(old_send(farm, 'thief.example', job, b'forged'), 'NOK',
           'answer to an old client that never had the frame')
        with farm.bdfarm('thief2.example') as c:
            eq(c.render(job, b'forged'), 'NOK',
               'answer to a bdfarm client that never had the frame')
        farm.wait_log(r'thief2\.example#\d+: result for frame 1 of b\.blend '
                      r'refused: the frame was never handed out to this host')
        check(not os.path.exists(farm.frame_path('b', '0001.png')),
              'a frame was stored from a host that never had it')
        eq(old_send(farm, 'owner.example', job, b'real'), 'THANKYOU',
           'answer to the host the frame is out to')
        with open(farm.frame_path('b', '0001.png'), 'rb') as f:
            eq(f.read(), b'real', 'stored frame')


def test_late_result_from_an_earlier_holder():
    with ExtFarm({'redistribute_delay': 1}).start() as farm:
        name, md5 = farm.ready_job('c', 1, 1)
        job = old_take(farm, 'first.example')
        eq(job, (name, md5, 1), 'frame handed out')
        # Overdue, it goes to another host; the first may still send it.
        eq(farm.poll_job(fqdn='second.example'), job, 'frame handed again')
        eq(old_send(farm, 'third.example', job), 'NOK',
           'answer to a host that never had the frame')
        eq(old_send(farm, 'first.example', job, b'late'), 'THANKYOU',
           'answer to the host the frame was out to before')
        check(re.search(r'frame 1 received from first\.example',
                        farm.joblog('c')), 'late frame not logged')
        eq(old_send(farm, 'second.example', job), 'NOK',
           'answer to the second host once the frame is done')


def test_reports_only_from_the_holder():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('d', 1, 2)
        owner = v2(farm, 'owner.example')
        other = v2(farm, 'other.example')
        job = owner.next_job()
        eq(job, (name, md5, 1), 'frame to the owner')
        for i in range(5):
            eq(other.failed(name, md5, 1, 'forged %d' % i), 'OK',
               'answer to FAILED for a frame out to another host')
        other.progress(name, md5, 1, 900)
        other.give_back(job)
        eq(other.hold(job), 'NOK', 'HOLD of a frame out to another host')
        # The frame is still the owner's: the next one goes to the other.
        eq(other.next_job(), (name, md5, 2), 'next frame to the other')
        other.waitjob(1)
        other.expect_no_job(0.5, 'every frame is still out')
        log = farm.joblog('d')
        check('failed' not in log and 'handed back' not in log,
              'a report of another host counted:\n%s' % log)
        eq(owner.render(job), 'THANKYOU', 'the owner sends its frame')
        owner.close()
        other.close()


def test_second_session_under_a_live_name():
    # The victim says nothing during the test: a client_timeout long
    # enough that its silence never looks like a broken connection.
    with ExtFarm({'client_timeout': 3600}, verbose=True).start() as farm:
        name, md5 = farm.ready_job('e', 1, 3)
        victim = v2(farm, 'victim.example', instance=4242)
        one = victim.next_job()
        two = victim.next_job()
        eq([one[2], two[2]], [1, 2], 'frames to the victim')
        # Same name, same instance: the impostor only waits.
        impostor = v2(farm, 'victim.example', instance=4242)
        eq(impostor.hold(one), 'OK', 'HOLD of a frame out to the host')
        impostor.held()
        for i in range(3):
            eq(impostor.failed(name, md5, 1, 'forged %d' % i), 'OK',
               'answer to FAILED')
        impostor.give_back(two)
        eq(impostor.render(one, b'forged'), 'NOK',
           'RESULTS from the waiting session')
        impostor.waitjob(1)
        # An old client under that name gets nothing either.
        with farm.client() as c:
            c.helo('victim.example#4242')
            eq(c.requestjob(1), None, 'REQUESTJOB of an old session')
            eq(c.results(name, md5, 1, '0001.png', b'x'), 'NOK',
               'RESULTS of an old session')
            c.goodbye()
        # Both frames are still the victim's: a third client gets frame 3
        # and then nothing, and the victim is not blocked.
        with v2(farm, 'third.example') as third:
            eq(third.next_job(), (name, md5, 3), 'fresh frame')
            third.waitjob(1)
            third.expect_no_job(0.5, 'the victim still has 1 and 2')
            impostor.expect_no_job(0.1, 'the waiting session')
            log = farm.joblog('e')
            check('failed' not in log and 'handed back' not in log,
                  'the waiting session changed the frames:\n%s' % log)
            farm.wait_log(r'victim\.example#4242: another session speaks '
                          r'for this host; this one waits until it ends')
            eq(victim.render(one, b'real'), 'THANKYOU', 'the victim sends')
            with open(farm.frame_path('e', '0001.png'), 'rb') as f:
                eq(f.read(), b'real', 'stored frame')
            # The victim leaves: the waiting session speaks for the host,
            # with what it said it held; frame 2, not among it, goes back.
            victim.close()
            farm.wait_log(r'victim\.example#4242: the session that waited '
                          r'speaks for this host now')
            got = []

            def handed():
                got.extend(j for j in (impostor.wait_job(0.05),
                                       third.wait_job(0.05)) if j)
                return got
            eq(wait_for(handed, 30, interval=0, what='frame 2 out again'),
               [(name, md5, 2)], 'frames handed out after the victim left')


def test_reconnect_over_a_broken_connection():
    # A client whose connection broke without a word (its old session
    # still open on the server, silent) greets again from a new one: once
    # the old one has been silent for a third of client_timeout, it is
    # closed and the new session speaks for the host, so the client's
    # frame is taken, not refused until the old connection times out.
    with ExtFarm({'client_timeout': 6}, verbose=True).start() as farm:
        name, md5 = farm.ready_job('r', 1, 3)
        before = v2(farm, 'back.example', instance=77)
        job = before.next_job()
        eq(job, (name, md5, 1), 'frame before the break')
        mark = farm.log_size()
        again = v2(farm, 'back.example', instance=77)
        again.hold(job)

        def old_closed():
            again.alive()
            return re.search(r'back\.example#77: closing the connection: '
                             r'silent while another session greets',
                             farm.log_since(mark))
        wait_for(old_closed, 30, what='the silent session closed')
        farm.wait_log(r'back\.example#77: the session that waited speaks '
                      r'for this host now', since=mark)
        eq(again.render(job, b'after'), 'THANKYOU',
           'the frame from the new session')
        with open(farm.frame_path('r', '0001.png'), 'rb') as f:
            eq(f.read(), b'after', 'stored frame')


def test_frames_held_capped():
    with ExtFarm({'max_frames_held': 12}).start() as farm:
        name, md5 = farm.ready_job('f', 1, 100)
        # A bdfarm client that asks again and again, keeping in touch.
        greedy = farm.bdfarm('greedy.example')
        got = [greedy.next_job(what='frame %d' % (i + 1))[2]
               for i in range(12)]
        eq(got, list(range(1, 13)), 'frames to the greedy client')
        greedy.waitjob(1)
        greedy.expect_no_job(0.5, 'a client that holds max_frames_held')
        # An old client asking with no free renderer: the same cap.
        with farm.client() as c:
            c.helo('old.example')
            took = [c.requestjob(0) for _ in range(14)]
            c.goodbye()
        eq([j and j[2] for j in took], list(range(13, 25)) + [None, None],
           'frames to an old client')
        # One renderer said: a batch of 4 and 3 + 2 queued, 9 in all.
        with farm.bdfarm('one.example') as one:
            one.facts(renderers=1)
            mine = [one.next_job()[2] for _ in range(9)]
            eq(mine, list(range(25, 34)), 'frames to a one-renderer client')
            one.waitjob(1)
            one.expect_no_job(0.5, 'a one-renderer client that holds 9')
        # A frame back, and the waiting WAITJOB is answered with the
        # lowest frame left: one of those the client that left had.
        eq(greedy.render((name, md5, 1)), 'THANKYOU', 'frame 1 sent')
        eq(greedy.expect_job(what='a frame once one is back')[2], 25,
           'next frame')
        print('frames held at most, of 100: %d by a client asking again '
              'and again, %d by an old client, %d by a one-renderer client'
              % (len(got), len([j for j in took if j]), len(mine)),
              flush=True)
        greedy.close()


def test_failure_flood():
    with ExtFarm().start() as farm:
        name, md5 = farm.ready_job('g', 1, 30)
        holder = farm.bdfarm('holder.example')
        mine = [holder.next_job()[2] for _ in range(3)]
        eq(mine, [1, 2, 3], 'frames to the holder')
        size = os.path.getsize(farm.joblog_path('g'))
        # Long reports of every frame, sent without waiting for answers,
        # from a client that holds none of them.
        flood = farm.bdfarm('flood.example')
        lines = ['E' * 4000] * 20
        reports = 20
        start = time.monotonic()
        for frame in range(1, reports + 1):
            flood.send_raw(('FAILED %s %s %d %d %s\r\n'
                            % (name, md5, frame % 30 + 1, len(lines),
                               'x' * 3000)).encode()
                           + b''.join(l.encode() + b'\r\n' for l in lines))
        farm.wait_log(r'flood\.example#\d+: failure reports come too fast; '
                      r'reading them more slowly')
        # Meanwhile another client is answered, and its reports count.
        with farm.bdfarm('real.example') as real:
            helo = time.monotonic()
            real.helo()
            helo = time.monotonic() - helo
            job = real.next_job()
            eq(real.failed(name, md5, job[2], 'Error: ' + 'y' * 3000,
                           ['Z' * 4000] * 20), 'OK', 'answer to FAILED')
        answered = 0
        while answered < reports:
            eq(flood.read_line(), 'OK', 'answer to a flooded FAILED')
            answered += 1
        took = time.monotonic() - start
        # The holder's reports count, once each.
        for i in range(2):
            eq(holder.failed(name, md5, 1, 'crash'), 'OK', 'FAILED')
        log = farm.joblog('g')
        failed = re.findall(r'frame (\d+) failed on (\S+):', log)
        eq(sorted(failed), sorted([(str(job[2]), real.ident),
                                   ('1', holder.ident)]),
           'failures counted')
        longest = max(len(l) for l in log.splitlines())
        check(longest <= 300, 'a job log line of %d bytes', longest)
        grown = os.path.getsize(farm.joblog_path('g')) - size
        check(grown < 20000, 'the job log grew by %d bytes', grown)
        check('rendering complete' not in log and 'set aside' not in
              farm.log(), 'the flood finished the job:\n%s', log)
        stored = len([f for f in failed if f[1] == flood.ident])
        print('%d long failure reports of frames out elsewhere: %d stored, '
              'answered in %.1f s; job log grew by %d bytes; a HELO '
              'meanwhile took %.1f ms' % (reports, stored, took, grown,
                                           helo * 1000), flush=True)
        holder.close()
        flood.close()


if __name__ == '__main__':
    main([test_nothing_before_helo,
          test_result_only_from_a_host_that_had_it,
          test_late_result_from_an_earlier_holder,
          test_reports_only_from_the_holder,
          test_second_session_under_a_live_name,
          test_reconnect_over_a_broken_connection,
          test_frames_held_capped,
          test_failure_flood])
