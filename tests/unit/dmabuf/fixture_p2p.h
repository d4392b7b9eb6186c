/* SPDX-License-Identifier: MIT */
/*
 * fixture_p2p.h - the dma-buf P2P tests on the shared P2P machine
 * (p2p/fixture.h; the NIC is the importer).  Every test that moves
 * bytes fills the BAR with fxp_fill() and checks what the device read.
 * bar_export() makes a VFIO-BAR-like exporter of four ranges of a BAR;
 * lib_bar_export() the library's (dml_pci_bar_dma_buf_export) of the same.
 */
#ifndef DML_TEST_DMABUF_FIXTURE_P2P_H
#define DML_TEST_DMABUF_FIXTURE_P2P_H

#include <stdlib.h>

#include <dmalink/dma-buf.h>

#include "p2p/fixture.h"

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

/*
 * a VFIO-BAR-like exporter without VFIO's attach rules, whose ranges,
 * provider and ops a test can reach and vary: fixed ranges of one provider
 */
struct bar_exp {
	struct p2pdma_provider *provider;
	struct phys_vec v[4];
	struct dma_buf_phys_list list;
	const enum dma_buf_mapping_type *types;
	size_t ntypes;
};

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

static const struct dma_buf_ops bar_ops __attribute__((unused)) = {
	.map_dma_buf = bar_map,
	.unmap_dma_buf = bar_unmap,
	.release = bar_release,
	.match_mapping = bar_match,
	.map_phys = bar_map_phys,
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

/*
 * the library's VFIO-BAR exporter (dml_pci_bar_dma_buf_export) of the
 * four ranges bar_ranges() gives, filled; @v gets their phys and length
 */
static inline struct dma_buf *lib_bar_export(struct fxp *f,
					     struct dml_pci_dev *pdev,
					     phys_addr_t bar, struct phys_vec v[4])
{
	struct dml_dma_buf_range r[4];
	struct dma_buf *buf = NULL;
	unsigned int i;

	bar_ranges(bar, v);
	for (i = 0; i < 4; i++) {
		r[i].offset = v[i].paddr - bar;
		r[i].length = v[i].len;
		fxp_fill(f, v[i].paddr, v[i].len);
	}
	assert_int_equal(dml_pci_bar_dma_buf_export(pdev, 0, r, 4, &buf), 0);
	return buf;
}

#endif /* DML_TEST_DMABUF_FIXTURE_P2P_H */
