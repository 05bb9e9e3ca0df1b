# tlstest.py: what the tests of a farm opened with keys share: inviting a
# client with `bdfarm --invite`, a client configuration folder of its own
# (where --join keeps the key), and a TLS peer scripted with `openssl
# s_client`, since Python's ssl module speaks TLS 1.3 with external keys
# only from Python 3.13.

import os
import re
import shutil
import subprocess
import sys

from clienttest import BDFARM, PATIENCE, scratch

KEY_RX = re.compile(r"^([A-Za-z0-9._-]+):([0-9a-f]{64})$")


def invite(server, name):
    """Run `bdfarm --invite name` for a bdfarm test server; return the
    line it printed and the token in it."""
    out = subprocess.run([BDFARM, "--invite", name, "--config", server.conf,
                          "--port", str(server.port), server.jobdir,
                          server.renderdir], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=PATIENCE, check=True)
    line = out.stdout.decode().strip()
    token = line.split()[-1]
    assert KEY_RX.match(token), line
    return line, token


def client_env(**more):
    """An environment whose configuration folder is a fresh one, so that a
    test's keys never reach another's, nor the user's."""
    env = {"XDG_CONFIG_HOME": scratch()}
    env.update(more)
    return env


def key_of(token):
    """The hexadecimal key in a token."""
    return KEY_RX.match(token).group(2)


def openssl():
    """The openssl program; exit 77 (skip) without it."""
    path = shutil.which("openssl")
    if path is None:
        print("SKIP: no openssl program", flush=True)
        sys.exit(77)
    return path


def s_client(port, name, key, lines, wait_for=None):
    """Connect with `openssl s_client` under the key name and key, send
    lines, and return everything the server sent until it closed or, once
    wait_for (bytes) has arrived, until the peer hung up."""
    p = subprocess.Popen([openssl(), "s_client", "-quiet", "-tls1_3",
                          "-connect", "127.0.0.1:%d" % port,
                          "-psk_identity", name, "-psk", key],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    p.stdin.write("".join(l + "\r\n" for l in lines).encode())
    p.stdin.flush()
    got = b""
    while True:
        chunk = p.stdout.read1(65536)
        if not chunk:
            break
        got += chunk
        if wait_for is not None and wait_for in got:
            break
    p.stdin.close()
    p.kill()
    p.wait()
    return got.decode("utf-8", "replace")
