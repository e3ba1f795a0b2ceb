#!/bin/sh
# NAME
#	run.sh - run the libFuzzer targets of t/fuzz, one after the other
# SYNOPSIS
#	t/fuzz/run.sh [-t SECONDS | -r RUNS] [-b BINDIR] [-o OUTDIR] [TARGET...]
# DESCRIPTION
#	Builds nothing: the targets come from a build tree configured with
#	--enable-fuzzers CC=clang (`make check` or `make fuzz` builds them).
#	Runs each TARGET (default: every fuzz_* binary in BINDIR) for
#	SECONDS seconds (-t, default 60) or RUNS executions (-r; then at
#	most FUZZ_MAX_SECONDS, default 60, per target), one process at a
#	time, and prints one line per target with its executions and
#	crashes, then a total.
#
#	Inputs of a target: OUTDIR/corpus/TARGET (the working corpus, kept
#	between runs; new inputs go there), t/fuzz/seeds/TARGET (the seeds
#	written for bav) and, for some targets, fixtures of the source tree
#	used as seeds in place (t/data/golden and contrib/examples for
#	fuzz_classify, fuzz_mime and fuzz_spool, contrib/rules for fuzz_rules,
#	t/policyd for fuzz_policyd). t/fuzz/TARGET.dict, when there, is
#	the dictionary (fuzz_mime uses fuzz_classify.dict).
#	Reproducers of crashes, leaks, timeouts and out-of-memory inputs
#	are written to OUTDIR/crashes/TARGET/; one is replayed with
#	`BINDIR/TARGET FILE`. Copy one worth keeping to
#	t/fuzz/crashes/TARGET/ in the source tree: run.sh replays those
#	first (they must not crash any more) before fuzzing.
# OPTIONS
#	-t SECONDS  time per target (libFuzzer -max_total_time)
#	-r RUNS     executions per target (libFuzzer -runs)
#	-b BINDIR   the fuzz binaries (default $FUZZ_BIN, else t/fuzz of
#	            the current directory)
#	-o OUTDIR   corpus and crash directory (default $FUZZ_OUT, else
#	            BINDIR)
# ENVIRONMENT
#	FUZZ_BIN, FUZZ_OUT, FUZZ_MAX_SECONDS, FUZZ_FLAGS (more libFuzzer
#	options, e.g. -seed=1 or -jobs=1).
# DIAGNOSTICS
#	Exit 0 when no target crashed, 1 when one did (or a known
#	reproducer crashes again), 2 on a usage error, 77 when no target
#	was built.

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
seconds=60
runs=
bindir=${FUZZ_BIN:-t/fuzz}
outdir=${FUZZ_OUT:-}
maxsec=${FUZZ_MAX_SECONDS:-60}

usage() {
	echo "usage: $0 [-t SECONDS | -r RUNS] [-b BINDIR] [-o OUTDIR] [TARGET...]" >&2
	exit 2
}
while getopts t:r:b:o: opt; do
	case $opt in
	t) seconds=$OPTARG; runs= ;;
	r) runs=$OPTARG ;;
	b) bindir=$OPTARG ;;
	o) outdir=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
outdir=${outdir:-$bindir}

if [ $# -eq 0 ]; then
	for f in "$bindir"/fuzz_*; do
		[ -x "$f" ] && [ -f "$f" ] && set -- "$@" "${f##*/}"
	done
fi
if [ $# -eq 0 ]; then
	echo "run.sh: no fuzz target in $bindir (configure --enable-fuzzers CC=clang; make check)" >&2
	exit 77
fi

# extra seed directories of the source tree, per target
extra_seeds() {
	case $1 in
	fuzz_classify|fuzz_mime|fuzz_spool)
		echo "$srcdir/t/data/golden $srcdir/contrib/examples" ;;
	fuzz_rules) echo "$srcdir/contrib/rules" ;;
	fuzz_policyd) echo "$srcdir/t/policyd" ;;
	esac
}
# longest input per target
max_len() {
	case $1 in
	fuzz_classify|fuzz_mime|fuzz_spool) echo 65536 ;;
	fuzz_rules) echo 16384 ;;
	fuzz_lmtp) echo 8192 ;;
	*) echo 4096 ;;
	esac
}

total_exec=0
total_crash=0
status=0
for t in "$@"; do
	t=${t##*/}
	bin=$bindir/$t
	if [ ! -x "$bin" ]; then
		echo "$t: not built"
		status=1
		continue
	fi
	corpus=$outdir/corpus/$t
	art=$outdir/crashes/$t
	log=$outdir/$t.log
	mkdir -p "$corpus" "$art"

	# known reproducers must not crash any more
	known=0
	for r in "$srcdir/t/fuzz/crashes/$t"/*; do
		[ -f "$r" ] || continue
		case $r in *.txt|*README*) continue ;; esac
		known=$((known + 1))
		if ! "$bin" -runs=1 "$r" > "$log.known" 2>&1; then
			echo "$t: known reproducer ${r#$srcdir/} crashes again:"
			grep -E 'ERROR|SUMMARY|runtime error' "$log.known" | head -n 5
			total_crash=$((total_crash + 1))
			status=1
		fi
	done
	rm -f "$log.known"

	before=$(ls "$art" | wc -l)
	seeds=
	[ -d "$srcdir/t/fuzz/seeds/$t" ] && seeds="$srcdir/t/fuzz/seeds/$t"
	for d in $(extra_seeds "$t"); do
		[ -d "$d" ] && seeds="$seeds $d"
	done
	dict=
	d=$t
	[ "$t" = fuzz_mime ] && d=fuzz_classify	# the same words
	[ -f "$srcdir/t/fuzz/$d.dict" ] && dict="-dict=$srcdir/t/fuzz/$d.dict"
	if [ -n "$runs" ]; then
		limit="-runs=$runs -max_total_time=$maxsec"
	else
		limit="-max_total_time=$seconds"
	fi
	start=$(date +%s)
	# shellcheck disable=SC2086
	"$bin" $limit -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$art/" $dict \
		${FUZZ_FLAGS:-} "$corpus" $seeds > "$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if [ -z "$execs" ]; then	# crashed: the last status line
		execs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	fi
	execs=${execs:-0}
	crashes=$(( $(ls "$art" | wc -l) - before ))
	if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
		crashes=1	# died without writing a reproducer
	fi
	cov=$(sed -n 's/.*\(cov: [0-9]*\).*/\1/p' "$log" | tail -n 1)
	corp=$(ls "$corpus" | wc -l)
	printf '%s: %s executions in %ss, %s crashes (%s, corpus %s)\n' \
		"$t" "$execs" "$secs" "$crashes" "${cov:-cov: ?}" "$corp"
	if [ "$crashes" -gt 0 ]; then
		grep -E '^(==[0-9]+==ERROR|SUMMARY)|runtime error|Test unit written' "$log" | head -n 8
		echo "  log: $log"
		status=1
	fi
	total_exec=$((total_exec + execs))
	total_crash=$((total_crash + crashes))
done
echo "fuzz: $# targets, $total_exec executions, $total_crash crashes"
exit $status
