#!/usr/bin/env python3
# A work directory that refuses writes (here: a file size limit smaller
# than the .blend, which fails like a full disk) gives one clear message,
# leaves no half-written file, sends nothing, and does not spin: the
# client backs off between tries and carries on.

import os
import time

from clienttest import (PATIENCE, Client, check, scratch, wait_for,
                        write_config, write_fake_config)
from oldserver import OldServer

RETRY_MIN = 1
TRIES = 4


class TimedServer(OldServer):
    """Notes when each .blend is asked for."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.fetches = []

    def readline(self, f):
        line = super().readline(f)
        if line.startswith("REQUESTBLENDERFILE"):
            self.fetches.append(time.monotonic())
        return line


top = scratch()
blend = os.path.join(top, "scene.blend")
with open(blend, "wb") as f:
    f.write(b"BLENDER-v304 a scene too big for the disk\n" * 1000)
fakecfg = write_fake_config(os.path.join(top, "fake.json"))
conf = write_config(os.path.join(top, "bdfarm.conf"), retry_min=RETRY_MIN,
                    retry_max=2)
server = TimedServer(blend, 1, 3, os.path.join(top, "render"),
                     redistribute=1).start()
workdir = os.path.join(top, "work")
client = Client(server.port, workdir, conf, max_file_size=8000,
                env={"FAKE_BLENDER_CONFIG": fakecfg})
check(wait_for(lambda: len(server.fetches) >= TRIES, 4 * PATIENCE),
      "the client tried %d times to fetch the .blend" % TRIES)
log = client.log()
check(log.count("work directory is not usable") == 1,
      "the write failure was reported once")
check("File too large" in log, "the message says why")
# Tries come at least RETRY_MIN apart but for the first retry, which may
# come sooner (the client counts whole seconds): one more, and one more
# for the server's own lateness in noting them.
fetches = list(server.fetches)
span = fetches[-1] - fetches[0]
check(len(fetches) <= 3 + span / RETRY_MIN,
      "the client backed off between tries (%d fetches in %.1f s)"
      % (len(fetches), span))
check(server.received == [], "nothing was sent")


def leftovers():
    """Files in the work directory but the scripts the client writes."""
    return [n for d, _, files in os.walk(workdir) for n in files
            if d != workdir or n not in ("prelude.py", "warm.py")]


# A try under way may hold a partial file for a moment; one left behind
# stays.
check(wait_for(lambda: leftovers() == [], PATIENCE),
      "no half-written file was left behind (%r)" % leftovers())
check(client.proc.poll() is None, "the client carries on")
check(client.stop() == 0, "SIGTERM ends it with exit code 0")
server.close()
