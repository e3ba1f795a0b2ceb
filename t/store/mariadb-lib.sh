# NAME
#	mariadb-lib.sh - start and stop a private mariadbd for the store tests
# SYNOPSIS
#	. t/store/mariadb-lib.sh
#	mariadb_start DIR		# sets MARIADB_URI, MARIADB_SOCK, MARIADB_PID
#	mariadb_kill			# SIGKILL (the "database gone" case)
#	mariadb_restart			# same datadir, same port
#	mariadb_stop			# SIGTERM, waits; safe to call twice
# DESCRIPTION
#	A fresh datadir under DIR (mariadb-install-db), mariadbd bound to
#	127.0.0.1 on a free port, a database "bav" and a user "bav" with a
#	password in DIR/password; nothing of /etc/mysql is read. Callers
#	install "trap mariadb_stop EXIT" so no server outlives a test.
#	Returns 77 from mariadb_start when mariadb-server is not installed.
# SEE ALSO
#	../shared/docs/REAL-SERVERS.md section 4

mariadb_find_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

mariadb_alive() {
	[ -n "$MARIADB_PID" ] && [ -d "/proc/$MARIADB_PID" ] &&
		! grep -q '^[^ ]* ([^)]*) Z' "/proc/$MARIADB_PID/stat" 2>/dev/null
}

mariadb_run() {
	mariadbd --no-defaults --user=mysql --datadir="$MARIADB_DIR/data" \
		--socket="$MARIADB_SOCK" --port="$MARIADB_PORT" \
		--bind-address=127.0.0.1 --pid-file="$MARIADB_DIR/run/mysqld.pid" \
		--log-error="$MARIADB_DIR/run/error.log" --skip-name-resolve \
		--tmpdir="$MARIADB_DIR/run" \
		--innodb-buffer-pool-size=64M --innodb-log-file-size=48M \
		</dev/null >/dev/null 2>&1 &
	MARIADB_PID=$!
	i=0
	while [ $i -lt 300 ]; do
		mariadb-admin --no-defaults --socket="$MARIADB_SOCK" -uroot ping \
			>/dev/null 2>&1 && return 0
		mariadb_alive || break
		sleep 0.1
		i=$((i + 1))
	done
	echo "mariadbd did not start:" >&2
	tail -20 "$MARIADB_DIR/run/error.log" >&2
	return 1
}

mariadb_start() {
	command -v mariadbd >/dev/null 2>&1 &&
		command -v mariadb-install-db >/dev/null 2>&1 || return 77
	MARIADB_DIR=$1/mariadb
	mkdir -p "$MARIADB_DIR/run"
	chmod 755 "$1" "$MARIADB_DIR"
	chown mysql:mysql "$MARIADB_DIR/run" 2>/dev/null || chmod 1777 "$MARIADB_DIR/run"
	MARIADB_SOCK=$MARIADB_DIR/run/mysqld.sock
	MARIADB_PORT=$(mariadb_find_port)
	mariadb-install-db --no-defaults --user=mysql --datadir="$MARIADB_DIR/data" \
		--tmpdir="$MARIADB_DIR/run" \
		--auth-root-authentication-method=socket --skip-test-db \
		>"$MARIADB_DIR/install.log" 2>&1 || { cat "$MARIADB_DIR/install.log" >&2; return 1; }
	mariadb_run || return 1
	echo "bavpw-$$" >"$MARIADB_DIR/password"
	chmod 600 "$MARIADB_DIR/password"
	mariadb --no-defaults --socket="$MARIADB_SOCK" -uroot -e "
		CREATE DATABASE bav CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
		CREATE USER 'bav'@'127.0.0.1' IDENTIFIED BY 'bavpw-$$';
		CREATE USER 'bav'@'localhost' IDENTIFIED BY 'bavpw-$$';
		GRANT ALL ON bav.* TO 'bav'@'127.0.0.1';
		GRANT ALL ON bav.* TO 'bav'@'localhost';" || return 1
	MARIADB_URI="mariadb://bav@127.0.0.1:$MARIADB_PORT/bav?password_file=$MARIADB_DIR/password"
	MARIADB_SOCKET_URI="mariadb://bav@localhost/bav?socket=$MARIADB_SOCK&password_file=$MARIADB_DIR/password"
	export MARIADB_URI MARIADB_SOCKET_URI
	return 0
}

mariadb_wait_gone() {
	i=0
	while mariadb_alive && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	wait "$MARIADB_PID" 2>/dev/null || true
}

mariadb_kill() {
	mariadb_alive && kill -KILL "$MARIADB_PID" 2>/dev/null
	mariadb_wait_gone
}

mariadb_restart() {
	mariadb_run
}

mariadb_stop() {
	if mariadb_alive; then
		kill -TERM "$MARIADB_PID" 2>/dev/null
		mariadb_wait_gone
	fi
	MARIADB_PID=
}
