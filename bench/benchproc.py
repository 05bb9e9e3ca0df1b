"""What the benchmarks read about a process, and a free port to start one on."""

import os
import socket

CLK_TCK = os.sysconf('SC_CLK_TCK')


def free_port():
    """A TCP port on the loopback that nothing listens on right now."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_status(pid, field):
    """A field of /proc/PID/status in kB, or None."""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_cpu(pid):
    """User plus system CPU seconds of a process, 0 once it is gone."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except OSError:
        return 0.0
