# blender-warm.py: the loop of a warm Blender on a render client, run
# after the .blend is loaded and the prelude has run:
#
#   BDFARM_FRAMES=FD blender --disable-autoexec -b scene.blend \
#       --python prelude.py --python warm.py -- OUT/####
#
# It says "bdfarm: warm ready", then reads frame numbers, one a line, from
# the pipe FD, and renders each as "-o OUT/#### -f N" would: the frame set,
# the scene rendered and written where the output pattern says. After each
# frame it says "bdfarm: frame N done PATH" or "bdfarm: frame N failed
# REASON". The end of the pipe ends the loop, and Blender quits.

import os
import sys

import bpy


def say(line):
    """A line of its own on Blender's output, after whatever is pending."""
    sys.stdout.flush()
    sys.stdout.write("\nbdfarm: " + line + "\n")
    sys.stdout.flush()


def render(scene, pattern, frame):
    """Render one frame; the path written, or raise with the reason."""
    # A still is written to the output path as it is, with no frame
    # number put in: give it the name the pattern makes for this frame.
    scene.render.filepath = pattern
    path = scene.render.frame_path(frame=frame)
    scene.render.filepath = path
    scene.frame_set(frame)
    if os.path.exists(path):
        os.unlink(path)
    result = bpy.ops.render.render(write_still=True, scene=scene.name)
    if "FINISHED" not in result:
        raise RuntimeError("render %s" % ", ".join(sorted(result)).lower())
    if not os.path.isfile(path):
        raise RuntimeError("no file written")
    return path


def frames(fd):
    """The frame numbers read from fd, until its end."""
    pending = b""
    while True:
        data = os.read(fd, 4096)
        if not data:
            return
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            yield line.decode("ascii", "replace").strip()


def main():
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    fd = int(os.environ.get("BDFARM_FRAMES", "-1"))
    if len(argv) != 1 or fd < 0:
        say("warm failed no output pattern or frame pipe")
        return
    scene = bpy.context.scene
    say("warm ready")
    for text in frames(fd):
        try:
            frame = int(text)
        except ValueError:
            continue
        try:
            path = render(scene, argv[0], frame)
        except Exception as e:
            reason = " ".join(str(e).split()) or type(e).__name__
            say("frame %d failed %s" % (frame, reason))
        else:
            say("frame %d done %s" % (frame, path))


main()
