#!/bin/sh
# deps.sh - make sure the Debian packages the build and the tests need are
# installed: install them with apt-get when run as root, otherwise print
# exactly what is missing and exit 2.  Usage: deps.sh [extra packages...]
set -u
# gnuplot-nox: `dmalink bench --sweep --plot`, which tests/tools/bench-cli.sh runs
need="gcc binutils meson ninja-build pkg-config libcmocka-dev gnuplot-nox $*"
missing=""
for p in $need; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$st" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null && exit 0
	echo "deps: apt-get install$missing failed" >&2
	exit 2
fi
echo "deps: missing Debian packages:$missing" >&2
echo "deps: install them with: sudo apt-get install$missing" >&2
exit 2
