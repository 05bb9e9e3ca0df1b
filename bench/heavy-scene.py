# heavy-scene.py: turns bdfarm's demo scene into one that is slow to load
# but as quick to render, for bench-warm.py --scene heavy.
#
#   blender -b demo.blend --python bench/heavy-scene.py -- OUT.blend \
#       [--meshes N] [--side N]
#
# It opens a scene built by data/demo-scene.py, whose cube spinning over a
# floor is all that is rendered, and saves it as OUT.blend with a library
# of --meshes terrain meshes of about --side x --side vertices each, held
# by fake users and linked to no object: Blender reads and sets up every
# one of them when it opens the file, but no render ever evaluates them,
# as with a production file that carries its asset library along. The
# weight is in what is read, not in modifiers: Blender builds its render
# depsgraph afresh for every frame, so a warm Blender would pay those
# again each time. The file is saved compressed, at about a quarter of its
# raw 1.6 GB, so that it stays small on disk and over the farm's links;
# Blender opens it no slower than the raw file, for the time goes to
# setting up the meshes, not to reading or unpacking bytes.
#
# With the defaults, 12 meshes of 1000 x 1000 (12 million vertices), the
# file is about 420 MB, builds in about 30 s, and on a 2-core machine
# `blender -b heavy.blend -f 1` takes about 11 s against 3 to 4 s for the
# demo scene, while Blender renders each frame in about 0.1 s, as it does
# the demo's.

import argparse
import math
import sys
from array import array

import bpy


def heavy_arguments():
    """The options after Blender's own '--'."""
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    p = argparse.ArgumentParser(prog="heavy-scene.py")
    p.add_argument("output")
    p.add_argument("--meshes", type=int, default=12,
                   help="meshes kept in the file but never rendered")
    p.add_argument("--side", type=int, default=1000,
                   help="subdivisions of each side of those meshes")
    return p.parse_args(argv)


def heavy_grid(side):
    """A flat grid of about side x side vertices, 100 m across, used by no
    object."""
    bpy.ops.mesh.primitive_grid_add(x_subdivisions=side,
                                    y_subdivisions=side, size=100)
    obj = bpy.context.object
    mesh = obj.data
    bpy.data.objects.remove(obj, do_unlink=True)
    return mesh


def heavy_terrain(mesh, name, seed):
    """Raise rolling hills of its own on a copy of the flat grid mesh,
    kept by a fake user."""
    mesh.name = name
    co = array("f", bytes(12 * len(mesh.vertices)))
    mesh.vertices.foreach_get("co", co)
    fx, fy = 0.11 + 0.013 * seed, 0.07 + 0.009 * seed
    for k in range(2, len(co), 3):
        x, y = co[k - 2], co[k - 1]
        co[k] = (2 * math.sin(x * fx + seed) * math.cos(y * fy) +
                 0.3 * math.sin(x * 0.9 + y * 1.3))
    mesh.vertices.foreach_set("co", co)
    mesh.update()
    mesh.use_fake_user = True


def heavy_library(args):
    """The meshes that make the file slow to open. The grid operator is
    slow on large grids: it runs once, and the meshes are copies of its
    grid, each given hills of its own."""
    grid = heavy_grid(args.side)
    for n in range(args.meshes):
        mesh = grid.copy() if n < args.meshes - 1 else grid
        heavy_terrain(mesh, "terrain.%03d" % n, n)


def main():
    args = heavy_arguments()
    heavy_library(args)
    bpy.ops.wm.save_as_mainfile(filepath=args.output, compress=True)


main()
