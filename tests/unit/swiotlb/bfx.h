/* SPDX-License-Identifier: MIT */
/*
 * bfx.h - an emulated machine for the swiotlb, coherent-memory and
 * non-coherent tests: one device, direct or behind a VT-d unit, with the
 * bounce and coherency options of struct dml_device_opts and the pool
 * options of struct dml_emu_opts; helpers to fill and check memory.  The
 * tests also include the internal swiotlb.h to look at translations.
 */
#ifndef DML_TEST_BFX_H
#define DML_TEST_BFX_H

#include <stdlib.h>

#include "testutil.h"
#include <dmalink/dmapool.h>
#include <dmalink/scatterlist.h>

#include "dma/swiotlb.h"

#define G 4096UL

struct bfx {
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_device *dev;
};

struct bfx_opts {
	bool iommu;
	bool untrusted;
	bool non_coherent;
	bool force_bounce;
	bool lazy;
	bool swiotlb_off;
	u64 swiotlb_size;
	unsigned int min_align_mask;
	u64 dma_mask;
	u64 coherent_mask;
	unsigned long seg_boundary_mask;
};

static inline struct bfx *bfx_create(const struct bfx_opts *o)
{
	static const struct bfx_opts none;
	struct bfx *f = calloc(1, sizeof(*f));
	struct dml_emu_opts eo;
	struct dml_iommu_opts io = {
		.size = DML_SIZEOF(&io, superpages),
		.superpages = true,
	};
	struct dml_device_opts dop;

	if (!o)
		o = &none;
	eo = (struct dml_emu_opts){
		.size = DML_SIZEOF(&eo, swiotlb_off),
		.swiotlb_size = o->swiotlb_size,
		.swiotlb_off = o->swiotlb_off,
	};
	io.lazy = o->lazy;
	dop = (struct dml_device_opts){
		.size = DML_SIZEOF(&dop, dma_min_align_mask),
		.name = "bfxdev",
		.source_id = 0x0200,
		.pci = true,
		.dma_mask = o->dma_mask,
		.coherent_dma_mask = o->coherent_mask,
		.seg_boundary_mask = o->seg_boundary_mask,
		.non_coherent = o->non_coherent,
		.untrusted = o->untrusted,
		.force_bounce = o->force_bounce,
		.dma_min_align_mask = o->min_align_mask,
	};
	assert_non_null(f);
	assert_int_equal(dml_platform_create_emu(&eo, &f->p), 0);
	if (o->iommu) {
		assert_int_equal(dml_iommu_create(f->p, &io, &f->iommu), 0);
		dop.iommu = f->iommu;
	}
	assert_int_equal(dml_device_create(f->p, &dop, &f->dev), 0);
	dml_test_log_reset();
	return f;
}

static inline void bfx_destroy(struct bfx *f)
{
	dml_platform_destroy(f->p);
	free(f);
}

static inline u8 bfx_byte(size_t i, u8 seed)
{
	return (u8)(seed + i * 13 + (i >> 8));
}

static inline void bfx_fill(struct bfx *f, phys_addr_t phys, size_t len, u8 seed)
{
	u8 *p = dml_kmap_local_phys(f->p, phys, len);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < len; i++)
		p[i] = bfx_byte(i, seed);
}

static inline void buf_fill(u8 *b, size_t len, u8 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = bfx_byte(i, seed);
}

static inline bool buf_check(const u8 *b, size_t len, u8 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != bfx_byte(i, seed))
			return false;
	return true;
}

/* @b holds bytes @off .. @off + @len - 1 of pattern @seed */
static inline bool buf_check_at(const u8 *b, size_t off, size_t len, u8 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != bfx_byte(off + i, seed))
			return false;
	return true;
}

static inline bool bfx_check(struct bfx *f, phys_addr_t phys, size_t len, u8 seed)
{
	u8 *p = dml_kmap_local_phys(f->p, phys, len);

	return p && buf_check(p, len, seed);
}

static inline bool buf_is(const u8 *b, size_t len, u8 v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != v)
			return false;
	return true;
}

static inline struct dml_swiotlb_stats bfx_sw(struct bfx *f)
{
	struct dml_swiotlb_stats st;

	assert_int_equal(dml_swiotlb_get_stats(f->p, &st), 0);
	return st;
}

/* what the IOMMU translates @addr to (0: not mapped) */
static inline phys_addr_t bfx_xlate(struct bfx *f, dma_addr_t addr)
{
	struct dml_domain *d = f->dev->domain;

	return d->ops->iova_to_phys(d, (dml_iova_t)addr);
}

static inline bool bfx_in_pool(struct bfx *f, phys_addr_t phys)
{
	return dml__is_swiotlb_buffer(f->p, phys);
}

static inline u64 bfx_faults(struct bfx *f)
{
	return f->iommu ? dml_iommu_fault_count(f->iommu)
			: dml_platform_fault_count(f->p);
}

#endif /* DML_TEST_BFX_H */
