#!/usr/bin/env python3
# Nothing for strangers: a plain-text peer from outside plain_allow is
# told why in one line and closed; a TLS peer with an unknown name or a
# wrong key fails the handshake and is handed nothing, and a bdfarm client
# with a wrong key renders nothing; a client that holds a key refuses a
# server that cannot prove it holds it (here one that speaks plain text,
# as a man in the middle would) and sends it not a word; and a TLS peer
# goes by its key's name whatever its HELO says, while a plain peer may
# not take a key's name.

import os
import re
import signal

from bdfarmtest import ConnectionClosed
from clienttest import PATIENCE, Client, fake_blend, holds, scratch, wait_for
from farmclient import (OLD_COMMANDS, check, client_config, farm,
                        write_fake_config)
from oldserver import OldServer
from tlstest import client_env, invite, key_of, s_client

top = scratch()
server = farm(plain_allow="10.0.0.0/8, 192.168.0.0/16")
blend, _ = server.blend("scene.blend", size=2000)
server.job("demo", blend, 1, 5)
_, token = invite(server, "alice")
wrong = "0" * 64 if key_of(token) != "0" * 64 else "1" * 64

# Plain text from loopback, outside plain_allow here.
with server.client() as c:
    c.send_line("HELO old.example")
    line = c.read_line()
    check(line.startswith("REFUSED ") and "plain text" in line,
          "a plain peer from elsewhere is told why (%r)" % line)
    try:
        c.read_line()
        closed = False
    except ConnectionClosed:
        closed = True
    check(closed, "and the connection is closed")
check(re.search(r"127\.0\.0\.1: refused: plain text", server.log()),
      "the server logs the refusal")

# A scripted TLS peer: the right key, a HELO that names another host.
got = s_client(server.port, "alice", key_of(token),
               ["HELO mallory.example bdfarm/2 77", "REQUESTJOB 1"],
               wait_for=b"scene.blend")
check(re.search(r"^scene\.blend [0-9a-f]{32} 1\r$", got, re.M),
      "a TLS peer with the right key is served (%r)" % got[-80:])
check(wait_for(lambda: "frame 1 handed out to alice#77" in
               server.joblog("demo"), PATIENCE),
      "as alice#77, the key's name, not the host its HELO named")
check("mallory" not in server.joblog("demo"), "mallory is nowhere")

# The wrong key under a known name, and an unknown name.
mark = server.log_size()
got = s_client(server.port, "alice", wrong, ["HELO x.example", "REQUESTJOB 1"])
check(got == "", "a wrong key gets not a byte of the protocol")
got = s_client(server.port, "bob", key_of(token),
               ["HELO x.example", "REQUESTJOB 1"])
check(got == "", "nor does an unknown name")
check(wait_for(lambda: "no key is named bob" in server.log_since(mark),
               PATIENCE), "the server logs the unknown name")

# A bdfarm client that joined with a wrong key.
fake = write_fake_config(os.path.join(top, "fake.json"),
                         log=os.path.join(top, "runs.log"))
conf = client_config(top)
bad = Client(server.port, os.path.join(top, "bad"), conf,
             args=["--join", "alice:" + wrong],
             env=client_env(FAKE_BLENDER_CONFIG=fake))
check(wait_for(lambda: bad.log().count("did not prove that it holds the "
                                       "key alice") >= 2, 2 * PATIENCE),
      "the client refuses the server, again on the next try")
handed = server.joblog("demo").count("handed out")
check(handed == 1, "the server handed the client no frame")
check(not os.path.exists(os.path.join(top, "runs.log")),
      "and the client ran nothing")
check(bad.stop() == 0, "the client exits 0")

# A client that holds a key, and a server in its place that cannot prove
# it has the key: the client says nothing to it.
old = OldServer(fake_blend(top), 1, 2, os.path.join(top, "oldrender"),
                ext="bdfarm/1").start()
joined = Client(old.port, os.path.join(top, "joined"), conf,
                args=["--join", token],
                env=client_env(FAKE_BLENDER_CONFIG=fake))
check(wait_for(lambda: "did not prove" in joined.log(), 2 * PATIENCE),
      "a client with a key refuses a plain-text server")
# The old server takes the client's TLS hello for a line or two of noise.
# The client tries again every second or two (retry_min, retry_max), so
# two seconds see at least one more try.
check(holds(lambda: not any(c.split()[:1] and c.split()[0] in OLD_COMMANDS
                            for c in old.commands), 2),
      "it sent that server no request")
check(not os.path.exists(os.path.join(top, "runs.log")),
      "and rendered nothing")
check(joined.stop() == 0, "the client exits 0")
old.close()

# plain_allow read again on SIGHUP: loopback may speak plain text now, but
# not under the name of a key, whose frames it could then hold or return.
mark = server.log_size()
server.write_conf(plain_allow="127.0.0.0/8")
server.signal(signal.SIGHUP)
server.wait_log(r"settings read again", since=mark)
with server.client() as c:
    check(c.helo("lan.example")[1] in ("0", "1"),
          "plain text from a newly allowed address is served")
with server.client() as c:
    c.send_line("HELO alice bdfarm/2 9")
    try:
        c.read_line()
        closed = False
    except ConnectionClosed:
        closed = True
    check(closed, "but a plain peer may not go by a key's name")
check(server.stop() == 0 and server.sanitizer_report() is None,
      "the server exits 0 with no sanitizer report")
server.cleanup()
