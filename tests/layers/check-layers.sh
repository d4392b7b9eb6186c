#!/bin/sh
# check-layers.sh - the include rules of the source tree, as TAP:
#  1. a file under src/ includes only headers of its own layer or of a
#     layer below it (the order below, lowest first: shared/DESIGN.md);
#  2. no two folders include each other (no cycles between folders);
#  3. tools/ includes only the installed headers <dmalink/...> and its
#     own headers;
#  4. no C file is longer than 950 lines unless its top comment gives the
#     reason, in a sentence starting "Long file:".
# Usage: check-layers.sh SOURCE_ROOT
set -u
root=${1:-.}
cd "$root" || exit 2
layers="base mem iova iommu pci dma cc dmabuf mm blk nvme dev vfio core"
rank() {
	i=0
	for l in $layers; do
		[ "$l" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
	echo 99
}
# every quoted include of src/ as "FROM_FOLDER TO_FOLDER FILE:LINE"
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
find src -name '*.[ch]' | sort | while read -r f; do
	dir=$(dirname "$f")
	grep -n '^#include "' "$f" | while IFS=: read -r line inc; do
		h=$(echo "$inc" | sed 's/^#include "\(.*\)".*/\1/')
		target=$(realpath -m --relative-to=. "$dir/$h")
		from=$(echo "$f" | cut -d/ -f2)
		to=$(echo "$target" | cut -d/ -f2)
		case "$target" in src/*) ;; *) to="outside:$target" ;; esac
		echo "$from $to $f:$line"
	done
done >"$edges"

n=0
fail=0
n=$((n + 1))
bad=$(while read -r from to where; do
	case "$to" in outside:*) echo "$where includes ${to#outside:}"; continue ;; esac
	[ "$(rank "$from")" -lt "$(rank "$to")" ] && echo "$where: $from includes $to (a layer above it)"
done <"$edges")
if [ -z "$bad" ]; then echo "ok $n - src/: every include is of the same layer or one below"
else echo "not ok $n - src/: includes of a layer above"; echo "$bad" | sed 's/^/# /'; fail=1; fi

n=$((n + 1))
pairs=$(awk '$1 != $2 { print $1, $2 }' "$edges" | sort -u)
cyc=$(echo "$pairs" | while read -r a b; do
	[ -n "$a" ] && echo "$pairs" | grep -qx "$b $a" && echo "$a <-> $b"
done | sort -u)
if [ -z "$cyc" ]; then echo "ok $n - src/: no include cycles between folders"
else echo "not ok $n - src/: folders that include each other"; echo "$cyc" | sed 's/^/# /'; fail=1; fi

n=$((n + 1))
badt=$(grep -n '^#include "' tools/*.c tools/*.h 2>/dev/null | while IFS=: read -r f line inc; do
	h=$(echo "$inc" | sed 's/^#include "\(.*\)".*/\1/')
	case "$h" in */*) echo "$f:$line includes $h" ;; *) [ -f "tools/$h" ] || echo "$f:$line includes $h" ;; esac
done)
if [ -z "$badt" ]; then echo "ok $n - tools/: only <dmalink/...> and its own headers"
else echo "not ok $n - tools/: includes outside the public API"; echo "$badt" | sed 's/^/# /'; fail=1; fi
n=$((n + 1))
long=$(find src tools bench tests include -name '*.[ch]' | sort | while read -r f; do
	[ "$(wc -l <"$f")" -gt 950 ] && ! head -n 60 "$f" | grep -q 'Long file:' && echo "$f: $(wc -l <"$f") lines"
done)
if [ -z "$long" ]; then echo "ok $n - no C file over 950 lines without its reason"
else echo "not ok $n - C files over 950 lines without a reason at the top"; echo "$long" | sed 's/^/# /'; fail=1; fi
echo "1..$n"
exit $fail
