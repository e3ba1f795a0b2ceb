#!/bin/sh
# NAME
#	t/milter/cmdline.sh - bav-milter -n and option errors
# DESCRIPTION
#	-n loads the table and checks the options without opening a socket;
#	a broken table, an unknown log level, mode, network, tempfail code
#	or rules file end with exit 1 and a message naming the problem
#	(file:line for the table).
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 when bav-milter was not built.
builddir=${top_builddir:-.}
srcdir=${top_srcdir:-.}/t/milter
milter=$builddir/milter/bav-milter
[ -x "$milter" ] || { echo "SKIP: $milter not built"; exit 77; }
T=$(mktemp -d /tmp/bav-cmdline.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
fails=0

# expect RC PATTERN ARGS...: exit code and a fixed string in the output
expect() {
	want_rc=$1 pat=$2
	shift 2
	"$milter" "$@" > "$T/out" 2>&1
	rc=$?
	if [ $rc -ne "$want_rc" ] || ! grep -qF -- "$pat" "$T/out"; then
		echo "FAIL: bav-milter $*: rc $rc (want $want_rc), output:"
		sed 's/^/	/' "$T/out"
		echo "	(want: $pat)"
		fails=$((fails + 1))
	else
		echo "ok: bav-milter $* -> $want_rc"
	fi
}

printf 'a@b.example\taccept:rid=1\nc@b.example\tmaybe\n' > "$T/bad.conf"
expect 0 "bav.conf: 7 entries, 3 domains; mode enforce; socket unix:/run/bav/bav-milter.sock: ok" \
	-n -c "$srcdir/bav.conf"
expect 0 "mode soft; socket inet:8894@127.0.0.1: ok" \
	-n -c "$srcdir/bav.conf" -m soft -s inet:8894@127.0.0.1 -k
expect 1 "$T/bad.conf:2: unknown action" -n -c "$T/bad.conf"
expect 1 "$T/none.conf: No such file or directory" -n -c "$T/none.conf"
expect 1 "invalid log level 'LOUD'" -n -c "$srcdir/bav.conf" -L LOUD
expect 0 ": ok" -n -c "$srcdir/bav.conf" -L inf
expect 1 "bad mode 'strict'" -n -c "$srcdir/bav.conf" -m strict
expect 1 "-l: bad address or network '10.0.0.0/33'" -n -c "$srcdir/bav.conf" -l 10.0.0.0/33
expect 1 "bad tempfail code '550'" -n -c "$srcdir/bav.conf" -t 550
expect 1 "unknown user" -n -c "$srcdir/bav.conf" -u no-such-user-here
expect 1 "unknown group 'no-such-group-here'" -n -c "$srcdir/bav.conf" -G no-such-group-here
expect 1 "bad socket mode '999'" -n -c "$srcdir/bav.conf" -M 999
expect 1 "$T/none.rules" -n -c "$srcdir/bav.conf" -K "$T/none.rules"
expect 1 "usage:" -n -c "$srcdir/bav.conf" extra
[ $fails -eq 0 ] || exit 1
