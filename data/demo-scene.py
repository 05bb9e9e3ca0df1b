# demo-scene.py: builds bdfarm's small animated demo scene.
#
#   blender -b --factory-startup --python data/demo-scene.py -- OUT.blend \
#       [--frames N] [--samples N] [--size WxH] [--denoise]
#
# Cycles on the CPU, denoising off, 160x90, a few samples, PNG output: a
# scene that renders in about a second a frame, for the README's demo and
# the end-to-end tests. --denoise turns denoising on, which a Blender built
# without OpenImageDenoise cannot do: it reports an error for every frame.

import argparse
import math
import sys

import bpy


def demo_arguments():
    """The options after Blender's own '--'."""
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    p = argparse.ArgumentParser(prog="demo-scene.py")
    p.add_argument("output")
    p.add_argument("--frames", type=int, default=24)
    p.add_argument("--samples", type=int, default=4)
    p.add_argument("--size", default="160x90")
    p.add_argument("--denoise", action="store_true")
    return p.parse_args(argv)


def demo_clear():
    """Remove everything the factory scene holds."""
    for obj in list(bpy.data.objects):
        bpy.data.objects.remove(obj, do_unlink=True)


def demo_material(name, color):
    """A plain diffuse material."""
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    bsdf = mat.node_tree.nodes.get("Principled BSDF")
    bsdf.inputs["Base Color"].default_value = color
    return mat


def demo_build(args):
    """A cube spinning over a floor, a sun and a camera."""
    scene = bpy.context.scene
    width, height = (int(v) for v in args.size.split("x"))

    bpy.ops.mesh.primitive_plane_add(size=20, location=(0, 0, 0))
    bpy.context.object.data.materials.append(
        demo_material("floor", (0.8, 0.8, 0.8, 1)))
    bpy.ops.mesh.primitive_cube_add(size=2, location=(0, 0, 1))
    cube = bpy.context.object
    cube.data.materials.append(demo_material("cube", (0.9, 0.3, 0.1, 1)))
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
    scene.cycles.use_denoising = args.denoise
    scene.cycles.use_preview_denoising = False
    scene.view_layers[0].cycles.denoising_store_passes = False
    scene.render.resolution_x = width
    scene.render.resolution_y = height
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGB"
    scene.render.filepath = "//frames/####"


def main():
    args = demo_arguments()
    demo_clear()
    demo_build(args)
    bpy.ops.wm.save_as_mainfile(filepath=args.output)


main()
