#!/bin/sh
# deps.sh - make sure what the build and the tests need is here: each
# Debian package is checked by what it provides (a command, a pkg-config
# module, a compiler feature), so any distribution that has them passes;
# what is missing is installed with apt-get when run as root, one line per
# package saying what and how much before it starts; otherwise the missing
# packages are named and the exit status is 2.
# Usage: deps.sh [extra Debian packages...]
set -u
# gnuplot-nox: `dmalink bench --sweep --plot`, which tests/tools/bench-cli.sh runs
need="gcc binutils meson ninja-build pkg-config libcmocka-dev gnuplot-nox $*"

# has PKG: what the package provides is usable here
has() {
	case "$1" in
	gcc|clang|meson|pkg-config) command -v "$1" >/dev/null 2>&1 ;;
	binutils) command -v ld >/dev/null 2>&1 && command -v objdump >/dev/null 2>&1 ;;
	ninja-build) command -v ninja >/dev/null 2>&1 ;;
	gnuplot-nox) command -v gnuplot >/dev/null 2>&1 ;;
	libcmocka-dev) pkg-config --exists cmocka 2>/dev/null ;;
	libclang-rt-*-dev)
		# libFuzzer's runtime: link a fuzz target
		printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' |
			clang -x c - -fsanitize=fuzzer -o /dev/null >/dev/null 2>&1 ;;
	*)
		# a package with no probe: ask dpkg where there is one
		dpkg-query -W -f='${Status}' "$1" 2>/dev/null |
			grep -q "install ok installed" ;;
	esac
}

# mb PKG: megabytes apt-get would download for PKG and what it pulls in
mb() {
	apt-get install -qq --print-uris "$1" 2>/dev/null |
		awk '{ s += $3 } END { printf "%d", (s + 524288) / 1048576 }'
}

missing=""
for p in $need; do
	has "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	export DEBIAN_FRONTEND=noninteractive
	echo "deps: missing$missing; updating the apt package lists"
	apt-get update -qq >/dev/null
	for p in $missing; do
		echo "deps: installing $p ... (about $(mb "$p") MB to download)"
		apt-get install -y -qq "$p" >/dev/null ||
			{ echo "deps: apt-get install $p failed" >&2; exit 2; }
	done
	exit 0
fi
echo "deps: missing packages:$missing" >&2
echo "deps: install them (Debian: sudo apt-get install$missing)" >&2
exit 2
