#!/usr/bin/env python3
# A bdfarm client renders a whole job for an original-style server with
# the stand-in Blender: every frame arrives once, under NNNN.png, batched
# runs are used, the client never asks the old server for its program and
# never replaces itself, the idle .blend copy is removed after cache_idle,
# and STOPPING ends it with exit 0.

import collections
import os

from clienttest import (PATIENCE, Client, blender_runs, check, fake_blend,
                        png_size, scratch, wait_for, write_config,
                        write_fake_config)
from oldserver import OldServer

top = scratch()
blend = fake_blend(top)
renderdir = os.path.join(top, "render")
runlog = os.path.join(top, "runs.log")
fakecfg = write_fake_config(os.path.join(top, "fake.json"), log=runlog,
                            delay=0.05)
# Batches are what this test looks at: Blender started for each.
conf = write_config(os.path.join(top, "bdfarm.conf"), cache_idle=2,
                    fresh_blender=True)
server = OldServer(blend, 1, 20, renderdir).start()
workdir = os.path.join(top, "work")
client = Client(server.port, workdir, conf, args=["--renderers", "2"],
                env={"FAKE_BLENDER_CONFIG": fakecfg})

check(wait_for(server.complete, 4 * PATIENCE), "the whole job was rendered")
counts = collections.Counter(f for f, h, i in server.received)
check(sorted(counts) == list(range(1, 21)) and max(counts.values()) == 1,
      "every frame arrived exactly once")
names = sorted(os.listdir(os.path.join(renderdir, "demo.job")))
check(names == ["%04d.png" % n for n in range(1, 21)],
      "frames are stored as NNNN.png")
check(all(png_size(os.path.join(renderdir, "demo.job", n)) == (16, 9)
          for n in names), "every stored frame is a valid PNG")

runs = blender_runs(runlog)
check(any("," in r["argv"][-1] for r in runs),
      "some Blender runs rendered several frames")
prelude = os.path.join(workdir, "prelude.py")
check(all(r["argv"][0] == "--disable-autoexec" and r["argv"][1] == "-b" and
          r["argv"][3] == "--python" and r["argv"][4] == prelude and
          r["argv"][5] == "-o" and r["argv"][6].endswith("/####") and
          r["argv"][7] == "-f" for r in runs),
      "Blender is run as --disable-autoexec -b FILE --python PRELUDE "
      "-o DIR/#### -f N")
with open(prelude) as f:
    text = f.read()
check("report_missing_files" in text and "prelude done" in text,
      "the prelude is written into the work directory")
check(all(r["pid"] == r["pgid"] for r in runs),
      "every Blender run leads its own process group")
check(len({os.path.dirname(r["argv"][6]) for r in runs}) == len(runs),
      "every run has its own output folder")

check(not any(c.startswith("REQUESTBLENDERDIST") for c in server.commands),
      "the client never asked the old server for its program")
check(all(c.split()[2] == "bdfarm/4" for c in server.commands
          if c.startswith("HELO")), "HELO announces bdfarm/4")
check(not os.path.exists(os.path.join(workdir, "bdfarm")),
      "no program was installed in the work directory")
log = client.log()
check(log.count("keeps its own") == 1,
      "the client said once that it keeps its own program")
check(client.proc.poll() is None, "the client is still running")
cache = os.path.join(workdir, "cache")
# The folder goes first, the log line follows: wait for both.
check(wait_for(lambda: os.listdir(cache) == [] and
               "removed the idle cached copy" in client.log(), PATIENCE),
      "the cached .blend was removed after cache_idle seconds without work")

server.stopping = True
code = client.wait(PATIENCE)
check(code == 0, "STOPPING ends the client with exit code 0 (got %r)" % code)
check(not os.path.exists(os.path.join(workdir, "render")) or
      os.listdir(os.path.join(workdir, "render")) == [],
      "the client left no output behind")
server.close()

# STOPPING while a render runs: it finishes, is sent, then the client exits.
runlog2 = os.path.join(top, "runs2.log")
fakecfg = write_fake_config(os.path.join(top, "fake2.json"), log=runlog2,
                            delays={"2": 3.0})
server = OldServer(blend, 1, 6, os.path.join(top, "render2")).start()
client = Client(server.port, os.path.join(top, "work2"), conf,
                args=["--renderers", "2", "--prefetch", "0"],
                env={"FAKE_BLENDER_CONFIG": fakecfg})
check(wait_for(lambda: any(r["argv"][-1] == "2"
                           for r in blender_runs(runlog2)), PATIENCE),
      "frame 2 is rendering (slowly)")
server.stopping = True
code = client.wait(PATIENCE)
check(code == 0, "after STOPPING the client exits 0 (got %r)" % code)
check(2 in server.done, "the render that was running finished and was sent")
server.close()
