#!/bin/sh
# NAME
#	bootstrap.sh - install what is missing, then build bav in ./build
# SYNOPSIS
#	./bootstrap.sh [configure options...]
# DESCRIPTION
#	The first command to run on a fresh Debian 12 machine:
#	  1. build-aux/deps.sh installs the missing build packages (apt-get;
#	     nothing happens when all are there),
#	  2. autoreconf generates configure (from a git clone),
#	  3. configure runs in ./build (out of tree; options are passed on),
#	  4. make builds libbav and the bav command.
#	Afterwards build/bav/bav is ready to run; nothing is installed
#	(cd build && make install does that). Run it again after a git pull.
#	BUILD_DIR overrides ./build.
# DIAGNOSTICS
#	Stops at the first failing step with its exit status.
set -e
srcdir=$(cd "$(dirname "$0")" && pwd)
build=${BUILD_DIR:-$srcdir/build}
jobs=$(nproc 2>/dev/null || echo 2)

sh "$srcdir/build-aux/deps.sh"
if [ -f "$srcdir/config.status" ] && [ "$build" != "$srcdir" ]; then
	echo "bootstrap.sh: $srcdir was configured in place; run 'make distclean' there first" >&2
	exit 1
fi
if [ ! -x "$srcdir/configure" ] || [ "$srcdir/configure.ac" -nt "$srcdir/configure" ]; then
	echo "bootstrap.sh: autoreconf" >&2
	(cd "$srcdir" && autoreconf -fi)
fi
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ] || [ $# -gt 0 ]; then
	"$srcdir/configure" "$@"
fi
make -j"$jobs"
echo
echo "bootstrap.sh: built $build/bav/bav -- try: $build/bav/bav classify $srcdir/contrib/examples/"
