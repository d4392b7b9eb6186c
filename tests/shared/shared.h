/* SPDX-License-Identifier: MIT */
/*
 * shared.h - DMA behaviour tests written once and run on both backends:
 * in-process on the emulated platform (tests/shared/emu.c, a meson unit
 * test) and in a Linux guest against VFIO and QEMU's edu device
 * (tests/qemu/guest-e2e.c).  Same API, same behaviour (issue: "Real
 * devices", point 4): the two-step state machine, its errors, the
 * dma_map_phys fallback, unlink revoking access, directions, the DMA mask,
 * two devices, peer-to-peer.
 *
 * A backend hands the tests a struct dml_tenv: a platform, two DMA-capable
 * devices with a small device-side buffer (edu's 4 KiB one, or a local
 * array the emulated DMA engine copies into), memory the DMA API can map,
 * a fault counter, and optionally a peer BAR.  The tests print TAP
 * themselves (no cmocka: the guest programs are static binaries).
 */
#ifndef DML_TESTS_SHARED_H
#define DML_TESTS_SHARED_H

#include <errno.h>

#include <dmalink/dma-mapping.h>
#include <dmalink/scatterlist.h>

/*
 * struct dml_tmem - memory a test maps
 * @phys: the backend's phys_addr_t (emu: emulated physical address;
 *	vfio: the process virtual address)
 * @cpu: CPU pointer to the same bytes
 * @len: bytes
 */
struct dml_tmem {
	phys_addr_t phys;
	unsigned char *cpu;
	size_t len;
};

struct dml_tenv;

/*
 * struct dml_tdev - a device that does DMA on request
 * @dev: the device every DMA API call takes
 * @read: the device reads @len bytes at DMA address @addr into its buffer
 *	at @off.  Return 0 when the transfer completed (a fault may still
 *	have dropped it: edu cannot tell), -EFAULT when the backend saw the
 *	fault, another -errno when the device could not be driven.
 * @write: the device writes @len bytes of its buffer at @off to DMA
 *	address @addr; returns as @read.
 */
struct dml_tdev {
	struct dml_device *dev;
	int (*read)(struct dml_tenv *e, struct dml_tdev *t, dma_addr_t addr,
		    unsigned int off, unsigned int len);
	int (*write)(struct dml_tenv *e, struct dml_tdev *t, unsigned int off,
		     dma_addr_t addr, unsigned int len);
	void *priv;
};

/*
 * struct dml_tenv - what a backend gives the shared tests
 * @backend: "emu" or "vfio", for messages
 * @p: the platform
 * @dev: two devices; their DMA mask is DMA_BIT_MASK(@mask_bits)
 * @buf_len: bytes of device buffer a transfer may use, from offset 0
 *	(edu: 4096, but a transfer may not end at its very end)
 * @mem_alloc: page-aligned, zeroed memory of @len bytes, contiguous for
 *	the backend; 0 or -errno
 * @mem_free: release it
 * @fault_count: IOMMU faults seen so far (emu: the fault log; vfio: DMAR
 *	lines in the guest kernel's log)
 * @fault_text: a line describing the last fault, for the TAP diagnostics
 * @p2p: a peer device's BAR (phys for DMA_ATTR_MMIO, CPU pointer to
 *	check the bytes); @p2p.len 0 when there is none
 * @p2p_written: tell the host which bytes a P2P write left at @off of
 *	the BAR (vfio: the host checks its ivshmem file); may be NULL
 */
struct dml_tenv {
	const char *backend;
	struct dml_platform *p;
	struct dml_tdev dev[2];
	unsigned int mask_bits;
	unsigned int buf_len;
	int (*mem_alloc)(struct dml_tenv *e, size_t len, struct dml_tmem *m);
	void (*mem_free)(struct dml_tenv *e, struct dml_tmem *m);
	u64 (*fault_count)(struct dml_tenv *e);
	void (*fault_text)(struct dml_tenv *e, char *buf, size_t len);
	struct dml_tmem p2p;
	void (*p2p_written)(struct dml_tenv *e, size_t off, const void *bytes,
			    size_t len);
	void *priv;
};

/* ---- TAP (plan printed at the end, so any number of tests may run) ---- */

/* tap_result - one test line; @ok false makes the program fail */
void tap_result(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* tap_skip - one test line with a SKIP directive */
void tap_skip(const char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* tap_diag - a "# " diagnostic line */
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* tap_done - print the plan; return the exit status (0, or 1 if any failed) */
int tap_done(void);

/*
 * CHECK - inside a test returning bool through `ok` with an `out:` label:
 * on failure print where and why, mark the test failed, go to cleanup.
 */
#define CHECK(cond) do {						\
	if (!(cond)) {							\
		tap_diag("%s:%d: check failed: %s", __FILE__, __LINE__, #cond); \
		ok = false;						\
		goto out;						\
	}								\
} while (0)

/* CHECK_EQ - as CHECK for two integers, printing both values */
#define CHECK_EQ(a, b) do {						\
	long long __a = (long long)(a), __b = (long long)(b);		\
	if (__a != __b) {						\
		tap_diag("%s:%d: check failed: %s == %s (%lld != %lld)", \
			 __FILE__, __LINE__, #a, #b, __a, __b);		\
		ok = false;						\
		goto out;						\
	}								\
} while (0)

/*
 * dml_shared_wait_fault - whether a fault beyond @before shows up within
 * two seconds (the guest kernel logs DMAR faults from an interrupt)
 */
bool dml_shared_wait_fault(struct dml_tenv *e, u64 before);

/*
 * dml_shared_run - run every shared test against @e, printing TAP lines
 * (no plan: the caller may add its own tests, then call tap_done()).
 */
void dml_shared_run(struct dml_tenv *e);

#endif /* DML_TESTS_SHARED_H */
