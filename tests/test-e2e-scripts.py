#!/usr/bin/env python3
# End to end with real Blender: a scene that carries a script Blender runs
# when it loads the file (a registered text block) renders on a machine
# whose owner let Blender run such scripts (Auto Run Python Scripts in the
# preferences), and the script does not run, since the client passes
# --disable-autoexec; with allow_scripts = true it does. Skipped (77) only
# when blender is not installed.

import os
import subprocess

from clienttest import (SRCDIR, Client, check, png_size, real_blender,
                        scratch, wait_for, write_config)
from oldserver import OldServer

# Real Blender starts and renders slowly on a busy machine.
RENDER_WAIT = 600

blender = real_blender()
top = scratch()
marker = os.path.join(top, "the-scene-ran-code")


def blender_run(*args, env=None):
    subprocess.run([blender, "-b", "--factory-startup", "--python-exit-code",
                    "1"] + list(args),
                   check=True, timeout=600, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# The machine owner's preferences, in a folder of their own: scripts on.
prefs = dict(os.environ, BLENDER_USER_CONFIG=os.path.join(top, "config"))
blender_run("--python-expr",
            "import bpy\n"
            "bpy.context.preferences.filepaths.use_scripts_auto_execute = "
            "True\n"
            "bpy.ops.wm.save_userpref()\n", env=prefs)

# The demo scene with one frame and a text block that runs on load.
scene = os.path.join(top, "scripted.blend")
blender_run("--python", os.path.join(SRCDIR, "data", "demo-scene.py"),
            "--python-expr",
            "import bpy\n"
            "t = bpy.data.texts.new('marker.py')\n"
            "t.write(%r)\n"
            "t.use_module = True\n"
            "bpy.ops.wm.save_mainfile()\n"
            % ("open(%r, 'w').close()\n" % marker),
            "--", scene, "--frames", "1")
check(not os.path.exists(marker), "building the scene ran nothing")


def render(name, **settings):
    """Render the scene's frame with one client."""
    conf = write_config(os.path.join(top, name + ".conf"), **settings)
    server = OldServer(scene, 1, 1, os.path.join(top, name + "-render")) \
        .start()
    client = Client(server.port, os.path.join(top, name), conf,
                    blender=blender, env=prefs)
    check(wait_for(server.complete, RENDER_WAIT, step=0.5),
          "%s: the frame was rendered" % name)
    image = os.path.join(top, name + "-render", "demo.job", "0001.png")
    check(png_size(image) == (160, 90), "%s: it is a valid PNG" % name)
    check(client.stop() == 0, "%s: the client exits 0 on SIGTERM" % name)
    server.close()


render("default")
check(not os.path.exists(marker),
      "by default the scene's script did not run")

render("allowed", allow_scripts=True)
check(os.path.exists(marker),
      "with allow_scripts = true and Blender's preference on, it ran")
