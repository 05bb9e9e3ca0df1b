# deps-scene.py: builds a scene that depends on external files in every
# way a render client must be sent them.
#
#   blender -b --factory-startup --python tests/deps-scene.py -- OUTDIR \
#       [--compress] [--absolute-library]
#
# Under OUTDIR: the textures and a library under assets/, the scene
# assets/proj/scene.blend, and expect.json, which says what each frame
# must look like and which files the scene needs. An orthographic camera
# sees four planes side by side, each showing one texture through an
# emission-only material, so that each plane's pixels have exactly the
# texture's colour:
#
#   1. assets/abs/abs.png by its absolute path,
#   2. assets/proj/tex/rel.png as //tex/rel.png,
#   3. the sequence assets/proj/seq/seq_0001.png .. seq_0004.png, one
#      image a frame,
#   4. a plane linked from //../lib/lib.blend (or, with
#      --absolute-library, from its absolute path), whose own material
#      shows //libtex.png, relative to the library.
#
# Every colour has channels of 0 or 255 only, so that they come through
# sRGB unchanged; none is magenta, which Blender shows for missing
# textures, and none is the world's grey, which shows where a plane is
# missing.

import argparse
import json
import os
import sys

import bpy

SIZE = 16
PLANES = 4
MARGIN = 3
ABS_COLOUR = (255, 0, 0)
REL_COLOUR = (0, 255, 0)
SEQ_COLOURS = [(0, 0, 255), (255, 255, 0), (0, 255, 255), (0, 0, 0)]
LIB_COLOUR = (255, 255, 255)
WORLD_GREY = 0.2
FRAMES = len(SEQ_COLOURS)


def deps_arguments():
    """The options after Blender's own '--'."""
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    p = argparse.ArgumentParser(prog="deps-scene.py")
    p.add_argument("outdir")
    p.add_argument("--compress", action="store_true")
    p.add_argument("--absolute-library", action="store_true")
    return p.parse_args(argv)


def deps_png(path, colour):
    """Write a SIZE x SIZE PNG of one colour."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    img = bpy.data.images.new("tmp", SIZE, SIZE)
    img.pixels = [c / 255 for c in colour + (255,)] * (SIZE * SIZE)
    img.filepath_raw = path
    img.file_format = "PNG"
    img.save()
    bpy.data.images.remove(img)


def deps_material(name, image):
    """A material that emits the image's colour and nothing else."""
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    nodes = mat.node_tree.nodes
    links = mat.node_tree.links
    nodes.clear()
    tex = nodes.new("ShaderNodeTexImage")
    tex.image = image
    tex.interpolation = "Closest"
    emit = nodes.new("ShaderNodeEmission")
    emit.inputs["Strength"].default_value = 1.0
    out = nodes.new("ShaderNodeOutputMaterial")
    links.new(tex.outputs["Color"], emit.inputs["Color"])
    links.new(emit.outputs["Emission"], out.inputs["Surface"])
    return mat, tex


def deps_plane(index, mat):
    """Plane number index (0-based), one unit wide, in its slot."""
    x = index - (PLANES - 1) / 2
    bpy.ops.mesh.primitive_plane_add(size=1, location=(x, 0, 0))
    obj = bpy.context.object
    obj.name = "plane%d" % (index + 1)
    obj.data.materials.append(mat)
    return obj


def deps_library(assets):
    """Write lib.blend with a plane in the fourth slot, textured by
    //libtex.png, and remove it from this file again."""
    libdir = os.path.join(assets, "lib")
    texpath = os.path.join(libdir, "libtex.png")
    deps_png(texpath, LIB_COLOUR)
    img = bpy.data.images.load(texpath)
    mat, _ = deps_material("libmat", img)
    obj = deps_plane(PLANES - 1, mat)
    obj.name = "libplane"
    blocks = {obj, obj.data, mat, img}
    path = os.path.join(libdir, "lib.blend")
    # RELATIVE turns the texture's absolute path into //libtex.png.
    bpy.data.libraries.write(path, blocks, path_remap="RELATIVE")
    mesh = obj.data
    bpy.data.objects.remove(obj)
    bpy.data.meshes.remove(mesh)
    bpy.data.materials.remove(mat)
    bpy.data.images.remove(img)
    return path, texpath


def deps_settings(scene):
    """Camera, colour management and output settings."""
    bpy.ops.object.camera_add(location=(0, 0, 10), rotation=(0, 0, 0))
    cam = bpy.context.object
    cam.data.type = "ORTHO"
    cam.data.ortho_scale = PLANES
    scene.camera = cam
    scene.world = bpy.data.worlds.new("grey")
    scene.world.color = (WORLD_GREY,) * 3

    scene.frame_start = 1
    scene.frame_end = FRAMES
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = 1
    scene.cycles.use_adaptive_sampling = False
    scene.cycles.use_denoising = False
    scene.cycles.use_preview_denoising = False
    scene.cycles.max_bounces = 0
    scene.view_layers[0].cycles.denoising_store_passes = False
    scene.render.film_transparent = False
    scene.render.dither_intensity = 0
    scene.view_settings.view_transform = "Standard"
    scene.view_settings.look = "None"
    scene.view_settings.exposure = 0
    scene.view_settings.gamma = 1
    scene.render.resolution_x = SIZE * PLANES
    scene.render.resolution_y = SIZE
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "BMP"
    scene.render.image_settings.color_mode = "RGB"
    scene.render.filepath = "//frames/####"


def deps_expect(outdir, scene_path, deps):
    """What each frame must show, and what the scene needs."""
    regions = []
    for i in range(PLANES):
        regions.append([i * SIZE + MARGIN, MARGIN,
                        (i + 1) * SIZE - MARGIN, SIZE - MARGIN])
    frames = {}
    for n in range(1, FRAMES + 1):
        frames[str(n)] = [list(ABS_COLOUR), list(REL_COLOUR),
                          list(SEQ_COLOURS[n - 1]), list(LIB_COLOUR)]
    expect = {
        "width": SIZE * PLANES,
        "height": SIZE,
        "regions": regions,
        "frames": frames,
        "scene": scene_path,
        "files": deps,
    }
    with open(os.path.join(outdir, "expect.json"), "w") as f:
        json.dump(expect, f, indent=1)


def deps_build(args):
    outdir = os.path.abspath(args.outdir)
    assets = os.path.join(outdir, "assets")
    proj = os.path.join(assets, "proj")
    scene_path = os.path.join(proj, "scene.blend")
    scene = bpy.context.scene
    bpy.context.preferences.filepaths.save_version = 0
    for obj in list(bpy.data.objects):
        bpy.data.objects.remove(obj, do_unlink=True)

    lib_path, libtex_path = deps_library(assets)

    abs_path = os.path.join(assets, "abs", "abs.png")
    rel_path = os.path.join(proj, "tex", "rel.png")
    seq_paths = [os.path.join(proj, "seq", "seq_%04d.png" % n)
                 for n in range(1, FRAMES + 1)]
    deps_png(abs_path, ABS_COLOUR)
    deps_png(rel_path, REL_COLOUR)
    for path, colour in zip(seq_paths, SEQ_COLOURS):
        deps_png(path, colour)

    # Saved once first, so that // means the project's folder from here.
    os.makedirs(proj, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=scene_path)

    img = bpy.data.images.load(abs_path)
    deps_plane(0, deps_material("abs", img)[0])

    img = bpy.data.images.load(rel_path)
    img.filepath = "//tex/rel.png"
    deps_plane(1, deps_material("rel", img)[0])

    img = bpy.data.images.load(seq_paths[0])
    img.source = "SEQUENCE"
    img.filepath = "//seq/seq_0001.png"
    mat, tex = deps_material("seq", img)
    tex.image_user.frame_duration = FRAMES
    tex.image_user.frame_start = 1
    tex.image_user.frame_offset = 0
    tex.image_user.use_auto_refresh = True
    deps_plane(2, mat)

    relative = not args.absolute_library
    with bpy.data.libraries.load(lib_path, link=True,
                                 relative=relative) as (src, dst):
        dst.objects = ["libplane"]
    scene.collection.objects.link(dst.objects[0])

    deps_settings(scene)
    bpy.ops.wm.save_as_mainfile(filepath=scene_path, compress=args.compress,
                                relative_remap=False)
    deps = [abs_path, rel_path] + seq_paths + [lib_path, libtex_path]
    deps_expect(outdir, scene_path, deps)


deps_build(deps_arguments())
