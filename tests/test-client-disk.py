#!/usr/bin/env python3
# A work directory that refuses writes (here: a file size limit smaller
# than the .blend, which fails like a full disk) gives one clear message,
# leaves no half-written file, sends nothing, and does not spin: the
# client backs off between tries and carries on.

import os
import time

from clienttest import (Client, check, scratch, write_config,
                        write_fake_config)
from oldserver import OldServer

top = scratch()
blend = os.path.join(top, "scene.blend")
with open(blend, "wb") as f:
    f.write(b"BLENDER-v304 a scene too big for the disk\n" * 1000)
fakecfg = write_fake_config(os.path.join(top, "fake.json"))
conf = write_config(os.path.join(top, "bdfarm.conf"), retry_min=1,
                    retry_max=2)
server = OldServer(blend, 1, 3, os.path.join(top, "render"),
                   redistribute=1).start()
workdir = os.path.join(top, "work")
client = Client(server.port, workdir, conf, max_file_size=8000,
                env={"FAKE_BLENDER_CONFIG": fakecfg})
time.sleep(7)
log = client.log()
check(log.count("work directory is not usable") == 1,
      "the write failure was reported once")
check("File too large" in log, "the message says why")
fetches = sum(1 for c in server.commands if c.startswith("REQUESTBLENDERFILE"))
check(1 <= fetches <= 8, "the client backed off between tries (%d fetches "
      "in 7 s)" % fetches)
check(server.received == [], "nothing was sent")
leftovers = [n for d, _, files in os.walk(workdir) for n in files]
check(leftovers == [], "no half-written file was left behind")
check(client.proc.poll() is None, "the client carries on")
check(client.stop() == 0, "SIGTERM ends it with exit code 0")
server.close()
