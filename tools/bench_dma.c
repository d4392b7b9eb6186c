/* SPDX-License-Identifier: MIT */
/*
 * bench_dma.c - benchmark cases of the DMA API on the emulated platform:
 * dma_iova_link per page and in batches (G11), the full two-step cycle of
 * a 128 KiB request (G12), two-step against our own dma_map_sg for 64
 * scattered 4 KiB segments (G13), and dma_map_phys + unmap per page.
 * G13 is charged as a caller pays it: the scatterlist path includes the
 * table a request needs (sg_alloc_table, filling it, sg_free_table, as
 * the block layer builds one per request), the two-step path nothing but
 * its calls; sg-64x4k-map and iova-64x4k-vs-map show the DMA calls alone.
 * Memory is named by fixed physical addresses in the emulated RAM (no
 * allocator in the timed loop).  As in the kernel's dma_map_benchmark,
 * every thread maps on the same device behind the same VT-d unit (the
 * case's shared setup); each thread has its own 16 MiB of RAM to map, as
 * each kernel thread maps its own buffer, and its own IOVA state.
 */
#include <errno.h>
#include <stdlib.h>

#include <dmalink/dma-debug.h>
#include <dmalink/scatterlist.h>

#include "bench.h"

#define SEG 4096UL
#define RAM_BASE 0x10000000ULL	/* the threads' RAM starts at 256 MiB */
#define THREAD_SPAN (16ULL << 20)	/* each thread's RAM */
#define SCATTER_PAGES 1024UL	/* every other page of the span's first 8 MiB */
#define CONTIG (8ULL << 20)	/* contiguous buffers: the span's second half */

/* the platform, unit and device every thread of a case maps on */
struct dma_shared {
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_device *dev;
	bool debug_was_on;		/* cycle-128k-debug: restore on teardown */
};

/* one thread's own state */
struct dma_thread {
	struct dml_device *dev;
	phys_addr_t base;	/* the thread's RAM */
	struct dma_iova_state state;
	size_t linked;		/* link-*: bytes linked into state so far */
	struct scatterlist sgl[64];
};

static int setup_common(unsigned int threads, void **shared, bool lazy)
{
	struct dma_shared *b = calloc(1, sizeof(*b));
	struct dml_emu_opts eo = {
		.size = DML_SIZEOF(&eo, ram_size),
		/* the threads' RAM below the swiotlb pool at the top of 4 GiB+ */
		.ram_size = (4ULL << 30) + threads * THREAD_SPAN,
	};
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
	ret = dml_platform_create_emu(&eo, &b->p);
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
	*shared = b;
	return 0;
}

static int setup_strict(unsigned int threads, void **shared)
{
	return setup_common(threads, shared, false);
}

static int setup_lazy(unsigned int threads, void **shared)
{
	return setup_common(threads, shared, true);
}

static void teardown(void *shared)
{
	struct dma_shared *b = shared;

	dml_platform_destroy(b->p);
	free(b);
}

/*
 * cycle-128k-debug: the strict cycle with the DMA-API checker on.  The
 * checker is process-wide: the setup turns it on (unless it already was,
 * e.g. by DMALINK_DMA_DEBUG), the teardown restores it.
 */
static int setup_debug(unsigned int threads, void **shared)
{
	struct dma_shared *b;
	int ret = setup_strict(threads, shared);

	if (ret)
		return ret;
	b = *shared;
	b->debug_was_on = dml_dma_debug_enabled();
	if (!b->debug_was_on)
		dml_dma_debug_enable(true);
	return 0;
}

static void teardown_debug(void *shared)
{
	struct dma_shared *b = shared;

	if (!b->debug_was_on)
		dml_dma_debug_enable(false);
	teardown(b);
}

static int thread_setup(void *shared, unsigned int idx, void **priv)
{
	struct dma_shared *b = shared;
	struct dma_thread *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->dev = b->dev;
	t->base = RAM_BASE + idx * THREAD_SPAN;
	*priv = t;
	return 0;
}

static void thread_teardown(void *priv)
{
	struct dma_thread *t = priv;

	if (dma_use_iova(&t->state))
		dma_iova_destroy(t->dev, &t->state, t->linked, DMA_BIDIRECTIONAL, 0);
	free(t);
}

/* physical address of the thread's i-th scattered page: every other page */
static phys_addr_t scattered(const struct dma_thread *t, unsigned long i)
{
	return t->base + (i % SCATTER_PAGES) * 2 * SEG;
}

/*
 * Link into a 64 MiB reservation, @chunk bytes per call, and start over
 * (destroy + alloc) when it is full: the teardown is amortised over 16384
 * pages, so the figure is the link's.
 */
static int link_run(struct dma_thread *t, unsigned long iters, size_t chunk)
{
	const size_t res = 64UL << 20;
	unsigned long i;
	int ret;

	for (i = 0; i < iters; i++) {
		if (!dma_use_iova(&t->state) || t->linked + chunk > res) {
			if (dma_use_iova(&t->state))
				dma_iova_destroy(t->dev, &t->state, t->linked,
						 DMA_BIDIRECTIONAL, 0);
			t->linked = 0;
			if (!dma_iova_try_alloc(t->dev, &t->state, 0, res))
				return -ENOMEM;
		}
		ret = dma_iova_link(t->dev, &t->state,
				    chunk == SEG ? scattered(t, t->linked / SEG)
						 : t->base + CONTIG,
				    t->linked, chunk, DMA_BIDIRECTIONAL, 0);
		if (ret)
			return ret;
		t->linked += chunk;
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
	struct dma_thread *t = priv;
	unsigned long calls = iters / 256 + 1;

	return link_run(t, calls, 256 * SEG);
}

/* try_alloc + link (contiguous 128 KiB) + sync + destroy */
static int run_cycle_128k(void *priv, unsigned long iters)
{
	struct dma_thread *t = priv;
	phys_addr_t phys = t->base + CONTIG;
	struct dma_iova_state st;
	unsigned long i;
	int ret;

	for (i = 0; i < iters; i++) {
		if (!dma_iova_try_alloc(t->dev, &st, phys, 128 << 10))
			return -ENOMEM;
		ret = dma_iova_link(t->dev, &st, phys, 0, 128 << 10,
				    DMA_TO_DEVICE, 0);
		if (!ret)
			ret = dma_iova_sync(t->dev, &st, 0, 128 << 10);
		if (ret)
			return ret;
		dml_bench_keep(st.addr);
		dma_iova_destroy(t->dev, &st, 128 << 10, DMA_TO_DEVICE, 0);
	}
	return 0;
}

/* 64 scattered 4 KiB segments with the two-step API */
static int run_iova_64(void *priv, unsigned long iters)
{
	struct dma_thread *t = priv;
	struct dma_iova_state st;
	unsigned long i, j;
	int ret;

	for (i = 0; i < iters; i++) {
		if (!dma_iova_try_alloc(t->dev, &st, 0, 64 * SEG))
			return -ENOMEM;
		for (j = 0; j < 64; j++) {
			ret = dma_iova_link(t->dev, &st, scattered(t, j), j * SEG,
					    SEG, DMA_TO_DEVICE, 0);
			if (ret)
				return ret;
		}
		ret = dma_iova_sync(t->dev, &st, 0, 64 * SEG);
		if (ret)
			return ret;
		dma_iova_destroy(t->dev, &st, 64 * SEG, DMA_TO_DEVICE, 0);
	}
	return 0;
}

/* the thread's 64 scattered segments as a scatterlist, built once */
static int thread_setup_sg(void *shared, unsigned int idx, void **priv)
{
	struct dma_thread *t;
	unsigned int j;
	int ret = thread_setup(shared, idx, priv);

	if (ret)
		return ret;
	t = *priv;
	sg_init_table(t->sgl, 64);
	for (j = 0; j < 64; j++)
		sg_set_phys(&t->sgl[j], scattered(t, j), SEG);
	return 0;
}

/* the same 64 segments with dma_map_sg, the list built once (calls alone) */
static int run_sg_64_map(void *priv, unsigned long iters)
{
	struct dma_thread *t = priv;
	unsigned long i;

	for (i = 0; i < iters; i++) {
		if (dma_map_sg(t->dev, t->sgl, 64, DMA_TO_DEVICE) <= 0)
			return -ENOMEM;
		dma_unmap_sg(t->dev, t->sgl, 64, DMA_TO_DEVICE);
	}
	return 0;
}

/*
 * The legacy path as its caller pays for it: a table per request, filled
 * with the 64 segments, mapped, unmapped and freed.
 */
static int run_sg_64(void *priv, unsigned long iters)
{
	struct dma_thread *t = priv;
	struct scatterlist *sg;
	struct sg_table sgt;
	unsigned long i;
	unsigned int j;
	int ret;

	for (i = 0; i < iters; i++) {
		if (sg_alloc_table(&sgt, 64))
			return -ENOMEM;
		for_each_sg(sgt.sgl, sg, sgt.orig_nents, j)
			sg_set_phys(sg, scattered(t, j), SEG);
		ret = dma_map_sgtable(t->dev, &sgt, DMA_TO_DEVICE, 0);
		if (!ret)
			dma_unmap_sgtable(t->dev, &sgt, DMA_TO_DEVICE, 0);
		sg_free_table(&sgt);
		if (ret)
			return ret;
	}
	return 0;
}

/* dma_map_phys + dma_unmap_phys of one 4 KiB page */
static int run_map_phys(void *priv, unsigned long iters)
{
	struct dma_thread *t = priv;
	unsigned long i;
	dma_addr_t a;

	for (i = 0; i < iters; i++) {
		a = dma_map_phys(t->dev, scattered(t, i), SEG, DMA_TO_DEVICE, 0);
		if (dma_mapping_error(t->dev, a))
			return -ENOMEM;
		dma_unmap_phys(t->dev, a, SEG, DMA_TO_DEVICE, 0);
	}
	return 0;
}

#define DMA_CASE(nm, wh, gl, an, bl, su, td, tsu, rn)			\
	{ .name = nm, .what = wh, .goal = gl, .anchor_ns = an,		\
	  .baseline = bl, .setup = su, .teardown = td,			\
	  .thread_setup = tsu, .thread_teardown = thread_teardown,	\
	  .run = rn }

const struct dml_bench_case dml_bench_dma_cases[] = {
	DMA_CASE("link-4k", "dma_iova_link, one call per 4 KiB page", NULL, 0,
		 NULL, setup_strict, teardown, thread_setup, run_link_4k),
	DMA_CASE("link-batch", "dma_iova_link of 256 pages, per page", "G11",
		 1.5, NULL, setup_strict, teardown, thread_setup,
		 run_link_batch),
	DMA_CASE("cycle-128k", "two-step cycle, 128 KiB, lazy", "G12", 190,
		 NULL, setup_lazy, teardown, thread_setup, run_cycle_128k),
	DMA_CASE("cycle-128k-strict", "two-step cycle, 128 KiB, strict", NULL,
		 0, "cycle-128k", setup_strict, teardown, thread_setup,
		 run_cycle_128k),
	DMA_CASE("cycle-128k-debug",
		 "two-step cycle, 128 KiB, strict, checker on", NULL, 0,
		 "cycle-128k-strict", setup_debug, teardown_debug, thread_setup,
		 run_cycle_128k),
	DMA_CASE("sg-64x4k",
		 "per-request sg table + map + unmap, 64 x 4 KiB",
		 NULL, 0, NULL, setup_strict, teardown, thread_setup, run_sg_64),
	DMA_CASE("sg-64x4k-map", "dma_map_sg + unmap, 64 x 4 KiB, list built once",
		 NULL, 0, NULL, setup_strict, teardown, thread_setup_sg,
		 run_sg_64_map),
	DMA_CASE("iova-64x4k", "two-step, 64 x 4 KiB links, strict", "G13", 0,
		 "sg-64x4k", setup_strict, teardown, thread_setup, run_iova_64),
	DMA_CASE("iova-64x4k-vs-map", "iova-64x4k against the sg calls alone",
		 NULL, 0, "sg-64x4k-map", setup_strict, teardown, thread_setup,
		 run_iova_64),
	DMA_CASE("iova-64x4k-lazy", "two-step, 64 x 4 KiB links, lazy", NULL,
		 0, "iova-64x4k", setup_lazy, teardown, thread_setup,
		 run_iova_64),
	DMA_CASE("map-phys-4k", "dma_map_phys + dma_unmap_phys, 4 KiB", NULL, 0,
		 NULL, setup_strict, teardown, thread_setup, run_map_phys),
	DMA_CASE("map-phys-lazy", "dma_map_phys + dma_unmap_phys, 4 KiB, lazy",
		 NULL, 0, "map-phys-4k", setup_lazy, teardown, thread_setup,
		 run_map_phys),
	{ .name = NULL }, /* the end of the table */
};
