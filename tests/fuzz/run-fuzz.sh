#!/bin/sh
# run-fuzz.sh: build bdfarm's fuzz targets with clang's libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer against the project's own
# sources, and run each for a given time. Not part of make check.
#
# Usage: tests/fuzz/run-fuzz.sh [SECONDS [TARGET...]]
#
#   SECONDS   how long each target runs (default 20)
#   TARGET    proto, jobfile, settings, state, greeting, blendfile or
#             picture
#             (default: all)
#
# The environment may set CC (default clang), BDFARM_BUILDDIR (a configured
# build folder whose config.h is used; default: the current folder if it
# holds one, else a scratch configure), FUZZ_SEED (libFuzzer's -seed, for a
# run that can be repeated; default: a random one) and FUZZ_WORKDIR (where the
# programs, corpora and any crashing inputs go; default: a new temporary
# folder, removed afterwards unless something was found).
#
# Exit status: 0 if no target found anything, 1 if one did, 2 on a usage
# or build error.

seconds=${1:-20}
[ $# -gt 0 ] && shift
targets=${*:-proto jobfile settings state greeting blendfile picture}

case $seconds in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS [TARGET...]]" >&2
	exit 2
	;;
esac

for t in $targets; do
	case $t in
	proto | jobfile | settings | state | greeting | blendfile | picture) ;;
	*)
		echo "run-fuzz: no target '$t' (proto, jobfile, settings, state," \
		    "greeting, blendfile, picture)" >&2
		exit 2
		;;
	esac
done

fuzzdir=$(cd "$(dirname "$0")" && pwd) || exit 2
srcdir=$(cd "$fuzzdir/../.." && pwd) || exit 2
cc=${CC:-clang}

if [ -n "$FUZZ_WORKDIR" ]; then
	work=$FUZZ_WORKDIR
	mkdir -p "$work" || exit 2
	keep=1
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/bdfarm-fuzz.XXXXXX") || exit 2
	keep=0
fi

# The configuration header: a build folder's, or one made for the purpose.
if [ -n "$BDFARM_BUILDDIR" ] && [ -f "$BDFARM_BUILDDIR/config.h" ]; then
	builddir=$BDFARM_BUILDDIR
elif [ -f config.h ] && grep -q 'PACKAGE "bdfarm"' config.h; then
	builddir=$(pwd)
else
	builddir=$work/build
	mkdir -p "$builddir" || exit 2
	echo "run-fuzz: configuring in $builddir"
	if ! (cd "$builddir" && "$srcdir/configure" --quiet \
	    >configure.log 2>&1); then
		echo "run-fuzz: configure failed, see $builddir/configure.log" >&2
		exit 2
	fi
fi

libconfig=$(pkg-config --cflags --libs libconfig) || exit 2
images=$(pkg-config --cflags --libs libpng libjpeg) || exit 2

# Compile and link one fuzz target: build OUTPUT SOURCE... [LIBRARY...].
build() {
	out=$1
	shift
	"$cc" -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -fno-omit-frame-pointer \
	    -I"$builddir" -I"$srcdir/src" '-DSYSCONFDIR="/nonexistent"' \
	    -o "$out" "$@"
}

# Write a few valid inputs of each kind, for the fuzzer to start from.
seeds() {
	d=$work/corpus-$1
	mkdir -p "$d"
	case $1 in
	proto)
		printf 'HELO render1.example.org\r\n' >"$d/seed-helo"
		printf 'HELO host bdfarm/1\r\n' >"$d/seed-helo-ext"
		printf 'REQUESTBLENDERDIST\r\n' >"$d/seed-dist"
		printf 'REQUESTJOB 2\r\n' >"$d/seed-job"
		printf 'REQUESTBLENDERFILE scene.blend %s\r\n' \
		    0123456789abcdef0123456789abcdef >"$d/seed-file"
		printf 'RESULTS scene.blend %s 5 0005.tga 1234\r\n' \
		    0123456789abcdef0123456789abcdef >"$d/seed-results"
		printf 'GOODBYE\r\n' >"$d/seed-bye"
		printf '0123456789abcdef0123456789abcdef 1 bdfarm/1\r\n' \
		    >"$d/seed-helo-reply"
		printf 'scene.blend 0123456789abcdef0123456789abcdef 12\r\n' \
		    >"$d/seed-job-reply"
		printf 'None\r\n' >"$d/seed-none"
		printf 'RETURN scene.blend %s -5\r\n' \
		    0123456789abcdef0123456789abcdef >"$d/seed-return"
		printf 'HOLD scene.blend %s 7\r\n' \
		    0123456789abcdef0123456789abcdef >"$d/seed-hold"
		printf 'HELD\r\n' >"$d/seed-held"
		;;
	jobfile)
		printf '/srv/jobs/scene.blend\n1\n250\n' >"$d/seed-lf"
		printf '/srv/jobs/scene.blend\r\n-5\r\n 5 \r\n\r\n' >"$d/seed-crlf"
		;;
	settings)
		printf 'server = {\n  peer_timeout = 3;\n  listen = "::1";\n' \
		    >"$d/seed-server"
		printf '  max_frame_size = 5000000000L;\n' >>"$d/seed-server"
		printf '  plain_allow = "10.0.0.0/8, fe80::/10";\n};\n' \
		    >>"$d/seed-server"
		printf 'client = {\n  renderers = 4;\n  auto_updates = false;\n' \
		    >"$d/seed-client"
		printf '  retry_min = 1;\n  retry_max = 2;\n};\n' >>"$d/seed-client"
		;;
	state)
		printf 'bdfarm-state 1\nnextseq 3\njob a.job\njobdigest %s\n' \
		    0123456789abcdef0123456789abcdef >"$d/seed-state"
		printf 'blend %s 1 2 3 4 a.blend\npriority 2\nseq 1\n' \
		    0123456789abcdef0123456789abcdef >>"$d/seed-state"
		printf 'done -5--3 0 4-6\nout 1 1000 2 alpha\nhost 3 alpha\nend\n' \
		    >>"$d/seed-state"
		printf 'bdfarm-state 2\nnextseq 3\njob a.job\njobdigest %s\n' \
		    0123456789abcdef0123456789abcdef >"$d/seed-state-2"
		printf 'blend %s 1 2 3 4 a.blend\npriority 2\nseq 1\n' \
		    0123456789abcdef0123456789abcdef >>"$d/seed-state-2"
		printf 'done 1-3\nout 4 1700000000000 2 2 alpha\nend\n' \
		    >>"$d/seed-state-2"
		printf 'rename /r/a.job/.4.part /r/a.job/0004.png\n' \
		    >>"$d/seed-state-2"
		printf 'joblog 1700000000000 a.job frame 4 done\n' \
		    >>"$d/seed-state-2"
		;;
	greeting)
		# A ClientHello that offers the key alice, whose binder holds:
		# the first record `openssl s_client -tls1_3 -psk_identity
		# alice -psk 00...00` (64 zeros) sends.
		cp "$fuzzdir/clienthello.seed" "$d/seed-clienthello"
		printf 'alice %s\n# a comment\n\nbob %s\r\n' \
		    0000000000000000000000000000000000000000000000000000000000000000 \
		    00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF \
		    >"$d/seed-keys"
		printf 'alice:%s' \
		    00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff \
		    >"$d/seed-token"
		printf '127.0.0.0/8, ::1 10.0.0.0/8\tfe80::/10' >"$d/seed-range"
		printf '::ffff:10.0.0.0/104 0.0.0.0/0 ::/0' >"$d/seed-range-all"
		printf 'HELO alice\r\n' >"$d/seed-helo"
		printf 'HELO render1 bdfarm/2 7\r\n' >"$d/seed-helo-ext"
		;;
	blendfile)
		# Small synthetic .blend files from the unit tests' builder.
		if ! "$cc" -I"$builddir" -I"$srcdir/src" -I"$srcdir/tests" \
		    -o "$work/blendfile-seed" "$fuzzdir/blendfile-seed.c" \
		    "$srcdir/tests/blendbuild.c" "$srcdir/src/xmalloc.c" \
		    "$srcdir/src/log.c" >"$work/build-seed.log" 2>&1 ||
		    ! "$work/blendfile-seed" "$d"; then
			cat "$work/build-seed.log" >&2
			exit 2
		fi
		;;
	picture)
		# Small PNG and JPEG files of each kind, and other headers.
		# shellcheck disable=SC2086
		if ! "$cc" -I"$builddir" -I"$srcdir/src" \
		    -o "$work/picture-seed" "$fuzzdir/picture-seed.c" $images \
		    >"$work/build-seed.log" 2>&1 ||
		    ! "$work/picture-seed" "$d"; then
			cat "$work/build-seed.log" >&2
			exit 2
		fi
		;;
	esac
}

found=0
for t in $targets; do
	src=$fuzzdir/fuzz-$t.c
	case $t in
	proto)
		units="proto.c"
		libs=
		;;
	jobfile)
		units="jobfile.c proto.c xmalloc.c log.c"
		libs=
		;;
	settings)
		units="settings.c netrange.c xmalloc.c log.c"
		libs=$libconfig
		;;
	state)
		units="state.c farm.c job.c host.c sched.c proto.c digest.c xmalloc.c log.c"
		libs=$(pkg-config --libs libcrypto libevent) || exit 2
		;;
	greeting)
		units="tls.c keys.c netrange.c proto.c xmalloc.c log.c"
		libs=$(pkg-config --libs libssl libcrypto) || exit 2
		;;
	blendfile)
		units="blendfile.c sdna.c xmalloc.c log.c"
		libs=$(pkg-config --libs zlib libzstd) || exit 2
		;;
	picture)
		units="picture.c preview.c fileio.c xmalloc.c log.c"
		libs="$images $(pkg-config --libs libevent) -lpthread" || exit 2
		;;
	esac
	set -- "$src"
	for u in $units; do
		set -- "$@" "$srcdir/src/$u"
	done

	echo "run-fuzz: building fuzz-$t"
	# shellcheck disable=SC2086
	if ! build "$work/fuzz-$t" "$@" $libs >"$work/build-$t.log" 2>&1; then
		cat "$work/build-$t.log" >&2
		exit 2
	fi

	seeds "$t"
	dict=
	[ -f "$fuzzdir/$t.dict" ] && dict=-dict=$fuzzdir/$t.dict

	echo "run-fuzz: running fuzz-$t for $seconds s"
	# shellcheck disable=SC2086
	TMPDIR=$work \
	LSAN_OPTIONS="suppressions=$fuzzdir/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
	    "$work/fuzz-$t" -max_total_time="$seconds" -timeout=10 \
	    -max_len=8192 -print_final_stats=1 $dict ${FUZZ_SEED:+-seed=$FUZZ_SEED} \
	    -artifact_prefix="$work/$t-" "$work/corpus-$t" \
	    >"$work/run-$t.log" 2>&1
	rc=$?
	grep -E '^#[0-9]+.*DONE|^stat::number_of_executed_units|^stat::peak_rss_mb' \
	    "$work/run-$t.log" | sed "s/^/  $t: /"
	echo "  $t: corpus of $(find "$work/corpus-$t" -type f | wc -l) inputs"
	if [ "$rc" -ne 0 ]; then
		found=1
		echo "run-fuzz: fuzz-$t FOUND A PROBLEM (exit $rc):"
		grep -E 'ERROR|SUMMARY|runtime error|deadly signal|Test unit written' \
		    "$work/run-$t.log" | head -20 | sed "s/^/  $t: /"
		echo "  $t: full log in $work/run-$t.log"
	fi
done

if [ "$found" -eq 0 ] && [ "$keep" -eq 0 ]; then
	rm -rf "$work"
else
	echo "run-fuzz: programs, corpora and logs are in $work"
fi
exit "$found"
