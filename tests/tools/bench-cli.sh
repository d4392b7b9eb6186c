#!/bin/sh
# bench-cli.sh DMALINK - `dmalink bench` end to end, briefly (tiny
# --seconds): --threads runs every thread on one device and reports ops/s
# and the efficiency against one thread measured in the same run; --sweep
# measures 1, 2, 4, ... threads and --plot draws them into an SVG that
# names every series; bad options give exit 2.  Prints TAP.  Never checks
# a timing, only that the figures are there and consistent.  Off a
# terminal, stderr gets no \r progress.
set -u
dmalink=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }
quick="--seconds 0.02 --repeat 2"

# --threads 2 --json: two points (1 and 2 threads), both efficiencies 1
# at 1 thread
if "$dmalink" bench $quick --threads 2 --filter map-phys-4k --json > "$tmp/t.json" 2> "$tmp/err" &&
   grep -q '"name":"map-phys-4k","what":"[^"]*","threads":2,' "$tmp/t.json" &&
   grep -q '"points":\[{"threads":1,[^]]*"efficiency":1.000,"cpu_efficiency":1.000},{"threads":2,' "$tmp/t.json" &&
   grep -q '"threads":2,[^]]*"cpu_efficiency":[0-9]' "$tmp/t.json" &&
   grep -q '"ops_per_s":[1-9]' "$tmp/t.json"; then
	ok "--threads 2: per-thread ns, ops/s and efficiency in the JSON"
else
	not_ok "--threads 2 JSON"; cat "$tmp/t.json" "$tmp/err"
fi

# issue 12 item 4: a case without a baseline or anchor (sg-64x4k is the
# baseline itself) has a null ratio in the JSON, not 0.0
if "$dmalink" bench $quick --filter sg-64x4k --json > "$tmp/n.json" 2> "$tmp/err" &&
   grep -q '"name":"sg-64x4k",[^{]*"ratio":null,"vs":""' "$tmp/n.json"; then
	ok "JSON: a ratio without a baseline is null"
else
	not_ok "JSON null ratio"; cat "$tmp/n.json" "$tmp/err"
fi

# the table names its columns and says which way the ratio reads
if "$dmalink" bench $quick --threads 2 --filter 64x4k > "$tmp/t.txt" 2> "$tmp/err" &&
   grep -q 'ops/s' "$tmp/t.txt" && grep -q 'eff' "$tmp/t.txt" &&
   grep -q '> 1: this case is faster' "$tmp/t.txt" &&
   grep -q '^iova-64x4k .* 2 .*sg-64x4k (paired rounds)' "$tmp/t.txt"; then
	ok "--threads 2 table: ops/s, eff, ratio against the baseline at 2 threads"
else
	not_ok "--threads 2 table"; cat "$tmp/t.txt" "$tmp/err"
fi

# --sweep up to 4 threads: points 1, 2, 4
if "$dmalink" bench $quick --sweep --threads 4 --filter cycle-128k-strict --json \
	> "$tmp/s.json" 2> "$tmp/err" &&
   grep -q '"points":\[{"threads":1,.*},{"threads":2,.*},{"threads":4,[^]]*}\]' "$tmp/s.json"; then
	ok "--sweep --threads 4 measures 1, 2 and 4 threads"
else
	not_ok "--sweep points"; cat "$tmp/s.json" "$tmp/err"
fi

# --sweep --plot: an SVG naming each case drawn
if ! command -v gnuplot > /dev/null 2>&1; then
	ok "--plot # SKIP gnuplot not installed (Debian: gnuplot-nox)"
elif "$dmalink" bench $quick --sweep --threads 2 --filter map-phys --plot "$tmp/out.svg" \
	> /dev/null 2> "$tmp/err" && grep -q '<svg' "$tmp/out.svg" &&
     grep -q 'map-phys-4k' "$tmp/out.svg" && grep -q 'map-phys-lazy' "$tmp/out.svg"; then
	ok "--sweep --plot draws an SVG with one series per case"
else
	not_ok "--sweep --plot"; cat "$tmp/err"
fi

# stderr not a terminal: no \r progress (reference: issue 12 item 2); -v
# names each case on a line of its own instead
if "$dmalink" bench $quick --filter map-phys > "$tmp/p.txt" 2> "$tmp/p.err" &&
   ! grep -q "$(printf '\r')" "$tmp/p.err" && [ ! -s "$tmp/p.err" ] &&
   "$dmalink" bench $quick --filter map-phys -v > /dev/null 2> "$tmp/v.err" &&
   ! grep -q "$(printf '\r')" "$tmp/v.err" &&
   [ "$(grep -c '^bench: map-phys-' "$tmp/v.err")" -eq 2 ]; then
	ok "stderr to a file: no carriage return; -v gives one line per case"
else
	not_ok "progress off a terminal"; od -c "$tmp/p.err" | head; cat "$tmp/v.err"
fi

# usage errors: exit 2
for args in "--plot $tmp/x.svg" "--threads 0" "--sweep --plot a'b.svg" "--repeat 65" "extra"; do
	"$dmalink" bench $args > /dev/null 2>&1
	rc=$?
	if [ $rc -eq 2 ]; then ok "bench $args -> exit 2"; else not_ok "bench $args (exit $rc)"; fi
done

echo "1..$n"
