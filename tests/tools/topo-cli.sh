#!/bin/sh
# topo-cli.sh DMALINK - `dmalink topo` end to end: both shipped topologies
# print the expected tree and P2P matrix (text and JSON) and answer the
# pair question; a fake /sys/bus/pci (with ACS in config space) is
# mirrored and classified; malformed descriptions give exit 2 and name
# FILE:LINE.  Prints TAP.
set -u
dmalink=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
exp="$root/tests/tools/topo"
topos="$root/data/topologies"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; }

# same_output NAME EXPECTED ARGS...: exit 0 and stdout equal to EXPECTED
same_output() {
	name=$1 want=$2
	shift 2
	if "$dmalink" topo "$@" > "$tmp/out" 2> "$tmp/err"; then
		if cmp -s "$tmp/out" "$want"; then
			ok "$name"
		else
			not_ok "$name: output differs"; diff "$want" "$tmp/out" | sed 's/^/# /'
		fi
	else
		not_ok "$name: exit $?"; sed 's/^/# /' "$tmp/err"
	fi
}

for t in gpu-nic-switch two-root-ports; do
	same_output "$t: tree and matrix" "$exp/$t.txt" "$topos/$t.topo"
	same_output "$t: --json" "$exp/$t.json" --json "$topos/$t.topo"
done
same_output "gpu-nic-switch: gpu and nic, by which path" "$exp/gpu-nic-switch-gpu-nic.txt" \
	"$topos/gpu-nic-switch.topo" gpu nic
same_output "two-root-ports: fpga and ssd, by which path" "$exp/two-root-ports-fpga-ssd.txt" \
	"$topos/two-root-ports.topo" fpga ssd

# the matrix says what the issue promises for each example
grep -q '^gpu  *bus-addr/0  *bus-addr/4  *host-bridge/6$' "$exp/gpu-nic-switch.txt" &&
	grep -q '^fpga  *bus-addr/0  *bus-addr/2  *not-supported$' "$exp/two-root-ports.txt" &&
	ok "expected files: switch => bus-addr/4, unlisted host bridge => not-supported" ||
	not_ok "expected files lost their meaning"

# a fake machine: Skylake-E host bridge, a switch with ACS RR on one
# downstream port, a GPU and a NIC below it; only that port's config
# space is readable in full (as for root); older kernels lack
# secondary_bus_number on the switch's ports
sys="$tmp/root/sys"
mk() { # mk PATH CLASS VENDOR DEVICE [RESOURCE-LINE]
	d="$sys/devices/$1"
	mkdir -p "$d"
	echo "$2" > "$d/class"; echo "$3" > "$d/vendor"; echo "$4" > "$d/device"
	: > "$d/resource"
	[ $# -ge 5 ] && echo "$5" > "$d/resource"
	head -c 64 /dev/zero > "$d/config"
	mkdir -p "$sys/bus/pci/devices"
	ln -s "../../../devices/$1" "$sys/bus/pci/devices/$(basename "$1")"
}
hb=pci0000:00
mk "$hb/0000:00:00.0" 0x060000 0x8086 0x2020
mk "$hb/0000:00:01.0" 0x060400 0x8086 0x2030
echo 1 > "$sys/devices/$hb/0000:00:01.0/secondary_bus_number"
up="$hb/0000:00:01.0/0000:01:00.0"
mk "$up" 0x060400 0x10b5 0x8747
mk "$up/0000:02:00.0" 0x060400 0x10b5 0x8747
mk "$up/0000:02:01.0" 0x060400 0x10b5 0x8747
mk "$up/0000:02:00.0/0000:03:00.0" 0x030200 0x10de 0x20b0 \
	"0x0000003800000000 0x0000003800ffffff 0x0000000000140204"
mk "$up/0000:02:01.0/0000:04:00.0" 0x020000 0x15b3 0x101b \
	"0x0000003900000000 0x0000003901ffffff 0x0000000000140204"
cfg="$sys/devices/$up/0000:02:00.0/config"
head -c 4096 /dev/zero > "$cfg"
# extended capability at 0x100: ACS (id 0x000d), control word RR (0x0004)
printf '\015\000\001\000\000\000\004\000' | dd of="$cfg" bs=1 seek=256 conv=notrunc 2> /dev/null
mkdir -p "$tmp/root/proc"
printf 'vendor_id\t: GenuineIntel\ncpu family\t: 6\n' > "$tmp/root/proc/cpuinfo"

if "$dmalink" topo --sysfs --root "$tmp/root" > "$tmp/out" 2> "$tmp/err"; then
	if grep -q '0000:02:00.0 \[10b5:8747\] switch downstream port, ACS rr$' "$tmp/out" &&
	   grep -q '0000:04:00.0 \[15b3:101b\] endpoint, ACS -$' "$tmp/out" &&
	   grep -q '^0000:03:00.0  *bus-addr/0  *host-bridge/4$' "$tmp/out" &&
	   grep -q 'pci=disable_acs_redir=0000:02:00.0$' "$tmp/out" &&
	   grep -q 'ACS of 5 functions unreadable' "$tmp/out"; then
		ok "--sysfs: ACS read from config space, redirect => host bridge, unreadable ones said"
	else
		not_ok "--sysfs: unexpected output"; sed 's/^/# /' "$tmp/out"
	fi
else
	not_ok "--sysfs: exit $?"; sed 's/^/# /' "$tmp/err"
fi
"$dmalink" topo --sysfs --root "$tmp/root" 0000:04:00.0 0000:03:00.0 > "$tmp/out" 2>&1
if grep -q '^0000:03:00.0 used by 0000:04:00.0: yes, through the root complex' "$tmp/out" &&
   grep -q 'path: 0000:03:00.0 -> 0000:02:00.0 -> 0000:01:00.0 -> 0000:02:01.0 -> 0000:04:00.0$' "$tmp/out"; then
	ok "--sysfs A B: the answer and the path"
else
	not_ok "--sysfs A B"; sed 's/^/# /' "$tmp/out"
fi
"$dmalink" topo --sysfs --root "$tmp/nonexistent" > /dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "--sysfs without /sys/bus/pci -> exit 2"; else not_ok "--sysfs missing (exit $rc)"; fi

# malformed input: exit 2 and FILE:LINE in the message, never a crash
bad() {
	name=$1 content=$2 line=$3
	printf "$content" > "$tmp/bad.topo"
	"$dmalink" topo "$tmp/bad.topo" > /dev/null 2> "$tmp/err"
	rc=$?
	if [ $rc -eq 2 ] && grep -q "bad.topo:$line: " "$tmp/err"; then
		ok "malformed: $name -> exit 2, line $line named"
	else
		not_ok "malformed: $name (exit $rc)"; sed 's/^/# /' "$tmp/err"
	fi
}
h='host hb 0000:00 8086:2020\n'
bad "unknown statement" "${h}bridge x hb 01.0 1:2\n" 2
bad "unknown parent" "${h}rootport rp nope 01.0 8086:2030\n" 2
bad "endpoint below a switch upstream port" \
	"${h}rootport rp hb 01.0 1:2\nswitch sw rp 00.0 1:2 2\nendpoint e sw 00.0 1:2\n" 4
bad "devfn taken" "${h}rootport a hb 01.0 1:2\nrootport b hb 01.0 1:2\n" 3
bad "bad devfn" "${h}rootport a hb 20.0 1:2\n" 2
bad "bad id" "${h}rootport a hb 01.0 10000:2\n" 2
bad "name used twice" "${h}rootport hb hb 01.0 1:2\n" 2
bad "bad ACS flag" "${h}rootport a hb 01.0 1:2 acs=rr,zz\n" 2
bad "trailing field" "${h}rootport a hb 01.0 1:2 extra\n" 2
bad "too few fields" "${h}endpoint e hb\n" 2
bad "misaligned BAR" "${h}endpoint e hb 05.0 1:2\nbar e 0 0x800000800 4K\n" 3
bad "overlapping BARs" "${h}endpoint e hb 05.0 1:2\nbar e 0 0x800000000 8K\nbar e 1 0x800001000 4K\n" 4
bad "BAR over RAM" "${h}endpoint e hb 05.0 1:2\nbar e 0 0x1000 4K\n" 3
bad "BAR index 6" "${h}endpoint e hb 05.0 1:2\nbar e 6 0x800000000 4K\n" 3
bad "negative size" "${h}endpoint e hb 05.0 1:2\nbar e 0 0x800000000 -4K\n" 3
bad "huge size" "${h}endpoint e hb 05.0 1:2\nbar e 0 0x800000000 99999999999G\n" 3
bad "bad cpu" "cpu arm 8\n" 1
bad "host bus taken" "${h}host hb2 0000:00 1:2\n" 2
bad "last line truncated, no newline" "${h}rootport a hb" 2
printf 'host hb 0000:00 8086:2020\n\000\n' > "$tmp/nul.topo"
"$dmalink" topo "$tmp/nul.topo" > /dev/null 2> "$tmp/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "nul.topo:2: " "$tmp/err"; then ok "NUL byte -> exit 2, line 2"; else not_ok "NUL byte (exit $rc)"; fi
"$dmalink" topo "$tmp/missing.topo" > /dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "missing file -> exit 2"; else not_ok "missing file (exit $rc)"; fi
"$dmalink" topo "$topos/gpu-nic-switch.topo" gpu nosuch > /dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "unknown function -> exit 2"; else not_ok "unknown function (exit $rc)"; fi
"$dmalink" topo > /dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "no file -> exit 2"; else not_ok "no file (exit $rc)"; fi

echo "1..$n"
[ $fail -eq 0 ]
