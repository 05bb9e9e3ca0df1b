#!/usr/bin/env python3
# A bdfarm client that cannot read a frame it rendered (its file is gone
# by the time it is to be sent) does not drop it in silence: it reports it
# to a bdfarm server as a failed frame, with the reason, so that the server
# hands it out again at once; the job then completes.

import os
import threading

from clienttest import (Client, check, fake_blend, scratch, wait_for,
                        write_config, write_fake_config)
from oldserver import OldServer


class GatedServer(OldServer):
    """A scripted bdfarm/1 server that holds back its answer to the first
    RESULTS until the test opens the gate."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.gate = threading.Event()
        self.held = None            # the frame whose RESULTS waits

    def readline(self, f):
        line = super().readline(f)
        if line.startswith("RESULTS") and not self.gate.is_set():
            self.held = int(line.split()[3])
            self.gate.wait(60)
        return line


top = scratch()
blend = fake_blend(top)
fakecfg = write_fake_config(os.path.join(top, "fake.json"), delay=0.3)
conf = write_config(os.path.join(top, "bdfarm.conf"), heartbeat_interval=1,
                    none_wait=60)
server = GatedServer(blend, 1, 2, os.path.join(top, "render"),
                     ext="bdfarm/1").start()
workdir = os.path.join(top, "work")
client = Client(server.port, workdir, conf, args=["--renderers", "2"],
                env={"FAKE_BLENDER_CONFIG": fakecfg})


def rendered():
    """The frames whose rendered files wait in the work folder."""
    folder = os.path.join(workdir, "render")
    return {int(n.rsplit("-", 1)[1].split(".")[0]): os.path.join(folder, n)
            for n in os.listdir(folder) if n.endswith(".png")}


check(wait_for(lambda: server.held is not None and
               len(rendered()) == 2, 30),
      "both frames are rendered while the first one's RESULTS waits")
other = ({1, 2} - {server.held}).pop()
os.unlink(rendered()[other])
server.gate.set()
check(wait_for(lambda: any(f == other for f, _, _ in server.failures), 20),
      "the frame whose file is gone was reported as failed")
reason = [r for f, r, _ in server.failures if f == other][0]
print("reason: %s" % reason)
check(reason.startswith("cannot read the rendered file"),
      "with the reason: the rendered file cannot be read")
check("not sent: cannot read" in client.log(), "the client logged why")
check(wait_for(server.complete, 30),
      "the frame went out again and the job completed")
check(client.stop() == 0, "the client exits 0 on SIGTERM")
server.close()
