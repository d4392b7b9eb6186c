#!/bin/sh
# replay-p2p.sh DMALINK - `dmalink replay --target p2p` end to end: a
# shipped trace replayed into a peer's BAR with the built-in topology
# (BUS_ADDR) and the shipped ones (THRU_HOST_BRIDGE, NOT_SUPPORTED); the
# JSON must name the map type of every strategy, count every request as
# verified (or, for NOT_SUPPORTED, as refused) and show no fault.  Bad
# option combinations exit 2 with a message.  Prints TAP.
set -u
dmalink=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
topo=$root/data/topologies
trace=$root/data/traces/mqsim/tpcc-small.trace
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; }

# p2p_ok NAME MAPTYPE verified|refused ARGS...: exit 0, each of the three
# strategies has MAPTYPE, all 1000 requests in the named count, 0 faults
p2p_ok() {
	name=$1 map=$2 count=$3; shift 3
	if "$dmalink" replay --json --target p2p --limit 1000 "$@" "$trace" \
		> "$tmp/out.json" 2> "$tmp/err"; then
		if [ "$(grep -o "\"map_type\":\"$map\"" "$tmp/out.json" | wc -l)" -eq 3 ] &&
		   [ "$(grep -o "\"$count\":1000" "$tmp/out.json" | wc -l)" -eq 3 ] &&
		   [ "$(grep -o '"faults":0' "$tmp/out.json" | wc -l)" -eq 3 ] &&
		   [ "$(grep -o '"mismatches":0' "$tmp/out.json" | wc -l)" -eq 3 ]; then
			ok "$name: $map, $count, no fault"
		else
			not_ok "$name"; cat "$tmp/out.json"
		fi
	else
		not_ok "$name: exit $?"; cat "$tmp/err"
	fi
}

p2p_ok "built-in topology" BUS_ADDR verified
p2p_ok "built-in topology, no IOMMU" BUS_ADDR verified --no-iommu
p2p_ok "gpu-nic-switch, nic -> gpu BAR 2" BUS_ADDR verified \
	--topology "$topo/gpu-nic-switch.topo" --p2p-client nic --p2p-provider gpu/2
p2p_ok "gpu-nic-switch, nvme -> gpu BAR 2" THRU_HOST_BRIDGE verified \
	--topology "$topo/gpu-nic-switch.topo" --p2p-client nvme --p2p-provider gpu/2
p2p_ok "gpu-nic-switch, nvme -> gpu, no IOMMU (iova falls back)" THRU_HOST_BRIDGE \
	verified --no-iommu --topology "$topo/gpu-nic-switch.topo" \
	--p2p-client 0000:02:00.0 --p2p-provider 0000:04:00.0/2
p2p_ok "two-root-ports, ssd -> fpga" NOT_SUPPORTED refused \
	--topology "$topo/two-root-ports.topo" --p2p-client ssd --p2p-provider fpga

# the table names the map type per strategy
"$dmalink" replay --target p2p --limit 10 "$trace" > "$tmp/table" 2>&1
if [ "$(grep -cE '^(page|sg|iova) +BUS_ADDR +10 ' "$tmp/table")" -eq 3 ]; then
	ok "table: map type column"
else
	not_ok "table: map type column"; cat "$tmp/table"
fi

# bad_opts NAME MESSAGE ARGS...: exit 2 and MESSAGE on stderr
bad_opts() {
	name=$1 msg=$2; shift 2
	"$dmalink" replay "$@" "$trace" > /dev/null 2> "$tmp/err"
	rc=$?
	if [ $rc -eq 2 ] && grep -q -- "$msg" "$tmp/err"; then
		ok "refused: $name"
	else
		not_ok "refused: $name (exit $rc)"; cat "$tmp/err"
	fi
}
t=$topo/gpu-nic-switch.topo
bad_opts "unknown target" "unknown target 'gpu'" --target gpu
bad_opts "--topology without --target p2p" "need --target p2p" --topology "$t"
bad_opts "--layout with p2p" "takes no --layout" --target p2p --layout thp
bad_opts "--bounce with p2p" "takes no --layout" --target p2p --bounce
bad_opts "--topology without client" "go together" --target p2p --topology "$t" \
	--p2p-provider gpu
bad_opts "--p2p-client without --topology" "go together" --target p2p --p2p-client nic
bad_opts "unknown provider" "no function 'nope'" --target p2p --topology "$t" \
	--p2p-client nic --p2p-provider nope
bad_opts "provider BAR absent" "has no BAR '5'" --target p2p --topology "$t" \
	--p2p-client nic --p2p-provider gpu/5
bad_opts "client is the provider" "two endpoints" --target p2p --topology "$t" \
	--p2p-client gpu --p2p-provider gpu
bad_opts "missing topology file" "nothing.topo" --target p2p \
	--topology "$tmp/nothing.topo" --p2p-client a --p2p-provider b

echo "1..$n"
[ $fail -eq 0 ]
