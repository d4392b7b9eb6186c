#!/bin/sh
# readme-example.sh SRCDIR - every line of C the README quotes (its ```c
# blocks, less "..." elisions and blank lines) is a line of
# examples/two-step.c, the program the build compiles and runs, so the
# README's code cannot drift from code that works.  Prints TAP.
set -u
src=$1
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
awk '/^```c$/ { on = 1; next } /^```$/ { on = 0 } on' "$src/README.md" |
	grep -v '^[[:space:]]*\.\.\.$' | grep -v '^[[:space:]]*$' > "$tmp"
missing=$(grep -vxFf "$src/examples/two-step.c" "$tmp")
if [ -s "$tmp" ] && [ -z "$missing" ]; then
	echo "ok 1 - the README's $(wc -l < "$tmp") lines of C are in examples/two-step.c"
else
	echo "not ok 1 - README lines not in examples/two-step.c:"
	printf '%s\n' "$missing" | sed 's/^/# /'
fi
echo "1..1"
