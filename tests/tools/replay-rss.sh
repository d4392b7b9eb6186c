#!/bin/sh
# replay-rss.sh DMALINK - replay memory is bounded by what is in flight:
# synthetic traces (DiskSim ASCII, written here with awk) of the shapes
# that used to grow it, 1000 x 128 KiB and 20000 x 4 KiB requests, move
# 125 and 78 MiB through freshly laid-out buffers, yet the peak RSS the
# replay reports stays under 64 MiB, because the frames of each
# finished request go back to the allocator and their host pages to the
# # host.  Also checks the text summary prints the peak.  Under AddressSanitizer
# the shadow of every frame the layouts visit stays resident, so there the
# bound is skipped and only the verification checked.  Prints TAP.
set -u
dmalink=$1
limit=65536
skip=
if grep -q __asan_init "$dmalink"; then
	limit=999999999
	skip=" # SKIP the bound: ASan's shadow memory stays resident"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; }

# time(ns) devno blkno size(sectors) flags(1 read, 0 write)
gen() {	# gen N SECTORS FILE
	awk -v n="$1" -v s="$2" 'BEGIN { for (i = 0; i < n; i++)
		printf "%d 0 %d %d %d\n", i * 1000, (i * 7919) % 100000 * s, s, i % 2 }' \
		> "$3"
}
gen 1000 256 "$tmp/big.trace"
gen 20000 8 "$tmp/small.trace"

# bounded NAME TRACE REQUESTS LAYOUT
bounded() {
	if "$dmalink" replay --json --strategy iova --layout "$4" \
		"$2" > "$tmp/out.json" 2> "$tmp/err"; then
		rss=$(sed -n 's/.*"peak_rss_kib":\([0-9]*\).*/\1/p' "$tmp/out.json")
		if [ -n "$rss" ] && [ "$rss" -lt $limit ] &&
		   grep -q "\"verified\":$3" "$tmp/out.json"; then
			ok "$1, $4: peak RSS $rss KiB < 64 MiB$skip"
		else
			not_ok "$1, $4: peak RSS '$rss' KiB"; cat "$tmp/out.json"
		fi
	else
		not_ok "$1, $4: exit $?"; cat "$tmp/err"
	fi
}
bounded "1000 x 128 KiB" "$tmp/big.trace" 1000 4k-random
bounded "1000 x 128 KiB" "$tmp/big.trace" 1000 4k-descending
bounded "20000 x 4 KiB" "$tmp/small.trace" 20000 4k-random

if "$dmalink" replay --strategy page --limit 10 "$tmp/big.trace" > "$tmp/out.txt" 2> "$tmp/err" &&
   grep -q '^Peak RSS of the replay: [0-9.]* MiB\.$' "$tmp/out.txt"; then
	ok "the text summary prints the peak RSS"
else
	not_ok "no peak RSS line"; cat "$tmp/out.txt" "$tmp/err"
fi

echo "1..$n"
[ $fail -eq 0 ]
