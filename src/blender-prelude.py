# blender-prelude.py: run by Blender on a render client after it loaded
# the .blend and before it renders:
#
#   BDFARM_ROOT=ROOT blender --disable-autoexec -b ROOT/srv/p/scene.blend \
#       --python blender-prelude.py -o OUT/#### -f N
#
# The client holds every file the scene needs at ROOT followed by that
# file's absolute path on the server. Relative (//) paths find their files
# there on their own; absolute ones are pointed into ROOT here, wherever
# ROOT holds the file. Then every file that is still missing is reported,
# one line each, as "Warning: Path '...' not found", and the line
# "bdfarm: prelude done" tells the client that this script ran.
#
# Point caches on disk that are not external sit in //blendcache_NAME/
# beside the .blend and need nothing; external ones (of modifiers and
# particle systems) and fluid cache folders are pointed into ROOT. Not
# covered: the strips of the video sequence editor and the surfaces of
# dynamic paint keep their paths.

import os

import bpy

# The data collections whose blocks have a filepath.
COLLECTIONS = ("images", "movieclips", "sounds", "fonts", "cache_files",
               "volumes")


def rooted(root, path, library=None, folder=False):
    """ROOT + path made absolute, when the tree holds it (or, with
    folder, its folder); else None."""
    if not path or path.startswith("<"):
        return None
    absolute = os.path.normpath(bpy.path.abspath(path, library=library))
    if absolute == root or absolute.startswith(root + os.sep):
        return None
    inside = root + absolute
    if not os.path.exists(os.path.dirname(inside) if folder else inside):
        return None
    # Cache folders keep the slash that ends them.
    return inside + os.sep if path.endswith(os.sep) else inside


def is_kept(block):
    """Whether block's data lives in the .blend or in Blender itself."""
    if getattr(block, "packed_file", None) is not None:
        return True
    return getattr(block, "source", "FILE") in ("GENERATED", "VIEWER")


def is_many(block):
    """Whether block's path stands for many files of one folder: a
    sequence of images, clips, volumes or caches, or a UDIM image."""
    return (getattr(block, "source", "FILE") in ("SEQUENCE", "TILED")
            or getattr(block, "is_sequence", False))


def library_to_remap(root):
    """A library that ROOT holds elsewhere, and where; else None."""
    for lib in bpy.data.libraries:
        if lib.packed_file is None:
            inside = rooted(root, lib.filepath, lib.parent)
            if inside:
                return lib, inside
    return None


def remap_libraries(root):
    # Reloading a library reads anew the libraries that it links, with
    # the paths that it holds: look again after each. A library in ROOT
    # is not looked at again, so this ends. (Reloading such an indirect
    # library makes Blender 3.4 print "Code marked as unreachable has
    # been executed" on stderr; its data loads all the same.)
    found = library_to_remap(root)
    while found:
        lib, found = found
        lib.filepath = found
        lib.reload()
        found = library_to_remap(root)


def remap_blocks(root):
    for name in COLLECTIONS:
        for block in getattr(bpy.data, name):
            if is_kept(block):
                continue
            inside = rooted(root, block.filepath, block.library,
                            is_many(block))
            if inside:
                block.filepath = inside


def remap_caches(root):
    """The folders of external point caches and of fluid caches."""
    for obj in bpy.data.objects:
        caches = [getattr(mod, "point_cache", None) for mod in obj.modifiers]
        caches += [psys.point_cache for psys in obj.particle_systems]
        for cache in caches:
            if cache is None or not cache.use_external:
                continue
            inside = rooted(root, cache.filepath, obj.library)
            if inside:
                cache.filepath = inside
        for mod in obj.modifiers:
            if mod.type == "FLUID" and mod.fluid_type == "DOMAIN":
                settings = mod.domain_settings
                inside = rooted(root, settings.cache_directory,
                                obj.library)
                if inside:
                    settings.cache_directory = inside


def report_missing():
    """Blender prints "Warning: Path '...' not found" on its standard
    output for each missing file (3.4, also in background mode)."""
    bpy.ops.file.report_missing_files()


def main():
    root = os.environ.get("BDFARM_ROOT", "")
    # A root of / would turn /a into //a, which Blender reads as relative.
    root = os.path.abspath(root).rstrip(os.sep) if root else ""
    if root:
        remap_libraries(root)
        remap_blocks(root)
        remap_caches(root)
    report_missing()
    print("bdfarm: prelude done", flush=True)


main()
