#!/bin/sh
# Generate the configure script and the build files from a fresh checkout.
set -e
cd "$(dirname "$0")"
mkdir -p m4
autoreconf --install --force
