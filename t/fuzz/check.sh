#!/bin/sh
# NAME
#	check.sh - the short fuzz run of `make check` (--enable-fuzzers)
# SYNOPSIS
#	top_srcdir=... top_builddir=... t/fuzz/check.sh
# DESCRIPTION
#	Runs every fuzz target of the build tree for FUZZ_RUNS executions
#	(default 2000, at most FUZZ_MAX_SECONDS=10 seconds each) from a
#	fresh working corpus, through t/fuzz/run.sh. The longer run is
#	`make fuzz FUZZ_SECONDS=600`.
# DIAGNOSTICS
#	Exit 0 when nothing crashed, 1 otherwise, 77 without fuzz targets.

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
out=$top_builddir/t/fuzz/check-out
rm -rf "$out"
mkdir -p "$out"
FUZZ_MAX_SECONDS=${FUZZ_MAX_SECONDS:-10} \
	sh "$top_srcdir/t/fuzz/run.sh" -r "${FUZZ_RUNS:-2000}" \
	-b "$top_builddir/t/fuzz" -o "$out"
rc=$?
[ $rc -eq 0 ] && rm -rf "$out"
exit $rc
