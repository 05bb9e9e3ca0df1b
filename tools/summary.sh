#!/bin/sh
# Print one line with the test counts of the build in folder $1.
log="$1/test-suite.log"
[ -f "$log" ] || { echo "$1: no test-suite.log"; exit 1; }
total=$(sed -n 's/^# TOTAL: *//p' "$log")
pass=$(sed -n 's/^# PASS: *//p' "$log")
skip=$(sed -n 's/^# SKIP: *//p' "$log")
fail=$(sed -n 's/^# FAIL: *//p' "$log")
error=$(sed -n 's/^# ERROR: *//p' "$log")
echo "$1: $total tests"
echo "$pass passed, $((fail + error)) failed, $skip skipped"
