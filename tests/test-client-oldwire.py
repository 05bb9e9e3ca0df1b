#!/usr/bin/env python3
# Nothing but the original protocol on the wire where the extension is not
# agreed: a bdfarm client renders a whole job for an original-style server
# (which, like the original, closes the connection on any request it does
# not know) without ever sending FACTS, ALIVE, WAITJOB, PROGRESS or FAILED,
# even when frames fail; and a client with `extensions = false` renders a
# job for the real bdfarm server as an old client would.

import os
import re
import socket

from clienttest import PATIENCE, Client, check, fake_blend, scratch, wait_for
from farmclient import (EXT_COMMANDS, OLD_COMMANDS, LineProxy, client_config,
                        commands, farm, frames_received, write_fake_config)
from oldserver import OldServer

top = scratch()
blend = fake_blend(top)

server = OldServer(blend, 1, 10, os.path.join(top, "render"),
                   redistribute=1).start()
with socket.create_connection(("127.0.0.1", server.port), PATIENCE) as s:
    s.settimeout(PATIENCE)
    s.sendall(b"HELO probe.example bdfarm/1 1\r\n")
    answer = s.recv(100)
    s.sendall(b"FACTS 1 2 3.4.1\r\n")
    check(len(answer.split()) == 2 and s.recv(100) == b"",
          "the old server answers HELO with two tokens and closes the "
          "connection on an extension request")
fake = write_fake_config(os.path.join(top, "fake.json"), delay=0.05,
                         fail=[4])
conf = client_config(top)
client = Client(server.port, os.path.join(top, "work"), conf,
                env={"FAKE_BLENDER_CONFIG": fake})
good = set(range(1, 11)) - {4}
check(wait_for(lambda: good <= set(server.done), 4 * PATIENCE),
      "a bdfarm client rendered the job for the old server")
check(wait_for(lambda: sum(1 for f, h in server.handed if f == 4) >= 2,
               2 * PATIENCE),
      "the failing frame was handed out again after the old delay")
lines = list(server.commands)
check(lines[:2] == ["HELO probe.example bdfarm/1 1", "FACTS 1 2 3.4.1"],
      "the old server records every line it receives")
lines = lines[2:]
sent = commands(lines, EXT_COMMANDS)
check(sent == [], "no extension command reached the old server from the "
      "client (got %r)" % sent)
check(all(l.split()[0] in OLD_COMMANDS for l in lines),
      "every line the client sent is in the old table")
check(all(re.fullmatch(r"HELO \S+ bdfarm/4 \d+", l)
          for l in commands(lines, ("HELO",))),
      "its HELO announces bdfarm/4 and its instance")
check("GOODBYE" in lines, "its sessions end with GOODBYE")
check(client.stop() == 0, "the client exits 0 on SIGTERM")
server.close()

# extensions = false, with the real bdfarm server.
real = farm()
proxy = LineProxy(real.port)
blend2, _ = real.blend("scene.blend", size=5000)
real.job("demo", blend2, 1, 6)
conf = client_config(top, "old.conf", extensions=False)
client = Client(proxy.port, os.path.join(top, "work-old"), conf,
                env={"FAKE_BLENDER_CONFIG": write_fake_config(
                    os.path.join(top, "good.json"), delay=0.05)})
check(wait_for(lambda: "rendering complete" in real.joblog("demo"),
               4 * PATIENCE),
      "with extensions off, the client rendered a job for bdfarm")
received = frames_received(real.joblog("demo"))
check(sorted(received) == list(range(1, 7)) and
      all(len(h) == 1 for h in received.values()),
      "every frame arrived once")
lines = proxy.lines()
check(not commands(lines, EXT_COMMANDS + ("REQUESTBLENDERDIST",)),
      "no extension request, no request for the server's program")
check(all(len(l.split()) == 2 for l in commands(lines, ("HELO",))),
      "HELO names only the host")
check(len(proxy.per_connection()) > 1 and
      all(c[-1] == "GOODBYE" for c in proxy.per_connection()[:-1]),
      "it connects for each batch and says GOODBYE, as an old client does")
check(client.stop() == 0, "the client exits 0 on SIGTERM")
proxy.close()
real.stop()
real.cleanup()
