#!/bin/sh
# Build the Debian package from a clean copy of the committed tree (HEAD),
# install it as a user would, and check what it installed: the program
# answers --version and, in French, --help; the user bdfarm and its folders
# exist; the services, if any, are not enabled. Then purge it and check
# that it removed what it should and kept what it must. Run as root on
# Debian 12, on a machine where the package is not installed.
set -eu
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

fail() {
	echo "debcheck: FAIL: $*"
	exit 1
}

status=$(dpkg-query -W -f='${db:Status-Status}' bdfarm 2>/dev/null || true)
case $status in
"" | not-installed) ;;
*) fail "the package bdfarm is $status here; remove it first (its settings and data are not ours to purge)" ;;
esac
user_before=$(getent passwd bdfarm || true)

if ! command -v dpkg-buildpackage >/dev/null; then
	apt-get update -q
	apt-get install -y -q --no-install-recommends dpkg-dev
fi

# What git holds, not what lies around in this tree (a configured build,
# a previous package's leftovers): commit first to check a change.
work=$(mktemp -d /tmp/bdfarm-deb.XXXXXX)
tree=$work/bdfarm
mkdir "$tree"
git -c safe.directory="$(pwd)" archive HEAD | tar -x -C "$tree"

# The tests are left out (nocheck): CI runs them all before, in the
# normal and the sanitizer builds.
profile=nocheck
if ! (cd "$tree" && dpkg-checkbuilddeps -P "$profile" 2>/dev/null); then
	apt-get update -q
	apt-get build-dep -y -q --no-install-recommends -P "$profile" "$tree"
fi
echo "debcheck: building the package in $tree"
if ! (cd "$tree" &&
    DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
    DEB_BUILD_PROFILES="$profile" dpkg-buildpackage -us -uc -b) \
    >"$work/build.log" 2>&1; then
	tail -n 60 "$work/build.log"
	fail "dpkg-buildpackage failed; see $work/build.log"
fi
deb=$(ls "$work"/bdfarm_*.deb)
echo "debcheck: built $(basename "$deb"), $(stat -c %s "$deb") bytes"
dpkg-deb --contents "$deb"

if command -v lintian >/dev/null; then
	lintian --fail-on error "$deb" || fail "lintian reports errors"
fi

# apt, not dpkg, so that the dependencies come along as for a user.
apt-get install -y -q --no-install-recommends "$deb"

for f in /usr/bin/bdfarm /usr/share/man/man1/bdfarm.1.gz \
    /usr/share/locale/fr/LC_MESSAGES/bdfarm.mo /etc/bdfarm.conf \
    /usr/share/bdfarm/join-frames.sh /lib/systemd/system/bdfarm.service \
    /lib/systemd/system/bdfarm-client.service /etc/default/bdfarm \
    /etc/default/bdfarm-client; do
	[ -e "$f" ] || fail "$f is not installed"
done

want=$(sed -n 's/^AC_INIT(\[bdfarm\], \[\([^]]*\)\].*/\1/p' "$tree/configure.ac")
got=$(env -u BDFARM_LOCALEDIR /usr/bin/bdfarm --version 2>&1) ||
    fail "bdfarm --version failed: $got"
[ "$got" = "bdfarm $want" ] ||
    fail "bdfarm --version said '$got', not 'bdfarm $want'"
echo "debcheck: ok: $got"

# The catalogue must be found where the package put it; the locale too.
if ! locale -a 2>/dev/null | grep -qi '^fr_FR\.utf-\?8$'; then
	fail "no fr_FR.UTF-8 locale: run tools/setup.sh, which makes it"
fi
help=$(env -u BDFARM_LOCALEDIR LANGUAGE=fr LC_ALL=fr_FR.UTF-8 \
    /usr/bin/bdfarm --help 2>&1) || fail "bdfarm --help failed: $help"
for line in '^Utilisation : bdfarm' 'Options du serveur'; do
	printf '%s\n' "$help" | grep -q -- "$line" ||
	    fail "no '$line' in the French --help:
$help"
done
echo "debcheck: ok: --help in French"

# The user and the server's folders.
entry=$(getent passwd bdfarm) || fail "no user bdfarm"
echo "debcheck: ok: user $entry"
[ "$(echo "$entry" | cut -d: -f6)" = /var/lib/bdfarm ] ||
    fail "bdfarm's home is not /var/lib/bdfarm"
getent group bdfarm >/dev/null || fail "no group bdfarm"
check_folders() {
	for dir in /var/lib/bdfarm /var/lib/bdfarm/jobs /var/lib/bdfarm/renders; do
		[ -d "$dir" ] || fail "$dir was not made"
		got=$(stat -c '%U:%G %a' "$dir")
		[ "$got" = "bdfarm:bdfarm 750" ] ||
		    fail "$dir is $got, not bdfarm:bdfarm 750"
	done
}
check_folders
echo "debcheck: ok: /var/lib/bdfarm, jobs and renders"

# The units are installed but not enabled.
for unit in $(dpkg -L bdfarm | grep '^/lib/systemd/system/.'); do
	name=$(basename "$unit")
	if find /etc/systemd/system -name "$name" 2>/dev/null | grep -q .; then
		fail "$name is enabled on install"
	fi
	echo "debcheck: ok: $name installed, not enabled"
done

# Configuring again (a reinstall, an upgrade) must work and change nothing.
apt-get install -y -q --reinstall "$deb"
check_folders
echo "debcheck: ok: reinstalled"

# A purge removes the package's files and its empty folders, and keeps a
# folder that holds anything: a frame stands for the owner's renders.
mkdir -p /var/lib/bdfarm/renders/check.job
echo frame > /var/lib/bdfarm/renders/check.job/0001.png
apt-get purge -y -q bdfarm
for f in /usr/bin/bdfarm /etc/bdfarm.conf /var/lib/bdfarm/jobs; do
	[ ! -e "$f" ] || fail "$f is still there after purge"
done
[ -f /var/lib/bdfarm/renders/check.job/0001.png ] ||
    fail "purge deleted a rendered frame"
echo "debcheck: ok: purged, renders kept"

rm -r /var/lib/bdfarm
if [ -z "$user_before" ]; then
	deluser --system --quiet bdfarm
fi
rm -rf "$work"
echo "debcheck: all checks passed"
