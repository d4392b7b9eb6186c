#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/qemu/run.sh - the end-to-end suite: the vfio backend against a real
# kernel, a real IOMMU model and real device models, none of them ours
# (shared/reference/qemu-harness.md is the recipe).
#
# Usage: tests/qemu/run.sh [BUILD_DIR]      (make check runs it)
#
# 1. Makes sure qemu-system-x86, busybox-static and cpio are installed
#    (apt-get when root), else prints a loud SKIP and exits 0.
# 2. Resolves the kernel package that linux-image-cloud-amd64 depends on,
#    fetches it with apt-get download and unpacks it with dpkg -x; cached
#    under BUILD_DIR/qemu/kernel/ (no other downloads).
# 3. Builds the guest programs statically (a meson build of the library in
#    BUILD_DIR/qemu/static, then gcc -static) and an initramfs: busybox,
#    the VFIO modules, tests/qemu/init, the programs.
#    The dmalink command is built statically too, for guest-nvme-replay.sh
#    (replay --device nvme --vfio in the guest) and the host side of its
#    check; a tpcc prefix goes with it.
# 4. Boots q35 + intel-iommu (intremap) with two edu devices, ivshmem-plain
#    over a host file and nvme over a small image, one edu and the nvme
#    behind a PCIe switch (pcie-root-port, x3130-upstream, two
#    xio3130-downstream), ivshmem alone behind a root port of its own
#    (on the root bus the guest kernel finds no reset method for it: no
#    FLR, no PM reset, no bridge above; alone below a port it resets it
#    with a secondary bus reset, so VFIO offers VFIO_DEVICE_RESET), the
#    other edu on the root bus; kernel arguments
#    intel_iommu=on iommu=strict (and iommu.strict=1, the spelling 6.1
#    parses; VFIO's own domains are always strict).  The guest binds them to vfio-pci, runs
#    the programs and powers off (tests/qemu/init).  Then a second, short
#    guest on an AMD Zen CPU runs dml-p2p alone (see boots()).
# 5. Reads the programs' TAP from the serial console, adds the host-side
#    checks (bytes the guest's P2P DMA left in the ivshmem backing file),
#    and the NVMe disk image against the same replay's --image on the
#    emulated controller,
#    prints one TAP stream and a summary; exits 1 if anything failed.
#
# Environment: DML_QEMU_ACCEL (default tcg: nested KVM hangs on the CI
# machines), DML_QEMU_BIN (default qemu-system-x86_64), DML_QEMU_TIMEOUT (seconds,
# default 120), DML_QEMU_PROGS (prebuilt static programs to run instead of
# building the suite's own; for development), DML_QEMU_KEEP=1 (print the
# whole console even on success).
set -u

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
case "$BUILD" in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
W=$BUILD/qemu
ACCEL=${DML_QEMU_ACCEL:-tcg}
QEMU=${DML_QEMU_BIN:-qemu-system-x86_64}
TIMEOUT=${DML_QEMU_TIMEOUT:-120}
START=$(date +%s)

note() { echo "# qemu: $*"; }

skip() {
	echo "1..0 # SKIP qemu suite: $*"
	echo "################################################################"
	echo "# SKIP: the QEMU end-to-end suite did not run: $*"
	echo "################################################################"
	echo "qemu summary: 0 passed, 0 failed, 1 skipped"
	exit 0
}

fail_setup() {
	echo "1..1"
	echo "not ok 1 - qemu suite setup: $*"
	echo "qemu summary: 0 passed, 1 failed, 0 skipped"
	exit 1
}

# ---- 1. packages ---------------------------------------------------------

have_pkg() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing_packages() {
	missing=""
	command -v "$QEMU" >/dev/null 2>&1 || missing="$missing qemu-system-x86"
	[ -x /bin/busybox ] && have_pkg busybox-static || missing="$missing busybox-static"
	command -v cpio >/dev/null 2>&1 || missing="$missing cpio"
}

ensure_packages() {
	missing_packages
	[ -z "$missing" ] && return 0
	if ! command -v apt-get >/dev/null 2>&1; then
		skip "missing$missing and there is no apt-get to install them"
	fi
	if [ "$(id -u)" != 0 ]; then
		skip "missing$missing and not root; install with: sudo apt-get install$missing"
	fi
	mb=$(apt-get install -qq --print-uris $missing 2>/dev/null |
		awk '{ s += $3 } END { printf "%d", (s + 524288) / 1048576 }')
	note "installing$missing (about $mb MB to download; a minute or two)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq $missing >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
		  apt-get install -y -qq $missing >/dev/null 2>&1; } ||
		skip "apt-get install$missing failed (offline?)"
	missing_packages
	[ -z "$missing" ] || skip "still missing after apt-get install:$missing"
}

# ---- 2. the guest kernel -------------------------------------------------

kernel_pkg() {
	apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'
}

ensure_kernel() {
	pkg=$(kernel_pkg)
	if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
		apt-get update -qq >/dev/null 2>&1
		pkg=$(kernel_pkg)
	fi
	if [ -z "$pkg" ]; then
		# offline: the newest kernel fetched before will do
		KDIR=$(ls -d "$W"/kernel/linux-image-* 2>/dev/null | tail -n 1)
		[ -n "$KDIR" ] && [ -f "$KDIR/.ok" ] ||
			skip "cannot resolve linux-image-cloud-amd64 (no apt lists) and no cached kernel"
	else
		KDIR=$W/kernel/$pkg
	fi
	if [ ! -f "$KDIR/.ok" ]; then
		mb=$(apt-get download --print-uris "$pkg" 2>/dev/null |
			awk '{ s += $3 } END { printf "%d", (s + 524288) / 1048576 }')
		note "fetching $pkg (about $mb MB, unpacked into $W/kernel, not installed)"
		rm -rf "$KDIR" "$W/kernel/dl"
		mkdir -p "$W/kernel/dl" "$KDIR"
		(cd "$W/kernel/dl" && apt-get download "$pkg" >/dev/null 2>&1) ||
			skip "apt-get download $pkg failed (offline?)"
		dpkg -x "$W"/kernel/dl/*.deb "$KDIR" ||
			fail_setup "dpkg -x of $pkg failed"
		rm -rf "$W/kernel/dl"
		touch "$KDIR/.ok"
	fi
	VMLINUZ=$(ls "$KDIR"/boot/vmlinuz-* 2>/dev/null | head -n 1)
	[ -n "$VMLINUZ" ] || fail_setup "no vmlinuz in $KDIR"
	MODDIR=$(ls -d "$KDIR"/lib/modules/* | head -n 1)
}

# ---- 3. guest programs and initramfs -------------------------------------

build_programs() {
	PROGS=""
	if [ -n "${DML_QEMU_PROGS:-}" ]; then
		PROGS=$DML_QEMU_PROGS
		return 0
	fi
	S=$W/static
	if [ ! -f "$S/build.ninja" ]; then
		meson setup "$S" "$SRC" -Dtests=disabled -Dbuildtype=debugoptimized \
			-Ddefault_library=static >"$W/meson-setup.log" 2>&1 ||
			{ cat "$W/meson-setup.log"; fail_setup "meson setup of the static build failed"; }
	fi
	ninja -C "$S" -j2 libdmalink.a >"$W/ninja.log" 2>&1 ||
		{ cat "$W/ninja.log"; fail_setup "building libdmalink.a failed"; }
	mkdir -p "$W/bin"
	CFLAGS="-std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -static"
	CFLAGS="$CFLAGS -I$SRC/include -I$SRC/src -I$SRC/tests/shared"
	for main in "$SRC"/tests/qemu/guest-*.c; do
		[ -f "$main" ] || continue
		name=$(basename "$main" .c)
		name=dml-${name#guest-}
		gcc $CFLAGS -o "$W/bin/$name" "$main" "$SRC"/tests/shared/shared.c \
			"$S/libdmalink.a" -lpthread -lm 2>"$W/gcc-$name.log" ||
			{ cat "$W/gcc-$name.log"; fail_setup "compiling $name failed"; }
		PROGS="$PROGS $W/bin/$name"
	done
	[ -n "$PROGS" ] || fail_setup "no guest programs (tests/qemu/guest-*.c)"
	# the dmalink command itself, static, for guest-nvme-replay.sh (and
	# for the host side of its check)
	gcc $CFLAGS -I"$SRC/tools" -o "$W/bin/dmalink" "$SRC"/tools/*.c \
		"$S/libdmalink.a" -lpthread -lm 2>"$W/gcc-dmalink.log" ||
		{ cat "$W/gcc-dmalink.log"; fail_setup "compiling dmalink failed"; }
	cp "$SRC/tests/qemu/guest-nvme-replay.sh" "$W/bin/dml-nvme-replay"
	PROGS="$PROGS $W/bin/dml-nvme-replay"
}

build_initramfs() {
	R=$W/initramfs
	rm -rf "$R"
	mkdir -p "$R/bin" "$R/lib/modules" "$R/tests" "$R/proc" "$R/sys" "$R/dev" "$R/tmp"
	cp /bin/busybox "$R/bin/busybox"
	cp "$SRC/tests/qemu/init" "$R/init"
	chmod 755 "$R/init"
	for m in virt/lib/irqbypass drivers/vfio/vfio drivers/vfio/vfio_iommu_type1 \
		 drivers/vfio/vfio_virqfd drivers/vfio/pci/vfio-pci-core \
		 drivers/vfio/pci/vfio-pci; do
		f=$MODDIR/kernel/$m.ko
		b=$(basename "$m")
		if [ -f "$f" ]; then
			cp "$f" "$R/lib/modules/$b.ko"
		elif [ -f "$f.xz" ]; then
			xz -dc "$f.xz" >"$R/lib/modules/$b.ko"
		elif [ -f "$f.zst" ] && command -v zstd >/dev/null 2>&1; then
			zstd -qdc "$f.zst" >"$R/lib/modules/$b.ko"
		else
			# built in, or absent from this kernel: init copes
			:
		fi
	done
	for p in $PROGS; do
		cp "$p" "$R/tests/"
	done
	if [ -x "$W/bin/dmalink" ]; then
		cp "$W/bin/dmalink" "$R/bin/dmalink"
		mkdir -p "$R/data"
		cp "$SRC/data/traces/mqsim/tpcc-small.trace" "$R/data/"
	fi
	(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$W/initrd.gz" ||
		fail_setup "packing the initramfs failed"
}

# ---- 4. boot --------------------------------------------------------------

# boot TAG CPU APPEND: one guest run, its console in $W/consoleTAG.log
boot() {
	CONSOLE=$W/console$1.log
	QLOG=$W/qemu-stderr$1.log
	CONSOLES="$CONSOLES $CONSOLE"
	QLOGS="$QLOGS $QLOG"
	note "booting $(basename "$VMLINUZ") ($ACCEL, -cpu $2)"
	BOOT_START=$(date +%s)
	timeout "$TIMEOUT" "$QEMU" \
		-machine q35,kernel-irqchip=split -accel "$ACCEL" -smp 2 -m 512 \
		-cpu "$2" -nodefaults -display none -monitor none -no-reboot \
		-serial stdio \
		-device intel-iommu,intremap=on \
		-device edu,addr=03.0 \
		-object memory-backend-file,id=shm0,size=1M,mem-path="$SHM",share=on \
		-device pcie-root-port,id=rp1,chassis=3,slot=1,addr=05.0 \
		-device ivshmem-plain,memdev=shm0,bus=rp1 \
		-device pcie-root-port,id=rp0,chassis=1,slot=0,addr=07.0 \
		-device x3130-upstream,id=sw0,bus=rp0 \
		-device xio3130-downstream,id=sw0d0,bus=sw0,chassis=2,slot=0,port=0,addr=00.0 \
		-device xio3130-downstream,id=sw0d1,bus=sw0,chassis=2,slot=1,port=1,addr=01.0 \
		-device edu,bus=sw0d0 \
		-drive if=none,id=d0,file="$DISK",format=raw \
		-device nvme,serial=dml0,drive=d0,bus=sw0d1 \
		-kernel "$VMLINUZ" -initrd "$W/initrd.gz" \
		-append "console=ttyS0 intel_iommu=on iommu=strict iommu.strict=1 loglevel=3 panic=-1 $3" \
		</dev/null >"$CONSOLE" 2>"$QLOG"
	QRC="$QRC $?"
	BOOT_S="$BOOT_S $(($(date +%s) - BOOT_START))"
}

# Two guests: QEMU's q35 host bridge is on no P2P whitelist, so the
# kernel's classification allows peer traffic through it only on an AMD
# Zen CPU (cpu_supports_p2pdma()).  The suite runs on the default CPU,
# which is not one (dml-p2p: host-bridge pairs refused), then dml-p2p
# alone on an EPYC (family 0x17: the same pairs allowed, bytes checked).
boots() {
	SHM=$W/ivshmem.bin
	DISK=$W/nvme.img
	rm -f "$SHM" "$DISK" "$W"/console*.log "$W"/qemu-stderr*.log
	truncate -s 1M "$SHM"
	truncate -s 1M "$DISK"
	CONSOLES="" QLOGS="" QRC="" BOOT_S=""
	boot "" max "dml.p2p=refused"
	boot -zen EPYC "dml.p2p=allowed dml.only=dml-p2p dml.tag=@zen"
}

# ---- 5. results -------------------------------------------------------------

# Turn the console into one TAP stream: each program's TAP renumbered,
# a failed line for a program that crashed, ran short of its plan or never
# ended, then the host-side checks the guest asked for.
report() {
	awk -v qrc="$QRC" -v shm="$SHM" -v timeout="$TIMEOUT" \
	    -v dmalink="$W/bin/dmalink" -v disk="$DISK" -v w="$W" \
	    -v trace="$SRC/data/traces/mqsim/tpcc-small.trace" '
	function out(ok, desc) {
		n++
		if (ok) pass++; else failed++
		lines[n] = (ok ? "ok " : "not ok ") n " - " desc
	}
	function finish(rc) {
		if (!cur) return
		if (plan < 0) out(0, cur ": no TAP plan")
		else if (seen != plan) out(0, cur ": ran " seen " of " plan " tests")
		if (rc != "" && rc != 0 && rc != 77) out(0, cur ": exited with status " rc)
		cur = ""
	}
	function guest_end() {
		finish("")
		if (fname && !done) out(0, "guest " fname " ran to the end (timeout " timeout " s or crash; qemu status" qrc ")")
	}
	FNR == 1 { guest_end(); fname = FILENAME; sub(/.*\//, "", fname); done = 0 }
	{ sub(/\r$/, "") }
	/^@@dml begin / { finish(""); cur = $3; plan = -1; seen = 0; next }
	/^@@dml end / { if (cur) finish($4); next }
	/^@@dml done/ { done = 1; next }
	/^@@dml error / { out(0, "guest init: " substr($0, 13)); next }
	/^@@dml env / { envs = envs " " $3; next }
	/^@@dml host-check / { checks[++nchecks] = $0; next }
	/^@@dml host-nvme / { nvme_args = substr($0, 17); next }
	!cur { next }
	/^1\.\.[0-9]+/ {
		plan = substr($1, 4) + 0
		if (plan == 0) {
			r = $0; sub(/^1\.\.0 *#? */, "", r)
			n++; skipped++; lines[n] = "ok " n " - " cur " # SKIP " r
		}
		next }
	/^(not )?ok / {
		ok = ($1 == "ok"); seen++
		desc = $0; sub(/^(not )?ok [0-9]* *-? */, "", desc)
		if (desc ~ /# *[Ss][Kk][Ii][Pp]/) {
			n++; skipped++; lines[n] = "ok " n " - " cur ": " desc; next
		}
		out(ok, cur ": " desc); next }
	/^#/ { diag[n] = diag[n] "\n" $0; next }
	END {
		guest_end()
		for (i = 1; i <= nchecks; i++) {
			# @@dml host-check shm OFFSET HEXBYTES DESCRIPTION...
			split(checks[i], f, " ")
			off = f[4] + 0; hex = f[5]; d = checks[i]
			sub(/^@@dml host-check [^ ]+ [^ ]+ [^ ]+ */, "", d)
			cmd = "od -An -tx1 -v -j " off " -N " length(hex) / 2 " " shm
			got = ""
			while ((cmd | getline l) > 0) { gsub(/ /, "", l); got = got l }
			close(cmd)
			out(got == hex, "host: " d)
			if (got != hex) diag[n] = diag[n] "\n# expected " hex "\n# got      " got
		}
		if (nvme_args != "") {
			# @@dml host-nvme ARGS: the guest replay, again on the emulated
			# controller; its --image must be the first bytes of the disk image
			cmd = dmalink " replay --device nvme " nvme_args " --image " w "/nvme-expect.img " \
			      trace " >/dev/null 2>&1 && cmp -n $(wc -c < " w "/nvme-expect.img) " \
			      w "/nvme-expect.img " disk " >/dev/null 2>&1 && echo same"
			got = ""
			cmd | getline got
			close(cmd)
			out(got == "same", "host: the NVMe disk image holds the bytes the guest replay wrote (replay --image of the same run on the emulated controller)")
		}
		print "1.." n
		if (0 in diag) print substr(diag[0], 2)
		for (i = 1; i <= n; i++) { print lines[i]; if (i in diag) print substr(diag[i], 2) }
		printf "qemu summary: %d passed, %d failed, %d skipped\n", pass, failed, skipped
		exit failed ? 1 : 0
	}' $CONSOLES
}

ensure_packages
mkdir -p "$W"
ensure_kernel
build_programs
build_initramfs
boots
report
RC=$?
END=$(date +%s)
note "guests: $BOOT_S s from boot to power-off (qemu status$QRC); $((END - START)) s in all"
if [ "$RC" != 0 ] || [ "${DML_QEMU_KEEP:-0}" = 1 ]; then
	for f in $CONSOLES $QLOGS; do
		echo "# ---- $f ----"
		sed 's/^/# | /' "$f"
	done
fi
exit $RC
