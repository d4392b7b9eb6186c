#!/bin/sh
# deps-check.sh SRCDIR - tools/deps.sh on a machine that is not Debian: a
# PATH with every command the build needs and no dpkg-query passes (exit
# 0, silent); one without gnuplot, as a non-root user, exits 2 and names
# the package.  Prints TAP.
set -u
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }

mkdir "$tmp/bin"
for c in gcc ld objdump meson ninja pkg-config gnuplot; do
	printf '#!/bin/sh\nexit 0\n' > "$tmp/bin/$c"
done
printf '#!/bin/sh\necho 1000\n' > "$tmp/bin/id"	# not root
chmod +x "$tmp/bin"/*

if PATH=$tmp/bin /bin/sh "$src/tools/deps.sh" > "$tmp/out" 2>&1 && [ ! -s "$tmp/out" ]; then
	ok "everything there, no dpkg-query: exit 0, nothing said"
else
	not_ok "everything there"; cat "$tmp/out"
fi

rm "$tmp/bin/gnuplot"
PATH=$tmp/bin /bin/sh "$src/tools/deps.sh" > "$tmp/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q 'missing packages: gnuplot-nox$' "$tmp/out"; then
	ok "gnuplot missing, not root: exit 2 naming gnuplot-nox"
else
	not_ok "gnuplot missing (exit $rc)"; cat "$tmp/out"
fi
echo "1..$n"
