#!/usr/bin/env python3
# Self-update: only from a server that answers HELO with bdfarm/1 and
# proved over TLS that it holds the client's key, only with auto-updates
# on, and only an ELF executable for this machine. A Python script or a
# program for another machine is refused (and not asked for again); a real
# one is installed in the work directory and run with the same arguments
# once the renders end, and it then renders the job. Over plain text the
# client never asks for the server's program.

import os

from clienttest import (BDFARM, PATIENCE, Client, check, fake_blend, scratch,
                        wait_for, write_config, write_fake_config)
from oldserver import OLD_PROGRAM, OldServer
from tlstest import TlsFront, client_env

top = scratch()
blend = fake_blend(top, 1)
fakecfg = write_fake_config(os.path.join(top, "fake.json"), delay=0.02)
conf = write_config(os.path.join(top, "bdfarm.conf"))
with open(BDFARM, "rb") as f:
    own = f.read()
foreign = bytearray(own)
foreign[18] ^= 0x7f                 # e_machine: another architecture


def scenario(name, program, args=(), tls=True):
    """A scripted bdfarm/1 server offering program, behind TLS with a key
    the client joins with unless tls is false, and a client of it."""
    server = OldServer(blend, 1, 3, os.path.join(top, name, "render"),
                       program=program, ext="bdfarm/1").start()
    port = server.port
    if tls:
        server.front = TlsFront(server.port)
        port = server.front.port
        args = list(args) + ["--join", server.front.token]
    workdir = os.path.join(top, name, "work")
    client = Client(port, workdir, conf, args=args,
                    env=client_env(FAKE_BLENDER_CONFIG=fakecfg))
    client.port = port
    done = wait_for(server.complete, 4 * PATIENCE)
    asked = sum(1 for c in server.commands if c == "REQUESTBLENDERDIST")
    installed = os.path.exists(os.path.join(workdir, "bdfarm"))
    return server, client, done, asked, installed


server, client, done, asked, installed = scenario("script", OLD_PROGRAM)
check(done, "a script from a bdfarm server: the job is still rendered")
check(asked == 1 and not installed and
      "not an ELF program" in client.log(),
      "the script was asked for once, refused and not installed")
check(client.stop() == 0, "the client exits 0")
server.close()

server, client, done, asked, installed = scenario("foreign", bytes(foreign))
check(done and asked == 1 and not installed and
      "another kind of machine" in client.log(),
      "a program for another machine is refused")
check(client.stop() == 0, "the client exits 0")
server.close()

server, client, done, asked, installed = scenario(
    "off", own + b"\0new", args=["--no-auto-updates"])
check(done and asked == 0 and not installed,
      "with --no-auto-updates the client never asks for the program")
check(client.stop() == 0, "the client exits 0")
server.close()

server, client, done, asked, installed = scenario("plain", own + b"\0new",
                                                  tls=False)
check(done and asked == 0 and not installed and
      "updates itself only from a server that proves its key" in
      client.log(), "over plain text the client never asks for the program")
check(client.stop() == 0, "the client exits 0")
server.close()

server, client, done, asked, installed = scenario("new", own + b"\0new")
check(done, "with a new program offered, the job is rendered")
check(asked == 1 and installed, "the new program was fetched and installed")
exe = os.path.join(top, "new", "work", "bdfarm")
check(wait_for(lambda: "running the new program" in client.log(), PATIENCE),
      "the client ran the new program")
check(wait_for(lambda: os.path.realpath("/proc/%d/exe" % client.proc.pid) ==
               os.path.realpath(exe), PATIENCE),
      "the same process now runs the installed program")
check(wait_for(lambda: client.log().count("rendering for 127.0.0.1 port %d "
                                          "with 1 renderer" % client.port)
               == 2, PATIENCE), "it started again with the same arguments")
check(sum(1 for c in server.commands if c == "REQUESTBLENDERDIST") == 1,
      "the new program does not ask for itself again")
check(client.stop() == 0, "the updated client exits 0 on SIGTERM")
server.close()
