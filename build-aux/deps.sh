#!/bin/sh
# NAME
#	deps.sh - install the Debian packages bav needs (the one list)
# SYNOPSIS
#	sh build-aux/deps.sh [--test] [--list]
# DESCRIPTION
#	Installs, with apt-get, whichever of the packages below is missing:
#	the build dependencies always, the test and benchmark tools with
#	--test. When everything is installed it only runs dpkg-query, so it
#	is cheap to call before every build; apt-get update runs only when
#	something must be installed. Uses sudo when not run as root.
#	--list prints the package names and installs nothing.
#
#	bootstrap.sh, t/run-all.sh and .ci/run all call this script, so
#	this is the only place that names packages. Debian 12 (bookworm).
# DIAGNOSTICS
#	Exit 0 when everything is installed, non-zero when apt-get fails.
set -e

BUILD_PKGS="build-essential autoconf automake libtool pkg-config
	libpcre2-dev libsqlite3-dev libmariadb-dev libmilter-dev dovecot-dev
	libspf2-dev libopendkim-dev"
# clang + its sanitizer runtime: second compiler for the ASan/UBSan build;
# python3/perl: test scripts and corpus scoring; libsisimai-perl and
# python3-flufl.bounce: the classifiers t/bench/classify compares with.
# chromium: t/report/chromium.sh renders the HTML report headless.
# mariadb-server: t/store/mariadb.sh and t/bench/store start a private
# mariadbd on 127.0.0.1.
# miltertest, postfix, swaks: t/milter/ (bav-milter under miltertest and
# behind a private Postfix); opendkim, bc: t/bench/milter (reference
# milter, arithmetic).
# dovecot-core, dovecot-lmtpd, dovecot-sieve: t/dovecot/ (the plugin in a
# private Dovecot: dovecot-lda, LMTP, Sieve).
# postfwd, postgrey: the policy servers t/bench/policyd compares with.
# debhelper, dpkg-dev, fakeroot: t/deb/build-install.sh (dpkg-buildpackage).
TEST_PKGS="clang libclang-rt-14-dev valgrind python3 perl
	libsisimai-perl python3-flufl.bounce chromium
	mariadb-server
	miltertest postfix swaks sqlite3
	dovecot-core dovecot-lmtpd dovecot-sieve
	postfwd postgrey
	opendkim bc
	debhelper dpkg-dev fakeroot logrotate"

pkgs=$BUILD_PKGS
list=no
for a in "$@"; do
	case $a in
	--test) pkgs="$pkgs $TEST_PKGS" ;;
	--list) list=yes ;;
	*) echo "usage: $0 [--test] [--list]" >&2; exit 2 ;;
	esac
done
if [ $list = yes ]; then
	echo $pkgs
	exit 0
fi

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps.sh: installing:$missing" >&2
if [ "$(id -u)" = 0 ]; then
	sudo=
elif command -v sudo >/dev/null 2>&1; then
	sudo=sudo
else
	echo "deps.sh: need root (or sudo) to install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
