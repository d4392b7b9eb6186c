#!/bin/sh
# replay-nvme.sh DMALINK - `dmalink replay --device nvme` end to end: every
# shipped trace (a bounded prefix) replayed as NVMe commands through the
# emulated controller with all three strategies, under each --sgl policy
# for one trace; the JSON must show every request sent, no fault, no
# error, no mismatch and every byte read verified; the paths and the SGL
# share must follow the policy; the CPU shares must add up.  Bad option
# combinations exit 2.
# Prints TAP.
set -u
dmalink=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
traces=$root/data/traces
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }

# field NAME: the values of "NAME":N in out.json, one a line
field() { grep -o "\"$1\":[0-9]*" "$tmp/out.json" | cut -d: -f2; }

# nvme_ok NAME ARGS...: exit 0, three strategies, no fault, no error, no
# mismatch, verified == read_bytes for each, every request replayed
nvme_ok() {
	name=$1; shift
	if "$dmalink" replay --json --device nvme "$@" > "$tmp/out.json" 2> "$tmp/err"; then
		if [ "$(field faults)" = 0 ] &&
		   [ "$(field errors | sort -u)" = 0 ] &&
		   [ "$(field mismatches | sort -u)" = 0 ] &&
		   [ "$(field requests | wc -l)" -eq 3 ] &&
		   [ "$(field requests | sort -u | wc -l)" -eq 1 ] &&
		   [ "$(field requests | head -1)" -gt 0 ] &&
		   [ "$(field read_bytes | tr '\n' ' ')" = "$(field verified | tr '\n' ' ')" ]; then
			ok "$name: $(field requests | head -1) requests, $(field verified | head -1) bytes verified, no fault"
		else
			not_ok "$name"; sed 's/^/# /' "$tmp/out.json"
		fi
	else
		not_ok "$name: exit $?"; sed 's/^/# /' "$tmp/err"
	fi
}

for t in mqsim/tpcc-small.trace mqsim/wsrch-small.trace fio/t0038.iolog \
	 fixtures/msr-hm.csv fixtures/alibaba.csv fixtures/tencent.csv \
	 fixtures/blkparse-sda.txt; do
	nvme_ok "$t" --limit 2000 "$traces/$t"
done
trace=$traces/mqsim/wsrch-small.trace
# sgl_share NAME WANT ARGS...: WANT is "all", "none" or "some" of the
# commands as SGLs (pci.c nvme_pci_use_sgls(): auto takes SGLs when the
# average segment reaches 32 KiB, which 4 KiB pages never do and 2 MiB
# runs often do)
sgl_share() {
	name=$1 want=$2; shift 2
	nvme_ok "wsrch $name" --limit 1500 "$@" "$trace"
	total=$(field commands | paste -sd+ | bc)
	sgls=$(field sgl_commands | paste -sd+ | bc)
	case $want in
	all) [ "$sgls" = "$total" ] ;;
	none) [ "$sgls" = 0 ] ;;
	some) [ "$sgls" -gt 0 ] && [ "$sgls" -lt "$total" ] ;;
	esac && ok "$name: $sgls of $total commands as SGLs ($want)" ||
		not_ok "$name: $sgls of $total commands as SGLs, want $want"
}
sgl_share "--sgl always" all --sgl always
sgl_share "--sgl never, thp" none --sgl never --layout thp
sgl_share "--sgl auto, 4 KiB pages" none --sgl auto
sgl_share "--sgl auto, thp" some --layout thp
nvme_ok "wsrch, no IOMMU" --limit 1000 --no-iommu "$trace"
# requests of up to 4 MiB: up to 32 commands of 128 KiB in flight at once,
# wrapping around a 1 MiB namespace (overlapping commands go in turn)
awk 'BEGIN { for (i = 0; i < 120; i++)
	printf "%d 0 %d %d %d\n", i * 1000, (i * 7919 % 4096) * 8,
		(i % 4 == 0) ? 8192 : (i % 4 == 1) ? 2048 : (i % 4 == 2) ? 256 : 8, int(i / 2) % 2 }' \
	> "$tmp/big.trace"
nvme_ok "big requests, 1 MiB namespace" --namespace 1048576 "$tmp/big.trace"

# each strategy's commands take its own path (or the simple one)
"$dmalink" replay --device nvme --limit 500 "$trace" > "$tmp/table" 2>&1
if grep -qE '^page +500 +[0-9]+ +[0-9]+ +[0-9]+/0/[0-9]+/0 ' "$tmp/table" &&
   grep -qE '^sg +500 +[0-9]+ +[0-9]+ +[0-9]+/0/0/[0-9]+ ' "$tmp/table" &&
   grep -qE '^iova +500 +[0-9]+ +[0-9]+ +[0-9]+/[0-9]+/0/0 ' "$tmp/table"; then
	ok "table: each strategy's path"
else
	not_ok "table: each strategy's path"; sed 's/^/# /' "$tmp/table"
fi

# the CPU shares of each strategy: mapping, driver, the controller's own
# work and the device's data movement, none negative, the data movement
# seen, adding up to the whole (issue 11, performance)
"$dmalink" replay --json --device nvme --limit 300 "$trace" > "$tmp/out.json" 2>/dev/null
if grep -o '"cpu_share":{[^}]*}' "$tmp/out.json" | awk -F'[:,}]' '
	$2 != "{\"mapping\"" || $4 != "\"driver\"" || $6 != "\"controller\"" ||
	$8 != "\"device_data\"" { bad++ }
	{ n++; s = $3 + $5 + $7 + $9
	  if ($3 < 0 || $5 < 0 || $7 < 0 || $9 <= 0 || s < 99.5 || s > 100.5) bad++ }
	END { exit !(n == 3 && !bad) }'; then
	ok "cpu_share: mapping, driver, controller, device_data add up to 100"
else
	not_ok "cpu_share"; sed 's/^/# /' "$tmp/out.json"
fi

# --image: the namespace's expected contents, --namespace bytes of them,
# the same for the same replay (the QEMU suite compares it with the disk
# image a real controller wrote)
for i in 1 2; do
	"$dmalink" replay --device nvme --namespace 1048576 --limit 800 -s iova \
		--image "$tmp/img$i" "$trace" > /dev/null 2>&1 || break
done
if [ -f "$tmp/img2" ] && [ "$(wc -c < "$tmp/img1")" -eq 1048576 ] &&
   cmp -s "$tmp/img1" "$tmp/img2" && [ "$(tr -d '\000' < "$tmp/img1" | wc -c)" -gt 0 ]; then
	ok "--image: 1 MiB, written, the same for the same replay"
else
	not_ok "--image"
fi

# bad_opts NAME MESSAGE ARGS...: exit 2 and MESSAGE on stderr
bad_opts() {
	name=$1 msg=$2; shift 2
	"$dmalink" replay "$@" "$trace" > /dev/null 2> "$tmp/err"
	rc=$?
	if [ $rc -eq 2 ] && grep -q -- "$msg" "$tmp/err"; then
		ok "$name: exit 2"
	else
		not_ok "$name: exit $rc"; sed 's/^/# /' "$tmp/err"
	fi
}
bad_opts "--sgl without --device nvme" "need --device nvme" --sgl always
bad_opts "--image without --device nvme" "need --device nvme" --image "$tmp/x"
bad_opts "--namespace not whole pages" "bad value" --device nvme --namespace 1048577
bad_opts "--vfio --no-iommu" "no --no-iommu" --device nvme --vfio 0000:00:04.0 --no-iommu
bad_opts "--device nvme --target p2p" "exclude each other" --device nvme --target p2p
bad_opts "--device nvme --bounce" "no --bounce" --device nvme --bounce
bad_opts "unknown device" "unknown device" --device scsi
bad_opts "unknown --sgl" "unknown --sgl" --device nvme --sgl sometimes
echo "1..$n"
