# heavy-scene.py: builds a scene that is slow to load but quick to render,
# for bench-warm.py --scene heavy.
#
#   blender -b --factory-startup --python bench/heavy-scene.py -- OUT.blend \
#       [--frames N] [--samples N] [--size WxH] [--meshes N] [--side N]
#
# What is rendered is the demo scene (data/demo-scene.py): a cube spinning
# over a floor, Cycles on the CPU, denoising off, 160x90, a few samples,
# PNG output. Next to it, the file keeps a library of --meshes terrain
# meshes of about --side x --side vertices each, held by fake users and
# linked to no object: Blender reads and sets up every one of them when it
# opens the file, but no render ever evaluates them, as with a production
# file that carries its asset library along. The weight is in what is
# read, not in modifiers: Blender builds its render depsgraph afresh for
# every frame, so a warm Blender would pay those again each time. The file
# is saved compressed, at about a quarter of its raw 1.6 GB, so that it
# stays small on disk and over the farm's links; Blender opens it no
# slower than the raw file, for the time goes to setting up the meshes,
# not to reading or unpacking bytes.
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
    p.add_argument("--frames", type=int, default=24)
    p.add_argument("--samples", type=int, default=4)
    p.add_argument("--size", default="160x90")
    p.add_argument("--meshes", type=int, default=12,
                   help="meshes kept in the file but never rendered")
    p.add_argument("--side", type=int, default=1000,
                   help="subdivisions of each side of those meshes")
    return p.parse_args(argv)


def heavy_clear():
    """Remove everything the factory scene holds."""
    for obj in list(bpy.data.objects):
        bpy.data.objects.remove(obj, do_unlink=True)


def heavy_material(name, color):
    """A plain diffuse material."""
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    bsdf = mat.node_tree.nodes.get("Principled BSDF")
    bsdf.inputs["Base Color"].default_value = color
    return mat


def heavy_rendered(args):
    """The demo's cube spinning over a floor, a sun and a camera: all that
    is rendered."""
    scene = bpy.context.scene
    width, height = (int(v) for v in args.size.split("x"))

    bpy.ops.mesh.primitive_plane_add(size=20, location=(0, 0, 0))
    bpy.context.object.data.materials.append(
        heavy_material("floor", (0.8, 0.8, 0.8, 1)))
    bpy.ops.mesh.primitive_cube_add(size=2, location=(0, 0, 1))
    cube = bpy.context.object
    cube.data.materials.append(heavy_material("cube", (0.9, 0.3, 0.1, 1)))
    cube.rotation_euler = (0, 0, 0)
    cube.keyframe_insert("rotation_euler", frame=1)
    cube.rotation_euler = (0, 0, math.pi)
    cube.keyframe_insert("rotation_euler", frame=args.frames)

    bpy.ops.object.light_add(type="SUN", location=(4, -4, 8))
    bpy.context.object.data.energy = 4
    bpy.ops.object.camera_add(location=(7, -7, 5),
                              rotation=(math.radians(63), 0,
                                        math.radians(45)))
    scene.camera = bpy.context.object

    scene.frame_start = 1
    scene.frame_end = args.frames
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = args.samples
    scene.cycles.use_adaptive_sampling = False
    scene.cycles.use_denoising = False
    scene.cycles.use_preview_denoising = False
    scene.view_layers[0].cycles.denoising_store_passes = False
    scene.render.resolution_x = width
    scene.render.resolution_y = height
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGB"
    scene.render.filepath = "//frames/####"


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
    heavy_clear()
    heavy_rendered(args)
    heavy_library(args)
    bpy.ops.wm.save_as_mainfile(filepath=args.output, compress=True)


main()
