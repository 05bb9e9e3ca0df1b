#!/bin/sh
# Build everything, test programs included, under clang's static analyser
# in _build-analyse/; exit 1 if it reports anything, after naming each
# report, since in CI only the log is kept. The HTML reports stay in
# _build-analyse/reports/ for scan-view or a browser.
set -eu
cd "$(dirname "$0")/.."
[ -x configure ] || ./autogen.sh
dir=_build-analyse
mkdir -p "$dir"
cd "$dir"
rm -rf reports
[ -f Makefile ] || scan-build -o reports ../configure --enable-werror >/dev/null
make clean >/dev/null
if scan-build --status-bugs -o reports make -j"$(nproc)" check TESTS= \
    >analyse.log 2>&1; then
	echo "$dir: the static analyser reports nothing"
	exit 0
fi
pattern='warning: .* \[[a-zA-Z]+(\.[a-zA-Z]+)+\]$|error:'
if grep -qE "$pattern" analyse.log; then
	grep -E "$pattern" analyse.log | sed 's|^\(\.\./\)*||'
else
	tail -n 40 analyse.log
fi
echo "$dir: the static analyser reports the above; see $dir/analyse.log" \
    "and the reports in $dir/reports"
exit 1
