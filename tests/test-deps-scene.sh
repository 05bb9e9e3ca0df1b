#!/bin/sh
# test-deps-scene.sh: real Blender renders tests/deps-scene.py's scene,
# whose textures, image sequence and linked library are outside the
# .blend, the way a client will: from a tree ROOT that holds every file
# at ROOT + its path on the server, with src/blender-prelude.py pointing
# absolute paths into ROOT.
#
#   a. the scene renders right where it was built (frames 1 and 3);
#   b. from ROOT, with the assets folder hidden and BDFARM_ROOT set, it
#      renders right (frame 2) and no file is reported missing;
#   c. the same without BDFARM_ROOT: the texture known by absolute path
#      shows magenta and Blender prints "Warning: Path '...' not found";
#   d. saved compressed, it renders right in place;
#   e. with the library linked by absolute path: as b, which needs the
#      prelude to point the library into ROOT and reload it.
#
# The assets are hidden by mounting an empty tmpfs over them in a mount
# namespace of Blender's own (unshare(1)); this needs root, or user
# namespaces. Skipped (77) only when blender is not installed.

LC_ALL=C
export LC_ALL
unset LANGUAGE LANG

top=${BDFARM_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
prelude=$top/src/blender-prelude.py
PYTHONPATH=$top/tests
export PYTHONPATH

if ! command -v blender >/dev/null 2>&1; then
	echo "SKIP: blender is not installed"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bdfarm-deps.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
unset BDFARM_ROOT

failures=0
checks=0

fail() {
	failures=$((failures + 1))
	echo "FAIL: $*"
}

# Show the end of the last Blender run's output, less its progress lines.
show() {
	grep -v '^Fra:' "$tmp/out" | tail -n 15 | sed 's/^/  stdout: /'
	tail -n 15 "$tmp/err" | sed 's/^/  stderr: /'
}

# blender_run HIDE ROOT ARG...: run Blender for at most 60 s, with the
# folder HIDE (unless empty) hidden under an empty tmpfs, and BDFARM_ROOT
# set to ROOT (unset if empty); output to $tmp/out and $tmp/err, exit
# status to $rc.
blender_run() {
	hide=$1
	if [ -n "$2" ]; then
		BDFARM_ROOT=$2
		export BDFARM_ROOT
	else
		unset BDFARM_ROOT
	fi
	shift 2
	checks=$((checks + 1))
	if [ -n "$hide" ]; then
		timeout 60 $unshare sh -c \
		    'mount -t tmpfs none "$0" && exec blender "$@"' "$hide" "$@" \
		    </dev/null >"$tmp/out" 2>"$tmp/err"
	else
		timeout 60 blender "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	fi
	rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "blender $*: exit status $rc"
		show
	fi
}

# build DIR ARG...: build the scene under DIR.
build() {
	dir=$1
	shift
	blender_run "" "" -b --factory-startup \
	    --python "$top/tests/deps-scene.py" -- "$dir" "$@"
}

# frame_is WHAT DIR FRAME PICTURE [--missing N]: the picture shows what
# DIR/expect.json says of FRAME.
frame_is() {
	what=$1 dir=$2 frame=$3 picture=$4
	shift 4
	checks=$((checks + 1))
	if ! python3 "$top/tests/bmpcheck.py" "$dir/expect.json" "$frame" \
	    "$picture" "$@" >"$tmp/check" 2>&1; then
		fail "$what"
		sed 's/^/  /' "$tmp/check"
		show
	fi
}

# prelude_clean WHAT: the last run reported no missing file, and the
# prelude ran.
prelude_clean() {
	checks=$((checks + 1))
	if grep -q "not found" "$tmp/out" "$tmp/err"; then
		fail "$1: a file is reported missing"
		show
	fi
	checks=$((checks + 1))
	if ! grep -qx "bdfarm: prelude done" "$tmp/out"; then
		fail "$1: the prelude did not say it was done"
		show
	fi
}

# tree DIR ROOT: copy the scene under DIR, and every file it needs, to
# ROOT + its absolute path.
tree() {
	checks=$((checks + 1))
	if ! python3 - "$1/expect.json" "$2" <<'EOF'
import json
import os
import shutil
import sys

with open(sys.argv[1]) as f:
    expect = json.load(f)
for path in [expect["scene"]] + expect["files"]:
    copy = sys.argv[2] + path
    os.makedirs(os.path.dirname(copy), exist_ok=True)
    shutil.copyfile(path, copy)
EOF
	then
		fail "copying $1 to $2"
	fi
}

# Can a folder be hidden? As root, a mount namespace is enough; else a
# user namespace must come with it.
mkdir "$tmp/probe"
unshare=
for try in "unshare --mount" "unshare --mount --map-root-user"; do
	if $try sh -c 'mount -t tmpfs none "$0"' "$tmp/probe" \
	    2>"$tmp/probe.err"; then
		unshare=$try
		break
	fi
	sed "s/^/note: $try: /" "$tmp/probe.err"
done
if [ -z "$unshare" ]; then
	fail "cannot hide a folder from Blender with unshare and mount"
fi

start=$(date +%s)

# a. In place.
plain=$tmp/plain
build "$plain"
blender_run "" "" --disable-autoexec -b "$plain/assets/proj/scene.blend" \
    -o "$tmp/a/####" -f 1 -f 3
for n in 1 3; do
	frame_is "a. frame $n in place" "$plain" "$n" "$tmp/a/000$n.bmp"
done

if [ -n "$unshare" ]; then
	root=$tmp/root
	tree "$plain" "$root"
	scene=$root$plain/assets/proj/scene.blend

	# b. From ROOT, remapped.
	blender_run "$plain/assets" "$root" --disable-autoexec -b "$scene" \
	    --python "$prelude" -o "$tmp/b/####" -f 2
	frame_is "b. frame 2 from ROOT" "$plain" 2 "$tmp/b/0002.bmp"
	prelude_clean "b. frame 2 from ROOT"

	# c. From ROOT, not remapped: the absolute path is missing.
	blender_run "$plain/assets" "" --disable-autoexec -b "$scene" \
	    --python "$prelude" -o "$tmp/c/####" -f 2
	frame_is "c. frame 2 without BDFARM_ROOT, abs.png missing" \
	    "$plain" 2 "$tmp/c/0002.bmp" --missing 1
	checks=$((checks + 1))
	line="Warning: Path '$plain/assets/abs/abs.png' not found"
	if ! grep -qxF "$line" "$tmp/out"; then
		fail "c. no line \"$line\" on stdout"
		show
	fi
	checks=$((checks + 1))
	if ! grep -qx "bdfarm: prelude done" "$tmp/out"; then
		fail "c. the prelude did not say it was done"
		show
	fi
fi

# d. Compressed, in place.
packed=$tmp/compressed
build "$packed" --compress
blender_run "" "" --disable-autoexec -b "$packed/assets/proj/scene.blend" \
    -o "$tmp/d/####" -f 4
frame_is "d. frame 4 of the compressed scene" "$packed" 4 "$tmp/d/0004.bmp"

# e. The library by absolute path, from ROOT.
if [ -n "$unshare" ]; then
	abslib=$tmp/abslib
	build "$abslib" --absolute-library
	tree "$abslib" "$root"
	blender_run "$abslib/assets" "$root" --disable-autoexec \
	    -b "$root$abslib/assets/proj/scene.blend" --python "$prelude" \
	    -o "$tmp/e/####" -f 3
	frame_is "e. frame 3, library by absolute path, from ROOT" \
	    "$abslib" 3 "$tmp/e/0003.bmp"
	prelude_clean "e. frame 3, library by absolute path, from ROOT"
fi

echo "$checks checks in $(($(date +%s) - start)) s, $failures failed"
[ "$failures" -eq 0 ]
