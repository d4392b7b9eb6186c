/* SPDX-License-Identifier: MIT */
/*
 * bench_pgtable.c - benchmark cases of the emulated VT-d page table
 * (src/iommu/emu/pgtable.c) through d->ops->map/unmap, as the kernel's
 * iommupt numbers of reference/perf-anchors.md §3.1 time iommu_map() and
 * iommu_unmap(): pure CPU cost, tables resident, no IOTLB work.
 *
 * The framework times whole batches, so each case also does the opposite
 * operation to keep going, in the cheapest form and amortised over many
 * timed operations:
 *   pt-map-1, pt-map-2M    one unmap call per 256 maps (~1/256 of a map)
 *   pt-unmap-1, pt-unmap-2M one map call per 256 unmaps
 *   pt-map-256             one unmap of 4 whole leaf tables per 8 maps
 *                          (4 KiB zeroed and a table freed per 2 maps)
 *   pt-unmap-256           one map of 4 leaf tables per 8 unmaps (the
 *                          PTE writes of a map-256 per unmap: this case
 *                          measures unmap-256 + fill-256; its "what" says so)
 * A pinned 4 KiB mapping keeps the level-3/2 tables (and, for the 1-page
 * cases, the leaf table) resident, as the kernel never frees them, and
 * each case cycles over at most 16 KiB of PTEs, so tables stay in L1 as in
 * a kernel loop mapping the same IOVA again and again.
 * Every case runs on its own emulated platform and domain, one per thread.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"
#include "base/device.h"
#include "iommu/iommu.h"

#define RW (IOMMU_READ | IOMMU_WRITE)
#define BASE (7 * SZ_1G)		/* a window of its own */
#define PHYS 0x10000000ULL		/* 2 MiB aligned */
#define PIN (BASE + SZ_1G - SZ_4K)	/* last page of the window */
#define BATCH_256 8UL			/* 256-page ops per batch: 16 KiB of PTEs */

struct ptb {
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_domain *d;
};

static int pt_setup_pin(void **priv, dml_iova_t pin)
{
	struct ptb *b = calloc(1, sizeof(*b));
	int ret;

	if (!b)
		return -ENOMEM;
	ret = dml_platform_create_emu(NULL, &b->p);
	if (!ret)
		ret = dml_iommu_create(b->p, NULL, &b->iommu);
	if (!ret)
		ret = dml__emu_domain_alloc(b->iommu, &b->d);
	if (!ret)
		ret = b->d->ops->map(b->d, PIN, PHYS, SZ_4K, RW, DML_MAP_LINK);
	if (!ret && pin)
		ret = b->d->ops->map(b->d, pin, PHYS, SZ_4K, RW, DML_MAP_LINK);
	if (ret) {
		dml_platform_destroy(b->p);	/* the domain goes with the unit */
		free(b);
		return ret;
	}
	*priv = b;
	return 0;
}

/* level-3/2 tables resident; the 1-page cases pin their leaf table too */
static int pt_setup(void *shared, unsigned int idx, void **priv)
{
	(void)shared;
	(void)idx;
	return pt_setup_pin(priv, 0);
}

static int pt_setup_leaf(void *shared, unsigned int idx, void **priv)
{
	(void)shared;
	(void)idx;
	return pt_setup_pin(priv, BASE + 511 * SZ_4K);
}

static void pt_teardown(void *priv)
{
	struct ptb *b = priv;

	dml_platform_destroy(b->p);
	free(b);
}

static int unmap_quiet(struct dml_domain *d, dml_iova_t iova, size_t size)
{
	size_t n;

	return d->ops->unmap(d, iova, size, 0, &n);
}

/* pt-map-1: one 4 KiB map per op, consecutive pages of one leaf table */
static int run_map_1(void *priv, unsigned long iters)
{
	struct dml_domain *d = ((struct ptb *)priv)->d;
	unsigned long i, k = 0;
	int ret;

	for (i = 0; i < iters; i++) {
		ret = d->ops->map(d, BASE + k * SZ_4K, PHYS + k * SZ_4K, SZ_4K,
				  RW, DML_MAP_LINK);
		if (ret)
			return ret;
		if (++k == 256) {
			unmap_quiet(d, BASE, 256 * SZ_4K);
			k = 0;
		}
	}
	return k ? unmap_quiet(d, BASE, k * SZ_4K) : 0;
}

/* pt-unmap-1: one 4 KiB unmap per op */
static int run_unmap_1(void *priv, unsigned long iters)
{
	struct dml_domain *d = ((struct ptb *)priv)->d;
	unsigned long i = 0, j, k;
	size_t n;
	int ret;

	while (i < iters) {
		k = min(256UL, iters - i);
		ret = d->ops->map(d, BASE, PHYS, k * SZ_4K, RW, DML_MAP_LINK);
		if (ret)
			return ret;
		for (j = 0; j < k; j++)
			d->ops->unmap(d, BASE + j * SZ_4K, SZ_4K, 0, &n);
		i += k;
	}
	return 0;
}

/* pt-map-256: 256 contiguous 4 KiB pages (phys offset by 4 KiB: no 2M) */
static int run_map_256(void *priv, unsigned long iters)
{
	struct dml_domain *d = ((struct ptb *)priv)->d;
	unsigned long i, k = 0;
	int ret;

	for (i = 0; i < iters; i++) {
		ret = d->ops->map(d, BASE + k * 256 * SZ_4K,
				  PHYS + SZ_4K + k * 256 * SZ_4K, 256 * SZ_4K,
				  RW, DML_MAP_LINK);
		if (ret)
			return ret;
		if (++k == BATCH_256) {
			unmap_quiet(d, BASE, BATCH_256 * 256 * SZ_4K);
			k = 0;
		}
	}
	return k ? unmap_quiet(d, BASE, k * 256 * SZ_4K) : 0;
}

/* pt-unmap-256 */
static int run_unmap_256(void *priv, unsigned long iters)
{
	struct dml_domain *d = ((struct ptb *)priv)->d;
	unsigned long i = 0, j, k;
	size_t n;
	int ret;

	while (i < iters) {
		k = min(BATCH_256, iters - i);
		ret = d->ops->map(d, BASE, PHYS + SZ_4K, k * 256 * SZ_4K, RW,
				  DML_MAP_LINK);
		if (ret)
			return ret;
		for (j = 0; j < k; j++)
			d->ops->unmap(d, BASE + j * 256 * SZ_4K, 256 * SZ_4K, 0, &n);
		i += k;
	}
	return 0;
}

/* pt-map-2M: one 2 MiB leaf per op */
static int run_map_2m(void *priv, unsigned long iters)
{
	struct dml_domain *d = ((struct ptb *)priv)->d;
	unsigned long i, k = 0;
	int ret;

	for (i = 0; i < iters; i++) {
		ret = d->ops->map(d, BASE + k * SZ_2M, PHYS + k * SZ_2M, SZ_2M,
				  RW, DML_MAP_LINK);
		if (ret)
			return ret;
		if (++k == 256) {
			unmap_quiet(d, BASE, 256 * SZ_2M);
			k = 0;
		}
	}
	return k ? unmap_quiet(d, BASE, k * SZ_2M) : 0;
}

/* pt-unmap-2M */
static int run_unmap_2m(void *priv, unsigned long iters)
{
	struct dml_domain *d = ((struct ptb *)priv)->d;
	unsigned long i = 0, j, k;
	size_t n;
	int ret;

	while (i < iters) {
		k = min(256UL, iters - i);
		ret = d->ops->map(d, BASE, PHYS, k * SZ_2M, RW, DML_MAP_LINK);
		if (ret)
			return ret;
		for (j = 0; j < k; j++)
			d->ops->unmap(d, BASE + j * SZ_2M, SZ_2M, 0, &n);
		i += k;
	}
	return 0;
}

/* every thread has its own platform and domain: no shared setup */
#define PT_CASE(nm, wh, gl, an, tsu, rn)				\
	{ .name = nm, .what = wh, .goal = gl, .anchor_ns = an,		\
	  .thread_setup = tsu, .thread_teardown = pt_teardown, .run = rn }

const struct dml_bench_case dml_bench_pgtable_cases[] = {
	PT_CASE("pt-map-1", "VT-d map 1 x 4 KiB", "G7", 53, pt_setup_leaf,
		run_map_1),
	PT_CASE("pt-unmap-1", "VT-d unmap 1 x 4 KiB", "G10", 67, pt_setup_leaf,
		run_unmap_1),
	PT_CASE("pt-map-256", "VT-d map 256 x 4 KiB contiguous", "G8", 384,
		pt_setup, run_map_256),
	PT_CASE("pt-unmap-256", "VT-d unmap 256 x 4 KiB (+ refill 256)", "G10",
		216, pt_setup, run_unmap_256),
	PT_CASE("pt-map-2M", "VT-d map 1 x 2 MiB superpage", "G9", 59, pt_setup,
		run_map_2m),
	PT_CASE("pt-unmap-2M", "VT-d unmap 1 x 2 MiB superpage", NULL, 64,
		pt_setup, run_unmap_2m),
	{ .name = NULL }, /* the end of the table */
};
