#!/bin/sh
# Install what building, testing and demonstrating bdfarm needs on Debian
# 12 (run as root, or with sudo), then configure and build it in _build/.
set -eu
cd "$(dirname "$0")/.."

# systemd brings the pkg-config file that says where units go, and
# systemd-analyze, with which the tests check them.
packages="build-essential autoconf automake autopoint libtool pkg-config
gettext libevent-dev libconfig-dev libssl-dev libncurses-dev check
zlib1g-dev libzstd-dev libpng-dev libjpeg-dev
python3 tmux locales procps blender clang clang-tools libclang-rt-14-dev openssl
systemd"

missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "Installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi

# The translation test needs a French locale.
if ! locale -a 2>/dev/null | grep -qi '^fr_FR\.utf-\?8$'; then
	sed -i 's/^# *\(fr_FR.UTF-8 UTF-8\)/\1/' /etc/locale.gen
	grep -q '^fr_FR.UTF-8 UTF-8' /etc/locale.gen ||
	    echo 'fr_FR.UTF-8 UTF-8' >> /etc/locale.gen
	locale-gen >/dev/null
fi

[ -x configure ] || ./autogen.sh
mkdir -p _build
cd _build
[ -f Makefile ] || ../configure --enable-werror
make -j"$(nproc)"
