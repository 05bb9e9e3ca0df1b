#!/usr/bin/env python3
# Version 3 of the extension, with a scripted bdfarm/3 server: a client
# fetches the list of files a job's scene needs and each file once, keeps
# them in its cache for later jobs, and renders from a scene folder of its
# own where every file sits at its path on the server (BDFARM_ROOT). A
# file missing on the server is not asked for. When Blender says a file
# is missing, the frames fail naming it and the server hears MISSING,
# unless the job allows missing files. A file the server refuses three
# times, a path that would leave the scene folder, and a .blend the
# server has no list for fail the frames. A bdfarm/2 server hears nothing
# of it: a missing file is only logged. A file a rendering frame needs is
# not removed as idle.

import os

from clienttest import (BDFARM, Client, blender_runs, check, holds, scratch,
                        wait_for, write_config, write_fake_config)
from oldserver import md5_of
from v3server import V3Server

top = scratch()
with open(BDFARM, "rb") as f:
    own = f.read()                  # the server's program: no update


def blend_file(name, tag):
    """A stand-in .blend of its own bytes."""
    path = os.path.join(top, name)
    with open(path, "wb") as f:
        f.write(b"BLENDER-v304 fake scene %s\n" % tag.encode() * 50)
    return path


def failures_of(server, frames, words):
    return [r for fr, r, _ in server.failures if fr in frames and words in r]


def runs_of(runlog, name):
    return [r for r in blender_runs(runlog)
            if r["argv"][r["argv"].index("-b") + 1].endswith(name)]


texture = b"wood grain " * 3000
fluid = b"fluid cache " * 500
runlog = os.path.join(top, "runs.log")
wood_path = "/proj/tex/wood.png"
fluid_path = "/proj/cache/sub dir/fluid.bin"
empty_path = "/proj/empty.txt"
fake = os.path.join(top, "fake.json")
write_fake_config(fake, log=runlog, check=[wood_path, fluid_path,
                                           empty_path])
# A warm Blender keeps its scene folder until it has been idle a second.
conf = write_config(os.path.join(top, "v3.conf"), heartbeat_interval=1,
                    none_wait=60, batch_frames=2, warm_idle=1)

# (a) and (c): a scene with a texture, a file in a sub-folder, an empty
# file and a file the server does not have.
one = blend_file("one.blend", "one")
server = V3Server(one, 1, 4, os.path.join(top, "render"), program=own,
                  server_path="/proj/one.blend",
                  files=[(wood_path, texture), (fluid_path, fluid),
                         (empty_path, b""),
                         ("/proj/tex/gone.png", None),
                         # Written on Windows: missing, and not laid out.
                         ("C:\\tex\\..\\old.png", None)]).start()
workdir = os.path.join(top, "work")
client = Client(server.port, workdir, conf, env={"FAKE_BLENDER_CONFIG": fake})
check(wait_for(server.complete, 60), "the first job is complete")
check(server.connections[0][0].split()[2] == "bdfarm/4",
      "the client greets with bdfarm/4")
check(server.requests_for(texture) == 1 and server.requests_for(fluid) == 1
      and server.requests_for(b"") == 1, "each file was fetched once")
check(len(server.file_requests) == 3,
      "the file missing on the server was not asked for")
check(server.list_requests == [("one.blend", md5_of(open(one, "rb").read()))],
      "the list was asked for once, after the .blend")
runs = runs_of(runlog, "one.blend")
check(runs and all(r["root"] and r["root"].startswith(
    os.path.join(workdir, "render", "t")) for r in runs),
      "Blender runs with BDFARM_ROOT set to a scene folder in the work "
      "directory")
check(all(r["argv"][r["argv"].index("-b") + 1] == r["root"] +
          "/proj/one.blend" for r in runs),
      "Blender opens the .blend at its server path in that folder")
check(all(r["argv"][r["argv"].index("-b") + 2] == "--python" for r in runs),
      "the prelude comes right after the .blend")
check(all(r["checked"] == {wood_path: md5_of(texture),
                           fluid_path: md5_of(fluid),
                           empty_path: md5_of(b"")} for r in runs),
      "the texture, the file in a sub-folder and the empty file are there "
      "with their bytes")
log = client.log()
check("fetching 3 files" in log and "fetched wood.png" in log,
      "the log says what is fetched")
check(log.count("/proj/tex/gone.png is missing on the server") == 1,
      "the file missing on the server is logged once")
check("C:\\tex\\..\\old.png is missing on the server" in log,
      "a missing file's path from another system is only logged")
check(wait_for(lambda: not [d for d in os.listdir(os.path.join(workdir,
                                                               "render"))
                            if d.startswith("t")], 20),
      "every scene folder is removed once its run ends")

# (b): another .blend that shares the texture.
two = blend_file("two.blend", "two")
write_fake_config(fake, log=runlog, check=["/other/wood.png"])
server.set_job(two, 11, 12, server_path="/other/two.blend",
               files=[("/other/wood.png", texture)])
check(wait_for(server.complete, 60), "the second job is complete")
check(server.requests_for(texture) == 1,
      "the shared texture was not fetched again")
runs = runs_of(runlog, "two.blend")
check(runs and all(r["checked"] == {"/other/wood.png": md5_of(texture)}
                   for r in runs),
      "the second scene finds the texture at its own server path")

# (d): Blender cannot find a file; the job does not allow it.
three = blend_file("three.blend", "three")
write_fake_config(fake, log=runlog, print=[
    "Warning: Path '/proj/tex/lost.png' not found"])
server.set_job(three, 21, 22, files=[(wood_path, texture)])
check(wait_for(lambda: failures_of(server, (21, 22),
                                   "missing files: /proj/tex/lost.png"), 60),
      "a frame rendered with a file missing is reported FAILED naming it")
check(wait_for(lambda: any(fr in (21, 22) and p == "/proj/tex/lost.png"
                           for b, fr, p in server.missing), 10),
      "and the server heard MISSING for it")
check(not any(fr in (21, 22) for fr, h, i in server.received),
      "no frame of that job was sent")

# (d): the same, in a job that allows missing files.
four = blend_file("four.blend", "four")
server.set_job(four, 31, 32, files=[(wood_path, texture)],
               allow_missing=True)
check(wait_for(server.complete, 60),
      "with allow-missing, the frames are sent all the same")
check(not any(fr in (31, 32) for b, fr, p in server.missing),
      "and no MISSING is sent for them")
check("the job allows missing files" in client.log(),
      "the missing file is logged")

# (e): the server refuses a file three times.
five = blend_file("five.blend", "five")
refused = b"changed on the server " * 10
write_fake_config(fake, log=runlog)
server.set_job(five, 41, 42, files=[("/proj/tex/refused.png", refused)])
server.refuse.add(md5_of(refused))
check(wait_for(lambda: failures_of(server, (41, 42), "the server cannot "
                                   "send /proj/tex/refused.png"), 60),
      "after three refusals the frames fail, naming the file")
with server.lock:
    lines = list(server.commands)
first_failure = next(i for i, l in enumerate(lines)
                     if l.startswith("FAILED five.blend"))
asked = [l for l in lines[:first_failure]
         if l.startswith("REQUESTFILE ") and l.split()[3] == md5_of(refused)]
check(len(asked) == 3, "the file was asked for three times before giving "
      "up (%d)" % len(asked))
check(not runs_of(runlog, "five.blend"), "that scene was never rendered")

# (f): a path that would leave the scene folder.
six = blend_file("six.blend", "six")
bad = b"outside " * 10
server.set_job(six, 51, 52, files=[("/proj/../etc/bad.png", bad)])
check(wait_for(lambda: failures_of(server, (51, 52), "unsafe path"), 60),
      "a path with /../ is refused and the frames fail")
check(server.requests_for(bad) == 0 and not runs_of(runlog, "six.blend"),
      "that file was not fetched and the scene was not rendered")

# A .blend the server has no list for (NOK to REQUESTFILES).
seven = blend_file("seven.blend", "seven")
server.set_job(seven, 61, 62)
check(wait_for(lambda: failures_of(server, (61, 62), "lists no files"), 60),
      "a .blend without a list fails its frames")
check(not runs_of(runlog, "seven.blend"), "that scene was not rendered")
check(client.stop() == 0, "the client exits 0 on SIGTERM")
server.close()

# A bdfarm/2 server: no list is asked for, and a file Blender misses is
# only logged, for the server has no way to hear of it.
write_fake_config(fake, log=runlog, print=[
    "Warning: Path '/proj/tex/lost.png' not found"])
server = V3Server(one, 1, 2, os.path.join(top, "render2"), program=own,
                  version=2, files=[(wood_path, texture)]).start()
client = Client(server.port, os.path.join(top, "work2"), conf,
                env={"FAKE_BLENDER_CONFIG": fake})
check(wait_for(server.complete, 60),
      "with a bdfarm/2 server the frames are sent despite the missing file")
check(not any(l.split()[0] in ("REQUESTFILES", "REQUESTFILE", "MISSING")
              for l in server.commands),
      "nothing of version 3 is sent to it")
check("Blender cannot find /proj/tex/lost.png" in client.log(),
      "the missing file is logged as a warning")
check(not server.failures, "no frame was reported as failed")
check(client.stop() == 0, "the client exits 0 on SIGTERM")
server.close()

# A file the scene of a rendering frame needs is in use: idle expiry keeps
# it for as long as the frame renders, and removes it once nothing needs
# it, which shows that expiry was at work all along.
write_fake_config(fake, log=runlog, delay=5)
idle = write_config(os.path.join(top, "idle.conf"), heartbeat_interval=1,
                    none_wait=60, cache_idle=1)
server = V3Server(one, 1, 1, os.path.join(top, "render3"), program=own,
                  files=[(wood_path, texture)]).start()
workdir = os.path.join(top, "work3")
copy = os.path.join(workdir, "cache", md5_of(texture))
client = Client(server.port, workdir, idle, env={"FAKE_BLENDER_CONFIG": fake})
check(wait_for(lambda: "rendering frame 1 of one.blend" in client.log(), 30),
      "a frame that needs the texture renders")
# The copy is a second old after one, and expiry looks every second.
check(holds(lambda: os.path.exists(copy) and not server.complete(), 3),
      "its cached copy is kept while the frame renders")
check(wait_for(server.complete, 30), "the frame arrives")
check(wait_for(lambda: not os.path.exists(copy), 20),
      "once nothing needs it, the idle copy is removed")
check(client.stop() == 0, "the client exits 0 on SIGTERM")
server.close()
