#!/bin/sh
# test-blendfile-real.sh: the dependencies blendfile.c finds in files the
# real Blender wrote: a scene with images (absolute, relative, packed,
# generated, a sequence, UDIM tiles), a sound, a font, a linked library,
# particle caches, a fluid domain and a volume sequence, saved plain, with
# zstd (Blender 3.x's compression) and gzipped as older versions did.
# Skipped (77) when blender is not installed.

: "${BDFARM_BUILDDIR:?BDFARM_BUILDDIR must name the build folder}"

LC_ALL=C
export LC_ALL

dump=$BDFARM_BUILDDIR/tests/blendfile-dump
if ! command -v blender >/dev/null 2>&1; then
	echo "SKIP: no blender"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bdfarm-blendfile.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# The scene. The disk cache can only be turned on once the file has a
# name, so the scene is saved once before.
cat >"$tmp/scene.py" <<'PY'
import bpy, glob, os, sys, wave

out = sys.argv[sys.argv.index('--') + 1]
bpy.ops.wm.save_as_mainfile(filepath=os.path.join(out, 'lib.blend'))

# A fluid domain alone: its point caches, which Blender no longer reads,
# are no folder to send.
bpy.ops.wm.save_as_mainfile(filepath=os.path.join(out, 'fluid.blend'))
fluid = bpy.data.objects['Cube'].modifiers.new('fluid', 'FLUID')
fluid.fluid_type = 'DOMAIN'
fluid.domain_settings.cache_directory = '//fluidcache/'
bpy.ops.wm.save_as_mainfile(filepath=os.path.join(out, 'fluid.blend'))
bpy.ops.wm.read_factory_settings(use_empty=False)

def image(name, path, source):
    im = bpy.data.images.new(name, 4, 4)
    im.source = source
    im.filepath = path
    im.use_fake_user = True

image('abs.png', '/srv/textures/abs.png', 'FILE')
image('rel.png', '//tex/rel.png', 'FILE')
image('seq', '//seq/frame_0001.png', 'SEQUENCE')
image('udim', '//udim/wood.<UDIM>.png', 'TILED')
# Skipped although they have a path: a generated image, a packed file.
gen = bpy.data.images.new('generated', 4, 4)
gen.filepath = '//generated.png'
gen.use_fake_user = True
png = bpy.data.images.new('topack', 4, 4)
png.filepath_raw = os.path.join(out, 'packed.png')
png.file_format = 'PNG'
png.save()
bpy.data.images.remove(png)
packed = bpy.data.images.load(os.path.join(out, 'packed.png'))
packed.pack()
packed.use_fake_user = True

w = wave.open(os.path.join(out, 'beep.wav'), 'wb')
w.setnchannels(1)
w.setsampwidth(2)
w.setframerate(8000)
w.writeframes(b'\0\0' * 800)
w.close()
bpy.data.sounds.load(os.path.join(out, 'beep.wav')).use_fake_user = True

fonts = sorted(glob.glob('/usr/share/fonts/**/*.ttf', recursive=True))
if fonts:
    bpy.data.fonts.load(fonts[0]).use_fake_user = True
    with open(os.path.join(out, 'font'), 'w') as f:
        f.write(fonts[0])

with bpy.data.libraries.load(os.path.join(out, 'lib.blend'),
                             link=True) as (src, dst):
    dst.objects = ['Camera']
for ob in dst.objects:
    bpy.context.scene.collection.objects.link(ob)

vol = bpy.data.volumes.new('smoke')
vol.filepath = '//vdb/smoke_0001.vdb'
vol.is_sequence = True
vol.use_fake_user = True

bpy.ops.wm.save_as_mainfile(filepath=os.path.join(out, 'scene.blend'),
                            relative_remap=False)
cube = bpy.data.objects['Cube']
cube.modifiers.new('parts', 'PARTICLE_SYSTEM')
cube.particle_systems[0].point_cache.use_disk_cache = True
bpy.ops.mesh.primitive_plane_add()
plane = bpy.context.object
plane.modifiers.new('ext', 'PARTICLE_SYSTEM')
plane.particle_systems[0].point_cache.use_external = True
plane.particle_systems[0].point_cache.filepath = '//external_cache/'
bpy.ops.mesh.primitive_cube_add()
fluid = bpy.context.object.modifiers.new('fluid', 'FLUID')
fluid.fluid_type = 'DOMAIN'
fluid.domain_settings.cache_directory = '//fluidcache/'

bpy.ops.wm.save_as_mainfile(filepath=os.path.join(out, 'scene.blend'),
                            compress=False, relative_remap=False)
bpy.ops.wm.save_as_mainfile(filepath=os.path.join(out, 'scene-z.blend'),
                            compress=True, copy=True, relative_remap=False)
PY

if ! timeout 60 blender -b --factory-startup --python-exit-code 1 \
    --python "$tmp/scene.py" -- "$tmp" >"$tmp/blender.log" 2>&1; then
	echo "FAIL: blender could not build the scene"
	tail -20 "$tmp/blender.log"
	exit 1
fi
gzip -c "$tmp/scene.blend" >"$tmp/scene-gz.blend" || exit 99

failures=0

# Check that the dump of one file lists exactly what is expected, in any
# order; the point cache folder is named after the file.
check() {
	name=$1
	{
		echo "image file /srv/textures/abs.png"
		echo "image file //tex/rel.png"
		echo "image sequence //seq/frame_0001.png"
		echo "image tiles //udim/wood.<UDIM>.png"
		echo "sound file $tmp/beep.wav"
		[ -f "$tmp/font" ] && echo "font file $(cat "$tmp/font")"
		echo "library file $tmp/lib.blend"
		echo "volume sequence //vdb/smoke_0001.vdb"
		echo "pointcache folder //blendcache_$name/"
		echo "pointcache folder //external_cache/"
		echo "fluid folder //fluidcache/"
	} | sort >"$tmp/expected"
	if ! "$dump" "$tmp/$name.blend" >"$tmp/out" 2>"$tmp/err"; then
		failures=$((failures + 1))
		echo "FAIL: $name.blend was refused:"
		cat "$tmp/err"
		return
	fi
	sort "$tmp/out" >"$tmp/got"
	if ! diff -u "$tmp/expected" "$tmp/got"; then
		failures=$((failures + 1))
		echo "FAIL: $name.blend: the lists differ (- expected, + found)"
	else
		echo "ok: $name.blend"
	fi
}

# The compressed copy must really be zstd, or the test proves nothing.
magic=$(od -An -tx1 -N4 "$tmp/scene-z.blend" | tr -d ' ')
if [ "$magic" != 28b52ffd ]; then
	failures=$((failures + 1))
	echo "FAIL: scene-z.blend starts with $magic, not zstd's magic"
fi

check scene
check scene-z
check scene-gz

# A fluid domain alone gives its folder, and no point cache folder.
echo "fluid folder //fluidcache/" >"$tmp/expected"
if ! "$dump" "$tmp/fluid.blend" >"$tmp/got" 2>"$tmp/err" ||
    ! diff -u "$tmp/expected" "$tmp/got"; then
	failures=$((failures + 1))
	echo "FAIL: fluid.blend:"
	cat "$tmp/err"
else
	echo "ok: fluid.blend"
fi

# A truncated file is refused with a reason.
head -c 100000 "$tmp/scene.blend" >"$tmp/cut.blend"
if "$dump" "$tmp/cut.blend" >"$tmp/out" 2>"$tmp/err" ||
    ! grep -q truncated "$tmp/err"; then
	failures=$((failures + 1))
	echo "FAIL: a truncated file was not refused as truncated:"
	cat "$tmp/out" "$tmp/err"
else
	echo "ok: truncated file refused"
fi

[ "$failures" -eq 0 ] || exit 1
exit 0
