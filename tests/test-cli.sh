#!/bin/sh
# test-cli.sh: the command line of bdfarm: --help, --version, and every
# usage or configuration error that stops the program before it serves or
# renders anything.

: "${BDFARM:?BDFARM must name the bdfarm program}"

LC_ALL=C
export LC_ALL
unset LANGUAGE LANG

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bdfarm-cli.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# No configuration of the user's may change what is tested.
XDG_CONFIG_HOME=$tmp/xdg
export XDG_CONFIG_HOME
mkdir "$tmp/jobs" "$tmp/renders" || exit 99

failures=0
checks=0

# Report one failed check, with what the program printed.
fail() {
	failures=$((failures + 1))
	echo "FAIL: $*"
	echo "  exit status: $rc"
	sed 's/^/  stdout: /' "$tmp/out"
	sed 's/^/  stderr: /' "$tmp/err"
}

# Run bdfarm with the given arguments, never for more than 60 s; the exit
# status goes to $rc, the output to $tmp/out and $tmp/err.
run() {
	checks=$((checks + 1))
	if command -v timeout >/dev/null 2>&1; then
		timeout 60 "$BDFARM" "$@" <"/dev/null" >"$tmp/out" 2>"$tmp/err"
	else
		"$BDFARM" "$@" <"/dev/null" >"$tmp/out" 2>"$tmp/err"
	fi
	rc=$?
}

# usage_error WORDS ARG...: bdfarm ARG... must exit 2, print nothing on
# stdout, and print on stderr one line that gives the reason (containing
# WORDS) followed by the usage.
usage_error() {
	words=$1
	shift
	run "$@"
	what="bdfarm $*"
	if [ "$rc" -ne 2 ]; then
		fail "$what: exit status is not 2"
		return
	fi
	if [ -s "$tmp/out" ]; then
		fail "$what: printed on stdout"
		return
	fi
	reason=$(sed -n 1p "$tmp/err")
	usage=$(sed -n 2p "$tmp/err")
	case $reason in
	"bdfarm: "*) ;;
	*)
		fail "$what: the first line is not a reason"
		return
		;;
	esac
	case $reason in
	*"$words"*) ;;
	*)
		fail "$what: the reason does not say '$words'"
		return
		;;
	esac
	case $usage in
	"Usage: "*) ;;
	*) fail "$what: the reason is not followed by the usage" ;;
	esac
}

# config_error WORDS ARG...: bdfarm ARG... must stop with a non-zero exit
# status (not a crash, not a time-out) and say WORDS on stderr.
config_error() {
	words=$1
	shift
	run "$@"
	what="bdfarm $*"
	if [ "$rc" -eq 0 ] || [ "$rc" -ge 124 ]; then
		fail "$what: exit status is $rc, not an error"
		return
	fi
	if ! grep -qF -- "$words" "$tmp/err"; then
		fail "$what: stderr does not say '$words'"
	fi
}

# --help and -h: the full help on stdout, exit 0.
for opt in --help -h; do
	run "$opt"
	if [ "$rc" -ne 0 ]; then
		fail "bdfarm $opt: exit status is not 0"
	elif ! grep -qF -- "--port" "$tmp/out" ||
	    ! grep -qF -- "--client" "$tmp/out"; then
		fail "bdfarm $opt: help does not mention --port and --client"
	elif [ -s "$tmp/err" ]; then
		fail "bdfarm $opt: printed on stderr"
	fi
done

# --version and -V: the name and the version, one line, exit 0.
version=
if [ -n "$BDFARM_BUILDDIR" ] && [ -f "$BDFARM_BUILDDIR/config.h" ]; then
	version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' \
	    "$BDFARM_BUILDDIR/config.h")
fi
for opt in --version -V; do
	run "$opt"
	line=$(cat "$tmp/out")
	if [ "$rc" -ne 0 ]; then
		fail "bdfarm $opt: exit status is not 0"
	elif [ -n "$version" ] && [ "$line" != "bdfarm $version" ]; then
		fail "bdfarm $opt: does not print 'bdfarm $version'"
	elif ! echo "$line" | grep -qx 'bdfarm [0-9][0-9.]*.*'; then
		fail "bdfarm $opt: does not print a version"
	fi
done

# The server's arguments.
usage_error "--port"
usage_error "--port" "$tmp/jobs" "$tmp/renders"
usage_error "--port" --port
usage_error "-p" -p
usage_error "JOBDIR" --port 4000
usage_error "JOBDIR" --port 4000 "$tmp/jobs"
usage_error "JOBDIR" --port 4000 "$tmp/jobs" "$tmp/renders" extra
usage_error "abc" --port abc "$tmp/jobs" "$tmp/renders"
usage_error "70000" --port 70000 "$tmp/jobs" "$tmp/renders"
usage_error "0" --port 0 "$tmp/jobs" "$tmp/renders"
usage_error "-1" --port -1 "$tmp/jobs" "$tmp/renders"
usage_error "4000x" --port=4000x "$tmp/jobs" "$tmp/renders"

# Options that do not exist.
usage_error "--bogus" --bogus
usage_error "--bogus" --port 4000 --bogus "$tmp/jobs" "$tmp/renders"
usage_error "-x" -x
usage_error "-x" -x -v
usage_error "-x" -xv
usage_error "-x" -vx

# The client's arguments.
usage_error "HOST and PORT" --client
usage_error "HOST and PORT" --client localhost
usage_error "HOST and PORT" --client localhost 4000 extra
usage_error "abc" --client localhost abc
usage_error "70000" --client localhost 70000
usage_error "--renderers" --renderers 0 --client localhost 4000
usage_error "--renderers" --renderers two --client localhost 4000
usage_error "--renderers" --renderers 1025 --client localhost 4000
usage_error "--renderers" --client localhost 4000 --renderers
usage_error "--prefetch" --prefetch -1 --client localhost 4000
usage_error "--prefetch" --prefetch 3x --client localhost 4000

# Attaching a console: one job folder, nothing else, and a terminal.
usage_error "JOBDIR" --attach
usage_error "JOBDIR" --attach "$tmp/jobs" "$tmp/renders"
usage_error "--attach" --attach --client localhost 4000
run --attach "$tmp/jobs"
if [ "$rc" -ne 1 ] || ! grep -qF "needs a terminal" "$tmp/err"; then
	fail "--attach without a terminal: not exit 1 with the reason"
fi

# A configuration file that is wrong stops both sides before they start,
# naming the file and the line.
printf '# bad\nserver = {\n  bogus = 1;\n};\n' >"$tmp/unknown.conf"
config_error "$tmp/unknown.conf:3:" --config "$tmp/unknown.conf" \
    --port 4000 "$tmp/jobs" "$tmp/renders"
config_error "bogus" --config "$tmp/unknown.conf" \
    --port 4000 "$tmp/jobs" "$tmp/renders"
config_error "$tmp/unknown.conf:3:" -c "$tmp/unknown.conf" \
    --client localhost 4000

printf 'client = {\n  renderers = 0;\n};\n' >"$tmp/range.conf"
config_error "$tmp/range.conf:2:" --config "$tmp/range.conf" \
    --client localhost 4000

printf 'client = {\n  renderers = 2;\n  prefetch = ;\n};\n' >"$tmp/syntax.conf"
config_error "$tmp/syntax.conf:3" --config "$tmp/syntax.conf" \
    --client localhost 4000

# A configuration file named on the command line must exist.
config_error "$tmp/missing.conf" --config "$tmp/missing.conf" \
    --port 4000 "$tmp/jobs" "$tmp/renders"

# Keys: --invite names a valid key and a job folder; --join is a client's.
usage_error "cannot name a key" --invite "a b" "$tmp/jobs"
usage_error "JOBDIR" --invite alice
usage_error "--invite" --invite alice --client localhost 4000
usage_error "cannot name a key" --revoke "a b" "$tmp/jobs"
usage_error "JOBDIR" --revoke alice
usage_error "--revoke" --revoke alice --client localhost 4000
usage_error "--revoke" --invite alice --revoke bob "$tmp/jobs"

# --revoke takes the key out of the keys file, which stays private, and
# fails for a key that is not there.
run --invite alice --port 4000 "$tmp/jobs"
run --invite bob --port 4000 "$tmp/jobs"
run --revoke alice "$tmp/jobs"
if [ "$rc" -ne 0 ]; then
	fail "--revoke alice: exit status is not 0"
elif grep -q '^alice ' "$tmp/jobs/.bdfarm.keys" ||
    ! grep -q '^bob ' "$tmp/jobs/.bdfarm.keys"; then
	fail "--revoke alice: the keys file is not bob's key alone"
elif [ "$(stat -c %a "$tmp/jobs/.bdfarm.keys")" != 600 ]; then
	fail "--revoke alice: the keys file is not mode 0600"
fi
run --revoke alice "$tmp/jobs"
if [ "$rc" -ne 1 ] || ! grep -qF "no key named alice" "$tmp/err"; then
	fail "--revoke of a key that is gone: not exit 1 with the reason"
fi
rm -f "$tmp/jobs/.bdfarm.keys"
usage_error "--join" --join alice:00 --port 4000 "$tmp/jobs" "$tmp/renders"
config_error "not a token" --client localhost 4000 --join alice:00
if [ -e "$XDG_CONFIG_HOME/bdfarm/keys" ]; then
	fail "a token that is not one was kept"
fi

# The user's configuration file is read when none is named.
mkdir -p "$XDG_CONFIG_HOME/bdfarm"
printf '\nserver = {\n  peer_timeout = "long";\n};\n' \
    >"$XDG_CONFIG_HOME/bdfarm/bdfarm.conf"
config_error "$XDG_CONFIG_HOME/bdfarm/bdfarm.conf:3:" \
    --port 4000 "$tmp/jobs" "$tmp/renders"

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
