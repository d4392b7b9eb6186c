/* SPDX-License-Identifier: MIT */
/*
 * fixture_p2p.h - an emulated machine for the dma-buf P2P tests: a
 * whitelisted (or unlisted) host bridge; a switch with a GPU (BAR0 of
 * 1 MiB, bus offset GPU_BUS_OFF) and a NIC, the importer, below it; an
 * SSD (BAR0) on a second root port.  GPU memory reaches the NIC by bus
 * address, SSD memory through the host bridge.  Every test that moves
 * bytes fills the BAR with fxp_fill() and checks what the device read.
 * bar_export() makes a VFIO-BAR-like exporter of four ranges of a BAR.
 */
#ifndef DML_TEST_DMABUF_FIXTURE_P2P_H
#define DML_TEST_DMABUF_FIXTURE_P2P_H

#include <stdlib.h>

#include <dmalink/dma-buf.h>
#include <dmalink/pci-p2pdma.h>

#include "testutil.h"

#define SKX_ROOT_PORT	0x2030	/* Intel Skylake-E root port: whitelisted */
#define NOT_LISTED	0x1234
#define GPU_BAR		0x800000000ULL
#define GPU_BUS_OFF	0x1000000000ULL
#define SSD_BAR		0xa00000000ULL
#define BAR_LEN		(1ULL << 20)

struct fxp {
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_pci_dev *hb, *rp0, *rp1, *up, *down[2], *gpu, *nic, *ssd;
	struct dml_device *nic_dev;
};

static inline struct fxp *fxp_build(u16 host, bool iommu)
{
	struct fxp *f = calloc(1, sizeof(*f));
	struct dml_emu_opts eo = {
		.size = DML_SIZEOF(&eo, cpu_family),
		.ram_size = 64ULL << 20,
		.cpu_vendor = DML_CPU_INTEL,
		.cpu_family = 6,
	};
	struct dml_device_opts o = { .size = DML_SIZEOF(&o, pci_dev) };

	assert_non_null(f);
	assert_int_equal(dml_platform_create_emu(&eo, &f->p), 0);
	assert_int_equal(dml_pci_host_bridge_add(f->p, 0, 0, 0x8086, host,
						 "hb", &f->hb), 0);
	assert_int_equal(dml_pci_dev_add(f->hb, DML_PCI_ROOT_PORT,
					 PCI_DEVFN(1, 0), 0x8086, host, "rp0",
					 &f->rp0), 0);
	assert_int_equal(dml_pci_dev_add(f->hb, DML_PCI_ROOT_PORT,
					 PCI_DEVFN(2, 0), 0x8086, host, "rp1",
					 &f->rp1), 0);
	assert_int_equal(dml_pci_switch_add(f->rp0, 0, 0x10b5, 0x8747, "sw", 2,
					    &f->up, f->down), 0);
	assert_int_equal(dml_pci_dev_add(f->down[0], DML_PCI_ENDPOINT, 0,
					 0x10de, 0x2330, "gpu", &f->gpu), 0);
	assert_int_equal(dml_pci_dev_add(f->down[1], DML_PCI_ENDPOINT, 0,
					 0x15b3, 0x1021, "nic", &f->nic), 0);
	assert_int_equal(dml_pci_dev_add(f->rp1, DML_PCI_ENDPOINT, 0, 0x144d,
					 0xa80a, "ssd", &f->ssd), 0);
	assert_int_equal(dml_pci_bar_add(f->gpu, 0, GPU_BAR, BAR_LEN,
					 GPU_BUS_OFF, 0), 0);
	assert_int_equal(dml_pci_bar_add(f->ssd, 0, SSD_BAR, BAR_LEN, 0, 0), 0);
	assert_int_equal(pcim_p2pdma_init(f->gpu), 0);
	assert_int_equal(pcim_p2pdma_init(f->ssd), 0);
	if (iommu) {
		assert_int_equal(dml_iommu_create(f->p, NULL, &f->iommu), 0);
		o.iommu = f->iommu;
	}
	o.name = "nic";
	o.pci_dev = f->nic;
	assert_int_equal(dml_device_create(f->p, &o, &f->nic_dev), 0);
	dml_test_log_reset();
	return f;
}

static inline int fxp_teardown(void **state)
{
	struct fxp *f = *state;

	dml_platform_destroy(f->p);
	free(f);
	return 0;
}

static inline u8 fxp_pattern(phys_addr_t phys)
{
	return (u8)(phys * 13 + (phys >> 12));
}

/* fill [phys, +len) with bytes that depend on their address */
static inline void fxp_fill(struct fxp *f, phys_addr_t phys, size_t len)
{
	u8 *m = dml_kmap_local_phys(f->p, phys, len);
	size_t i;

	assert_non_null(m);
	for (i = 0; i < len; i++)
		m[i] = fxp_pattern(phys + i);
}

/* the device reads [dma, +len) and finds the bytes of [phys, +len) */
static inline void fxp_device_reads(struct fxp *f, dma_addr_t dma,
				    phys_addr_t phys, size_t len)
{
	u8 *got = malloc(len);
	size_t i;

	assert_non_null(got);
	assert_int_equal(dml_dev_dma_read(f->nic_dev, dma, got, len), 0);
	for (i = 0; i < len; i++)
		assert_int_equal(got[i], fxp_pattern(phys + i));
	free(got);
}

static inline u64 fxp_faults(struct fxp *f)
{
	return f->iommu ? dml_iommu_fault_count(f->iommu)
			: dml_platform_fault_count(f->p);
}

/* ---- a VFIO-BAR-like exporter of four ranges of one BAR ---- */

/* four ranges of the BAR at @bar, out of order and apart */
static inline void bar_ranges(phys_addr_t bar, struct phys_vec v[4])
{
	static const u64 off[4] = { 0x40000, 0x3000, 0x80000, 0x10000 };
	static const u64 len[4] = { 0x2000, 0x1000, 0x8000, 0x3000 };
	unsigned int i;

	for (i = 0; i < 4; i++) {
		v[i].paddr = bar + off[i];
		v[i].len = len[i];
	}
}

#define RANGES_LEN (0x2000 + 0x1000 + 0x8000 + 0x3000)

/* a VFIO-BAR-like exporter: fixed ranges of one provider */
struct bar_exp {
	struct p2pdma_provider *provider;
	struct phys_vec v[4];
	struct dma_buf_phys_list list;
	const enum dma_buf_mapping_type *types;
	size_t ntypes;
	bool strict;	/* VFIO's attach rules: peer2peer and revocable */
};

static inline int bar_attach(struct dma_buf *dmabuf, struct dma_buf_attachment *a)
{
	struct bar_exp *e = dmabuf->priv;

	if (e->strict && (!a->peer2peer || !dma_buf_attach_revocable(a)))
		return -EOPNOTSUPP;
	return 0;
}

static inline int bar_map(struct dma_buf_attachment *a, enum dma_data_direction dir,
		   struct sg_table **out)
{
	struct bar_exp *e = a->dmabuf->priv;

	return dma_buf_phys_vec_to_sgt(a, e->provider, e->v, 4, RANGES_LEN,
				       dir, out);
}

static inline void bar_unmap(struct dma_buf_attachment *a, struct sg_table *sgt,
		      enum dma_data_direction dir)
{
	dma_buf_free_sgt(a, sgt, dir);
}

static inline void bar_release(struct dma_buf *dmabuf)
{
	(void)dmabuf;
}

static inline int bar_match(struct dma_buf_attachment *a,
		     const enum dma_buf_mapping_type *imp, size_t imp_len)
{
	struct bar_exp *e = a->dmabuf->priv;

	return dma_buf_match_mapping(a, imp, imp_len, e->types, e->ntypes);
}

static inline int bar_map_phys(struct dma_buf_attachment *a,
			struct dma_buf_phys_list **out)
{
	struct bar_exp *e = a->dmabuf->priv;

	e->list.provider = e->provider;
	e->list.length = RANGES_LEN;
	e->list.nr_ranges = 4;
	e->list.phys = e->v;
	*out = &e->list;
	return 0;
}

static inline void bar_unmap_phys(struct dma_buf_attachment *a,
			   struct dma_buf_phys_list *list)
{
	(void)a;
	(void)list;
}

static const struct dma_buf_ops bar_ops __attribute__((unused)) = {
	.attach = bar_attach,
	.map_dma_buf = bar_map,
	.unmap_dma_buf = bar_unmap,
	.release = bar_release,
	.match_mapping = bar_match,
	.map_phys = bar_map_phys,
	.unmap_phys = bar_unmap_phys,
};

/* VFIO's order: PAL first, then SGT_P2P */
static const enum dma_buf_mapping_type vfio_types[] __attribute__((unused)) = {
	DMA_BUF_MAPPING_PAL, DMA_BUF_MAPPING_SGT_P2P,
};

static inline void invalidate_nop(struct dma_buf_attachment *a)
{
	(void)a;
}

static const struct dma_buf_attach_ops p2p_ops __attribute__((unused)) = {
	.allow_peer2peer = true,
	.invalidate_mappings = invalidate_nop,
};

static inline struct dma_buf *bar_export(struct fxp *f, struct bar_exp *e,
				  struct dml_pci_dev *pdev, phys_addr_t bar)
{
	struct dma_buf_export_info info = {
		.ops = &bar_ops, .size = RANGES_LEN, .priv = e,
	};
	struct dma_buf *buf;
	unsigned int i;

	e->provider = pcim_p2pdma_provider(pdev, 0);
	assert_non_null(e->provider);
	bar_ranges(bar, e->v);
	for (i = 0; i < 4; i++)
		fxp_fill(f, e->v[i].paddr, e->v[i].len);
	e->types = vfio_types;
	e->ntypes = 2;
	assert_int_equal(dma_buf_export(&info, &buf), 0);
	return buf;
}

#endif /* DML_TEST_DMABUF_FIXTURE_P2P_H */
