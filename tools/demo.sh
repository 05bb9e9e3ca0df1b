#!/bin/sh
# Set everything up and run a demo farm on this machine: a small animated
# scene made with Blender, one job of it, two local clients, and the server
# with its console (headless, until the job is done, without a terminal).
set -eu
cd "$(dirname "$0")/.."
tools/setup.sh

top=$(pwd)
bdfarm="$top/_build/bdfarm"
port=${BDFARM_DEMO_PORT:-8470}
frames=${BDFARM_DEMO_FRAMES:-24}
demo=$(mktemp -d "${TMPDIR:-/tmp}/bdfarm-demo.XXXXXX")
mkdir -p "$demo/jobs" "$demo/renders"

echo "Building the demo scene in $demo ..."
blender -b --factory-startup --python data/demo-scene.py -- \
    "$demo/demo.blend" --frames "$frames" >"$demo/scene.log" 2>&1 || {
	echo "Blender could not build the demo scene; see $demo/scene.log" >&2
	exit 1
}
printf '%s\n1\n%s\n' "$demo/demo.blend" "$frames" >"$demo/jobs/demo.job"

clients=""
cleanup() {
	for pid in $clients; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

for n in 1 2; do
	"$bdfarm" --client localhost "$port" --workdir "$demo/client$n" \
	    --no-auto-updates 2>"$demo/client$n.log" &
	clients="$clients $!"
done

echo "Frames go to $demo/renders/demo.job/; client logs in $demo/."
if [ -t 0 ] && [ -t 1 ]; then
	"$bdfarm" --port "$port" "$demo/jobs" "$demo/renders"
else
	"$bdfarm" --headless --port "$port" "$demo/jobs" "$demo/renders" &
	server=$!
	clients="$clients $server"
	while ! grep -q "rendering complete" "$demo/jobs/demo.log" 2>/dev/null; do
		kill -0 "$server" 2>/dev/null || { echo "the server stopped" >&2; exit 1; }
		sleep 1
	done
	echo "All $frames frames rendered:"
	ls "$demo/renders/demo.job/"
fi
