#!/bin/sh
# SPDX-License-Identifier: MIT
# NAME
#	t/hostile/secrets.sh - store password file rule, SQLite file mode
# SYNOPSIS
#	top_srcdir=. top_builddir=. sh t/hostile/secrets.sh
# DESCRIPTION
#	The store's password_file= follows the rule of the secrets file
#	(bav_secret_file_read(), strict): a file with any group or other
#	bit (0640, 0604, 0644) or, as root, one owned by another user
#	(nobody) is refused with exit 78 before a connection is tried; a
#	0600 file of the running user gets past the check (the connection
#	to 127.0.0.1:1 then fails, not with "refused: ..."). "bav store
#	init" under umask 022 and umask 0 creates the SQLite file 0640 (not
#	0644 / 0666), and an existing file keeps its mode.
# DIAGNOSTICS
#	Exit 0 pass, 1 fail, 77 skip.
. "${top_srcdir:-.}/t/hostile/common.sh"

# ---- S3: password file ---------------------------------------------------
if "$BAV" store init --store "mariadb://x@127.0.0.1:1/x" 2>&1 |
	grep -q 'not built\|not available'; then
	echo "skip (part): MariaDB backend not built"
else
	printf 'secret\n' > "$T/pw"
	for mode in 640 604 644 660 600; do
		chmod "$mode" "$T/pw"
		"$BAV" store init --store \
			"mariadb://u@127.0.0.1:1/x?password_file=$T/pw" \
			> /dev/null 2> "$T/err"
		rc=$?
		if [ "$mode" = 600 ]; then
			grep -q "refused" "$T/err" &&
				fail "password file 0600: refused: $(cat "$T/err")" ||
				ok "password file 0600: accepted (then: exit $rc)"
		else
			expect "password file 0$mode: exit 78" 78 "$rc"
			grep -q "refused: mode 0$mode" "$T/err" &&
				ok "password file 0$mode: said so" ||
				fail "password file 0$mode: $(cat "$T/err")"
		fi
	done
	if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
		chmod 600 "$T/pw"
		chown nobody "$T/pw"
		"$BAV" store init --store \
			"mariadb://u@127.0.0.1:1/x?password_file=$T/pw" \
			> /dev/null 2> "$T/err"
		expect "password file owned by nobody: exit 78" 78 "$?"
		grep -q "refused: owned by uid" "$T/err" &&
			ok "password file owned by nobody: said so" ||
			fail "password file owned by nobody: $(cat "$T/err")"
	fi
fi

# ---- N1: SQLite file mode ------------------------------------------------
for um in 022 000; do
	db=$T/um$um.db
	(umask $um && "$BAV" store init --store "sqlite:$db") > "$T/out" 2>&1 ||
		fail "store init (umask $um): $(cat "$T/out")"
	expect "sqlite file under umask $um" "-rw-r-----" \
		"$(ls -l "$db" | cut -c1-10)"
done
touch "$T/old.db"; chmod 600 "$T/old.db"
(umask 022 && "$BAV" store init --store "sqlite:$T/old.db") > "$T/out" 2>&1 ||
	fail "store init (existing file): $(cat "$T/out")"
expect "existing sqlite file keeps its mode" "-rw-------" \
	"$(ls -l "$T/old.db" | cut -c1-10)"
finish
