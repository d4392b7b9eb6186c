/* SPDX-License-Identifier: MIT */
/*
 * bench_swiotlb.c - benchmark cases of swiotlb bouncing on the emulated
 * platform (reference/perf-anchors.md §5, goals G16-G18): dma_map_phys +
 * dma_unmap_phys on a force_bounce dma-direct device, each against a plain
 * memcpy of the same size measured in the same run, so the ratio column
 * reads "share of memcpy speed" (G16: >= 0.30, i.e. <= 3.3x memcpy; G17:
 * >= 0.9).  The DRAM cases read a 256 MiB source in a scattered page
 * order, so the source is cold as in the anchor's "4 KiB from a cold 1 GiB
 * source into a hot 64 KiB slot pool".  swiotlb-slot maps and unmaps 64
 * bytes (one slot, the copy is noise): run it with --threads N to see the
 * per-area locks (G18).
 *
 * Every case runs all its threads on one platform and device (the shared
 * setup), so they share one swiotlb pool; each thread has its own 64 KiB
 * of hot source, its own 64 KiB of destination for the memcpy baselines,
 * and its own stretch of the cold source.
 *
 * The map-4k-* cases measure the non-coherent cache model (src/mem/
 * cache.c): dma_map_phys + dma_unmap_phys of 4 KiB BIDIRECTIONAL on a
 * dma-direct device, coherent (the baseline: no maintenance at all) or
 * not (a clean on map and an invalidate on unmap, 64 lines each), with
 * the lines clean or written by the CPU before every map.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define SRC 0x10000000ULL		/* buffers in emulated RAM */
#define DST 0x30000000ULL
#define COLD_BYTES (256ULL << 20)	/* the DRAM cases' source */
#define COLD_PAGES (COLD_BYTES / 4096)
#define SLICE (64ULL << 10)		/* each thread's hot source and destination */
#define RING (SLICE / 4096)		/* the destination's 4 KiB pages */

/* the platform and device every thread of a case maps on */
struct sw_shared {
	struct dml_platform *p;
	struct dml_device *dev;
	unsigned int threads;
};

/* one thread's own state */
struct sw_bench {
	struct dml_device *dev;
	phys_addr_t src_phys;		/* the thread's hot source */
	u8 *src, *dst;			/* CPU views of its source, destination */
	u8 *cold;			/* CPU view of the cold source */
	unsigned long next;		/* DRAM cases: position in the sequence */
};

static int sw_setup_dev(unsigned int threads, void **shared, bool cold,
			bool bounce, bool nc)
{
	struct sw_shared *b = calloc(1, sizeof(*b));
	u8 *src, *dst;
	struct dml_device_opts dop = {
		.size = DML_SIZEOF(&dop, force_bounce),
		.name = "bounce",
		.pci = true,
		.non_coherent = nc,
		.force_bounce = bounce,
	};
	int ret;

	if (!b)
		return -ENOMEM;
	ret = dml_platform_create_emu(NULL, &b->p);
	if (!ret)
		ret = dml_device_create(b->p, &dop, &b->dev);
	if (ret) {
		dml_platform_destroy(b->p);
		free(b);
		return ret;
	}
	b->threads = threads;
	src = dml_kmap_local_phys(b->p, SRC, COLD_BYTES);
	dst = dml_kmap_local_phys(b->p, DST, threads * SLICE);
	/* fault the pages in, so no case times first touches */
	memset(src, 0x5a, cold ? COLD_BYTES : threads * SLICE);
	memset(dst, 0xa5, threads * SLICE);
	*shared = b;
	return 0;
}

static int sw_setup(unsigned int threads, void **shared)
{
	return sw_setup_dev(threads, shared, false, true, false);
}

static int sw_setup_cold(unsigned int threads, void **shared)
{
	return sw_setup_dev(threads, shared, true, true, false);
}

static int coh_setup(unsigned int threads, void **shared)
{
	return sw_setup_dev(threads, shared, false, false, false);
}

static int nc_setup(unsigned int threads, void **shared)
{
	return sw_setup_dev(threads, shared, false, false, true);
}

static void sw_teardown(void *shared)
{
	struct sw_shared *b = shared;

	dml_platform_destroy(b->p);
	free(b);
}

static int sw_thread_setup(void *shared, unsigned int idx, void **priv)
{
	struct sw_shared *b = shared;
	struct sw_bench *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->dev = b->dev;
	t->src_phys = SRC + idx * SLICE;
	t->src = dml_kmap_local_phys(b->p, t->src_phys, SLICE);
	t->dst = dml_kmap_local_phys(b->p, DST + idx * SLICE, SLICE);
	t->cold = dml_kmap_local_phys(b->p, SRC, COLD_BYTES);
	/* each thread starts its walk of the cold source at its own stretch */
	t->next = idx * (COLD_PAGES / b->threads);
	*priv = t;
	return 0;
}

static void sw_thread_teardown(void *priv)
{
	free(priv);
}

/*
 * The baselines copy with libc's memcpy and a size the compiler cannot
 * see, as swiotlb does: a constant 4096 would be inlined as a different
 * copy loop and the ratio would compare two memcpys.
 */
static inline size_t opaque(size_t n)
{
	__asm__("" : "+r"(n));
	return n;
}

/* a scattered page order over the cold source (97 is prime to its pages) */
static inline u64 cold_off(struct sw_bench *b)
{
	return ((b->next++ * 97) % COLD_PAGES) * 4096;
}

static int memcpy_run(struct sw_bench *b, unsigned long iters, size_t len)
{
	unsigned long i;

	for (i = 0; i < iters; i++) {
		memcpy(b->dst, b->src, opaque(len));
		dml_bench_keep(b->dst);
	}
	return 0;
}

static int bounce_run(struct sw_bench *b, unsigned long iters, size_t len,
		      enum dma_data_direction dir)
{
	unsigned long i;
	dma_addr_t a;

	for (i = 0; i < iters; i++) {
		a = dma_map_phys(b->dev, b->src_phys, len, dir, 0);
		if (dma_mapping_error(b->dev, a))
			return -ENOMEM;
		dma_unmap_phys(b->dev, a, len, dir, 0);
	}
	return 0;
}

static int run_memcpy_4k(void *priv, unsigned long iters)
{
	return memcpy_run(priv, iters, 4096);
}

static int run_memcpy_64k(void *priv, unsigned long iters)
{
	return memcpy_run(priv, iters, 65536);
}

static int run_bounce_4k(void *priv, unsigned long iters)
{
	return bounce_run(priv, iters, 4096, DMA_TO_DEVICE);
}

static int run_bounce_4k_bidi(void *priv, unsigned long iters)
{
	return bounce_run(priv, iters, 4096, DMA_BIDIRECTIONAL);
}

static int run_bounce_64k(void *priv, unsigned long iters)
{
	return bounce_run(priv, iters, 65536, DMA_TO_DEVICE);
}

static int run_memcpy_4k_dram(void *priv, unsigned long iters)
{
	struct sw_bench *b = priv;
	unsigned long i;

	for (i = 0; i < iters; i++) {
		memcpy(b->dst + (i % RING) * 4096, b->cold + cold_off(b),
		       opaque(4096));
		dml_bench_keep(b->dst);
	}
	return 0;
}

static int run_bounce_4k_dram(void *priv, unsigned long iters)
{
	struct sw_bench *b = priv;
	unsigned long i;
	dma_addr_t a;

	for (i = 0; i < iters; i++) {
		phys_addr_t phys = SRC + cold_off(b);

		a = dma_map_phys(b->dev, phys, 4096, DMA_TO_DEVICE, 0);
		if (dma_mapping_error(b->dev, a))
			return -ENOMEM;
		dma_unmap_phys(b->dev, a, 4096, DMA_TO_DEVICE, 0);
	}
	return 0;
}

static int run_slot(void *priv, unsigned long iters)
{
	return bounce_run(priv, iters, 64, DMA_TO_DEVICE);
}

/* map+unmap 4 KiB BIDIRECTIONAL; @dirty: the CPU writes it first */
static int map_run(struct sw_bench *b, unsigned long iters, bool dirty)
{
	unsigned long i;
	dma_addr_t a;

	for (i = 0; i < iters; i++) {
		if (dirty)
			memset(b->src, (int)i, opaque(4096));
		a = dma_map_phys(b->dev, b->src_phys, 4096, DMA_BIDIRECTIONAL, 0);
		if (dma_mapping_error(b->dev, a))
			return -ENOMEM;
		dma_unmap_phys(b->dev, a, 4096, DMA_BIDIRECTIONAL, 0);
	}
	return 0;
}

static int run_map_clean(void *priv, unsigned long iters)
{
	return map_run(priv, iters, false);
}

static int run_map_dirty(void *priv, unsigned long iters)
{
	return map_run(priv, iters, true);
}

#define SW_CASE(nm, wh, gl, an, bl, su, rn)				\
	{ .name = nm, .what = wh, .goal = gl, .anchor_ns = an,		\
	  .baseline = bl, .setup = su, .teardown = sw_teardown,		\
	  .thread_setup = sw_thread_setup,				\
	  .thread_teardown = sw_thread_teardown, .run = rn }

const struct dml_bench_case dml_bench_swiotlb_cases[] = {
	SW_CASE("memcpy-4k", "memcpy 4 KiB, hot (baseline)", NULL, 18, NULL,
		sw_setup, run_memcpy_4k),
	SW_CASE("bounce-4k", "swiotlb map+unmap 4 KiB TO_DEVICE, hot", "G16",
		60, "memcpy-4k", sw_setup, run_bounce_4k),
	SW_CASE("bounce-4k-bidi", "swiotlb map+unmap 4 KiB BIDIR (2 copies)",
		NULL, 0, "memcpy-4k", sw_setup, run_bounce_4k_bidi),
	SW_CASE("memcpy-64k", "memcpy 64 KiB, hot (baseline)", NULL, 1340, NULL,
		sw_setup, run_memcpy_64k),
	SW_CASE("bounce-64k", "swiotlb map+unmap 64 KiB TO_DEVICE, hot", "G17",
		0, "memcpy-64k", sw_setup, run_bounce_64k),
	SW_CASE("memcpy-4k-dram", "memcpy 4 KiB, cold source (baseline)", NULL,
		352, NULL, sw_setup_cold, run_memcpy_4k_dram),
	SW_CASE("bounce-4k-dram", "swiotlb map+unmap 4 KiB, cold source", "G17",
		0, "memcpy-4k-dram", sw_setup_cold, run_bounce_4k_dram),
	SW_CASE("swiotlb-slot", "swiotlb map+unmap 64 B, pool shared by threads",
		"G18", 0, NULL, sw_setup, run_slot),
	SW_CASE("map-4k-coh", "map+unmap 4 KiB, coherent direct (baseline)",
		NULL, 0, NULL, coh_setup, run_map_clean),
	SW_CASE("map-4k-nc", "map+unmap 4 KiB, non-coherent, lines clean", NULL,
		0, "map-4k-coh", nc_setup, run_map_clean),
	SW_CASE("map-4k-coh-w", "CPU writes 4 KiB + map+unmap, coherent", NULL,
		0, NULL, coh_setup, run_map_dirty),
	SW_CASE("map-4k-nc-w", "CPU writes 4 KiB + map+unmap, non-coherent",
		NULL, 0, "map-4k-coh-w", nc_setup, run_map_dirty),
	{ .name = NULL }, /* the end of the table */
};
