# blender-prelude.py: run by every render client in Blender, after the
# .blend is loaded and before the frames render. It has Blender name every
# external file the scene needs that it cannot find, so that the client
# can tell the server instead of rendering pink textures.
import bpy

bpy.ops.file.report_missing_files()
print("bdfarm: prelude done", flush=True)
