#!/bin/sh
# Set everything up, then run every test twice: in the normal build, and
# in a build with AddressSanitizer and UndefinedBehaviorSanitizer.
set -eu
cd "$(dirname "$0")/.."
tools/setup.sh

status=0
run_suite() {
	dir=$1
	shift
	mkdir -p "$dir"
	(cd "$dir" && { [ -f Makefile ] || ../configure --enable-werror "$@"; } &&
	    make -j"$(nproc)" && make check) || status=1
	tools/summary.sh "$dir" || true
}

run_suite _build
run_suite _build-sanitize --enable-sanitizers

exit $status
