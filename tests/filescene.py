"""A scene that needs files in every common way, built by the real
Blender for the tests of what travels with a job: textures by absolute
and relative path, a numbered sequence (beside a file that is not part of
it), UDIM tiles, a linked library with its own texture, and a texture
that does not exist; saved plain (proj/scene.blend) and compressed
(proj/scene-z.blend)."""

import os
import subprocess

from bdfarmtest import check, md5_file

SCENE = r'''
import bpy, os, sys
top = sys.argv[sys.argv.index('--') + 1]

def png(path, colour):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    im = bpy.data.images.new(os.path.basename(path), 4, 4)
    im.pixels[:] = list(colour) * 16
    im.filepath_raw = path
    im.file_format = 'PNG'
    im.save()
    bpy.data.images.remove(im)

png(top + '/assets/abs.png', (1, 0, 0, 1))
png(top + '/proj/tex/rel.png', (0, 1, 0, 1))
for n in range(1, 4):
    png(top + '/proj/seq/s_%04d.png' % n, (0, 0, n / 4, 1))
png(top + '/proj/seq/other.png', (1, 1, 1, 1))
png(top + '/proj/udim/w.1001.png', (1, 1, 0, 1))
png(top + '/proj/udim/w.1002.png', (0, 1, 1, 1))
png(top + '/lib/libtex.png', (0.5, 0.5, 0.5, 1))

bpy.ops.wm.read_factory_settings(use_empty=True)
im = bpy.data.images.load(top + '/lib/libtex.png')
im.filepath = '//libtex.png'
mat = bpy.data.materials.new('libmat')
mat.use_fake_user = True
mat.use_nodes = True
mat.node_tree.nodes.new('ShaderNodeTexImage').image = im
bpy.ops.wm.save_as_mainfile(filepath=top + '/lib/lib.blend',
                            relative_remap=False)

bpy.ops.wm.read_factory_settings(use_empty=True)
def image(name, path, source='FILE'):
    im = bpy.data.images.new(name, 4, 4)
    im.source = source
    im.filepath = path
    im.use_fake_user = True
image('abs', top + '/assets/abs.png')
image('rel', '//tex/rel.png')
image('seq', '//seq/s_0001.png', 'SEQUENCE')
image('udim', '//udim/w.<UDIM>.png', 'TILED')
image('gone', '//tex/gone.png')
with bpy.data.libraries.load(top + '/lib/lib.blend', link=True,
                             relative=True) as (src, dst):
    dst.materials = ['libmat']
for m in dst.materials:
    m.use_fake_user = True
bpy.ops.wm.save_as_mainfile(filepath=top + '/proj/scene.blend',
                            relative_remap=False)
bpy.ops.wm.save_as_mainfile(filepath=top + '/proj/scene-z.blend',
                            compress=True, copy=True, relative_remap=False)
'''


def build_scene(top):
    """Build the scene and its files under top."""
    os.makedirs(top, exist_ok=True)
    script = os.path.join(top, "scene.py")
    with open(script, 'w') as f:
        f.write(SCENE)
    r = subprocess.run(['blender', '-b', '--factory-startup',
                        '--python-exit-code', '1', '--python', script,
                        '--', top], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    check(r.returncode == 0 and
          os.path.exists(os.path.join(top, 'proj', 'scene-z.blend')),
          'Blender built the scene:\n%s', r.stdout.decode()[-2000:])


def expected(top, blend):
    """What the job of blend needs: path -> md5 (None if missing)."""
    paths = [blend, 'assets/abs.png', 'proj/tex/rel.png',
             'proj/seq/s_0001.png', 'proj/seq/s_0002.png',
             'proj/seq/s_0003.png', 'proj/udim/w.1001.png',
             'proj/udim/w.1002.png', 'lib/lib.blend', 'lib/libtex.png']
    want = {os.path.join(top, p): md5_file(os.path.join(top, p))
            for p in paths}
    want[os.path.join(top, 'proj/tex/gone.png')] = None
    return want
