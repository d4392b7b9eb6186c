/* SPDX-License-Identifier: MIT */
/*
 * bench_hmm.c - benchmark cases of incremental mapping for on-demand
 * paging (dmalink/hmm-dma.h): a fault maps one page and an invalidation
 * unmaps it, so each operation is one 4 KiB page mapped and unmapped,
 * walking a window of WINDOW pages as a fault stream would.  hmm-pfn-*
 * does it with hmm_dma_map_pfn() + hmm_dma_unmap_pfn() on a map
 * allocated once per thread; its baseline, hmm-phys-*, with
 * dma_map_phys() + dma_unmap_phys() of the same pages on the same device.
 * Behind an IOMMU the HMM map links into one reservation made up front
 * (no IOVA allocation per fault, one sync of that page); without one both
 * go through dma-direct and the ratio shows the HMM bookkeeping alone.
 *
 * Every thread of a case maps on one platform and device (the shared
 * setup); each thread has its own window of pages and its own map.
 */
#include <errno.h>
#include <stdlib.h>

#include <dmalink/hmm-dma.h>

#include "bench.h"

#define RAM 0x10000000ULL		/* the windows, in emulated RAM */
#define WINDOW 512UL			/* pages a thread cycles through */
#define PG DML_HMM_PAGE_SIZE

struct hmm_shared {
	struct dml_platform *p;
	struct dml_device *dev;
};

struct hmm_bench {
	struct dml_device *dev;
	phys_addr_t base;		/* the thread's window */
	struct hmm_dma_map map;
	unsigned long next;
};

static int hmm_setup_dev(void **shared, bool iommu)
{
	struct hmm_shared *b = calloc(1, sizeof(*b));
	struct dml_device_opts dop = {
		.size = DML_SIZEOF(&dop, iommu),
		.name = "odp",
		.pci = true,
	};
	struct dml_iommu *unit = NULL;
	int ret;

	if (!b)
		return -ENOMEM;
	ret = dml_platform_create_emu(NULL, &b->p);
	if (!ret && iommu)
		ret = dml_iommu_create(b->p, NULL, &unit);
	dop.iommu = unit;
	if (!ret)
		ret = dml_device_create(b->p, &dop, &b->dev);
	if (ret) {
		dml_platform_destroy(b->p);
		free(b);
		return ret;
	}
	*shared = b;
	return 0;
}

static int hmm_setup_iommu(unsigned int threads, void **shared)
{
	(void)threads;
	return hmm_setup_dev(shared, true);
}

static int hmm_setup_direct(unsigned int threads, void **shared)
{
	(void)threads;
	return hmm_setup_dev(shared, false);
}

static void hmm_teardown(void *shared)
{
	struct hmm_shared *b = shared;

	dml_platform_destroy(b->p);
	free(b);
}

static int hmm_thread_setup(void *shared, unsigned int idx, void **priv)
{
	struct hmm_shared *b = shared;
	struct hmm_bench *t = calloc(1, sizeof(*t));
	unsigned long i;
	int ret;

	if (!t)
		return -ENOMEM;
	t->dev = b->dev;
	t->base = RAM + idx * WINDOW * PG;
	ret = hmm_dma_map_alloc(t->dev, &t->map, WINDOW, PG);
	if (ret) {
		free(t);
		return ret;
	}
	for (i = 0; i < WINDOW; i++)
		t->map.pfn_list[i] = HMM_PFN_VALID | HMM_PFN_WRITE |
			(unsigned long)((t->base + i * PG) >> DML_HMM_PAGE_SHIFT);
	*priv = t;
	return 0;
}

static void hmm_thread_teardown(void *priv)
{
	struct hmm_bench *t = priv;

	hmm_dma_map_free(t->dev, &t->map);
	free(t);
}

static int run_pfn(void *priv, unsigned long iters)
{
	struct hmm_bench *t = priv;
	unsigned long i;

	for (i = 0; i < iters; i++) {
		size_t idx = t->next++ % WINDOW;
		dma_addr_t a = hmm_dma_map_pfn(t->dev, &t->map, idx, NULL);

		if (dma_mapping_error(t->dev, a))
			return -ENOMEM;
		hmm_dma_unmap_pfn(t->dev, &t->map, idx);
	}
	return 0;
}

static int run_phys(void *priv, unsigned long iters)
{
	struct hmm_bench *t = priv;
	unsigned long i;

	for (i = 0; i < iters; i++) {
		phys_addr_t phys = t->base + (t->next++ % WINDOW) * PG;
		dma_addr_t a = dma_map_phys(t->dev, phys, PG, DMA_BIDIRECTIONAL, 0);

		if (dma_mapping_error(t->dev, a))
			return -ENOMEM;
		dma_unmap_phys(t->dev, a, PG, DMA_BIDIRECTIONAL, 0);
	}
	return 0;
}

#define HMM_CASE(nm, wh, bl, su, rn)					\
	{ .name = nm, .what = wh, .baseline = bl, .setup = su,		\
	  .teardown = hmm_teardown, .thread_setup = hmm_thread_setup,	\
	  .thread_teardown = hmm_thread_teardown, .run = rn }

const struct dml_bench_case dml_bench_hmm_cases[] = {
	HMM_CASE("hmm-phys-iommu", "dma_map_phys+unmap 4 KiB, IOMMU (baseline)",
		 NULL, hmm_setup_iommu, run_phys),
	HMM_CASE("hmm-pfn-iommu", "hmm_dma_map_pfn+unmap_pfn 4 KiB, IOMMU",
		 "hmm-phys-iommu", hmm_setup_iommu, run_pfn),
	HMM_CASE("hmm-phys-direct", "dma_map_phys+unmap 4 KiB, direct (baseline)",
		 NULL, hmm_setup_direct, run_phys),
	HMM_CASE("hmm-pfn-direct", "hmm_dma_map_pfn+unmap_pfn 4 KiB, direct",
		 "hmm-phys-direct", hmm_setup_direct, run_pfn),
	{ .name = NULL }
};
