"""What the benchmarks read about a process, and a free port to start one on."""

import os
import socket
import time

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


def has_work(port):
    """Whether the server on port says in its HELO answer that it has a
    frame to hand out; False if it cannot be asked."""
    try:
        with socket.create_connection(('127.0.0.1', port), 5) as s:
            s.sendall(b'HELO probe.example\r\n')
            answer = s.makefile('rb').readline().split()
            s.sendall(b'GOODBYE\r\n')
            return len(answer) >= 2 and answer[1] == b'1'
    except OSError:
        return False


def wait_work(port, alive=lambda: True, timeout=30):
    """Wait until the server on port has work; False if it died (alive()
    turned false) or the time ran out first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        if has_work(port):
            return True
        time.sleep(0.05)
    return False
