"""The on_job_done program: it runs once each time a job completes, after
its frames are in place, in the job's render folder with the job's facts
in its environment, its output and exit status in the job log; it runs
again when the job completes again, but not when a server restarts with
the job already complete; one that hangs is stopped at its time limit
with everything it started, as it is when the server exits; one that
cannot be found is logged, and the server goes on; at most four run at
once, the others in turn."""

import sys
sys.dont_write_bytecode = True
import json
import os
import re
import signal

from bdfarmtest import (PATIENCE, Farm, check, eq, main, md5_file,
                        wait_for, write_file)

# Appends what it was told (one JSON line) to the file its first argument
# names, prints a line on stdout and one on stderr, and exits with the
# status its second argument gives.
RECORDER = '''#!%s
import json, os, sys
with open(sys.argv[1], 'a') as f:
    f.write(json.dumps({
        'argv': sys.argv[1:],
        'env': {k: v for k, v in os.environ.items()
                if k in ('BDFARM_JOB', 'BDFARM_JOB_FOLDER', 'BDFARM_BLEND',
                         'BDFARM_FIRST', 'BDFARM_LAST', 'BDFARM_FRAMES',
                         'BDFARM_FAILED', 'HOOK_TEST_PASSED')},
        'cwd': os.getcwd(),
        'files': sorted(os.listdir('.')),
        'stdin': sys.stdin.read(),
    }) + '\\n')
print('first line of %%s' %% os.environ['BDFARM_JOB'], flush=True)
print('second line', file=sys.stderr, flush=True)
sys.exit(int(sys.argv[2]))
''' % sys.executable

# Starts a sleeping grandchild, writes its own and the grandchild's pids
# to the file its first argument names, and sleeps.
HANGER = '''#!/bin/sh
sleep 1000 &
echo "$$ $!" > "$1.tmp" && mv "$1.tmp" "$1"
echo hanging
sleep 1000
'''

# Writes a file named after its job in the folder its first argument
# names, then waits for the file release there.
WAITER = '''#!/bin/sh
touch "$1/$BDFARM_JOB"
while [ ! -e "$1/release" ]; do sleep 0.05; done
'''


# Stands in for ffmpeg: writes its arguments and the frames its input
# folder links to (one JSON line) to $FAKE_FFMPEG_OUT, and makes its
# output file.
FAKE_FFMPEG = '''#!%s
import json, os, sys
args = sys.argv[1:]
folder = os.path.dirname(args[args.index('-i') + 1])
links = [os.readlink(os.path.join(folder, n))
         for n in sorted(os.listdir(folder))]
with open(os.environ['FAKE_FFMPEG_OUT'], 'a') as f:
    f.write(json.dumps({'args': args, 'links': links}) + '\\n')
open(args[-1], 'wb').close()
''' % sys.executable


def script(farm, name, text):
    path = os.path.join(farm.root, name)
    write_file(path, text.encode())
    os.chmod(path, 0o755)
    return path


def start_with_env(farm, **env):
    """Start the server with more variables in its environment."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        farm.start()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def render(farm, name, frames, host='t.example'):
    """Take each of a job's frames and send it back."""
    with farm.client() as c:
        c.helo(host)
        got = []
        for _ in frames:
            j = c.requestjob(1)
            check(j is not None, 'no frame of %s handed out', name)
            got.append(j)
        for blend, md5, frame in got:
            eq(c.results(blend, md5, frame, '%04d.png' % frame,
                         b'frame %d' % frame), 'THANKYOU',
               'upload of frame %d of %s' % (frame, name))
        c.goodbye()
    eq(sorted(j[2] for j in got), list(frames), 'frames of %s' % name)


def complete(farm, name, first, last, pattern, seed=None):
    """Add a job, render its frames, and wait for its log to match
    pattern; return the .blend's path."""
    path, _ = farm.blend(name + '.blend', seed=seed)
    farm.job(name, path, first, last)
    farm.wait_ready()
    render(farm, name, list(range(first, last + 1)))
    wait_joblog(farm, name, pattern)
    return path


def records(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f]
    except FileNotFoundError:
        return []


def wait_joblog(farm, name, pattern, since=0):
    rx = re.compile(pattern)
    return wait_for(lambda: rx.search(farm.joblog(name)[since:]), PATIENCE,
                    what='%s.log to match %r' % (name, pattern))


def gone(pid):
    """Whether no process pid runs (a zombie does not run)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except FileNotFoundError:
        return True


def test_hook_runs_once_per_completion():
    with Farm() as farm:
        out = os.path.join(farm.root, 'runs')
        hook = script(farm, 'recorder', RECORDER)
        farm.write_conf(on_job_done=[hook, out, '0'])
        # The server's environment is passed on, but for the job's facts.
        start_with_env(farm, HOOK_TEST_PASSED='yes', BDFARM_JOB='stale')
        path, _ = farm.blend('h.blend', seed=1)
        farm.job('h', path, 1, 3)
        farm.wait_ready()
        render(farm, 'h', [1, 2, 3])
        wait_joblog(farm, 'h', r'on_job_done exited with 0\n')
        runs = records(out)
        eq(len(runs), 1, 'runs of the hook after one completion')
        folder = os.path.realpath(farm.framedir('h'))
        eq(runs[0]['env'], {
            'BDFARM_JOB': 'h.job', 'BDFARM_JOB_FOLDER': folder,
            'BDFARM_BLEND': path, 'BDFARM_FIRST': '1', 'BDFARM_LAST': '3',
            'BDFARM_FRAMES': '3', 'BDFARM_FAILED': '0',
            'HOOK_TEST_PASSED': 'yes'}, 'environment')
        eq(runs[0]['argv'], [out, '0'], 'arguments')
        eq(runs[0]['cwd'], folder, 'working folder')
        eq(runs[0]['files'], ['0001.png', '0002.png', '0003.png'],
           'frames in place when the hook runs')
        eq(runs[0]['stdin'], '', 'standard input')
        log = farm.joblog('h')
        for line in ('rendering complete', 'on_job_done: first line of '
                     'h.job', 'on_job_done: second line',
                     'on_job_done exited with 0'):
            check(line in log, 'the job log lacks %r:\n%s', line, log)
        check(log.index('rendering complete') <
              log.index('on_job_done: first'),
              'hook output before the completion in the job log:\n%s', log)
        farm.wait_log(r'h\.job: on_job_done exited with 0')

        # Another job: its own run, with its own facts and exit status.
        farm.write_conf(on_job_done=[hook, out, '3'])
        farm.signal(signal.SIGHUP)
        farm.wait_log(r'settings read again')
        complete(farm, 'g', 7, 7, r'on_job_done exited with status 3\n',
                 seed=2)
        runs = records(out)
        eq([r['env']['BDFARM_JOB'] for r in runs], ['h.job', 'g.job'],
           'jobs the hook ran for')
        eq(runs[1]['env']['BDFARM_FRAMES'], '1', 'frames of g')

        # h starts over on a new range and completes again: a new run.
        mark = len(farm.joblog('h'))
        farm.job('h', path, 11, 12)
        wait_joblog(farm, 'h', r'rendering started over', since=mark)
        farm.wait_ready()
        render(farm, 'h', [11, 12])
        wait_joblog(farm, 'h', r'on_job_done exited with status 3\n',
                    since=mark)
        runs = records(out)
        eq(len(runs), 3, 'runs after h completed again')
        eq((runs[2]['env']['BDFARM_JOB'], runs[2]['env']['BDFARM_FIRST'],
            runs[2]['env']['BDFARM_FRAMES']), ('h.job', '11', '2'),
           'facts of h completed again')

        # A restarted server does not run it for the complete jobs: the
        # run for a new job shows that any such run would have started.
        eq(farm.stop(), 0, 'exit status of the server')
        mark = farm.log_size()
        farm.start()
        complete(farm, 'k', 1, 1, r'on_job_done exited with status 3\n',
                 seed=3)
        runs = records(out)
        eq([r['env']['BDFARM_JOB'] for r in runs],
           ['h.job', 'g.job', 'h.job', 'k.job'],
           'jobs the hook ran for after a restart')
        text = farm.log_since(mark)
        check(re.search(r'[hg]\.job: running', text) is None,
              'a complete job ran its hook again after a restart:\n%s',
              text)


def hang(farm, name, timeout):
    """Complete a one-frame job whose hook hangs; return the hook's pids
    once it has started them."""
    pids = os.path.join(farm.root, 'pids-' + name)
    hook = script(farm, 'hanger', HANGER)
    farm.write_conf(on_job_done=[hook, pids], on_job_done_timeout=timeout)
    farm.start()
    path, _ = farm.blend(name + '.blend')
    farm.job(name, path, 1, 1)
    farm.wait_ready()
    render(farm, name, [1])
    wait_for(lambda: os.path.exists(pids), PATIENCE,
             what='the hook to write its pids')
    with open(pids) as f:
        got = [int(p) for p in f.read().split()]
    eq(len(got), 2, 'pids the hook wrote')
    return got


def test_hook_stopped_at_its_time_limit():
    with Farm() as farm:
        pids = hang(farm, 'slow', 1)
        wait_joblog(farm, 'slow', r'on_job_done stopped: it ran longer '
                    r'than 1 s\n')
        wait_joblog(farm, 'slow', r'on_job_done killed by signal 15\n')
        check('on_job_done: hanging' in farm.joblog('slow'),
              'the hook\'s output is not in the job log')
        for pid in pids:
            wait_for(lambda: gone(pid), PATIENCE,
                     what='process %d of the hook to end' % pid)
        farm.wait_log(r'slow\.job: on_job_done stopped')
        farm.assert_alive()


def test_hook_stopped_when_the_server_exits():
    with Farm() as farm:
        pids = hang(farm, 'long', 600)
        eq(farm.stop(), 0, 'exit status of the server')
        check('on_job_done stopped: the server is exiting'
              in farm.joblog('long'), 'the job log does not say the hook '
              'was stopped:\n%s', farm.joblog('long'))
        for pid in pids:
            wait_for(lambda: gone(pid), PATIENCE,
                     what='process %d of the hook to end' % pid)


def test_hook_not_found():
    with Farm() as farm:
        farm.write_conf(on_job_done='/nonexistent/on-done')
        farm.start()
        complete(farm, 'n', 1, 1, r'on_job_done not run: /nonexistent/'
                 r'on-done: No such file or directory\n')
        farm.wait_log(r'n\.job: on_job_done not run: /nonexistent/on-done')
        # The farm goes on serving.
        p2, _ = farm.blend('m.blend', seed=2)
        farm.job('m', p2, 1, 1)
        j = farm.poll_job()
        eq(j, ('m.blend', md5_file(p2), 1), 'frame of the next job')


def test_hooks_run_four_at_once():
    with Farm() as farm:
        marks = os.path.join(farm.root, 'marks')
        os.mkdir(marks)
        hook = script(farm, 'waiter', WAITER)
        farm.write_conf(on_job_done=[hook, marks])
        farm.start()
        names = ['q%d' % i for i in range(5)]
        for i, name in enumerate(names):
            path, _ = farm.blend(name + '.blend', seed=i)
            farm.job(name, path, 1, 1)
        farm.wait_ready()
        with farm.client() as c:
            c.helo('t.example')
            got = [c.requestjob(1) for _ in names]
            for blend, md5, frame in got:
                eq(c.results(blend, md5, frame, '0001.png', b'x'),
                   'THANKYOU', 'upload of %s' % blend)
            c.goodbye()
        wait_for(lambda: len(os.listdir(marks)) >= 4, PATIENCE,
                 what='four hooks to start')
        farm.wait_log(r'(?s)(\.job: running .*){4}')
        eq(len(re.findall(r'\.job: running ', farm.log())), 4,
           'hooks running while four wait')
        eq(len(os.listdir(marks)), 4, 'hooks started while four wait')
        write_file(os.path.join(marks, 'release'), b'')
        wait_for(lambda: all('on_job_done exited with 0' in farm.joblog(n)
                             for n in names), PATIENCE,
                 what='every hook to end')


def test_join_frames_example():
    # The example in data/ joins the frames in order into NAME.mp4.
    here = os.path.dirname(os.path.abspath(__file__))
    srcdir = os.path.abspath(os.environ.get('BDFARM_SRCDIR',
                                            os.path.dirname(here)))
    example = os.path.join(srcdir, 'data', 'join-frames.sh')
    with Farm() as farm:
        bindir = os.path.join(farm.root, 'bin')
        os.mkdir(bindir)
        script(farm, 'bin/ffmpeg', FAKE_FFMPEG)
        out = os.path.join(farm.root, 'ffmpeg-runs')
        farm.write_conf(on_job_done=example)
        start_with_env(farm, FAKE_FFMPEG_OUT=out,
                       PATH=bindir + os.pathsep + os.environ['PATH'])
        complete(farm, 'v', 8, 11, r'on_job_done exited with 0\n')
        folder = os.path.realpath(farm.framedir('v'))
        runs = records(out)
        eq(len(runs), 1, 'runs of ffmpeg')
        eq(runs[0]['links'], [os.path.join(folder, '%04d.png' % n)
                              for n in range(8, 12)], 'frames joined')
        eq(runs[0]['args'][-1], 'v.mp4.part', 'file ffmpeg writes')
        check(os.path.exists(os.path.join(folder, 'v.mp4')),
              'no v.mp4 in %s', folder)
        log = farm.joblog('v')
        check('on_job_done: joining 4 frames into v.mp4' in log,
              'the job log does not say what is joined:\n%s', log)


main([test_hook_runs_once_per_completion,
      test_hook_stopped_at_its_time_limit,
      test_hook_stopped_when_the_server_exits,
      test_hook_not_found,
      test_hooks_run_four_at_once,
      test_join_frames_example])
