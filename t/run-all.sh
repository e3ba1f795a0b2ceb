#!/bin/bash
# NAME
#	run-all.sh - build bav and run every test (what CI runs)
# SYNOPSIS
#	t/run-all.sh
# DESCRIPTION
#	From a git clone or an unpacked tarball, in this order:
#	  1. build-aux/deps.sh --test (apt-get only for what is missing),
#	  2. autoreconf, configure --enable-werror, make, make check
#	     (unit tests and golden tests) in $BUILD_ROOT/plain,
#	  3. the unit tests again under valgrind (skip with NOVALGRIND=1),
#	  4. a second build with --enable-sanitizers (ASan + UBSan, clang when
#	     installed) in $BUILD_ROOT/asan: make check, then t/corpus-robust.sh,
#	  4b. a third build with --enable-fuzzers CC=clang in $BUILD_ROOT/fuzz:
#	     make check there runs each libFuzzer target of t/fuzz briefly
#	     (t/fuzz/check.sh; skip with NOFUZZ=1 or without clang),
#	  5. make distcheck,
#	  5b. t/deb/build-install.sh: build the Debian packages, install
#	     them, run the units' commands as user bav, purge (skip: NODEB=1),
#	  5c. make soak SOAK_COUNT=1000 (t/soak/soak.sh: Postfix, bav-milter,
#	     bav-policyd, bav lmtpd into MariaDB restarted every few seconds;
#	     recorded must equal accepted; skip: NOSOAK=1),
#	  6. if the labelled corpus is there ($CORPUS, default
#	     ../shared/corpus/sisimai beside the source tree): score
#	     `bav classify --tsv` on it as is and with CRLF line endings,
#	     and run t/bench/classify --quick.
#	Every test suite counts once per run (an automake PASS/FAIL line, the
#	robustness script, distcheck; a failed build counts as a failure).
#	The last line is "N passed, N failed".
#
#	Scores and benchmark figures are printed, not enforced, unless the
#	GATE_* variables below are set (in the environment or here).
# ENVIRONMENT
#	BUILD_ROOT (default ./build), JOBS, CORPUS, SCORE_TOOL, NOVALGRIND=1,
#	NODEPS=1 (skip apt), NODISTCHECK=1, NODEB=1, NOSOAK=1, SOAK_COUNT, NOBENCH=1, NOFUZZ=1, SAN_CC (compiler of
#	the sanitizer build), GATE_REASON GATE_HARD GATE_STATUS GATE_COUNT
#	(minimum percentages, both line endings), GATE_BENCH=1 (bench goals
#	must be met).
# DIAGNOSTICS
#	Exit 0 when nothing failed, 1 otherwise.

# ---- gates: empty = report only ---------------------------------------------
GATE_REASON=${GATE_REASON:-}	# e.g. 95
GATE_HARD=${GATE_HARD:-}	# e.g. 97
GATE_STATUS=${GATE_STATUS:-}	# e.g. 95
GATE_COUNT=${GATE_COUNT:-}	# e.g. 97
GATE_BENCH=${GATE_BENCH:-}	# 1: t/bench/classify must report no MISS

set -u
set -o pipefail
srcdir=$(cd "$(dirname "$0")/.." && pwd)
BUILD_ROOT=${BUILD_ROOT:-$srcdir/build}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
CORPUS=${CORPUS:-$srcdir/../shared/corpus/sisimai}
SCORE_TOOL=${SCORE_TOOL:-$srcdir/../shared/tools/score-corpus}
export AM_COLOR_TESTS=no
LOGDIR=$BUILD_ROOT/logs
mkdir -p "$LOGDIR"

passed=0
failed=0
failures=()
start=$(date +%s)

step() { printf '\n==== %s  [%ds]\n' "$*" $(( $(date +%s) - start )); }
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); failures+=("$1"); echo "FAILED: $1"; }

# count automake's result lines of one make check log
count_tests() {	# label logfile
	local p f
	p=$(grep -E '^(PASS|XFAIL): ' "$2" | sort -u | wc -l)
	f=$(grep -E '^(FAIL|XPASS|ERROR): ' "$2" | sort -u | wc -l)
	passed=$((passed + p))
	failed=$((failed + f))
	while read -r line; do
		failures+=("$1 ${line}")
	done < <(grep -E '^(FAIL|XPASS|ERROR): ' "$2" | sort -u)
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		bad "$1: make check ran no test"
	fi
}

# configure + build one tree; returns non-zero on failure
build_tree() {	# dir label configure-args...
	local dir=$1 label=$2
	shift 2
	mkdir -p "$dir"
	(cd "$dir" && "$srcdir/configure" "$@" && make -j"$JOBS") \
		> "$LOGDIR/build-$label.log" 2>&1
	local rc=$?
	if [ $rc -ne 0 ]; then
		tail -n 60 "$LOGDIR/build-$label.log"
		bad "build ($label)"
		return 1
	fi
	grep -E 'warning:' "$LOGDIR/build-$label.log" | sort -u | head -n 40
	sed -n '/configuration summary/,/^  Type/p' "$LOGDIR/build-$label.log"
	return 0
}

check_tree() {	# dir label [make args...]
	local dir=$1 label=$2 suitelog=test-suite-$2.log
	shift 2
	(cd "$dir" && make -j"$JOBS" check TEST_SUITE_LOG="$suitelog" "$@") 2>&1 |
		tee "$LOGDIR/check-$label.log" | grep -E '^(PASS|FAIL|XPASS|XFAIL|ERROR|SKIP): |^# |Sanitizer|runtime error'
	count_tests "$label" "$LOGDIR/check-$label.log"
	if grep -qE '^(FAIL|XPASS|ERROR): ' "$LOGDIR/check-$label.log"; then
		# the output of the failed tests, at most 200 lines each
		awk '/^(FAIL|XPASS|ERROR): /{n=0} {if (n++ < 200) print}' "$dir/$suitelog" 2>/dev/null |
			sed -n '/^\(FAIL\|XPASS\|ERROR\): /,$p'
		cp "$dir/$suitelog" "$LOGDIR/" 2>/dev/null
	fi
}

# ---- 1. dependencies ----------------------------------------------------------
if [ "${NODEPS:-}" != 1 ]; then
	step "dependencies"
	sh "$srcdir/build-aux/deps.sh" --test || bad "deps.sh --test"
fi

# ---- 2. plain build, -Werror --------------------------------------------------
if [ -d "$srcdir/.git" ] || [ ! -x "$srcdir/configure" ]; then
	step "autoreconf"
	(cd "$srcdir" && autoreconf -fi) > "$LOGDIR/autoreconf.log" 2>&1 ||
		{ cat "$LOGDIR/autoreconf.log"; bad "autoreconf"; }
fi

plain=$BUILD_ROOT/plain
step "build with --enable-werror in $plain"
if build_tree "$plain" plain --enable-werror; then
	step "make check"
	check_tree "$plain" plain
	# ---- 3. valgrind ------------------------------------------------------
	if [ "${NOVALGRIND:-}" != 1 ] && command -v valgrind >/dev/null; then
		step "make check under valgrind"
		# the C test programs run under valgrind (LOG_COMPILER); the
		# *.sh tests get BAV_VALGRIND to prefix their bav commands with
		vg="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
		BAV_VALGRIND=$vg check_tree "$plain" valgrind \
			LOG_COMPILER=valgrind \
			LOG_FLAGS="${vg#valgrind }"
	fi
else
	plain=
fi

# ---- 4. sanitizer build ----------------------------------------------------------
asan=$BUILD_ROOT/asan
san_cc=${SAN_CC:-}
if [ -z "$san_cc" ]; then
	if command -v clang >/dev/null; then san_cc=clang; else san_cc=gcc; fi
fi
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=86:strict_string_checks=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="exitcode=86"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=87"
step "build with --enable-sanitizers (CC=$san_cc) in $asan"
if build_tree "$asan" asan --enable-sanitizers CC="$san_cc"; then
	step "make check (sanitizers)"
	check_tree "$asan" asan
	step "t/corpus-robust.sh (sanitizers)"
	BAV="$asan/bav/bav" CORPUS_DIR="$CORPUS/eml" bash "$srcdir/t/corpus-robust.sh"
	case $? in
	0) ok ;;
	77) echo "SKIP: t/corpus-robust.sh" ;;
	*) bad "t/corpus-robust.sh" ;;
	esac
fi
unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS

# ---- 4b. fuzz targets (libFuzzer + ASan + UBSan, clang only) ----------------
# only t/fuzz/check.sh and its programs: the rest of the suite already ran
# under sanitizers (build + check about 3 minutes on 2 cores)
if [ "${NOFUZZ:-}" != 1 ] && command -v clang >/dev/null; then
	fuzz=$BUILD_ROOT/fuzz
	step "build with --enable-fuzzers (CC=clang) in $fuzz"
	if build_tree "$fuzz" fuzz --enable-fuzzers CC=clang; then
		step "make check (fuzz targets)"
		check_tree "$fuzz" fuzz TESTS=t/fuzz/check.sh \
			'check_PROGRAMS=$(fuzz_programs)'
	fi
fi

# ---- 5. distcheck ------------------------------------------------------------
if [ -n "$plain" ] && [ "${NODISTCHECK:-}" != 1 ]; then
	step "make distcheck"
	if (cd "$plain" && make -j"$JOBS" distcheck \
		DISTCHECK_CONFIGURE_FLAGS="--enable-werror") > "$LOGDIR/distcheck.log" 2>&1; then
		grep -E 'archives ready|\.tar\.gz$' "$LOGDIR/distcheck.log" | tail -n 3
		ok
	else
		tail -n 60 "$LOGDIR/distcheck.log"
		bad "make distcheck"
	fi
fi

# ---- 5b. Debian packages: build, install, run as user bav, purge ----------
if [ "${NODEB:-}" != 1 ]; then
	step "t/deb/build-install.sh"
	JOBS=$JOBS bash "$srcdir/t/deb/build-install.sh" > "$LOGDIR/deb.log" 2>&1
	case $? in
	0) grep -E '^ok: dpkg-buildpackage|^all passed' "$LOGDIR/deb.log"; ok ;;
	77) grep '^SKIP' "$LOGDIR/deb.log" ;;
	*) grep -E '^FAIL' "$LOGDIR/deb.log"; tail -n 40 "$LOGDIR/deb.log"; bad "t/deb/build-install.sh" ;;
	esac
fi

# ---- 5c. soak: Postfix, milter, policyd, lmtpd into MariaDB with restarts -
if [ -n "$plain" ] && [ "${NOSOAK:-}" != 1 ]; then
	step "make soak SOAK_COUNT=${SOAK_COUNT:-1000}"
	(cd "$plain" && make soak SOAK_COUNT="${SOAK_COUNT:-1000}") \
		> "$LOGDIR/soak.log" 2>&1
	case $? in
	0) grep -E '^soak:' "$LOGDIR/soak.log"; ok ;;
	*) if grep -q '^SKIP' "$LOGDIR/soak.log"; then
		grep '^SKIP' "$LOGDIR/soak.log"
	   else
		tail -n 40 "$LOGDIR/soak.log"; bad "make soak"
	   fi ;;
	esac
fi

# ---- 6. corpus score and benchmark (reported; gated only by GATE_*) ---------
gate() {	# label score-line
	local m v
	for m in reason:GATE_REASON hard:GATE_HARD status:GATE_STATUS count:GATE_COUNT; do
		local var=${m#*:}
		local min=${!var}
		[ -z "$min" ] && continue
		v=$(sed -n "s/.*${m%%:*}=\([0-9.]*\)%.*/\1/p" <<< "$2")
		if [ -z "$v" ] || ! awk -v v="$v" -v m="$min" 'BEGIN { exit !(v >= m) }'; then
			bad "corpus $1: ${m%%:*}=${v:-?}% < $min%"
		else
			ok
		fi
	done
}

if [ -n "$plain" ] && [ -d "$CORPUS/eml" ] && [ -f "$CORPUS/truth.tsv" ]; then
	bav=$plain/bav/bav
	crlf=$(mktemp -d "${TMPDIR:-/tmp}/bav-crlf.XXXXXX")
	step "corpus score ($CORPUS)"
	# run inside the directory so the file column is the bare file name
	(cd "$CORPUS/eml" && "$bav" classify --tsv *.eml) > "$LOGDIR/results.tsv" 2> "$LOGDIR/results.err"
	echo "bav classify exit $?, $(wc -l < "$LOGDIR/results.err") lines on stderr"
	lf=$(python3 "$SCORE_TOOL" "$CORPUS/truth.tsv" "$LOGDIR/results.tsv" | tail -n 1)
	echo "score LF:   $lf"
	gate LF "$lf"
	for f in "$CORPUS"/eml/*.eml; do
		sed -e 's/\r$//' -e 's/$/\r/' "$f" > "$crlf/${f##*/}"
	done
	(cd "$crlf" && "$bav" classify --tsv *.eml) > "$LOGDIR/results-crlf.tsv" 2> "$LOGDIR/results-crlf.err"
	echo "bav classify exit $?, $(wc -l < "$LOGDIR/results-crlf.err") lines on stderr"
	cr=$(python3 "$SCORE_TOOL" "$CORPUS/truth.tsv" "$LOGDIR/results-crlf.tsv" | tail -n 1)
	echo "score CRLF: $cr"
	gate CRLF "$cr"
	rm -rf "$crlf"

	if [ "${NOBENCH:-}" != 1 ]; then
		step "t/bench/classify --quick"
		BAV="$bav" CORPUS_DIR="$CORPUS/eml" "$srcdir/t/bench/classify" --quick 2>&1 |
			tee "$LOGDIR/bench.log"
		rc=$?
		if [ "$GATE_BENCH" = 1 ]; then
			if [ $rc -ne 0 ] || grep -q 'MISS' "$LOGDIR/bench.log"; then
				bad "bench goals"
			else
				ok
			fi
		fi
	fi
elif [ -z "$plain" ]; then
	step "corpus scoring and benchmark skipped: no build"
else
	step "corpus: $CORPUS not found, scoring and benchmark skipped"
fi

step "done; logs in $LOGDIR"
for f in "${failures[@]+"${failures[@]}"}"; do
	echo "  failed: $f"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
