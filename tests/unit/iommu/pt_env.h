/* SPDX-License-Identifier: MIT */
/*
 * pt_env.h - what the page-table tests (test_pgtable*.c) share: a domain
 * of a real emulated platform, its ops called directly, and page counts
 * (pt_pages() trims first, raw_pages() does not).
 */
#ifndef DML_TEST_PT_ENV_H
#define DML_TEST_PT_ENV_H

#include "testutil.h"

#include "iommu/emu/emu.h"

#define RW (IOMMU_READ | IOMMU_WRITE)
#define LINK DML_MAP_LINK	/* a whole link: its head and its tail */

struct env {
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_domain *d;
};

static inline void env_up(struct env *e, unsigned int levels, bool superpages)
{
	struct dml_iommu_opts o = {
		.size = DML_SIZEOF(&o, pt_reclaim),
		.levels = levels,
		.superpages = superpages,
		.pt_reclaim = true,	/* the idle-table tests check its bound */
	};

	assert_int_equal(dml_platform_create_emu(NULL, &e->p), 0);
	assert_int_equal(dml_iommu_create(e->p, &o, &e->iommu), 0);
	assert_int_equal(dml__emu_domain_alloc(e->iommu, &e->d), 0);
}

static inline void env_down(struct env *e)
{
	dml__domain_destroy(e->d);
	dml_platform_destroy(e->p);
}

static inline u64 pt_pages(struct env *e)
{
	struct dml_iommu_stats st;

	dml_iommu_trim(e->iommu);
	dml_iommu_get_stats(e->iommu, &st);
	return st.pt_pages;
}

static inline int map(struct env *e, u64 iova, u64 phys, u64 size, unsigned int flags)
{
	return e->d->ops->map(e->d, iova, phys, size, RW, flags);
}

static inline int unmap(struct env *e, u64 iova, u64 size, unsigned int flags,
		 size_t *bytes)
{
	return e->d->ops->unmap(e->d, iova, size, flags, bytes);
}

/* page size log2 of the leaf mapping @iova, 0 if none */
static inline unsigned int leaf_shift(struct env *e, u64 iova)
{
	struct emu_leaf leaf;

	if (!emu_pt_walk(to_emu(e->d), iova, &leaf))
		return 0;
	return leaf.shift;
}

/* table pages handed out, empty ones included (no trim, unlike pt_pages) */
static inline u64 raw_pages(struct env *e)
{
	return __atomic_load_n(&e->iommu->pool.in_use, __ATOMIC_RELAXED);
}

#endif /* DML_TEST_PT_ENV_H */
