/* SPDX-License-Identifier: MIT */
/*
 * test_stress.c - many threads on ONE device behind an emulated VT-d unit,
 * through the public API only: each thread maps its own pages with the
 * two-step API (dma_iova_try_alloc + dma_iova_link + dma_iova_sync),
 * dma_map_phys or dma_map_sg in turn, has the emulated device write a
 * pattern through the mapping and read it back, checks every byte on the
 * CPU side and through the device, and unmaps; for a bounded number of
 * iterations, in strict, lazy and caching modes.  At the end: no IOMMU
 * fault, no stale IOTLB hit, no DMA-API checker report (the harness
 * checks), every IOVA back and, after dml_iommu_trim(), page-table memory
 * down to the root; after the device goes, none at all.
 *
 * Sized to run in seconds under ThreadSanitizer on two cores (the
 * `threads` suite of make check-tsan).
 */
#include <pthread.h>
#include <stdlib.h>

#include <dmalink/dma-mapping.h>
#include <dmalink/dmalink.h>
#include <dmalink/scatterlist.h>

#include "testutil.h"

#define THREADS 4
#define ITERS 300
#define PAGES 16			/* pages of one thread's mapping */
#define PG 4096UL
#define REGION (4UL << 20)		/* physical memory of one thread */
#define RAM_BASE (256UL << 20)

struct env {
	struct dml_platform *p;
	struct dml_iommu *iommu;
	struct dml_device *dev;
};

struct worker {
	struct env *e;
	unsigned int id;
	int err;			/* first failure: line number */
	u8 buf[PAGES * PG];
};

/* the i-th page thread @id uses: every other page of its region */
static phys_addr_t page_phys(unsigned int id, unsigned int i)
{
	return RAM_BASE + (u64)id * REGION + (u64)i * 2 * PG;
}

static u8 pattern(unsigned int id, unsigned int it, size_t off)
{
	return (u8)(id * 31 + it * 7 + off * 13 + (off >> 12));
}

#define CHECK(w, cond) do {						\
	if (!(cond) && !(w)->err)					\
		(w)->err = __LINE__;					\
} while (0)

/*
 * The device writes a pattern to [addr, +len), the CPU sees it in the
 * pages @phys[] (each @seg bytes), the CPU writes the complement and the
 * device reads it back.
 */
static void dma_check(struct worker *w, unsigned int it, dma_addr_t addr,
		      const phys_addr_t *phys, unsigned int nseg, size_t seg)
{
	struct env *e = w->e;
	size_t len = nseg * seg, k;
	unsigned int s;

	for (k = 0; k < len; k++)
		w->buf[k] = pattern(w->id, it, k);
	CHECK(w, !dml_dev_dma_write(e->dev, addr, w->buf, len));
	for (s = 0; s < nseg; s++) {
		u8 *cpu = dml_kmap_local_phys(e->p, phys[s], seg);

		CHECK(w, cpu != NULL);
		if (!cpu)
			return;
		for (k = 0; k < seg; k++) {
			CHECK(w, cpu[k] == pattern(w->id, it, s * seg + k));
			cpu[k] = (u8)~cpu[k];
		}
	}
	memset(w->buf, 0, len);
	CHECK(w, !dml_dev_dma_read(e->dev, addr, w->buf, len));
	for (k = 0; k < len; k++)
		CHECK(w, (u8)(w->buf[k] ^ pattern(w->id, it, k)) == 0xff);
}

static void two_step(struct worker *w, unsigned int it)
{
	struct dml_device *dev = w->e->dev;
	phys_addr_t phys[PAGES];
	struct dma_iova_state st;
	unsigned int i;

	memset(&st, 0, sizeof(st));
	CHECK(w, dma_iova_try_alloc(dev, &st, 0, PAGES * PG));
	if (w->err)
		return;
	for (i = 0; i < PAGES; i++) {
		phys[i] = page_phys(w->id, (it + i) % 256);
		CHECK(w, !dma_iova_link(dev, &st, phys[i], i * PG, PG,
					DMA_BIDIRECTIONAL, 0));
	}
	CHECK(w, !dma_iova_sync(dev, &st, 0, PAGES * PG));
	if (!w->err)
		dma_check(w, it, st.addr, phys, PAGES, PG);
	dma_iova_destroy(dev, &st, PAGES * PG, DMA_BIDIRECTIONAL, 0);
}

/*
 * The two-step API with one link of PAGES contiguous pages: a run of
 * leaves filled at once, while other threads unlink ranges next to it
 * (their exact unmap tests this run's first granule for its link head).
 */
static void two_step_contig(struct worker *w, unsigned int it)
{
	struct dml_device *dev = w->e->dev;
	phys_addr_t phys = page_phys(w->id, 0) + REGION / 2 +
			   (it % 8) * PAGES * PG;
	struct dma_iova_state st;

	memset(&st, 0, sizeof(st));
	CHECK(w, dma_iova_try_alloc(dev, &st, phys, PAGES * PG));
	if (w->err)
		return;
	CHECK(w, !dma_iova_link(dev, &st, phys, 0, PAGES * PG,
				DMA_BIDIRECTIONAL, 0));
	CHECK(w, !dma_iova_sync(dev, &st, 0, PAGES * PG));
	if (!w->err)
		dma_check(w, it, st.addr, &phys, 1, PAGES * PG);
	dma_iova_destroy(dev, &st, PAGES * PG, DMA_BIDIRECTIONAL, 0);
}

static void map_phys(struct worker *w, unsigned int it)
{
	struct dml_device *dev = w->e->dev;
	phys_addr_t phys = page_phys(w->id, it % 256);
	dma_addr_t a;

	a = dma_map_phys(dev, phys, PG, DMA_BIDIRECTIONAL, 0);
	CHECK(w, !dma_mapping_error(dev, a));
	if (w->err)
		return;
	dma_check(w, it, a, &phys, 1, PG);
	dma_unmap_phys(dev, a, PG, DMA_BIDIRECTIONAL, 0);
}

static void map_sg(struct worker *w, unsigned int it)
{
	struct dml_device *dev = w->e->dev;
	struct scatterlist sgl[4];
	phys_addr_t phys[4];
	unsigned int i;
	int n;

	sg_init_table(sgl, 4);
	for (i = 0; i < 4; i++) {
		phys[i] = page_phys(w->id, (it * 4 + i) % 256);
		sg_set_phys(&sgl[i], phys[i], PG);
	}
	n = dma_map_sg(dev, sgl, 4, DMA_BIDIRECTIONAL);
	CHECK(w, n > 0);
	if (w->err)
		return;
	/* the IOMMU merges the pages into one DMA segment */
	CHECK(w, n == 1 && sg_dma_len(&sgl[0]) == 4 * PG);
	if (!w->err)
		dma_check(w, it, sg_dma_address(&sgl[0]), phys, 4, PG);
	dma_unmap_sg(dev, sgl, 4, DMA_BIDIRECTIONAL);
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	unsigned int it;

	for (it = 0; it < ITERS && !w->err; it++) {
		switch ((it + w->id) % 4) {
		case 0:
			two_step(w, it);
			break;
		case 1:
			map_phys(w, it);
			break;
		case 2:
			two_step_contig(w, it);
			break;
		default:
			map_sg(w, it);
			break;
		}
	}
	return NULL;
}

static void run(bool lazy, bool caching_mode)
{
	struct dml_iommu_opts io = {
		.size = DML_SIZEOF(&io, superpages),
		.lazy = lazy,
		.caching_mode = caching_mode,
		.superpages = true,
	};
	struct dml_device_opts dop = {
		.size = DML_SIZEOF(&dop, iommu),
		.name = "stress",
		.pci = true,
		.max_segment_size = 1U << 20,
	};
	struct worker *w = calloc(THREADS, sizeof(*w));
	struct dml_iommu_stats st;
	struct dml_dev_stats ds;
	pthread_t t[THREADS];
	struct env e;
	unsigned int i;

	assert_non_null(w);
	assert_int_equal(dml_platform_create_emu(NULL, &e.p), 0);
	assert_int_equal(dml_iommu_create(e.p, &io, &e.iommu), 0);
	dop.iommu = e.iommu;
	assert_int_equal(dml_device_create(e.p, &dop, &e.dev), 0);
	for (i = 0; i < THREADS; i++) {
		w[i].e = &e;
		w[i].id = i;
		assert_int_equal(pthread_create(&t[i], NULL, worker_fn, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < THREADS; i++) {
		if (w[i].err)
			print_error("# thread %u failed at line %d\n", i, w[i].err);
		assert_int_equal(w[i].err, 0);
	}

	dml_iommu_trim(e.iommu);
	dml_iommu_get_stats(e.iommu, &st);
	assert_int_equal(st.faults, 0);
	assert_int_equal(st.stale_hits, 0);
	assert_int_equal(dml_platform_fault_count(e.p), 0);
	assert_true(st.iotlb_misses > 0);
	/* nothing mapped: only the root table is left */
	assert_int_equal(st.pt_pages, 1);
	dml_dev_get_stats(e.dev, &ds);
	assert_true(ds.iova_allocs >= (u64)THREADS * ITERS);
	if (!lazy)
		assert_int_equal(ds.iova_frees, ds.iova_allocs);
	else
		assert_true(ds.iova_frees <= ds.iova_allocs);
	assert_int_equal(ds.faults, 0);

	/* the device and its domain go: every table page is back */
	dml_device_destroy(e.dev);
	dml_iommu_get_stats(e.iommu, &st);
	assert_int_equal(st.pt_pages, 0);
	dml_platform_destroy(e.p);
	free(w);
}

/*
 * Two threads, one device in lazy mode, nothing but two-step cycles of
 * one contiguous link each: with the frees deferred, the IOVA allocator
 * hands out neighbouring ranges, so one thread's exact unmap keeps testing
 * the first granule of a run the other is filling.  A destroy refused
 * there leaves its pages mapped.
 */
#define CYCLES 50000
#define CYCLE_BYTES (128UL << 10)

static void *cycle_fn(void *arg)
{
	struct worker *w = arg;
	struct dml_device *dev = w->e->dev;
	phys_addr_t phys = page_phys(w->id, 0) + REGION / 2;
	struct dma_iova_state st;
	unsigned int i;

	for (i = 0; i < CYCLES && !w->err; i++) {
		memset(&st, 0, sizeof(st));
		CHECK(w, dma_iova_try_alloc(dev, &st, phys, CYCLE_BYTES));
		CHECK(w, !w->err && !dma_iova_link(dev, &st, phys, 0, CYCLE_BYTES,
						   DMA_TO_DEVICE, 0));
		if (!w->err)
			dma_iova_destroy(dev, &st, CYCLE_BYTES, DMA_TO_DEVICE, 0);
	}
	return NULL;
}

static void test_adjacent_links(void **state)
{
	struct dml_device_opts dop = {
		.size = DML_SIZEOF(&dop, iommu),
		.pci = true,
	};
	struct dml_iommu_opts io = {
		.size = DML_SIZEOF(&io, lazy),
		.lazy = true,
	};
	struct worker w[2] = { 0 };
	struct dml_iommu_stats st;
	pthread_t t[2];
	struct env e;
	unsigned int i;

	(void)state;
	assert_int_equal(dml_platform_create_emu(NULL, &e.p), 0);
	assert_int_equal(dml_iommu_create(e.p, &io, &e.iommu), 0);
	dop.iommu = e.iommu;
	assert_int_equal(dml_device_create(e.p, &dop, &e.dev), 0);
	for (i = 0; i < 2; i++) {
		w[i].e = &e;
		w[i].id = i;
		assert_int_equal(pthread_create(&t[i], NULL, cycle_fn, &w[i]), 0);
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(w[0].err, 0);
	assert_int_equal(w[1].err, 0);
	/* every destroy unmapped its link: only the root table is left */
	dml_iommu_trim(e.iommu);
	dml_iommu_get_stats(e.iommu, &st);
	assert_int_equal(st.pt_pages, 1);
	dml_platform_destroy(e.p);
}

static void test_strict(void **state)
{
	(void)state;
	run(false, false);
}

static void test_lazy(void **state)
{
	(void)state;
	run(true, false);
}

static void test_caching_mode(void **state)
{
	(void)state;
	run(false, true);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_strict),
	cmocka_unit_test(test_lazy),
	cmocka_unit_test(test_caching_mode),
	cmocka_unit_test(test_adjacent_links),
};

DML_TEST_MAIN(tests)
