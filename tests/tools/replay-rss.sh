#!/bin/sh
# replay-rss.sh DMALINK - replay memory is bounded by what is in flight:
# a synthetic trace (DiskSim ASCII, written here with awk) of 1000 x 128 KiB
# requests moves 125 MiB through freshly laid-out buffers, yet the peak RSS
# the replay reports stays under 64 MiB, because the frames of each
# finished request go back to the allocator and their host pages to the
# host.  Also checks the text summary prints the peak.  Under AddressSanitizer
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
awk 'BEGIN { for (i = 0; i < 1000; i++)
	printf "%d 0 %d 256 %d\n", i * 1000, (i * 7919) % 100000 * 256, i % 2 }' \
	> "$tmp/big.trace"

for layout in 4k-random 4k-descending; do
	if "$dmalink" replay --json --strategy iova --layout "$layout" \
		"$tmp/big.trace" > "$tmp/out.json" 2> "$tmp/err"; then
		rss=$(sed -n 's/.*"peak_rss_kib":\([0-9]*\).*/\1/p' "$tmp/out.json")
		if [ -n "$rss" ] && [ "$rss" -lt $limit ] &&
		   grep -q '"verified":1000' "$tmp/out.json"; then
			ok "$layout: 125 MiB replayed, peak RSS $rss KiB < 64 MiB$skip"
		else
			not_ok "$layout: peak RSS '$rss' KiB"; cat "$tmp/out.json"
		fi
	else
		not_ok "$layout: exit $?"; cat "$tmp/err"
	fi
done

if "$dmalink" replay --strategy page --limit 10 "$tmp/big.trace" > "$tmp/out.txt" 2> "$tmp/err" &&
   grep -q '^Peak RSS of the replay: [0-9.]* MiB\.$' "$tmp/out.txt"; then
	ok "the text summary prints the peak RSS"
else
	not_ok "no peak RSS line"; cat "$tmp/out.txt" "$tmp/err"
fi

echo "1..$n"
[ $fail -eq 0 ]
