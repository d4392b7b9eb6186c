#!/bin/sh
# replay-dmabuf.sh DMALINK - `dmalink replay --target dmabuf` end to end:
# a shipped trace replayed with every exporter and importer pair, each
# request's buffer a dma-buf, mapped by the importer, moved by the device
# and checked byte for byte; the JSON must count every request as
# verified, or as refused where the exporter refuses the importer (the
# BAR exporter a static importer; iommufd a buffer of many ranges), with
# no fault and no mismatch.  With --dmabuf-move the vram buffer moves
# under the importer: rdma maps again, a pinned importer makes the move
# busy, every byte verified either way.  Bad option combinations exit 2.
# Prints TAP.
set -u
dmalink=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
trace=$root/data/traces/mqsim/tpcc-small.trace
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
limit=300

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; }

# pair_ok EXPORTER IMPORTER ARGS...: exit 0, verified + refused = all,
# no mismatch, no fault; echoes the counts
pair_ok() {
	e=$1 i=$2; shift 2
	if "$dmalink" replay --json --target dmabuf --dmabuf-exporter "$e" \
		--dmabuf-importer "$i" --limit $limit "$@" "$trace" \
		> "$tmp/out.json" 2> "$tmp/err"; then
		v=$(grep -o '"verified":[0-9]*' "$tmp/out.json" | cut -d: -f2)
		r=$(grep -o '"refused":[0-9]*' "$tmp/out.json" | cut -d: -f2)
		if [ $((v + r)) -eq $limit ] && [ "$v" -gt 0 ] &&
		   grep -q '"mismatches":0,"faults":0' "$tmp/out.json"; then
			ok "$e -> $i $*: $v verified, $r refused, no fault"
		else
			not_ok "$e -> $i $*"; cat "$tmp/out.json"
		fi
	else
		not_ok "$e -> $i $*: exit $?"; cat "$tmp/err" "$tmp/out.json"
	fi
}

for e in heap ram vram bar; do
	for i in rdma iommufd static; do
		[ "$e $i" = "bar static" ] && continue
		pair_ok "$e" "$i"
	done
done
pair_ok vram rdma --no-iommu
pair_ok heap static --no-iommu

# the BAR exporter refuses a static importer: all refused, exit 0
if "$dmalink" replay --json --target dmabuf --dmabuf-exporter bar \
	--dmabuf-importer static --limit 50 "$trace" > "$tmp/out.json" &&
   grep -q '"verified":0,"refused":50,' "$tmp/out.json"; then
	ok "bar -> static: every import refused"
else
	not_ok "bar -> static"; cat "$tmp/out.json"
fi

# the table reports the importer's cost per request
"$dmalink" replay --target dmabuf --limit 20 "$trace" > "$tmp/table" 2>&1
if grep -qE '^heap +rdma +20 +1\.00 +20 ' "$tmp/table" &&
   grep -q 'importer ns/req' "$tmp/table"; then
	ok "table: counts and the importer's cost"
else
	not_ok "table"; cat "$tmp/table"
fi

# --dmabuf-move N: the vram exporter migrates the buffer under the
# importer (ttm_bo_handle_move_mem with move_notify: every importer is
# invalidated and maps again, the bytes survive the move).  jnum KEY: a
# number of the JSON in $tmp/out.json.
jnum() { grep -o "\"$1\":[0-9]*" "$tmp/out.json" | cut -d: -f2; }
# rdma accepts moves: both directions happen, one re-map per move, every
# request verified, no fault
if "$dmalink" replay --json --target dmabuf --dmabuf-exporter vram \
	--dmabuf-importer rdma --dmabuf-move 7 --limit $limit "$trace" \
	> "$tmp/out.json" 2> "$tmp/err"; then
	m=$(jnum moves) tv=$(jnum moves_to_vram) rm=$(jnum remaps)
	if [ "$m" -gt 0 ] && [ "$tv" -gt 0 ] && [ "$tv" -lt "$m" ] &&
	   [ "$rm" -eq "$m" ] && [ "$(jnum move_busy)" -eq 0 ] &&
	   [ "$(jnum verified)" -eq $limit ] &&
	   grep -q '"mismatches":0,"faults":0' "$tmp/out.json"; then
		ok "vram -> rdma --dmabuf-move 7: $m moves ($tv to VRAM), $rm re-maps, all verified"
	else
		not_ok "vram -> rdma --dmabuf-move"; cat "$tmp/out.json"
	fi
else
	not_ok "vram -> rdma --dmabuf-move: exit $?"; cat "$tmp/err" "$tmp/out.json"
fi
# a pinned importer (iommufd pins; static is pinned while mapped) makes
# the exporter refuse every move with -EBUSY: counted as busy, the
# request goes on where the buffer is, every byte verified, exit 0
for i in iommufd static; do
	if "$dmalink" replay --json --target dmabuf --dmabuf-exporter vram \
		--dmabuf-importer $i --dmabuf-move 5 --limit 100 "$trace" \
		> "$tmp/out.json" 2> "$tmp/err" &&
	   [ "$(jnum moves)" -eq 0 ] && [ "$(jnum remaps)" -eq 0 ] &&
	   [ "$(jnum move_busy)" -eq 40 ] && [ "$(jnum verified)" -eq 100 ] &&
	   grep -q '"mismatches":0,"faults":0' "$tmp/out.json"; then
		ok "vram -> $i --dmabuf-move 5: 40 moves refused busy, all verified"
	else
		not_ok "vram -> $i --dmabuf-move"; cat "$tmp/err" "$tmp/out.json"
	fi
done
# the table has the moves' columns
"$dmalink" replay --target dmabuf --dmabuf-exporter vram --dmabuf-move 2 \
	--limit 20 "$trace" > "$tmp/table" 2>&1
if grep -qE '^vram +rdma +20 .* 20 +0 +20$' "$tmp/table"; then
	ok "table: moves, busy and re-maps"
else
	not_ok "table with --dmabuf-move"; cat "$tmp/table"
fi

# bad_opts NAME ARGS...: exit 2 with a message
bad_opts() {
	name=$1; shift
	"$dmalink" replay "$@" "$trace" > /dev/null 2> "$tmp/err"
	rc=$?
	if [ $rc -eq 2 ] && [ -s "$tmp/err" ]; then
		ok "refused: $name"
	else
		not_ok "$name: exit $rc"; cat "$tmp/err"
	fi
}
bad_opts "exporter without --target dmabuf" --dmabuf-exporter ram
bad_opts "unknown exporter" --target dmabuf --dmabuf-exporter disk
bad_opts "unknown importer" --target dmabuf --dmabuf-importer nfs
bad_opts "--layout with --target dmabuf" --target dmabuf --layout thp
bad_opts "--dmabuf-move without --target dmabuf" --dmabuf-move 4
bad_opts "--dmabuf-move with the heap exporter" --target dmabuf --dmabuf-move 4
bad_opts "--dmabuf-move with the ram exporter" --target dmabuf \
	--dmabuf-exporter ram --dmabuf-move 4
bad_opts "--dmabuf-move 0" --target dmabuf --dmabuf-exporter vram --dmabuf-move 0

echo "1..$n"
[ $fail -eq 0 ]
