#!/usr/bin/env python3
# Version 2 of the extension, with a scripted bdfarm/2 server: a client
# that ends gives back (RETURN) every frame it will not deliver before its
# GOODBYE. On STOPPING it gives back the frames it has not started, and a
# JOB that comes right behind STOPPING, and sends the frame it was
# rendering; on SIGTERM it gives back every frame; before it runs a new
# program it gives back the frames it has not started. With a server that
# answers bdfarm/1, nothing of this is said.

import os

from clienttest import (BDFARM, Client, blender_runs, check, fake_blend,
                        scratch, wait_for, write_config, write_fake_config)
from tlstest import TlsFront, client_env
from v2server import V2Server

top = scratch()
blend = fake_blend(top)
with open(BDFARM, "rb") as f:
    own = f.read()                  # the server's program: no update
# Which frame a run renders is read from its -f argument: Blender per
# batch.
conf = write_config(os.path.join(top, "bdfarm.conf"), heartbeat_interval=1,
                    none_wait=60, batch_frames=1, fresh_blender=True)


def returns(lines):
    return [int(l.split()[3]) for l in lines if l.startswith("RETURN ")]


def start(name, version=2, program=own, delay=2, tls=False):
    """A scripted server of that version with a job of 8 frames (behind
    TLS with a key the client joins with if tls), and a client that
    renders one frame at a time and holds up to three more; returns them
    once it renders a frame and holds three."""
    runlog = os.path.join(top, name + ".runs")
    fake = write_fake_config(os.path.join(top, name + ".json"), log=runlog,
                             delay=delay)
    server = V2Server(blend, 1, 8, os.path.join(top, name + "-render"),
                      version=version, program=program).start()
    port, args = server.port, ["--prefetch", "3"]
    if tls:
        front = TlsFront(server.port)
        port, args = front.port, args + ["--join", front.token]
    client = Client(port, os.path.join(top, name), conf, args=args,
                    env=client_env(FAKE_BLENDER_CONFIG=fake))
    check(wait_for(lambda: len(server.handed) >= 4 and blender_runs(runlog),
                   20), "%s: the client renders a frame and holds three"
          % name)
    return server, client, runlog


def said_goodbye(server):
    """The lines of the connection that ended with GOODBYE, waiting for
    it a while (a busy machine may be slow to read the last line), or
    None."""
    def found():
        return next((c for c in reversed(server.connections)
                     if c[-1:] == ["GOODBYE"]), None)
    wait_for(lambda: found() is not None, 30)
    return found()


def rendering(runlog):
    argv = blender_runs(runlog)[-1]["argv"]
    return int(argv[argv.index("-f") + 1])


# STOPPING, with a JOB right behind it.
server, client, runlog = start("stopping")
busy = rendering(runlog)
late = server.stop_clients(then_job=True)
check(client.wait(30) == 0, "after STOPPING the client exits 0")
lines = said_goodbye(server)
check(lines is not None, "it said GOODBYE (connections: %r)"
      % server.connections)
given = returns(lines)
print("given back: %r" % given)
first = next((i for i, l in enumerate(lines) if l.startswith("RETURN")),
             len(lines))
asked = [l for l in lines[first:] if l.split()[0] in ("WAITJOB", "HOLD")]
check(given and not asked,
      "after STOPPING it gave frames back and asked for nothing more (%r)"
      % asked)
held = set(server.handouts[0]) - {late}
check(sorted(given) == sorted(held - {f for f, h, i in server.received}
                              | {late}),
      "it gave back every frame it had not started, and the late one")
check(busy in server.done and busy not in given,
      "the frame it was rendering was finished and sent")
check(all(f not in given for f, h, i in server.received),
      "no frame it delivered was given back")
server.close()

# SIGTERM: every frame goes back.
server, client, runlog = start("signal", delay=30)
held = set(server.handouts[0]) - {f for f, h, i in server.received}
check(client.stop() == 0, "the client exits 0 on SIGTERM")
lines = said_goodbye(server)
check(lines is not None, "it said GOODBYE (connections: %r)"
      % server.connections)
given = returns(lines)
print("given back: %r" % given)
check(sorted(given) == sorted(held),
      "it gave back every frame it held, the one rendering included")
check(lines[-len(given) - 1:-1] == [l for l in lines if
                                    l.startswith("RETURN")],
      "right before GOODBYE")
server.close()

# A new program (only ever taken over TLS): the frames not started go
# back before it takes over.
server, client, runlog = start("update", tls=True)
server.program = own + b"\0new"
server.drop()
check(wait_for(lambda: "running the new program" in client.log(), 30),
      "the client fetched the server's new program and ran it")
lines = server.connections[1]
given = returns(lines)
print("given back: %r" % given)
check(given and "REQUESTBLENDERDIST" in lines and
      lines.index("REQUESTBLENDERDIST") <
      min(i for i, l in enumerate(lines) if l.startswith("RETURN")),
      "it gave frames back once it had the new program")
check(set(given).isdisjoint(f for f, h, i in server.received),
      "no frame it delivered was given back")
check(wait_for(server.complete, 60), "the new program finished the job")
check(client.stop() == 0, "the updated client exits 0 on SIGTERM")
server.close()

# A server that answers bdfarm/1: none of this.
server, client, runlog = start("one", version=1)
server.drop()
check(wait_for(lambda: len(server.connections) >= 2 and
               server.connections[1][1:2] and
               server.connections[1][1].startswith("FACTS "), 20),
      "the client connected again and carried on")
check(wait_for(lambda: "got frame" in client.log(), 10), "it renders")
check(client.stop() == 0, "the client exits 0 on SIGTERM")
# The client has sent its last line when it exits; the scripted server
# may read it a moment later on a busy machine.
check(wait_for(lambda: server.commands[-1:] == ["GOODBYE"], 30),
      "it said GOODBYE (last lines: %r)" % server.commands[-5:])
lines = server.commands
check(not [l for l in lines if l.split()[0] in ("HOLD", "HELD", "RETURN")],
      "no HOLD, HELD nor RETURN went to a bdfarm/1 server")
server.close()
