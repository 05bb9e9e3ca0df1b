"""What the tests of the systemd units share: reading a built unit and an
environment file as systemd does, for the few forms the units use, and
turning a unit's ExecStart= into the command line systemd would run.

Only what the units need is understood: [Section] headers, Key=Value
lines (a key given again adds to it), the specifiers %S, %C and %%,
${NAME} within a word and $NAME as a word of its own (split at
whitespace), and double or single quotes. Anything else a unit might hold
(another specifier, a line continued with a backslash, an ExecStart=
prefix) fails the test, so that a unit changed beyond this reader is not
tested wrongly.
"""

import os
import re
import shlex

# The folder systemd's specifiers stand for in a system unit.
SYSTEM_ROOTS = {'S': '/var/lib', 'C': '/var/cache'}

# The environment systemd gives every service before its unit adds any.
SYSTEMD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'


def built_unit(name):
    """The path of a unit the build made: BUILDDIR/data/NAME."""
    builddir = os.environ.get('BDFARM_BUILDDIR') or os.getcwd()
    return os.path.join(builddir, 'data', name)


def source_file(*parts):
    """The path of a file of the source tree."""
    srcdir = os.environ.get('BDFARM_SRCDIR') or os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(srcdir, *parts)


def read_unit(path):
    """A unit file as {'Section': {'Key': [values...]}}."""
    unit = {}
    section = None
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line[0] in '#;':
                continue
            if line.endswith('\\'):
                raise AssertionError('%s:%d: continued lines are not '
                                     'understood by this test' % (path, number))
            m = re.fullmatch(r'\[([A-Za-z]+)\]', line)
            if m:
                section = unit.setdefault(m.group(1), {})
                continue
            m = re.fullmatch(r'([A-Za-z]+)=(.*)', line)
            if m is None or section is None:
                raise AssertionError('%s:%d: not a unit line: %r'
                                     % (path, number, line))
            section.setdefault(m.group(1), []).append(m.group(2).strip())
    return unit


def one(unit, section, key):
    """The single value of section.key; fail if it is missing or given
    more than once."""
    values = unit.get(section, {}).get(key, [])
    if len(values) != 1:
        raise AssertionError('expected one %s= in [%s], found %r'
                             % (key, section, values))
    return values[0]


def read_environment_file(path):
    """An EnvironmentFile= as a dict: NAME=VALUE lines, the value
    unquoted; blank lines and comments skipped."""
    env = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line[0] in '#;':
                continue
            m = re.fullmatch(r'([A-Za-z_][A-Za-z0-9_]*)=(.*)', line)
            if m is None:
                raise AssertionError('%s:%d: not NAME=VALUE: %r'
                                     % (path, number, line))
            words = shlex.split(m.group(2))
            if len(words) > 1:
                raise AssertionError('%s:%d: quote a value with spaces'
                                     % (path, number))
            env[m.group(1)] = words[0] if words else ''
    return env


def write_environment_file(path, env):
    """Write NAME="VALUE" lines, as a sample environment file has them."""
    with open(path, 'w') as f:
        for name, value in env.items():
            if '"' in value or '\\' in value:
                raise ValueError('value needs escaping: %r' % value)
            f.write('%s="%s"\n' % (name, value))


def specifiers(text, roots=SYSTEM_ROOTS):
    """Replace the specifiers %S, %C and %% by what roots says."""
    def one_specifier(m):
        c = m.group(1)
        if c == '%':
            return '%'
        if c not in roots:
            raise AssertionError('specifier %%%s not understood by this '
                                 'test' % c)
        return roots[c]
    return re.sub(r'%(.)', one_specifier, text)


def command_line(exec_start, env, roots=SYSTEM_ROOTS):
    """The argv systemd makes of an ExecStart= value with this
    environment: specifiers replaced, then each word's ${NAME} replaced,
    and a word that is exactly $NAME replaced by the value's words."""
    if exec_start[:1] in '-@:+!':
        raise AssertionError('ExecStart= prefix not understood by this test')
    argv = []
    for word in shlex.split(specifiers(exec_start, roots)):
        m = re.fullmatch(r'\$([A-Za-z_][A-Za-z0-9_]*)', word)
        if m:
            argv.extend(env.get(m.group(1), '').split())
            continue
        argv.append(re.sub(r'\$\{([A-Za-z_][A-Za-z0-9_]*)\}',
                           lambda v: env.get(v.group(1), ''), word))
    return argv


def unit_environment(unit, roots=SYSTEM_ROOTS):
    """The variables a unit's Environment= lines set."""
    env = {}
    for line in unit.get('Service', {}).get('Environment', []):
        for assignment in shlex.split(specifiers(line, roots)):
            name, _, value = assignment.partition('=')
            env[name] = value
    return env


def directories(unit, key):
    """The folders a StateDirectory= or CacheDirectory= names, relative
    to their root, in order."""
    names = []
    for line in unit.get('Service', {}).get(key, []):
        names.extend(line.split())
    return names
