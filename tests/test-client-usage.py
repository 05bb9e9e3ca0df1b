#!/usr/bin/env python3
# Usage errors exit 2; an unusable work directory or a missing Blender is
# one clear message and exit 1; SIGTERM in the middle of a render and of a
# session kills Blender's process group, says GOODBYE and exits 0.

import os
import signal
import subprocess

from clienttest import (BDFARM, FAKE_BLENDER, PATIENCE, Client, check,
                        fake_blend, pid_alive, scratch, wait_for, write_config,
                        write_fake_config)
from oldserver import OldServer, md5_of


def run(*args):
    p = subprocess.run([BDFARM] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=PATIENCE)
    return p.returncode, p.stderr.decode()


top = scratch()
conf = write_config(os.path.join(top, "bdfarm.conf"))
for args, what in ((["--renderers", "0"], "--renderers 0"),
                   (["--prefetch", "-1"], "a negative prefetch"),
                   (["--renderers", "x"], "a renderer count that is not a "
                                          "number")):
    code, err = run("--client", "--config", conf, *args, "127.0.0.1", "1")
    check(code == 2, "%s is a usage error (exit %d)" % (what, code))
code, err = run("--client", "--config", conf, "127.0.0.1", "http")
check(code == 2, "a port that is not a number is a usage error")
code, err = run("--client", "--config", conf, "127.0.0.1")
check(code == 2, "a missing port is a usage error")

code, err = run("--client", "--config", conf, "--workdir", "/dev/null/work",
                "--blender", FAKE_BLENDER, "127.0.0.1", "1")
check(code == 1 and len(err.strip().splitlines()) == 1 and
      "/dev/null/work" in err,
      "an unusable work directory is one clear message and exit 1")
code, err = run("--client", "--config", conf, "--workdir",
                os.path.join(top, "w0"), "--blender",
                os.path.join(top, "no-such-blender"), "127.0.0.1", "1")
check(code == 1 and "no-such-blender" in err,
      "a missing Blender is one clear message and exit 1")


class HoldServer(OldServer):
    """Serves the first session, then holds the next one at REQUESTJOB."""

    sessions = 0

    def session(self, conn):
        self.sessions += 1
        if self.sessions == 1:
            return super().session(conn)
        f = conn.makefile("rb")
        self.commands.append(self.readline(f))
        conn.sendall(("%s 1\r\n" % md5_of(self.program)).encode())
        try:
            while True:
                self.commands.append(self.readline(f))
        except (OSError, ValueError):
            pass


blend = fake_blend(top, 1)
pids = os.path.join(top, "pids")
fakecfg = write_fake_config(os.path.join(top, "fake.json"), hang=[1],
                            pids=pids)
server = HoldServer(blend, 1, 4, os.path.join(top, "render"),
                    silence=60).start()
client = Client(server.port, os.path.join(top, "work"), conf,
                args=["--prefetch", "1"],
                env={"FAKE_BLENDER_CONFIG": fakecfg})
check(wait_for(lambda: os.path.exists(pids) and
               len(open(pids).read().split()) == 2, PATIENCE),
      "Blender hangs on frame 1")
check(wait_for(lambda: server.sessions == 2 and
               server.commands[-1].startswith("REQUESTJOB"), PATIENCE),
      "a second session waits for its answer")
code = client.stop(signal.SIGTERM)
check(code == 0, "SIGTERM ends the client with exit code 0")
check(wait_for(lambda: "GOODBYE" in server.commands[-1:], PATIENCE),
      "the client said GOODBYE before leaving")
check(wait_for(lambda: not any(pid_alive(int(p))
                               for p in open(pids).read().split()),
               PATIENCE),
      "no process of the Blender run outlived the client")
server.close()
