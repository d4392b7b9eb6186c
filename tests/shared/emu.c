/* SPDX-License-Identifier: MIT */
/*
 * emu.c - the shared DMA behaviour tests (shared.c) on the emulated
 * platform, in-process: the twin of tests/qemu/guest-e2e.c.
 *
 * The machine mirrors the QEMU guest: one emulated VT-d unit, two PCI
 * devices behind it with edu's 28-bit DMA mask and a 4 KiB device buffer
 * that dml_dev_dma_read()/dml_dev_dma_write() copy into and out of, and a
 * 1 MiB MMIO region standing for ivshmem's BAR2.  It runs twice: with a
 * physical IOMMU, and in caching mode (a virtualised IOMMU, as QEMU's
 * intel-iommu is to a guest), where a link the test forgot to sync would
 * fault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared.h"

#define TP 4096UL
#define MEM_BASE (256ULL << 20)		/* test memory: emulated phys */
#define BAR_BASE (8ULL << 30)		/* the peer BAR, above RAM */
#define BAR_SIZE (1ULL << 20)

struct emu_env {
	struct dml_iommu *iommu;
	phys_addr_t next;		/* bump allocator of test memory */
	unsigned char buf[2][4096];	/* the devices' buffers */
};

static int emu_read(struct dml_tenv *e, struct dml_tdev *t, dma_addr_t addr,
		    unsigned int off, unsigned int len)
{
	if (off + len >= e->buf_len)
		return -EINVAL;
	return dml_dev_dma_read(t->dev, addr, (unsigned char *)t->priv + off, len);
}

static int emu_write(struct dml_tenv *e, struct dml_tdev *t, unsigned int off,
		     dma_addr_t addr, unsigned int len)
{
	if (off + len >= e->buf_len)
		return -EINVAL;
	return dml_dev_dma_write(t->dev, addr, (unsigned char *)t->priv + off, len);
}

static int emu_mem_alloc(struct dml_tenv *e, size_t len, struct dml_tmem *m)
{
	struct emu_env *ee = e->priv;
	size_t sz = (len + TP - 1) & ~(TP - 1);

	m->phys = ee->next;
	m->cpu = dml_kmap_local_phys(e->p, m->phys, sz);
	if (!m->cpu)
		return -ENOMEM;
	m->len = sz;
	memset(m->cpu, 0, sz);
	ee->next += sz + TP;	/* a hole after each allocation */
	return 0;
}

static void emu_mem_free(struct dml_tenv *e, struct dml_tmem *m)
{
	(void)e;
	(void)m;	/* bump allocator: memory is dropped with the platform */
}

static u64 emu_fault_count(struct dml_tenv *e)
{
	struct emu_env *ee = e->priv;

	return dml_iommu_fault_count(ee->iommu);
}

static void emu_fault_text(struct dml_tenv *e, char *buf, size_t len)
{
	struct emu_env *ee = e->priv;
	u64 n = dml_iommu_fault_count(ee->iommu);
	struct dml_fault f;

	if (!n || dml_iommu_fault_get(ee->iommu, n - 1, &f)) {
		snprintf(buf, len, "none");
		return;
	}
	snprintf(buf, len, "[DMA %s] device %02x:%02x.%u addr %#llx: %s",
		 f.write ? "Write" : "Read", f.source_id >> 8,
		 (f.source_id >> 3) & 0x1f, f.source_id & 7,
		 (unsigned long long)f.addr, dml_fault_reason_str(f.reason));
}

static int run(bool caching_mode)
{
	struct dml_iommu_opts io = {
		.size = DML_SIZEOF(&io, superpages),
		.caching_mode = caching_mode,
		.superpages = true,
	};
	struct dml_device_opts dopt = {
		.size = DML_SIZEOF(&dopt, iommu),
		.pci = true,
		.dma_mask = DMA_BIT_MASK(28),
		.coherent_dma_mask = DMA_BIT_MASK(28),
	};
	struct emu_env ee = { .next = MEM_BASE };
	struct dml_tenv e = {
		.backend = caching_mode ? "emu (caching mode)" : "emu",
		.mask_bits = 28,
		.buf_len = 4096,
		.mem_alloc = emu_mem_alloc,
		.mem_free = emu_mem_free,
		.fault_count = emu_fault_count,
		.fault_text = emu_fault_text,
		.priv = &ee,
	};
	const char *names[2] = { "edu0", "edu1" };
	int i, ret;

	ret = dml_platform_create_emu(NULL, &e.p);
	if (!ret)
		ret = dml_iommu_create(e.p, &io, &ee.iommu);
	for (i = 0; i < 2 && !ret; i++) {
		dopt.name = names[i];
		dopt.source_id = (u16)((3 + i) << 3);	/* 00:03.0, 00:04.0 */
		dopt.iommu = ee.iommu;
		ret = dml_device_create(e.p, &dopt, &e.dev[i].dev);
		e.dev[i].read = emu_read;
		e.dev[i].write = emu_write;
		e.dev[i].priv = ee.buf[i];
	}
	if (!ret)
		ret = dml_mmio_add(e.p, BAR_BASE, BAR_SIZE, "peer-bar2");
	if (!ret) {
		e.p2p.phys = BAR_BASE;
		e.p2p.cpu = dml_kmap_local_phys(e.p, BAR_BASE, BAR_SIZE);
		e.p2p.len = e.p2p.cpu ? BAR_SIZE : 0;
	}
	tap_result(!ret, "%s: platform, IOMMU, two devices and a peer BAR (%d)",
		   e.backend, ret);
	if (!ret)
		dml_shared_run(&e);
	dml_platform_destroy(e.p);
	return ret;
}

int main(void)
{
	run(false);
	run(true);
	return tap_done();
}
