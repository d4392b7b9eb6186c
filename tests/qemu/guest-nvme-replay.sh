#!/bin/sh
# SPDX-License-Identifier: MIT
#
# guest-nvme-replay.sh - runs in the guest (tests/qemu/init, as
# /tests/dml-nvme-replay): `dmalink replay --device nvme --vfio` against
# QEMU's NVMe controller (DML_NVME) on the first 1000 requests of a
# shipped trace, once with PRPs only and once with SGLs only, each with
# all three strategies: every command completes, every byte read back
# verifies, the data pointer is what --sgl asked for.  Then it asks the
# host to replay the same on the emulated controller with --image and to
# compare that with the first MiB of the disk image QEMU wrote
# (@@dml host-nvme, run.sh).  Prints TAP.
trace=/data/tpcc-small.trace
args="--namespace 1048576 --max-request 1048576 --limit 1000"
if [ -z "${DML_NVME:-}" ]; then
	echo "1..0 # SKIP no NVMe device"
	exit 0
fi
echo "1..4"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }
field() { grep -o "\"$1\":[0-9]*" /tmp/out.json | cut -d: -f2; }
sum() { field "$1" | awk '{ s += $1 } END { print s + 0 }'; }

# run SGL WANT_SGL_COMMANDS(all|none)
run() {
	/bin/dmalink replay --json --device nvme --vfio "$DML_NVME" --sgl "$1" $args \
		"$trace" > /tmp/out.json 2> /tmp/err
	rc=$?
	if [ $rc -eq 0 ] && [ "$(sum errors)" = 0 ] && [ "$(sum mismatches)" = 0 ] &&
	   [ "$(field requests | sort -u)" = 1000 ] &&
	   [ "$(field read_bytes | tr '\n' ' ')" = "$(field verified | tr '\n' ' ')" ] &&
	   [ "$(sum verified)" -gt 0 ]; then
		ok "replay --device nvme --vfio --sgl $1: 3 x 1000 requests, $(sum commands) commands, $(sum verified) bytes read back and verified"
	else
		not_ok "replay --device nvme --vfio --sgl $1: exit $rc"
		sed 's/^/# /' /tmp/err /tmp/out.json
	fi
	sgls=$(sum sgl_commands)
	case $2 in
	all) [ "$sgls" = "$(sum commands)" ] ;;
	none) [ "$sgls" = 0 ] ;;
	esac && ok "--sgl $1: $sgls of $(sum commands) commands as SGLs ($2)" ||
		not_ok "--sgl $1: $sgls of $(sum commands) commands as SGLs, want $2"
}

run never none
run always all
echo "@@dml host-nvme --sgl always $args"
