/* SPDX-License-Identifier: MIT */
/*
 * fixture.h - an emulated machine for the DMA API tests: 4 GiB of RAM, a
 * VT-d unit and one PCI device behind it (or none: dma-direct), with
 * helpers to fill and check memory and to let the device move bytes.
 */
#ifndef DML_TEST_DMA_FIXTURE_H
#define DML_TEST_DMA_FIXTURE_H

#include <stdlib.h>

#include "testutil.h"

struct fx {
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_device *dev;
};

struct fx_opts {
	bool no_iommu;
	bool caching_mode;
	bool lazy;
	u64 dma_mask;
	unsigned int levels;
	bool swiotlb_off;	/* no bounce buffers: beyond the mask is an error */
};

static inline struct fx *fx_create(const struct fx_opts *fo)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct dml_iommu_opts io = {
		.size = DML_SIZEOF(&io, superpages),
		.levels = fo && fo->levels ? fo->levels : 4,
		.caching_mode = fo && fo->caching_mode,
		.lazy = fo && fo->lazy,
		.superpages = true,
	};
	struct dml_device_opts dop = {
		.size = DML_SIZEOF(&dop, untrusted),
		.name = "testdev",
		.source_id = 0x0100,
		.pci = true,
		.dma_mask = fo && fo->dma_mask ? fo->dma_mask : DMA_BIT_MASK(64),
	};
	struct dml_emu_opts eo = {
		.size = DML_SIZEOF(&eo, swiotlb_off),
		.swiotlb_off = fo && fo->swiotlb_off,
	};

	assert_non_null(f);
	assert_int_equal(dml_platform_create_emu(&eo, &f->p), 0);
	if (!fo || !fo->no_iommu) {
		assert_int_equal(dml_iommu_create(f->p, &io, &f->iommu), 0);
		dop.iommu = f->iommu;
	}
	assert_int_equal(dml_device_create(f->p, &dop, &f->dev), 0);
	return f;
}

static inline void fx_destroy(struct fx *f)
{
	dml_platform_destroy(f->p);
	free(f);
}

static inline int fx_setup(void **state)
{
	*state = fx_create(NULL);
	dml_test_log_reset();
	return 0;
}

static inline int fx_teardown(void **state)
{
	fx_destroy(*state);
	return 0;
}

/* fill [phys, +len) with a pattern derived from @seed */
static inline void fx_fill(struct fx *f, phys_addr_t phys, size_t len, u8 seed)
{
	u8 *p = dml_kmap_local_phys(f->p, phys, len);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < len; i++)
		p[i] = (u8)(seed + i * 7 + (i >> 9));
}

static inline bool fx_check(struct fx *f, phys_addr_t phys, size_t len, u8 seed)
{
	u8 *p = dml_kmap_local_phys(f->p, phys, len);
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (u8)(seed + i * 7 + (i >> 9)))
			return false;
	return true;
}

static inline u64 fx_faults(struct fx *f)
{
	return f->iommu ? dml_iommu_fault_count(f->iommu)
			: dml_platform_fault_count(f->p);
}

/* page-table pages held once the empty tables kept for reuse are freed */
static inline u64 fx_pt_pages(struct fx *f)
{
	struct dml_iommu_stats st;

	dml_iommu_trim(f->iommu);
	dml_iommu_get_stats(f->iommu, &st);
	return st.pt_pages;
}

static inline struct dml_iommu_stats fx_stats(struct fx *f)
{
	struct dml_iommu_stats st;

	dml_iommu_get_stats(f->iommu, &st);
	return st;
}

#endif /* DML_TEST_DMA_FIXTURE_H */
