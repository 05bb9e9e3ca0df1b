#!/usr/bin/env python3
# A .blend larger than the free space of the client's work folder (here a
# 1 MB tmpfs, for a 4 MB file) is not fetched: the client says so once,
# naming both sizes, writes nothing, reports its frames as failed to a
# bdfarm server with the reason, and carries on.

import atexit
import os
import subprocess
import sys

from clienttest import (PATIENCE, Client, check, scratch, wait_for,
                        write_config, write_fake_config)
from oldserver import OldServer

BLEND_SIZE = 4 << 20

top = scratch()
workdir = os.path.join(top, "work")
os.makedirs(workdir)
mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs",
                          workdir], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
if mounted.returncode != 0:
    print("SKIP: cannot mount a tmpfs (this test needs root): %s"
          % mounted.stderr.decode(errors="replace").strip())
    sys.exit(77)
# Lazily, so that it comes off even while the client still has it open.
atexit.register(subprocess.run, ["umount", "-l", workdir])
blend = os.path.join(top, "scene.blend")
line = b"BLENDER-v304 a scene larger than the friend's disk\n"
with open(blend, "wb") as f:
    f.write((line * (BLEND_SIZE // len(line) + 1))[:BLEND_SIZE])
fakecfg = write_fake_config(os.path.join(top, "fake.json"))
conf = write_config(os.path.join(top, "bdfarm.conf"))
server = OldServer(blend, 1, 2, os.path.join(top, "render"),
                   ext="bdfarm/1").start()
client = Client(server.port, workdir, conf,
                env={"FAKE_BLENDER_CONFIG": fakecfg})
# What is free once the client has written its scripts for Blender (the
# warm loop last), its only files.
wait_for(lambda: os.path.exists(os.path.join(workdir, "warm.py")),
         PATIENCE)
free = os.statvfs(workdir)
free = free.f_bavail * free.f_frsize


def failures():
    with server.lock:
        return list(server.failures)


check(wait_for(lambda: len(failures()) >= 2, 4 * PATIENCE),
      "the client reported its frames as failed")
check(all("not enough disk space" in reason and str(BLEND_SIZE) in reason
          for frame, reason, lines in failures()),
      "each report says why, with the size of the .blend (%r)"
      % failures()[:2])
log = client.log()
sizes = "scene.blend is %d bytes, more than the %d bytes free in %s" % (
    BLEND_SIZE, free, os.path.join(workdir, "cache"))
check(sizes in log, "the log names both sizes")
check(log.count(sizes) == 1, "it is said once, not once per try")
check("No space left" not in log and "cannot write" not in log,
      "no download was begun")
files = [n for d, _, names in os.walk(workdir) for n in names
         if d != workdir or n not in ("prelude.py", "warm.py")]
check(files == [], "nothing but the scripts for Blender was written in the "
      "work folder (%r)" % files)
check(server.received == [], "nothing was sent")
check(client.proc.poll() is None, "the client carries on")
check(client.stop() == 0, "SIGTERM ends it with exit code 0")
server.close()
