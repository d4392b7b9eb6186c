/* SPDX-License-Identifier: MIT */
/*
 * fuzz_cc.c - libFuzzer harness for a confidential guest (dmalink/cc.h):
 * random TDISP requests, page conversions, CPU writes and DMA maps on one
 * SEV-like or TDX-like guest (the first byte), against a shadow model.
 * Invariants: a refused TDISP request changes neither the state nor the
 * acceptance; an allowed one moves as the specification says; a
 * conversion to shared hands back zeroed pages (no private byte is ever
 * readable as shared); a mapping of private memory reaches private memory
 * only for an accepted device, otherwise the device gets a shared bounce
 * buffer holding the same bytes; the endpoint's BAR is private MMIO in
 * RUN: the host CPU's mapping of it is refused then and only then (each
 * try one CC_PRIVATE_MMIO_CPU report, and nothing else), the TVM's exists
 * exactly while the device is accepted; otherwise the checker reports
 * nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dmalink/cc.h>
#include <dmalink/dma-debug.h>

#include "fuzz.h"

#define NPAGES	16
#define BUF	0x100000ULL
#define PG	4096ULL
#define BAR	0x80000000ULL		/* the endpoint's BAR 0, NPAGES pages */

struct model {
	enum dml_tdisp_state st;
	bool accepted;
	bool shared[NPAGES];
};

static void check_page(struct dml_platform *p, unsigned int k, int c)
{
	const unsigned char *b = dml_kmap_local_phys(p, BUF + k * PG, PG);
	unsigned int i;

	for (i = 0; i < PG; i++)
		if (b[i] != c)
			abort();
}

/* a TDISP request @op; refused ones must change nothing */
static void tdisp_op(struct model *m, struct dml_tvm *tvm,
		     struct dml_pci_dev *ep, struct dml_device *dev, unsigned int op)
{
	enum dml_tdisp_state want = m->st;
	bool ok, acc = m->accepted;
	int ret = 0;

	switch (op) {
	case 0:
		ret = dml_tsm_bind(tvm, ep);
		ok = m->st == DML_TDISP_CONFIG_UNLOCKED;
		want = ok ? DML_TDISP_CONFIG_LOCKED : m->st;
		break;
	case 1:
		ret = dml_tdisp_start(ep);
		ok = m->st == DML_TDISP_CONFIG_LOCKED;
		want = ok ? DML_TDISP_RUN : m->st;
		break;
	case 2:
		ret = dml_tdisp_error(ep);
		ok = true;
		if (m->st == DML_TDISP_CONFIG_LOCKED || m->st == DML_TDISP_RUN)
			want = DML_TDISP_ERROR;
		break;
	case 3:
		ret = dml_tsm_unbind(ep);
		ok = m->st != DML_TDISP_CONFIG_UNLOCKED;
		want = ok ? DML_TDISP_CONFIG_UNLOCKED : m->st;
		break;
	default:
		ret = dml_tsm_accept(tvm, ep);
		ok = m->st == DML_TDISP_RUN;
		if (ok)
			acc = true;
		break;
	}
	if (!ok != !!ret)
		abort();
	if (want != DML_TDISP_RUN)
		acc = false;
	if (dml_tdisp_state(ep) != want || dml_tsm_accepted(dev) != acc)
		abort();
	m->st = want;
	m->accepted = acc;
}

/* the CPU maps page @k of the BAR: the host in RUN never, the TVM if accepted */
static void mmio_op(struct dml_platform *p, const struct model *m,
		    struct dml_tvm *tvm, unsigned int k)
{
	bool run = m->st == DML_TDISP_RUN;

	if (!dml_kmap_local_phys(p, BAR + k * PG, PG) != run ||
	    !dml_tvm_mmio_map(tvm, BAR + k * PG, PG) != !m->accepted ||
	    dml_dma_debug_error_count() != run ||
	    dml_dma_debug_category_count(DML_DMA_DEBUG_CC_PRIVATE_MMIO_CPU) != run)
		abort();
	dml_dma_debug_clear_errors();
}

/* map page @k and check what the device is handed */
static void map_op(struct dml_platform *p, struct model *m,
		   struct dml_device *dev, unsigned int k, bool shared_attr, u64 bits)
{
	unsigned long attrs = shared_attr ? DMA_ATTR_CC_SHARED : 0;
	phys_addr_t phys = BUF + k * PG, seen;
	dma_addr_t a;

	if (shared_attr && !m->shared[k])
		return;	/* the caller's promise: the memory is shared */
	a = dma_map_phys(dev, phys, PG, DMA_TO_DEVICE, attrs);
	if (dma_mapping_error(dev, a))
		abort();	/* the pool has room for one page */
	seen = (phys_addr_t)(a & ~bits);
	if (shared_attr) {
		if (a != phys_to_dma_unencrypted(dev, phys))
			abort();
	} else if (m->accepted) {
		if (a != phys_to_dma_encrypted(dev, phys))
			abort();
	} else {
		/* a bounce buffer: shared, encoded so, the same bytes */
		if (a != phys_to_dma_unencrypted(dev, seen) || seen == phys ||
		    !dml_cc_phys_shared(p, seen, PG) ||
		    memcmp(dml_kmap_local_phys(p, seen, PG),
			   dml_kmap_local_phys(p, phys, PG), PG))
			abort();
	}
	dma_unmap_phys(dev, a, PG, DMA_TO_DEVICE, attrs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dml_emu_opts eo = {
		.size = DML_SIZEOF(&eo, swiotlb_size),
		.ram_size = 8ULL << 20,
		.swiotlb_size = 2ULL << 20,
	};
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev) };
	struct model m = { .st = DML_TDISP_CONFIG_UNLOCKED };
	struct dml_pci_dev *hb, *ep;
	struct dml_platform *p;
	struct dml_device *dev;
	struct dml_tvm *tvm;
	unsigned int bit;
	size_t i;
	u64 bits;

	if (!size)
		return 0;
	dml_set_log(fuzz_quiet, NULL);
	dml_dma_debug_enable(true);
	if (dml_platform_create_emu(&eo, &p))
		return 0;
	bit = 32 + (data[0] >> 1) % 31;
	if (dml_cc_platform_init(p, (data[0] & 1) ? DML_CC_TDX : DML_CC_SEV, bit) ||
	    dml_pci_host_bridge_add(p, 0, 0, 0, 0, NULL, &hb) ||
	    dml_pci_dev_add(hb, DML_PCI_ENDPOINT, 8, 1, 1, "ep", &ep) ||
	    dml_pci_bar_add(ep, 0, BAR, NPAGES * PG, 0, 0))
		abort();
	bits = 1ULL << bit;
	o.pci_dev = ep;
	if (dml_device_create(p, &o, &dev) || dml_tvm_create(p, &tvm))
		abort();
	for (i = 1; i < size; i++) {
		unsigned int op = data[i] >> 4, k = data[i] & (NPAGES - 1);

		switch (op) {
		case 0: case 1: case 2: case 3: case 4:
			tdisp_op(&m, tvm, ep, dev, op);
			break;
		case 5:
			if (set_memory_decrypted(p, BUF + k * PG, 1))
				abort();
			if (!m.shared[k])
				check_page(p, k, 0);	/* scrubbed */
			m.shared[k] = true;
			break;
		case 6:
			if (set_memory_encrypted(p, BUF + k * PG, 1))
				abort();
			if (m.shared[k])
				check_page(p, k, 0);
			m.shared[k] = false;
			break;
		case 7:
			memset(dml_kmap_local_phys(p, BUF + k * PG, PG),
			       m.shared[k] ? 0x50 | k : 0xa0 | k, PG);
			break;
		case 8: case 9:
			map_op(p, &m, dev, k, op == 9, bits);
			break;
		case 10:
			mmio_op(p, &m, tvm, k);
			break;
		default:
			/* refused conversions change nothing */
			if (set_memory_decrypted(p, BUF + k * PG + 1 + op, 1) != -EINVAL ||
			    dml_cc_phys_shared(p, BUF + k * PG, 1) != m.shared[k])
				abort();
			break;
		}
		if (dml_cc_phys_shared(p, BUF + k * PG, PG) != m.shared[k])
			abort();
	}
	if (dml_dma_debug_error_count())
		abort();
	dml_tvm_destroy(tvm);
	dml_platform_destroy(p);
	return 0;
}
