/* SPDX-License-Identifier: MIT */
/*
 * bench_dma.c - benchmark cases of the DMA API on the emulated platform:
 * dma_iova_link per page and in batches (G11), the full two-step cycle of
 * a 128 KiB request (G12), two-step against our own dma_map_sg for 64
 * scattered 4 KiB segments (G13), and dma_map_phys + unmap per page.
 * Memory is named by fixed physical addresses in the emulated RAM (no
 * allocator in the timed loop); the device sits behind a VT-d unit.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <dmalink/dma-debug.h>
#include <dmalink/scatterlist.h>

#include "bench.h"

#define SEG 4096UL

struct dma_bench {
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_device *dev;
	struct dma_iova_state state;
	size_t linked;		/* link-*: bytes linked into state so far */
	struct scatterlist sgl[64];
};

static int setup_common(void **priv, bool lazy)
{
	struct dma_bench *b = calloc(1, sizeof(*b));
	struct dml_iommu_opts io = {
		.size = DML_SIZEOF(&io, superpages),
		.lazy = lazy,
		.superpages = true,
	};
	struct dml_device_opts dop = {
		.size = DML_SIZEOF(&dop, iommu),
		.name = "bench",
		.pci = true,
		.max_segment_size = 1U << 30,
	};
	int ret;

	if (!b)
		return -ENOMEM;
	ret = dml_platform_create_emu(NULL, &b->p);
	if (!ret)
		ret = dml_iommu_create(b->p, &io, &b->iommu);
	dop.iommu = b->iommu;
	if (!ret)
		ret = dml_device_create(b->p, &dop, &b->dev);
	if (ret) {
		dml_platform_destroy(b->p);
		free(b);
		return ret;
	}
	*priv = b;
	return 0;
}

static int setup_strict(void **priv)
{
	return setup_common(priv, false);
}

static int setup_lazy(void **priv)
{
	return setup_common(priv, true);
}

static void teardown(void *priv)
{
	struct dma_bench *b = priv;

	if (dma_use_iova(&b->state))
		dma_iova_destroy(b->dev, &b->state, b->linked, DMA_BIDIRECTIONAL, 0);
	dml_platform_destroy(b->p);
	free(b);
}

/* physical address of the i-th scattered page: every other 4 KiB page */
static phys_addr_t scattered(unsigned long i)
{
	return 0x10000000ULL + (i % 65536) * 2 * SEG;
}

/*
 * Link into a 64 MiB reservation, @chunk bytes per call, and start over
 * (destroy + alloc) when it is full: the teardown is amortised over 16384
 * pages, so the figure is the link's.
 */
static int link_run(struct dma_bench *b, unsigned long iters, size_t chunk)
{
	const size_t res = 64UL << 20;
	unsigned long i;
	int ret;

	for (i = 0; i < iters; i++) {
		if (!dma_use_iova(&b->state) || b->linked + chunk > res) {
			if (dma_use_iova(&b->state))
				dma_iova_destroy(b->dev, &b->state, b->linked,
						 DMA_BIDIRECTIONAL, 0);
			b->linked = 0;
			if (!dma_iova_try_alloc(b->dev, &b->state, 0, res))
				return -ENOMEM;
		}
		ret = dma_iova_link(b->dev, &b->state,
				    chunk == SEG ? scattered(b->linked / SEG)
						 : 0x10000000ULL,
				    b->linked, chunk, DMA_BIDIRECTIONAL, 0);
		if (ret)
			return ret;
		b->linked += chunk;
	}
	return 0;
}

static int run_link_4k(void *priv, unsigned long iters)
{
	return link_run(priv, iters, SEG);
}

/* one link of 256 contiguous pages; reported per page */
static int run_link_batch(void *priv, unsigned long iters)
{
	struct dma_bench *b = priv;
	unsigned long calls = iters / 256 + 1;

	return link_run(b, calls, 256 * SEG);
}

/* try_alloc + link (contiguous 128 KiB) + sync + destroy */
static int run_cycle_128k(void *priv, unsigned long iters)
{
	struct dma_bench *b = priv;
	struct dma_iova_state st;
	unsigned long i;
	int ret;

	for (i = 0; i < iters; i++) {
		if (!dma_iova_try_alloc(b->dev, &st, 0x20000000ULL, 128 << 10))
			return -ENOMEM;
		ret = dma_iova_link(b->dev, &st, 0x20000000ULL, 0, 128 << 10,
				    DMA_TO_DEVICE, 0);
		if (!ret)
			ret = dma_iova_sync(b->dev, &st, 0, 128 << 10);
		if (ret)
			return ret;
		dml_bench_keep(st.addr);
		dma_iova_destroy(b->dev, &st, 128 << 10, DMA_TO_DEVICE, 0);
	}
	return 0;
}

/* 64 scattered 4 KiB segments with the two-step API */
static int run_iova_64(void *priv, unsigned long iters)
{
	struct dma_bench *b = priv;
	struct dma_iova_state st;
	unsigned long i, j;
	int ret;

	for (i = 0; i < iters; i++) {
		if (!dma_iova_try_alloc(b->dev, &st, 0, 64 * SEG))
			return -ENOMEM;
		for (j = 0; j < 64; j++) {
			ret = dma_iova_link(b->dev, &st, scattered(j), j * SEG, SEG,
					    DMA_TO_DEVICE, 0);
			if (ret)
				return ret;
		}
		ret = dma_iova_sync(b->dev, &st, 0, 64 * SEG);
		if (ret)
			return ret;
		dma_iova_destroy(b->dev, &st, 64 * SEG, DMA_TO_DEVICE, 0);
	}
	return 0;
}

static int setup_sg(void **priv)
{
	struct dma_bench *b;
	unsigned int j;
	int ret = setup_strict(priv);

	if (ret)
		return ret;
	b = *priv;
	sg_init_table(b->sgl, 64);
	for (j = 0; j < 64; j++)
		sg_set_phys(&b->sgl[j], scattered(j), SEG);
	return 0;
}

/* the same 64 segments with dma_map_sg (the legacy path) */
static int run_sg_64(void *priv, unsigned long iters)
{
	struct dma_bench *b = priv;
	unsigned long i;

	for (i = 0; i < iters; i++) {
		if (dma_map_sg(b->dev, b->sgl, 64, DMA_TO_DEVICE) <= 0)
			return -ENOMEM;
		dma_unmap_sg(b->dev, b->sgl, 64, DMA_TO_DEVICE);
	}
	return 0;
}

/* dma_map_phys + dma_unmap_phys of one 4 KiB page */
static int run_map_phys(void *priv, unsigned long iters)
{
	struct dma_bench *b = priv;
	unsigned long i;
	dma_addr_t a;

	for (i = 0; i < iters; i++) {
		a = dma_map_phys(b->dev, scattered(i), SEG, DMA_TO_DEVICE, 0);
		if (dma_mapping_error(b->dev, a))
			return -ENOMEM;
		dma_unmap_phys(b->dev, a, SEG, DMA_TO_DEVICE, 0);
	}
	return 0;
}

/*
 * cycle-128k-debug: the strict cycle with the DMA-API checker on.  The
 * checker is process-wide: the first setup turns it on (unless it already
 * was, e.g. by DMALINK_DMA_DEBUG), the last teardown restores it.
 */
static pthread_mutex_t debug_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int debug_users;
static bool debug_was_on;

static void debug_put(void)
{
	pthread_mutex_lock(&debug_lock);
	if (!--debug_users && !debug_was_on)
		dml_dma_debug_enable(false);
	pthread_mutex_unlock(&debug_lock);
}

static int setup_debug(void **priv)
{
	int ret;

	pthread_mutex_lock(&debug_lock);
	if (!debug_users++) {
		debug_was_on = dml_dma_debug_enabled();
		if (!debug_was_on)
			dml_dma_debug_enable(true);
	}
	pthread_mutex_unlock(&debug_lock);
	ret = setup_strict(priv);
	if (ret)
		debug_put();
	return ret;
}

static void teardown_debug(void *priv)
{
	teardown(priv);
	debug_put();
}

const struct dml_bench_case dml_bench_dma_cases[] = {
	{ "link-4k", "dma_iova_link, one call per 4 KiB page", NULL, 0, NULL,
	  setup_strict, run_link_4k, teardown },
	{ "link-batch", "dma_iova_link of 256 pages, per page", "G11", 1.5,
	  NULL, setup_strict, run_link_batch, teardown },
	{ "cycle-128k", "two-step cycle, 128 KiB, lazy", "G12", 190, NULL,
	  setup_lazy, run_cycle_128k, teardown },
	{ "cycle-128k-strict", "two-step cycle, 128 KiB, strict", NULL, 0,
	  "cycle-128k", setup_strict, run_cycle_128k, teardown },
	{ "cycle-128k-debug", "two-step cycle, 128 KiB, strict, DMA-API checker on",
	  NULL, 0, "cycle-128k-strict", setup_debug, run_cycle_128k,
	  teardown_debug },
	{ "sg-64x4k", "dma_map_sg + unmap, 64 x 4 KiB (baseline)", NULL, 0,
	  NULL, setup_sg, run_sg_64, teardown },
	{ "iova-64x4k", "two-step, 64 x 4 KiB links, strict", "G13", 0,
	  "sg-64x4k", setup_strict, run_iova_64, teardown },
	{ "map-phys-4k", "dma_map_phys + dma_unmap_phys, 4 KiB", NULL, 0,
	  NULL, setup_strict, run_map_phys, teardown },
	{ "map-phys-lazy", "dma_map_phys + dma_unmap_phys, 4 KiB, lazy", NULL,
	  0, "map-phys-4k", setup_lazy, run_map_phys, teardown },
	{ NULL }
};
