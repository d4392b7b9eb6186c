#!/bin/sh
# replay-cli.sh DMALINK - the dmalink command end to end, as a user runs it:
# every shipped trace and format fixture replays with all three
# strategies, every byte verified and no fault (exit 0, checked in the JSON); malformed traces
# give exit 2 and a message naming file and line; layouts other than the
# default replay too.  Prints TAP.
set -u
dmalink=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; }

# a full replay: exit 0, and the JSON says every request verified, 0 faults
replay_ok() {
	name=$1; shift
	if "$dmalink" replay --json "$@" > "$tmp/out.json" 2> "$tmp/err"; then
		if grep -q '"faults":[1-9]' "$tmp/out.json" ||
		   grep -q '"mismatches":[1-9]' "$tmp/out.json" ||
		   ! grep -q '"verified":[1-9]' "$tmp/out.json"; then
			not_ok "$name: faults or unverified data"; cat "$tmp/out.json"
		else
			ok "$name"
		fi
	else
		not_ok "$name: exit $?"; cat "$tmp/err"
	fi
}

for t in "$root"/data/traces/mqsim/*.trace "$root"/data/traces/fio/*.iolog; do
	replay_ok "replay $(basename "$t"), all strategies" "$t"
done
for l in 4k-random thp "file:$root/data/layouts/4k-64m.layout" "file:$root/data/layouts/thp-64m.layout"; do
	replay_ok "replay tpcc-small, layout ${l##*/}" --limit 2000 --layout "$l" \
		"$root/data/traces/mqsim/tpcc-small.trace"
done
# the fixtures of the formats that may not be shipped (MSR, blkparse,
# Alibaba, Tencent), detected, and once forced with --format
for t in "$root"/data/traces/fixtures/*; do
	replay_ok "replay $(basename "$t") (format detected), all strategies" "$t"
done
replay_ok "replay --format blkparse" --format blkparse \
	"$root/data/traces/fixtures/blkparse-sda.txt"
replay_ok "replay - (standard input)" - < "$root/data/traces/fixtures/msr-hm.csv"
replay_ok "replay, lazy + caching mode + 5-level" --limit 2000 --lazy --caching-mode \
	--levels 5 "$root/data/traces/mqsim/tpcc-small.trace"
replay_ok "replay, no IOMMU (two-step falls back)" --limit 2000 --no-iommu \
	"$root/data/traces/mqsim/tpcc-small.trace"
replay_ok "replay, every mapping bounced through swiotlb, thp ranges split" \
	--limit 2000 --bounce --layout thp "$root/data/traces/mqsim/wsrch-small.trace"

# malformed input: exit 2 and FILE:LINE in the message, never a crash
bad() {
	name=$1 content=$2 line=$3
	printf "$content" > "$tmp/bad.trace"
	"$dmalink" replay "$tmp/bad.trace" > /dev/null 2> "$tmp/err"
	rc=$?
	if [ $rc -eq 2 ] && grep -q "bad.trace:$line:" "$tmp/err"; then
		ok "malformed: $name -> exit 2, line $line named"
	else
		not_ok "malformed: $name (exit $rc)"; cat "$tmp/err"
	fi
}
bad "garbage on line 2" '0 1 8 16 1\nhello world\n' 2
bad "negative size" '0 1 8 16 1\n5 1 8 -16 1\n' 2
bad "huge size" '0 1 8 16 1\n5 1 8 99999999999 1\n' 2
bad "truncated line" '0 1 8 16 1\n7 1 8\n' 2
bad "bad type" '0 1 8 16 7\n' 1
bad "last line truncated, no newline" '0 1 8 16 1\n5 1' 2
printf '' > "$tmp/empty.trace"
"$dmalink" replay "$tmp/empty.trace" > /dev/null 2> "$tmp/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "no records" "$tmp/err"; then ok "empty trace -> exit 2"; else not_ok "empty trace (exit $rc)"; fi
"$dmalink" replay "$tmp/missing.trace" > /dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "missing trace -> exit 2"; else not_ok "missing trace (exit $rc)"; fi
"$dmalink" replay --strategy bogus "$root/data/traces/fio/t0038.iolog" > /dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "bad option -> exit 2"; else not_ok "bad option (exit $rc)"; fi
# issue 12 item 4: every column abbreviation is explained, under the
# table and in --help
"$dmalink" replay --limit 50 "$root/data/traces/fio/t0038.iolog" > "$tmp/out" 2>&1
"$dmalink" replay --help > "$tmp/help" 2>&1
miss=
for col in "caller ns" "map+unmap" "inval/rq" "iova/rq" "pt/rq" "meta B/rq" "segs/rq" faults verified; do
	grep -q "^  $col " "$tmp/out" && grep -q "^  $col " "$tmp/help" || miss="$miss $col"
done
if [ -z "$miss" ]; then ok "legend: every column, under the table and in --help"
else not_ok "legend misses:$miss"; fi
# issue 12 item 4: the header shows --levels 5 and --caching-mode
"$dmalink" replay --limit 50 --levels 5 --caching-mode "$root/data/traces/fio/t0038.iolog" > "$tmp/out" 2>&1
if grep -q "^platform .*VT-d IOMMU, strict, 5-level, caching mode$" "$tmp/out"; then ok "header: 5-level, caching mode"
else not_ok "header settings"; cat "$tmp/out"; fi
# issue 12 item 4: the footer never claims an IOMMU that is not there
"$dmalink" replay --limit 50 --bounce "$root/data/traces/fio/t0038.iolog" > "$tmp/out" 2>&1
if grep -q "with no IOMMU" "$tmp/out" && ! grep -q "through the IOMMU" "$tmp/out"; then ok "--bounce: footer says no IOMMU"
else not_ok "--bounce footer"; cat "$tmp/out"; fi
"$dmalink" replay --format msr "$root/data/traces/fixtures/tencent.csv" > /dev/null 2> "$tmp/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "tencent.csv:1: msr: " "$tmp/err"; then ok "forced wrong format -> exit 2, line and format named"
else not_ok "forced wrong format (exit $rc)"; cat "$tmp/err"; fi
"$dmalink" replay --format csv "$root/data/traces/fixtures/tencent.csv" > /dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "unknown --format -> exit 2"; else not_ok "unknown --format (exit $rc)"; fi
"$dmalink" replay --layout file:/nonexistent "$root/data/traces/fio/t0038.iolog" > /dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "missing layout file -> exit 2"; else not_ok "missing layout file (exit $rc)"; fi

# issue 12 item 4: the header states the ratio's reading, once, before
# the table and the footer's ratios that use it
"$dmalink" replay --limit 50 "$root/data/traces/fio/t0038.iolog" > "$tmp/out" 2>&1
if [ "$(grep -c "> 1 means two-step is cheaper" "$tmp/out")" -eq 1 ] &&
   awk '/^ratios   x: the other.s ns \/ iova.s ns/ { h = NR } /^strategy / { s = NR }
	/^two-step \(iova\) vs page, sg: / { f = NR }
	END { exit !(h && h < s && s < f) }' "$tmp/out"
then ok "header: the ratio's reading, once, above the table"
else not_ok "header: ratio reading"; cat "$tmp/out"; fi
# issue 12 item 5: the progress line (\r) goes to a terminal only, and
# not with --quiet; the replay runs past the second before it first draws
long="$root/data/traces/mqsim/wsrch-small.trace"
"$dmalink" replay "$long" > "$tmp/out" 2> "$tmp/err"
if [ -s "$tmp/out" ] && ! grep -q "$(printf '\r')" "$tmp/err" "$tmp/out"; then ok "progress: stderr to a file has no \\r"
else not_ok "progress: \\r in a file"; fi
if command -v script > /dev/null; then
	# (that it is drawn is not asserted: a replay faster than a second
	# rightly draws none)
	script -qc "'$dmalink' replay --quiet '$long'" /dev/null > "$tmp/tty" 2>&1 < /dev/null
	if ! grep -q "\[replay\]" "$tmp/tty"; then ok "progress: --quiet draws none on a terminal"
	else not_ok "progress: --quiet drew a line"; fi
fi

# issue 12 item 5: --plot draws each strategy's latency CDF with gnuplot;
# without gnuplot on PATH it exits 1, before replaying, with the hint
if command -v gnuplot > /dev/null 2>&1; then
	"$dmalink" replay --limit 200 --plot "$tmp/cdf.svg" "$root/data/traces/fio/t0038.iolog" > /dev/null 2> "$tmp/err"
	rc=$?
	if [ $rc -eq 0 ] && grep -q ">page<" "$tmp/cdf.svg" && grep -q ">sg<" "$tmp/cdf.svg" &&
	   grep -q ">iova<" "$tmp/cdf.svg"; then ok "--plot: an SVG naming each strategy"
	else not_ok "--plot (exit $rc)"; cat "$tmp/err"; fi
else
	ok "--plot draws # SKIP gnuplot not installed (Debian: gnuplot-nox)"
fi
mkdir "$tmp/nognuplot"
env PATH="$tmp/nognuplot" "$dmalink" replay --plot "$tmp/none.svg" "$root/data/traces/fio/t0038.iolog" > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "Debian: gnuplot-nox" "$tmp/err" && [ ! -s "$tmp/out" ] && [ ! -e "$tmp/none.svg" ]
then ok "--plot without gnuplot -> exit 1 and the hint, nothing replayed"
else not_ok "--plot without gnuplot (exit $rc)"; cat "$tmp/err"; fi

echo "1..$n"
[ $fail -eq 0 ]
