#!/usr/bin/env python3
# End to end with real Blender: a scene that needs textures by absolute
# and relative path, an image sequence and a linked library with its own
# texture (tests/deps-scene.py), rendered by a bdfarm client that cannot
# see the farm owner's files: it runs in a mount namespace of its own with
# an empty tmpfs over the assets folder. Every frame is decoded and each
# region's pixels checked against the texture it shows. Then a second job
# whose .blend, gzip-compressed, shares the textures: the client fetches
# only that .blend.
# Then a scene whose texture is missing on the server: the job names it,
# and its frame fails on the client with the file named.
# Skipped (77) only when blender is not installed.

import gzip
import json
import os
import re
import shutil
import subprocess
import sys

from bmpcheck import check_frame
from clienttest import BDFARM, real_blender, scratch, wait_for
from farmclient import check, client_config, farm, frames_received

RENDER_WAIT = 600

blender = real_blender()
top = scratch()
scene_dir = os.path.join(top, "scene")


def build(outdir, *options):
    script = os.path.join(os.environ.get("BDFARM_SRCDIR", "."), "tests",
                          "deps-scene.py")
    r = subprocess.run([blender, "-b", "--factory-startup",
                        "--python-exit-code", "1", "--python", script,
                        "--", outdir] + list(options),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=300)
    check(r.returncode == 0, "deps-scene.py built the scene:\n%s"
          % r.stdout.decode()[-2000:])
    with open(os.path.join(outdir, "expect.json")) as f:
        return json.load(f)


expect = build(scene_dir)
assets = os.path.join(scene_dir, "assets")
scene = os.path.join(assets, "proj", "scene.blend")


class HiddenClient:
    """`bdfarm --client` with real Blender in a mount namespace in which
    the assets folder is an empty tmpfs."""

    def __init__(self, port, workdir, config):
        self.logpath = workdir + ".log"
        self.logfile = open(self.logpath, "wb")
        argv = ["unshare", "--mount", "sh", "-c",
                'mount -t tmpfs none "$0" && exec "$@"', assets,
                BDFARM, "--client", "--config", config, "--workdir",
                workdir, "--blender", blender, "-v", "127.0.0.1", str(port)]
        self.proc = subprocess.Popen(argv, stdout=self.logfile,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


server = farm(client_timeout=30)
conf = client_config(top, batch_frames=2, heartbeat_interval=2)
client = HiddenClient(server.port, os.path.join(top, "work"), conf)
try:
    # The whole scene, four frames, from the client's copies.
    server.job("deps", scene, 1, 4)
    check(wait_for(lambda: "rendering complete" in server.joblog("deps"),
                   RENDER_WAIT, step=0.5),
          "the client rendered the job (client log:\n%s)"
          % client.log()[-3000:])
    folder = server.framedir("deps")
    names = sorted(os.listdir(folder))
    check(names == ["%04d.bmp" % n for n in range(1, 5)],
          "the frames are stored as 0001.bmp to 0004.bmp (%r)" % names)
    wrong = []
    for n in range(1, 5):
        wrong += check_frame(os.path.join(folder, "%04d.bmp" % n), expect,
                             n)
    check(not wrong, "every region shows its texture:\n%s"
          % "\n".join(wrong))
    check("missing" not in server.joblog("deps"),
          "nothing was missing:\n%s" % server.joblog("deps"))
    sent = client.log()

    # A second .blend beside the first, the same scene compressed as
    # Blender before 3.0 did (gzip), needs the same textures: only the
    # .blend travels.
    second = os.path.join(assets, "proj", "second.blend")
    with open(scene, "rb") as f, open(second, "wb") as out:
        out.write(gzip.compress(f.read()))
    server.job("second", second, 2, 2)
    check(wait_for(lambda: "rendering complete" in
                   server.joblog("second"), RENDER_WAIT, step=0.5),
          "the second job was rendered")
    wrong = check_frame(os.path.join(server.framedir("second"),
                                     "0002.bmp"), expect, 2)
    check(not wrong, "the second job's frame is right:\n%s"
          % "\n".join(wrong))
    first = [line for line in sent.splitlines() if "fetched" in line]
    check(len(first) == len(expect["files"]),
          "for the first job each file it needs was fetched once: %r"
          % first)
    later = [line for line in client.log()[len(sent):].splitlines()
             if "fetched" in line]
    check(not later, "for the second job no file but its .blend was "
          "fetched: %r" % later)
    received = frames_received(server.joblog("deps"))
    check(sorted(received) == [1, 2, 3, 4], "each frame arrived once")

    # A texture missing on the server: the job says which, and the
    # frame fails on the client, naming it.
    broken_dir = os.path.join(top, "broken")
    shutil.copytree(scene_dir, broken_dir)
    gone = os.path.join(broken_dir, "assets", "proj", "tex", "rel.png")
    os.unlink(gone)
    server.job("broken", os.path.join(broken_dir, "assets", "proj",
                                      "scene.blend"), 1, 1)
    check(wait_for(lambda: "missing on the server: " + gone in
                   server.joblog("broken"), 60, step=0.5),
          "the job log names the texture missing on the server:\n%s"
          % server.joblog("broken"))
    check(wait_for(lambda: "failed on" in server.joblog("broken"),
                   RENDER_WAIT, step=0.5),
          "the frame failed on the client")
    failed = [line for line in server.joblog("broken").splitlines()
              if "failed on" in line]
    check("missing files: " + gone in failed[0],
          "the failure names the missing texture by its path on the "
          "server: %r" % failed[0])
    check(re.search(r"frame 1 on \S+: missing " + re.escape(gone),
                    server.joblog("broken")),
          "the job log names the file the client missed:\n%s"
          % server.joblog("broken"))
    check(not os.path.exists(server.framedir("broken")) or
          not os.listdir(server.framedir("broken")),
          "no frame with a missing texture was stored")
except BaseException:
    print("--- client log")
    print(client.log()[-4000:])
    raise
finally:
    client.stop()
    server.stop()
print("ok")
sys.exit(0)
