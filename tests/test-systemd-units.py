"""The systemd units, without systemd running them: systemd-analyze
finds nothing wrong in them; they run bdfarm as the bdfarm user with the
arguments of an environment file in sysconfdir/default, whose samples set
what the units use; and each unit's ExecStart=, run as systemd would run
it (the sample's arguments in a temporary environment file, an
unprivileged user, the folders the unit asks for, a clean environment),
starts a server that listens, reads its settings again on SIGHUP (the
unit's reload) and saves its state and exits 0 on SIGTERM (its stop), and
a client that renders a job of that server and exits 0 on SIGTERM."""

import sys
sys.dont_write_bytecode = True
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile

from bdfarmtest import (PATIENCE, bdfarm_path, check, eq, free_port, main,
                        read_joblog, wait_for, write_blend, write_job)
from unitfile import (SYSTEMD_PATH, built_unit, command_line, directories,
                      one, read_environment_file, read_unit, source_file,
                      unit_environment, write_environment_file)

SERVER = 'bdfarm.service'
CLIENT = 'bdfarm-client.service'

# As root, the units' programs run as nobody, as they would as bdfarm.
NOBODY = 65534

_processes = []


def test_systemd_analyze_verify():
    """systemd-analyze finds no error and no warning in either unit, with
    their program replaced by the one built (the installed one may not
    exist) and the man page left unchecked (it may not be installed)."""
    analyze = shutil.which('systemd-analyze')
    if analyze is None:
        print('systemd-analyze not found: the units are not verified '
              '(on Debian it comes with the systemd package)')
        return
    folder = tempfile.mkdtemp(prefix='bdfarm-units-')
    try:
        paths = []
        for name in (SERVER, CLIENT):
            unit = read_unit(built_unit(name))
            program = command_line(one(unit, 'Service', 'ExecStart'), {})[0]
            with open(built_unit(name)) as f:
                text = f.read()
            path = os.path.join(folder, name)
            with open(path, 'w') as f:
                f.write(text.replace(program + ' ', bdfarm_path() + ' '))
            paths.append(path)
        p = subprocess.run([analyze, 'verify', '--man=no'] + paths,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=PATIENCE * 2)
        out = p.stdout.decode('utf-8', 'replace')
        # In a container, systemd-analyze may also speak of the system's
        # own units; only what it says of ours counts.
        ours = [l for l in out.splitlines()
                if any(n in l for n in (SERVER, CLIENT))]
        eq(ours, [], 'what systemd-analyze verify says of the units')
        eq(p.returncode, 0, 'systemd-analyze verify exit status (%s)' % out)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def check_unit_basics(name, variable):
    """The parts both units share; returns the unit."""
    unit = read_unit(built_unit(name))
    with open(built_unit(name)) as f:
        check('@' not in f.read(), '%s: a @...@ was left unsubstituted', name)
    eq(one(unit, 'Service', 'User'), 'bdfarm', name + ' User=')
    eq(one(unit, 'Service', 'Group'), 'bdfarm', name + ' Group=')
    envfile = one(unit, 'Service', 'EnvironmentFile')
    check(envfile.startswith('/') and
          envfile.endswith('/default/' + name[:-len('.service')]),
          '%s: EnvironmentFile= %s is not sysconfdir/default/NAME',
          name, envfile)
    argv = command_line(one(unit, 'Service', 'ExecStart'), {})
    check(argv[0].startswith('/') and argv[0].endswith('/bin/bdfarm'),
          '%s: ExecStart= runs %s, not bindir/bdfarm', name, argv[0])
    check('$' + variable in one(unit, 'Service', 'ExecStart').split(),
          '%s: ExecStart= does not take its arguments from $%s',
          name, variable)
    sample = read_environment_file(source_file('data', 'default',
                                               name[:-len('.service')]))
    check(sample.get(variable), '%s: the sample environment file does not '
          'set %s', name, variable)
    eq(one(unit, 'Install', 'WantedBy'), 'multi-user.target',
       name + ' WantedBy=')
    check('network-online.target' in unit['Unit'].get('After', []),
          '%s: not ordered after network-online.target', name)
    return unit


def test_units_say_what_the_service_needs():
    server = check_unit_basics(SERVER, 'BDFARM_ARGS')
    eq(one(server, 'Service', 'ExecReload'), '/bin/kill -HUP $MAINPID',
       'the server unit reloads with SIGHUP')
    check(server['Service'].get('KillSignal', ['SIGTERM']) == ['SIGTERM'],
          'the server unit is stopped with SIGTERM')
    # The sample's folders are ones the unit makes.
    made = ['/var/lib/' + d for d in directories(server, 'StateDirectory')]
    args = read_environment_file(
        source_file('data', 'default', 'bdfarm'))['BDFARM_ARGS'].split()
    folders = [a for a in args if a.startswith('/')]
    eq(len(folders), 2, 'folders in the sample BDFARM_ARGS')
    for folder in folders:
        check(folder in made, 'the server unit does not make %s', folder)

    client = check_unit_basics(CLIENT, 'BDFARM_CLIENT_ARGS')
    # The client has no SIGHUP handler: a reload would kill it.
    check('ExecReload' not in client['Service'],
          'the client unit must not reload with a signal the client '
          'does not handle')
    check(client['Service'].get('KillSignal', ['SIGTERM']) == ['SIGTERM'],
          'the client unit is stopped with SIGTERM')
    argv = command_line(one(client, 'Service', 'ExecStart'), {})
    workdir = argv[argv.index('--workdir') + 1]
    check(workdir in ['/var/cache/' + d
                      for d in directories(client, 'CacheDirectory')],
          'the client work folder %s is not a folder the unit makes',
          workdir)
    # Blender needs to map memory writable and executable.
    check('MemoryDenyWriteExecute' not in client['Service'],
          'the client unit would stop Blender mapping code')


class Service:
    """One unit's ExecStart= run as systemd would run it, under a scratch
    root that stands for /var/lib and /var/cache."""

    def __init__(self, root, name, args):
        self.name = name
        self.unit = read_unit(built_unit(name))
        self.roots = {'S': os.path.join(root, 'lib'),
                      'C': os.path.join(root, 'cache')}
        self.log = os.path.join(root, name + '.log')
        self.envfile = os.path.join(root, 'default-' + name)
        write_environment_file(self.envfile, args)
        self.proc = None

    def make_folders(self):
        """Make the unit's state and cache folders, owned by its user."""
        for key, root in (('StateDirectory', 'S'), ('CacheDirectory', 'C')):
            for d in directories(self.unit, key):
                path = os.path.join(self.roots[root], d)
                os.makedirs(path, exist_ok=True)
                if os.geteuid() == 0:
                    os.chown(path, NOBODY, NOBODY)
                os.chmod(path, 0o755)

    def environment(self):
        """A service's environment: systemd's own, the user's, the
        environment file's and the unit's Environment= lines."""
        user = pwd.getpwuid(NOBODY if os.geteuid() == 0 else os.geteuid())
        env = {'PATH': SYSTEMD_PATH, 'LANG': 'C.UTF-8', 'HOME': user.pw_dir,
               'USER': user.pw_name, 'LOGNAME': user.pw_name,
               'SHELL': user.pw_shell}
        # A sanitizer build's settings, as the other tests pass them on.
        env.update({k: v for k, v in os.environ.items()
                    if re.match(r'(ASAN|UBSAN|LSAN)_OPTIONS$', k)})
        env.update(read_environment_file(self.envfile))
        env.update(unit_environment(self.unit, self.roots))
        return env

    def argv(self):
        argv = command_line(one(self.unit, 'Service', 'ExecStart'),
                            self.environment(), self.roots)
        # The installed program may not exist; the built one stands in.
        return [bdfarm_path()] + argv[1:]

    def start(self):
        self.make_folders()
        argv = self.argv()
        pre = ['setpriv', '--pdeathsig', 'KILL']
        if os.geteuid() == 0:
            pre += ['--reuid=%d' % NOBODY, '--regid=%d' % NOBODY,
                    '--clear-groups']
        with open(self.log, 'ab') as err:
            err.write(('=== %s\n' % ' '.join(argv)).encode())
            err.flush()
            self.proc = subprocess.Popen(
                pre + ['--'] + argv, stdin=subprocess.DEVNULL, stdout=err,
                stderr=err, env=self.environment(), cwd='/', umask=0o022)
        _processes.append(self.proc)
        return self

    def text(self):
        with open(self.log, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def wait_log(self, pattern, what):
        """Wait for a line matching pattern; fail at once if the process
        ends first."""
        rx = re.compile(pattern)

        def seen():
            if rx.search(self.text()):
                return True
            if self.proc.poll() is not None:
                raise AssertionError('%s exited (%s) before %s; its log:\n%s'
                                     % (self.name, self.proc.returncode,
                                        what, self.text()[-4000:]))
            return False
        wait_for(seen, PATIENCE * 2, what=what)

    def stop(self):
        """SIGTERM, as systemctl stop sends it; return the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(PATIENCE * 2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError('%s did not exit on SIGTERM; its log:\n%s'
                                 % (self.name, self.text()[-4000:]))


def sample_args(name, variable):
    return read_environment_file(
        source_file('data', 'default', name))[variable].split()


def test_units_run_a_server_and_a_client():
    root = tempfile.mkdtemp(prefix='bdfarm-units-')
    try:
        os.chmod(root, 0o755)
        port = free_port()
        sconf = os.path.join(root, 'server.conf')
        with open(sconf, 'w') as f:
            f.write('server = {\n  listen = "127.0.0.1";\n'
                    '  rescan_interval = 1;\n'
                    # Saved only when it stops, within the test's time.
                    '  state_save_delay = 60000;\n'
                    '};\n')
        cconf = os.path.join(root, 'client.conf')
        with open(cconf, 'w') as f:
            f.write('client = {\n  none_wait = 1;\n  busy_wait = 1;\n'
                    '  retry_min = 1;\n  retry_max = 2;\n};\n')

        # The sample's arguments, with the scratch root for /var/lib, a
        # free port and the test's settings.
        args = sample_args('bdfarm', 'BDFARM_ARGS')
        args[args.index('--port') + 1] = str(port)
        lib = os.path.join(root, 'lib')
        args = ['--config', sconf] + [
            re.sub(r'^/var/lib/', lib + '/', a) for a in args]
        server = Service(root, SERVER, {'BDFARM_ARGS': ' '.join(args)})
        jobdir, renderdir = args[-2], args[-1]

        server.start()
        server.wait_log(r'listening on 127\.0\.0\.1:%d;' % port,
                        'the server to listen')

        # A job written by the test's user, as by anyone allowed to write
        # to the job folder.
        blend = os.path.join(root, 'lib', 'bdfarm', 'scene.blend')
        write_blend(blend, size=5000, seed=7)
        write_job(jobdir, 'unit', blend, 1, 2)
        server.wait_log(r'unit\.job: new job', 'the server to see the job')

        check('settings read again' not in server.text(),
              'no reload is logged before SIGHUP')
        server.proc.send_signal(signal.SIGHUP)
        server.wait_log(r'settings read again from %s' % re.escape(sconf),
                        'the server to read its settings again on SIGHUP')
        check(server.proc.poll() is None, 'the server runs on after SIGHUP')

        cargs = sample_args('bdfarm-client', 'BDFARM_CLIENT_ARGS')
        cargs[:2] = ['127.0.0.1', str(port)]
        cargs += ['--config', cconf, '--blender',
                  source_file('tests', 'fake-blender')]
        client = Service(root, CLIENT, {'BDFARM_CLIENT_ARGS':
                                        ' '.join(cargs)})
        client.start()
        workdir = os.path.join(root, 'cache', 'bdfarm-client')
        client.wait_log(r'rendering for 127\.0\.0\.1 port %d with 1 '
                        r'renderer, work directory %s'
                        % (port, re.escape(workdir)),
                        'the client to start in the unit\'s work folder')
        wait_for(lambda: 'rendering complete' in
                 read_joblog(jobdir, 'unit'), PATIENCE * 2,
                 what='the client to render the job (server log:\n%s\n'
                 'client log:\n%s)' % (server.text()[-2000:],
                                       client.text()[-2000:]))
        for frame in (1, 2):
            check(os.path.exists(os.path.join(renderdir, 'unit.job',
                                              '%04d.png' % frame)),
                  'frame %d is in the render folder', frame)
        check(os.path.isdir(os.path.join(workdir, 'cache')),
              'the client works in the unit\'s cache folder')

        eq(client.stop(), 0, 'the client\'s exit status on SIGTERM')
        check(re.search(r'stopping on signal 15', client.text()),
              'the client logs its stop')

        # The frames' completion went to the state file's journal; with
        # the save delay far off, only the stop writes the whole state
        # again, the journal folded into it.
        state = os.path.join(jobdir, '.bdfarm.state')
        with open(state) as f:
            before = f.read()
        check(re.search(r'(?m)^joblog .* rendering complete', before),
              'the completion is in the state file\'s journal before the '
              'stop:\n%s', before)
        eq(server.stop(), 0, 'the server\'s exit status on SIGTERM')
        check(re.search(r'signal 15: saving state and exiting',
                        server.text()), 'the server logs its stop')
        with open(state) as f:
            after = f.read()
        check(re.search(r'(?m)^job unit\.job$', after) and
              re.search(r'(?m)^done 1-2$', after) and
              not re.search(r'(?m)^(joblog|rename) ', after),
              'the server saved its whole state on SIGTERM:\n%s', after)
        for service in (server, client):
            check(not re.search(r'Sanitizer|runtime error: ', service.text()),
                  'a sanitizer reported an error in %s:\n%s',
                  service.name, service.text()[-4000:])
    finally:
        for p in _processes:
            if p.poll() is None:
                p.kill()
                p.wait()
        if os.environ.get('BDFARM_KEEP'):
            sys.stderr.write('kept %s\n' % root)
        else:
            shutil.rmtree(root, ignore_errors=True)


main([test_systemd_analyze_verify, test_units_say_what_the_service_needs,
      test_units_run_a_server_and_a_client])
