"""The systemd units under systemd itself: copies of the built units,
given test names, their own environment files and the unprivileged user
nobody, installed in /run/systemd/system, start a server that listens and
a client that renders the server's job, both as nobody; systemctl reload
makes the server read its settings again in the same process; systemctl
stop stops the client and the server with exit status 0, the server
having saved its state. Everything is removed afterwards.

Where systemd does not manage the machine (no /run/systemd/system, as in
a container), or without root, this test is skipped (exit status 77)."""

import sys
sys.dont_write_bytecode = True
import grp
import os
import re
import shutil
import subprocess

from bdfarmtest import (PATIENCE, bdfarm_path, check, eq, free_port,
                        main, read_joblog, wait_for, write_blend,
                        write_job)
from unitfile import (built_unit, command_line, one, read_unit,
                      source_file, write_environment_file)

NOBODY = 65534
NAME = 'bdfarm-test-%d' % os.getpid()
SERVER = NAME + '.service'
CLIENT = NAME + '-client.service'
UNITDIR = '/run/systemd/system'
# Scratch files the units read: not in /tmp, which PrivateTmp= hides.
SCRATCH = os.path.join('/run', NAME)


def skip(why):
    print('SKIP: %s' % why, flush=True)
    sys.exit(77)


def systemctl(*args, ok=True):
    p = subprocess.run(['systemctl'] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=PATIENCE * 4)
    out = p.stdout.decode('utf-8', 'replace')
    if ok and p.returncode != 0:
        raise AssertionError('systemctl %s failed (%d): %s'
                             % (' '.join(args), p.returncode, out))
    return out


def show(unit, prop):
    """One property of a unit, as systemctl show gives it."""
    return systemctl('show', '--value', '-p', prop, unit).strip()


def journal(unit):
    p = subprocess.run(['journalctl', '--no-pager', '-o', 'cat', '-u', unit],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       timeout=PATIENCE)
    return p.stdout.decode('utf-8', 'replace')


def wait_journal(unit, pattern, what):
    """Wait until the unit's journal matches pattern; fail at once if the
    unit failed."""
    rx = re.compile(pattern)

    def seen():
        if rx.search(journal(unit)):
            return True
        if show(unit, 'ActiveState') == 'failed':
            raise AssertionError('%s failed before %s; its journal:\n%s'
                                 % (unit, what, journal(unit)[-4000:]))
        return False
    wait_for(seen, PATIENCE * 2, interval=0.2, what='%s (journal of %s:\n'
             '%s)' % (what, unit, journal(unit)[-2000:]))


def stopped_well(unit):
    """Check that a stopped unit's program exited 0: systemd says so of
    a program that did not, in the unit's journal and its properties."""
    eq(show(unit, 'ActiveState'), 'inactive', unit + ' state after stop')
    eq(show(unit, 'Result'), 'success', unit + ' result')
    eq(show(unit, 'ExecMainStatus'), '0', unit + ' exit status')
    text = journal(unit)
    check(not re.search(r'Main process exited, code=(?!exited, status=0/)'
                        r'|Failed with result', text),
          '%s did not stop well:\n%s', unit, text[-2000:])


def test_copy(name, envfile):
    """The text of a built unit made into a test unit: the built program,
    the test's environment file, user nobody, the test's folder names,
    and no wait for the network to be online (the test uses loopback)."""
    unit = read_unit(built_unit(name))
    program = command_line(one(unit, 'Service', 'ExecStart'), {})[0]
    group = grp.getgrgid(NOBODY).gr_name
    out = []
    changes = 0
    with open(built_unit(name)) as f:
        for line in f:
            key, _, value = line.rstrip('\n').partition('=')
            if key in ('Wants', 'After') and \
                    value == 'network-online.target':
                continue
            if key == 'User':
                line, changes = 'User=nobody\n', changes + 1
            elif key == 'Group':
                line, changes = 'Group=%s\n' % group, changes + 1
            elif key == 'EnvironmentFile':
                line, changes = 'EnvironmentFile=%s\n' % envfile, changes + 1
            elif key in ('ExecStart', 'StateDirectory', 'CacheDirectory',
                         'Environment'):
                value = re.sub(r'(^|[ =]|%[SC]/)bdfarm(?=[/ -]|$)',
                               r'\g<1>' + NAME, value)
                if key == 'ExecStart':
                    value = value.replace(program + ' ', bdfarm_path() + ' ')
                line = '%s=%s\n' % (key, value)
            out.append(line)
    text = ''.join(out)
    eq(changes, 3, '%s: User=, Group= and EnvironmentFile= replaced' % name)
    check(bdfarm_path() in text, '%s: its program replaced', name)
    return text


def test_units_under_systemd():
    port = free_port()
    os.makedirs(SCRATCH, mode=0o755)
    lib = '/var/lib/' + NAME
    sconf = os.path.join(SCRATCH, 'server.conf')
    with open(sconf, 'w') as f:
        f.write('server = {\n  listen = "127.0.0.1";\n  rescan_interval = 1;\n'
                '  state_save_delay = 60000;\n};\n')
    cconf = os.path.join(SCRATCH, 'client.conf')
    with open(cconf, 'w') as f:
        f.write('client = {\n  none_wait = 1;\n  busy_wait = 1;\n'
                '  retry_min = 1;\n  retry_max = 2;\n};\n')
    senv = os.path.join(SCRATCH, 'default-server')
    write_environment_file(senv, {'BDFARM_ARGS': '--config %s --port %d '
                                  '%s/jobs %s/renders'
                                  % (sconf, port, lib, lib)})
    cenv = os.path.join(SCRATCH, 'default-client')
    write_environment_file(cenv, {'BDFARM_CLIENT_ARGS':
                                  '127.0.0.1 %d --config %s --blender %s'
                                  % (port, cconf, source_file(
                                      'tests', 'fake-blender'))})
    for name, unit, envfile in (('bdfarm.service', SERVER, senv),
                                ('bdfarm-client.service', CLIENT, cenv)):
        with open(os.path.join(UNITDIR, unit), 'w') as f:
            f.write(test_copy(name, envfile))
    systemctl('daemon-reload')

    systemctl('start', SERVER)
    wait_journal(SERVER, r'listening on 127\.0\.0\.1:%d;' % port,
                 'the server to listen')
    pid = int(show(SERVER, 'MainPID'))
    with open('/proc/%d/status' % pid) as f:
        uids = re.search(r'(?m)^Uid:\s+(.*)$', f.read()).group(1).split()
    eq(set(uids), {str(NOBODY)}, 'the server\'s user ids')
    check(os.path.isdir(lib + '/jobs') and os.path.isdir(lib + '/renders'),
          'the unit made the job and render folders')

    blend = os.path.join(lib, 'scene.blend')
    write_blend(blend, size=5000, seed=3)
    write_job(lib + '/jobs', 'unit', blend, 1, 2)
    wait_journal(SERVER, r'unit\.job: new job', 'the server to see the job')

    systemctl('start', CLIENT)
    wait_for(lambda: 'rendering complete' in
             read_joblog(os.path.join(lib, 'jobs'), 'unit'),
             PATIENCE * 2, interval=0.2,
             what='the client to render the job (server:\n%s\nclient:\n%s)'
             % (journal(SERVER)[-2000:], journal(CLIENT)[-2000:]))
    check(os.path.isdir('/var/cache/%s-client/cache' % NAME),
          'the client works in the unit\'s cache folder')

    systemctl('reload', SERVER)
    wait_journal(SERVER, r'settings read again from %s' % re.escape(sconf),
                 'systemctl reload to make the server read its settings')
    eq(int(show(SERVER, 'MainPID')), pid, 'the server\'s process after '
       'reload')

    systemctl('stop', CLIENT)
    wait_journal(CLIENT, r'stopping on signal 15',
                 'the client to log its stop on SIGTERM')
    stopped_well(CLIENT)

    systemctl('stop', SERVER)
    wait_journal(SERVER, r'signal 15: saving state and exiting',
                 'the server to log its stop on SIGTERM')
    stopped_well(SERVER)
    with open(os.path.join(lib, 'jobs', '.bdfarm.state')) as f:
        state = f.read()
    check(re.search(r'(?m)^done 1-2$', state) and
          not re.search(r'(?m)^(joblog|rename) ', state),
          'the server saved its whole state on stop:\n%s', state)


def clean_up():
    """Stop and remove the test units and everything they made."""
    for unit in (CLIENT, SERVER):
        systemctl('stop', unit, ok=False)
        systemctl('reset-failed', unit, ok=False)
        try:
            os.unlink(os.path.join(UNITDIR, unit))
        except FileNotFoundError:
            pass
    systemctl('daemon-reload', ok=False)
    for folder in (SCRATCH, '/var/lib/' + NAME, '/var/lib/%s-client' % NAME,
                   '/var/cache/%s-client' % NAME):
        shutil.rmtree(folder, ignore_errors=True)


def test_systemd_service():
    try:
        test_units_under_systemd()
    finally:
        clean_up()


if not os.path.isdir('/run/systemd/system'):
    skip('systemd is not the service manager here (no /run/systemd/system),'
         ' so the units cannot be started; test-systemd-units.py runs their'
         ' command lines without it')
if os.geteuid() != 0:
    skip('installing units in /run/systemd/system needs root')
if shutil.which('systemctl') is None or shutil.which('journalctl') is None:
    skip('systemctl or journalctl is missing')
for path in (bdfarm_path(), source_file('tests', 'fake-blender')):
    if re.match(r'/(var/)?tmp/', os.path.realpath(path)):
        skip('%s is under a temporary folder, which the units\' PrivateTmp= '
             'hides from them' % path)

main([test_systemd_service])
