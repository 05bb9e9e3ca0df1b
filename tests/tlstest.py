# tlstest.py: what the tests of a farm opened with keys share: inviting a
# client with `bdfarm --invite`, a client configuration folder of its own
# (where --join keeps the key), and a TLS peer scripted with `openssl
# s_client`, since Python's ssl module speaks TLS 1.3 with external keys
# only from Python 3.13; and, for the same reason, `openssl s_server` in
# front of a scripted server.

import atexit
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

from bdfarmtest import free_port
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


class TlsFront:
    """TLS with a key in front of a scripted plain-text server: `openssl
    s_server`, one connection at a time, relays each connection that
    proves the key to a new connection to the server. Between connections
    the port is closed for a moment; a client tries again."""

    def __init__(self, backend_port, name="alice"):
        self.backend = backend_port
        self.name = name
        self.key = os.urandom(32).hex()
        self.token = "%s:%s" % (name, self.key)
        self.port = free_port()
        self.running = True
        self.proc = None
        _fronts.append(self)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while self.running:
            p = subprocess.Popen([openssl(), "s_server", "-quiet", "-tls1_3",
                                  "-nocert", "-naccept", "1", "-accept",
                                  "127.0.0.1:%d" % self.port,
                                  "-psk_identity", self.name,
                                  "-psk", self.key],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL)
            self.proc = p
            if not self.running:
                p.kill()
                p.wait()
                break
            first = p.stdout.read1(65536)   # once a client has spoken
            up = None
            if first:
                try:
                    up = socket.create_connection(("127.0.0.1",
                                                   self.backend), PATIENCE)
                except OSError:
                    pass
            if up is None:
                p.kill()
                p.wait()
                time.sleep(0.1)
                continue
            down = threading.Thread(target=self.relay_down, args=(up, p))
            down.start()
            chunk = first
            while chunk:
                try:
                    up.sendall(chunk)
                except OSError:
                    break
                chunk = p.stdout.read1(65536)
            try:
                up.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            down.join()
            up.close()
            p.kill()
            p.wait()

    @staticmethod
    def relay_down(up, p):
        """The server's bytes to the TLS client, until the server closes."""
        while True:
            try:
                data = up.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            try:
                p.stdin.write(data)
                p.stdin.flush()
            except OSError:
                break
        try:
            p.stdin.close()
        except OSError:
            pass

    def close(self):
        self.running = False
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()


_fronts = []


def _close_fronts():
    for f in _fronts:
        f.close()


atexit.register(_close_fronts)
