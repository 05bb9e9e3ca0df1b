#!/usr/bin/env python3
# A client runs Blender with --disable-autoexec, before the .blend on the
# command line, so that no script the scene carries runs on the machine;
# allow_scripts = true in the client's settings leaves it out, and
# Blender's own preference decides.

import os

from clienttest import (PATIENCE, Client, blender_runs, check, fake_blend,
                        scratch, wait_for, write_config, write_fake_config)
from oldserver import OldServer


def render_job(top, name, **settings):
    """Render a small job with one client; the stand-in Blender's runs."""
    runlog = os.path.join(top, name + ".runs")
    fakecfg = write_fake_config(os.path.join(top, name + ".json"),
                                log=runlog)
    conf = write_config(os.path.join(top, name + ".conf"), **settings)
    server = OldServer(blend, 1, 3, os.path.join(top, name + "-render")) \
        .start()
    client = Client(server.port, os.path.join(top, name), conf,
                    env={"FAKE_BLENDER_CONFIG": fakecfg})
    check(wait_for(server.complete, 4 * PATIENCE),
          "%s: the whole job was rendered" % name)
    check(client.stop() == 0, "%s: SIGTERM ends the client" % name)
    server.close()
    return blender_runs(runlog)


top = scratch()
blend = fake_blend(top)

runs = render_job(top, "default")
check(runs and all("--disable-autoexec" in r["argv"] for r in runs),
      "by default every Blender run has --disable-autoexec")
check(all(r["argv"].index("--disable-autoexec") <
          [i for i, a in enumerate(r["argv"]) if a.endswith(".blend")][0]
          for r in runs), "--disable-autoexec comes before the .blend")

runs = render_job(top, "allowed", allow_scripts=True)
check(runs and all("--disable-autoexec" not in r["argv"] and
                   "-Y" not in r["argv"] for r in runs),
      "with allow_scripts = true no run has --disable-autoexec")
