#!/bin/sh
# Print one line with the test counts of the build in folder $1, and the
# end of the log of every test that failed, so that a failure seen only
# on another machine can be understood from its output alone.
log="$1/test-suite.log"
[ -f "$log" ] || { echo "$1: no test-suite.log"; exit 1; }
total=$(sed -n 's/^# TOTAL: *//p' "$log")
pass=$(sed -n 's/^# PASS: *//p' "$log")
skip=$(sed -n 's/^# SKIP: *//p' "$log")
fail=$(sed -n 's/^# FAIL: *//p' "$log")
error=$(sed -n 's/^# ERROR: *//p' "$log")
for t in $(sed -n 's/^\(FAIL\|ERROR\): *//p' "$log"); do
	t=${t%.py}; t=${t%.sh}
	echo "---- $1/$t.log (last 40 lines)"
	tail -n 40 "$1/$t.log" 2>/dev/null || true
done
echo "$1: $total tests"
echo "$pass passed, $((fail + error)) failed, $skip skipped"
