#!/usr/bin/env python3
# A farm opened to a friend: `bdfarm --invite alice` next to a running
# server prints the line that lets alice join; the server takes the new
# key at once; `bdfarm --client HOST PORT --join TOKEN` keeps the key in
# the client's configuration folder (mode 0600) and renders a whole job
# over TLS, with plain text refused from its address; the client goes by
# the key's name on the server, whatever its HELO says; a later run needs
# no token; and removing the key from the keys file cuts its connection
# within about a second.

import os
import re
import socket
import stat
import time

from clienttest import PATIENCE, Client, png_size, scratch, wait_for
from farmclient import check, client_config, farm, frames_received
from farmclient import write_fake_config
from tlstest import client_env, invite

top = scratch()
# Loopback may not speak plain text here: whatever renders went over TLS.
server = farm(plain_allow="10.0.0.0/8")
blend, _ = server.blend("scene.blend", size=20000)
fake = write_fake_config(os.path.join(top, "fake.json"), delay=0.05)
conf = client_config(top)

line, token = invite(server, "alice")
check(line == "bdfarm --client 127.0.0.1 %d --join %s" % (server.port, token),
      "--invite prints the command line that joins this server")
keys = os.path.join(server.jobdir, ".bdfarm.keys")
check(stat.S_IMODE(os.stat(keys).st_mode) == 0o600,
      "the server's keys file is private to its owner")
with open(keys) as f:
    check(f.read() == "alice %s\n" % token.split(":")[1],
          "it holds one line: the name and the key")

server.job("demo", blend, 1, 12)
env = client_env(FAKE_BLENDER_CONFIG=fake)
first = Client(server.port, os.path.join(top, "work1"), conf,
               args=["--join", token], env=env)
check(wait_for(lambda: "rendering complete" in server.joblog("demo"),
               4 * PATIENCE), "the client rendered the whole job over TLS")
received = frames_received(server.joblog("demo"))
name = "alice#%d" % first.proc.pid
check(sorted(received) == list(range(1, 13)) and
      all(h == [name] for h in received.values()),
      "every frame came once, from alice#pid, not from its host name")
check(socket.gethostname() != "alice" and
      re.search(r"TLS with the key alice", server.log()),
      "the server knew the client by its key")
check(all(png_size(os.path.join(server.framedir("demo"), "%04d.png" % n))
          == (16, 9) for n in range(1, 13)), "every stored frame is whole")

saved = os.path.join(env["XDG_CONFIG_HOME"], "bdfarm", "keys")
check(os.path.exists(saved) and
      stat.S_IMODE(os.stat(saved).st_mode) == 0o600,
      "--join kept the key in the client's configuration folder, 0600")
with open(saved) as f:
    check(f.read() == "127.0.0.1 %d %s\n" % (server.port, token),
          "one line: the server's host and port, and the token")
check(first.stop() == 0, "the client exits 0")

# A later run names only the server: the key it kept does the rest.
server.job("more", blend, 1, 3)
second = Client(server.port, os.path.join(top, "work2"), conf, env=env)
check(wait_for(lambda: "rendering complete" in server.joblog("more"),
               4 * PATIENCE), "a run without --join renders over TLS too")
check("--join" not in " ".join(second.argv), "with no token on its command "
      "line")
check(all(h == ["alice#%d" % second.proc.pid]
          for h in frames_received(server.joblog("more")).values()),
      "as alice again")

# Revoking the key: the line goes from the keys file.
mark = server.log_size()
with open(keys, "w") as f:
    f.write("")
began = time.monotonic()
check(wait_for(lambda: "its key was revoked" in server.log_since(mark),
               PATIENCE), "removing the key cuts the client's connection")
elapsed = time.monotonic() - began
print("revoked key to cut connection: %.2f s" % elapsed)
check(elapsed < 10, "within seconds (about one on an idle machine)")
check(wait_for(lambda: re.search(r"no key is named alice",
                                 server.log_since(mark)), PATIENCE),
      "and the key no longer lets it in")
check(second.stop() == 0, "the client still exits 0")
check(server.stop() == 0 and server.sanitizer_report() is None,
      "the server exits 0 with no sanitizer report")
server.cleanup()
