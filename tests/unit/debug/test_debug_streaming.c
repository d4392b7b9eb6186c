/* SPDX-License-Identifier: MIT */
/*
 * test_debug_streaming.c - the checker's kernel-twin checks
 * (src/dma/debug/streaming.c): correct code makes no report, and each
 * check of kernel/dma/debug.c (shared/reference/kernel-dma-semantics.md
 * §6 items 1-7, §9 items 13 and 21: best-fit matching, MMIO skipping the
 * checks that do not apply) triggers with its category on the misuse it
 * names.  The dma_sync_* and coherent-memory hooks are driven through the
 * checker's internal entry points (src/dma/debug.h) until those public
 * calls exist.
 */
#include "checker.h"

/* ------------------------------------------------------------------ */
/* Correct code makes no report                                        */
/* ------------------------------------------------------------------ */

static void clean_cycle(struct fx *f)
{
	static const phys_addr_t ph[] = { 0x40007000, 0x40003000, 0x50000000 };
	struct scatterlist sgl[3];
	struct dma_iova_state st;
	u8 buf[3 * G];
	dma_addr_t a;
	int i, n;

	/* dma_map_phys both ways; the CPU reads the result after unmap */
	fx_fill(f, 0x40000000, G, 1);
	a = map_ok(f, 0x40000000, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, G), 0);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	a = map_ok(f, 0x40010000, G, DMA_FROM_DEVICE, 0);
	assert_int_equal(dml_dev_dma_write(f->dev, a, buf, G), 0);
	dma_unmap_phys(f->dev, a, G, DMA_FROM_DEVICE, 0);
	assert_memory_equal(dml_kmap_local_phys(f->p, 0x40010000, G), buf, G);

	/* a scatterlist */
	sg_init_table(sgl, 3);
	for (i = 0; i < 3; i++)
		sg_set_phys(&sgl[i], ph[i], G);
	n = dma_map_sg(f->dev, sgl, 3, DMA_BIDIRECTIONAL);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(dml_dev_dma_read(f->dev, sg_dma_address(&sgl[i]),
						  buf, sg_dma_len(&sgl[i])), 0);
		assert_int_equal(dml_dev_dma_write(f->dev, sg_dma_address(&sgl[i]),
						   buf, sg_dma_len(&sgl[i])), 0);
	}
	dma_unmap_sg(f->dev, sgl, 3, DMA_BIDIRECTIONAL);

	if (!f->iommu)
		return;
	/* two-step: three links, one sync, the device writes across them */
	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 3 * G));
	for (i = 0; i < 3; i++)
		assert_int_equal(dma_iova_link(f->dev, &st, ph[i], (size_t)i * G, G,
					       DMA_FROM_DEVICE, 0), 0);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, 3 * G), 0);
	memset(buf, 0x77, sizeof(buf));
	assert_int_equal(dml_dev_dma_write(f->dev, st.addr, buf, 3 * G), 0);
	/* unlink the middle, relink it elsewhere, sync it, use it */
	assert_int_equal(dma_iova_unlink(f->dev, &st, G, G, DMA_FROM_DEVICE, 0), 0);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x60000000, G, G,
				       DMA_FROM_DEVICE, 0), 0);
	assert_int_equal(dma_iova_sync(f->dev, &st, G, G), 0);
	assert_int_equal(dml_dev_dma_write(f->dev, st.addr + G, buf, G), 0);
	dma_iova_destroy(f->dev, &st, 3 * G, DMA_FROM_DEVICE, 0);
	assert_memory_equal(dml_kmap_local_phys(f->p, 0x60000000, G), buf, G);
	/* an allocation whose first link failed: destroy(0) */
	assert_true(dma_iova_try_alloc(f->dev, &st, 0, G));
	dma_iova_destroy(f->dev, &st, 0, DMA_TO_DEVICE, 0);
}

static void test_clean_iommu(void **state)
{
	struct fx *f = *state;

	clean_cycle(f);
	none();
	assert_int_equal(dml_dma_debug_mapping_count(f->dev), 0);
}

static void test_clean_direct(void **state)
{
	struct fx *f = *state;

	clean_cycle(f);
	none();
	assert_int_equal(dml_dma_debug_mapping_count(f->dev), 0);
}

/* the checker follows mappings: one per map, one per link, freed by unmap */
static void test_mapping_count(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;
	dma_addr_t a;

	a = map_ok(f, 0x40000000, G, DMA_TO_DEVICE, 0);
	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 2 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40100000, 0, G, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40200000, G, G, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dml_dma_debug_mapping_count(f->dev), 4);
	dml_test_log_reset();
	assert_int_equal(dml_dma_debug_dump(f->dev), 2);
	assert_int_equal(dml_test_log.count, 2);
	assert_non_null(strstr(dml_test_log.last, "DMA-API: testdev: "));
	dma_iova_destroy(f->dev, &st, 2 * G, DMA_TO_DEVICE, 0);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_dma_debug_mapping_count(f->dev), 0);
	none();
}

/* ------------------------------------------------------------------ */
/* Unmap checks (ref §6 items 1-3)                                     */
/* ------------------------------------------------------------------ */

static void test_free_not_allocated(void **state)
{
	struct fx *f = *state;

	dma_unmap_phys(f->dev, 0x12345000, G, DMA_TO_DEVICE, 0);
	first_says("device driver tries to free DMA memory it has not allocated");
	take(DML_DMA_DEBUG_FREE_NOT_ALLOCATED, 1);
	dma_unmap_phys(f->dev, DMA_MAPPING_ERROR, G, DMA_TO_DEVICE, 0);
	first_says("device driver tries to free an invalid DMA memory address");
	take(DML_DMA_DEBUG_FREE_INVALID_ADDR, 1);
}

static void test_free_wrong_size(void **state)
{
	struct fx *f = *state;
	dma_addr_t a = map_ok(f, 0x40000000, 2 * G, DMA_TO_DEVICE, 0);

	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	first_says("device driver frees DMA memory with different size");
	first_says("[map size=8192 bytes] [unmap size=4096 bytes]");
	take(DML_DMA_DEBUG_FREE_WRONG_SIZE, 1);
}

/*
 * Behind an IOMMU the backend unmaps whole mappings only: the wrong-size
 * unmap leaves the mapping, so the checker keeps it too (the device may
 * use all of it, without a report) until the right unmap.
 */
static void test_free_wrong_size_iommu(void **state)
{
	struct fx *f = *state;
	dma_addr_t a = map_ok(f, 0x40000000, 2 * G, DMA_TO_DEVICE, 0);
	u8 b[16];

	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	first_says("device driver frees DMA memory with different size");
	take(DML_DMA_DEBUG_FREE_WRONG_SIZE, 1);
	assert_int_equal(dml_dma_debug_mapping_count(f->dev), 1);
	assert_int_equal(dml_dev_dma_read(f->dev, a + G, b, sizeof(b)), 0);
	assert_int_equal(dml_dev_dma_read(f->dev, a, b, sizeof(b)), 0);
	none();
	/* a size in the same granules unmaps it: the checker forgets it */
	dma_unmap_phys(f->dev, a, 2 * G - 100, DMA_TO_DEVICE, 0);
	take(DML_DMA_DEBUG_FREE_WRONG_SIZE, 1);
	assert_int_equal(dml_dma_debug_mapping_count(f->dev), 0);
	assert_int_not_equal(dml_dev_dma_read(f->dev, a + G, b, sizeof(b)), 0);
	take(DML_DMA_DEBUG_DEV_NOT_MAPPED, 1);
}

/*
 * Refused at the front door, on the direct path as behind an IOMMU, with a
 * warning and nothing for the checker to track: DMA_NONE
 * (valid_dma_direction() in kernel/dma/mapping.c), and a scatterlist of
 * no entries (__dma_map_sg_attrs() warns when nothing was mapped).
 */
static void test_refused_dma_none_and_empty_sg(void **state)
{
	struct fx *f = *state;
	struct scatterlist sg[1];

	dml_test_log_reset();
	assert_true(dma_mapping_error(f->dev, dma_map_phys(f->dev, 0x40000000, G,
							   DMA_NONE, 0)));
	assert_non_null(strstr(dml_test_log.last, "invalid arguments"));
	sg_init_table(sg, 1);
	sg_set_phys(sg, 0x40000000, G);
	assert_int_equal(dma_map_sg(f->dev, sg, 1, DMA_NONE), 0);
	assert_int_equal(dml_test_log.count, 2);
	assert_int_equal(dma_map_sg(f->dev, sg, 0, DMA_TO_DEVICE), 0);
	assert_non_null(strstr(dml_test_log.last, "dma_map_sg: nothing to map"));
	assert_int_equal(dml_test_log.count, 3);
	assert_int_equal(dml_dma_debug_mapping_count(f->dev), 0);
	none();
}

static void test_free_wrong_dir(void **state)
{
	struct fx *f = *state;
	dma_addr_t a = map_ok(f, 0x40000000, G, DMA_TO_DEVICE, 0);

	dma_unmap_phys(f->dev, a, G, DMA_FROM_DEVICE, 0);
	first_says("device driver frees DMA memory with different direction");
	first_says("[mapped with DMA_TO_DEVICE] [unmapped with DMA_FROM_DEVICE]");
	take(DML_DMA_DEBUG_FREE_WRONG_DIR, 1);
}

/* ref §9.13: an unchecked map error is reported at unmap, a checked one not */
static void test_9_13_map_error_not_checked(void **state)
{
	struct fx *f = *state;
	dma_addr_t a = dma_map_phys(f->dev, 0x40000000, G, DMA_TO_DEVICE, 0);

	assert_true(a != DMA_MAPPING_ERROR);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	first_says("device driver failed to check map error");
	first_says("[mapped as phy]");
	take(DML_DMA_DEBUG_MAP_ERROR_NOT_CHECKED, 1);
	a = map_ok(f, 0x40000000, G, DMA_TO_DEVICE, 0);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	none();
}

static void test_free_wrong_function_and_sg_count(void **state)
{
	struct fx *f = *state;
	struct scatterlist sgl[2];
	dma_addr_t a;

	sg_init_table(sgl, 2);
	sg_set_phys(&sgl[0], 0x40000000, G);
	sg_set_phys(&sgl[1], 0x40002000, G);
	assert_int_equal(dma_map_sg(f->dev, sgl, 2, DMA_TO_DEVICE), 2);
	/* unmapped with one entry: the first segment has the wrong count */
	dma_unmap_sg(f->dev, sgl, 1, DMA_TO_DEVICE);
	first_says("device driver frees DMA sg list with different entry count [map count=2] [unmap count=1]");
	take(DML_DMA_DEBUG_FREE_WRONG_SG_COUNT, 1);
	/* the second segment freed as if it were a dma_map_phys mapping */
	a = sg_dma_address(&sgl[1]);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	first_says("device driver frees DMA memory with wrong function");
	first_says("[mapped as scatter-gather] [unmapped as phy]");
	take(DML_DMA_DEBUG_FREE_WRONG_FUNCTION, 1);
	assert_int_equal(dml_dma_debug_mapping_count(f->dev), 0);
}

/* coherent memory: the CPU address is compared at free */
static void test_free_coherent(void **state)
{
	struct fx *f = *state;
	u8 *cpu = dml_kmap_local_phys(f->p, 0x48000000, 2 * G);

	dml__dma_debug_alloc_coherent(f->dev, 2 * G, 0x48000000, cpu, false,
				      DMA_BIDIRECTIONAL);
	dml__dma_debug_free_coherent(f->dev, 2 * G, cpu + G, 0x48000000, false,
				     DMA_BIDIRECTIONAL);
	first_says("device driver frees DMA memory with different CPU address");
	take(DML_DMA_DEBUG_FREE_WRONG_CPU_ADDR, 1);
	dml__dma_debug_alloc_coherent(f->dev, 2 * G, 0x48000000, cpu, false,
				      DMA_BIDIRECTIONAL);
	dma_unmap_phys(f->dev, 0x48000000, 2 * G, DMA_BIDIRECTIONAL, 0);
	first_says("[mapped as coherent] [unmapped as phy]");
	take(DML_DMA_DEBUG_FREE_WRONG_FUNCTION, 1);
	/* and the right way: nothing to say; the device may use it any way */
	dml__dma_debug_alloc_coherent(f->dev, 2 * G, 0x48000000, cpu, false,
				      DMA_BIDIRECTIONAL);
	assert_int_equal(dml_dev_dma_write(f->dev, 0x48000000, "x", 1), 0);
	assert_non_null(dml_kmap_local_phys(f->p, 0x48000000, G));
	dml__dma_debug_free_coherent(f->dev, 2 * G, cpu, 0x48000000, false,
				     DMA_BIDIRECTIONAL);
	none();
}

/*
 * §9.21 best fit: dma-direct maps the same memory at the same address;
 * the unmap that fits one exactly takes it, and with several partial
 * fits and no exact one nothing is taken (kernel rule).
 */
static void test_9_21_best_fit(void **state)
{
	struct fx *f = *state;
	dma_addr_t a, b;

	a = map_ok(f, 0x40000000, G, DMA_TO_DEVICE, 0);
	b = map_ok(f, 0x40000000, 2 * G, DMA_TO_DEVICE, 0);
	assert_int_equal(a, b);
	dma_unmap_phys(f->dev, a, 2 * G, DMA_TO_DEVICE, 0);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	none();

	a = map_ok(f, 0x40000000, G, DMA_TO_DEVICE, 0);
	b = map_ok(f, 0x40000000, G, DMA_BIDIRECTIONAL, 0);
	dma_unmap_phys(f->dev, a, G, DMA_FROM_DEVICE, 0);
	take(DML_DMA_DEBUG_FREE_NOT_ALLOCATED, 1);
	dma_unmap_phys(f->dev, a, G, DMA_BIDIRECTIONAL, 0);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	none();
	/* one candidate fitting partially is taken, and the misfit reported */
	a = map_ok(f, 0x40000000, G, DMA_TO_DEVICE, 0);
	dma_unmap_phys(f->dev, a, G, DMA_BIDIRECTIONAL, 0);
	take(DML_DMA_DEBUG_FREE_WRONG_DIR, 1);
	assert_int_equal(dml_dma_debug_mapping_count(f->dev), 0);
}

/* ------------------------------------------------------------------ */
/* Source memory (ref §6 item 4), MMIO skips it (§9.21)                */
/* ------------------------------------------------------------------ */

static void test_map_bad_memory(void **state)
{
	struct fx *f = *state;
	const phys_addr_t bar = 0x800000000ULL;
	dma_addr_t a;

	/* nothing backs it */
	a = map_ok(f, 0x7000000000ULL, G, DMA_TO_DEVICE, 0);
	first_says("device driver maps memory from invalid area");
	take(DML_DMA_DEBUG_MAP_BAD_MEMORY, 1);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	/* a BAR mapped as if it were RAM */
	assert_int_equal(dml_mmio_add(f->p, bar, 1 << 20, "bar0"), 0);
	a = map_ok(f, bar, G, DMA_TO_DEVICE, 0);
	first_says("MMIO without DMA_ATTR_MMIO");
	take(DML_DMA_DEBUG_MAP_BAD_MEMORY, 1);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	/* with DMA_ATTR_MMIO neither is checked */
	a = map_ok(f, bar, G, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	a = map_ok(f, 0x7000000000ULL, G, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	none();
}

/* page-table pages are carved from the top of RAM: not DMA material */
static void test_map_dma_layer_memory(void **state)
{
	struct fx *f = *state;
	const phys_addr_t top = (4ULL << 30) - G;
	dma_addr_t a;

	assert_true(fx_pt_pages(f) >= 1);
	a = map_ok(f, top, G, DMA_TO_DEVICE, 0);
	first_says("device driver maps memory from kernel text or rodata");
	take(DML_DMA_DEBUG_MAP_BAD_MEMORY, 1);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	none();
}

/* ------------------------------------------------------------------ */
/* Syncs (ref §6 item 5) and CPU ownership                             */
/* ------------------------------------------------------------------ */

static void test_sync_checks(void **state)
{
	struct fx *f = *state;
	dma_addr_t a;

	a = map_ok(f, 0x40000000, 2 * G, DMA_FROM_DEVICE, 0);
	dml__dma_debug_sync_single(f->dev, a, G, DMA_FROM_DEVICE, true);
	dml__dma_debug_sync_single(f->dev, a, G, DMA_FROM_DEVICE, false);
	none();

	dml__dma_debug_sync_single(f->dev, 0x1000, G, DMA_FROM_DEVICE, true);
	first_says("device driver tries to sync DMA memory it has not allocated");
	take(DML_DMA_DEBUG_SYNC_NOT_ALLOCATED, 1);

	dml__dma_debug_sync_single(f->dev, a + G, 2 * G, DMA_FROM_DEVICE, true);
	first_says("device driver syncs DMA memory outside allocated range");
	take(DML_DMA_DEBUG_SYNC_OUTSIDE, 1);

	dml__dma_debug_sync_single(f->dev, a, G, DMA_TO_DEVICE, true);
	first_says("device driver syncs DMA memory with different direction");
	take(DML_DMA_DEBUG_SYNC_WRONG_DIR, 1);

	dma_unmap_phys(f->dev, a, 2 * G, DMA_FROM_DEVICE, 0);
	none();
}

/* written out: each directional sync class on its own */
static void test_sync_directions(void **state)
{
	struct fx *f = *state;
	dma_addr_t a, b;
	struct dml_dma_debug_error e;

	/* a TO_DEVICE mapping synced for the CPU as BIDIRECTIONAL */
	b = map_ok(f, 0x40010000, G, DMA_TO_DEVICE, 0);
	dml__dma_debug_sync_single(f->dev, b, G, DMA_BIDIRECTIONAL, true);
	assert_int_equal(dml_dma_debug_error_count(), 2);
	assert_int_equal(dml_dma_debug_error_get(1, &e), 0);
	assert_int_equal(e.category, DML_DMA_DEBUG_SYNC_RO_FOR_CPU);
	assert_non_null(strstr(e.message, "device driver syncs device read-only DMA memory for cpu"));
	assert_int_equal(dml_dma_debug_category_count(DML_DMA_DEBUG_SYNC_WRONG_DIR), 1);
	dml_dma_debug_clear_errors();

	/* a FROM_DEVICE mapping synced for the device as BIDIRECTIONAL */
	a = map_ok(f, 0x40020000, G, DMA_FROM_DEVICE, 0);
	dml__dma_debug_sync_single(f->dev, a, G, DMA_BIDIRECTIONAL, false);
	assert_int_equal(dml_dma_debug_error_count(), 2);
	assert_int_equal(dml_dma_debug_error_get(1, &e), 0);
	assert_int_equal(e.category, DML_DMA_DEBUG_SYNC_WO_TO_DEVICE);
	assert_non_null(strstr(e.message, "device driver syncs device write-only DMA memory to device"));
	dml_dma_debug_clear_errors();

	/* a BIDIRECTIONAL mapping may be synced any way */
	dma_unmap_phys(f->dev, b, G, DMA_TO_DEVICE, 0);
	b = map_ok(f, 0x40010000, G, DMA_BIDIRECTIONAL, 0);
	dml__dma_debug_sync_single(f->dev, b, G, DMA_TO_DEVICE, true);
	dml__dma_debug_sync_single(f->dev, b, G, DMA_FROM_DEVICE, false);
	dma_unmap_phys(f->dev, b, G, DMA_BIDIRECTIONAL, 0);
	dma_unmap_phys(f->dev, a, G, DMA_FROM_DEVICE, 0);
	none();
}

static void test_sync_sg_count(void **state)
{
	struct fx *f = *state;
	struct scatterlist sgl[2];

	sg_init_table(sgl, 2);
	sg_set_phys(&sgl[0], 0x40000000, G);
	sg_set_phys(&sgl[1], 0x40002000, G);
	assert_int_equal(dma_map_sg(f->dev, sgl, 2, DMA_FROM_DEVICE), 2);
	dml__dma_debug_sync_sg(f->dev, sgl, 2, DMA_FROM_DEVICE, true);
	none();
	dml__dma_debug_sync_sg(f->dev, sgl, 1, DMA_FROM_DEVICE, true);
	first_says("device driver syncs DMA sg list with different entry count [map count=2] [sync count=1]");
	take(DML_DMA_DEBUG_SYNC_WRONG_SG_COUNT, 1);
	dma_unmap_sg(f->dev, sgl, 2, DMA_FROM_DEVICE);
	none();
}

/* ------------------------------------------------------------------ */
/* Scatterlist segments (ref §6 item 6) and cache lines (item 7)       */
/* ------------------------------------------------------------------ */

static void test_sg_segment_limits(void **state)
{
	struct fx *f = *state;
	struct scatterlist sgl[1];

	/* a list entry longer than max_segment_size cannot be split */
	sg_init_table(sgl, 1);
	sg_set_phys(&sgl[0], 0x40000000, 32 * G);
	assert_int_equal(dma_map_sg(f->dev, sgl, 1, DMA_TO_DEVICE), 1);
	first_says("mapping sg segment longer than device claims to support [len=131072] [max=65536]");
	take(DML_DMA_DEBUG_SG_TOO_LONG, 1);
	dma_unmap_sg(f->dev, sgl, 1, DMA_TO_DEVICE);
	none();

	/* a DMA segment across the 4 GiB boundary (a mapping layer bug) */
	sg_set_phys(&sgl[0], 0x40000000, 2 * G);
	sg_dma_address(&sgl[0]) = 0xfffff000;
	sg_dma_len(&sgl[0]) = 2 * G;
	dml__dma_debug_map_sg(f->dev, sgl, 1, 1, DMA_TO_DEVICE, 0);
	first_says("mapping sg segment across boundary [start=0x00000000fffff000] [end=0x0000000100000fff] [boundary=0x00000000ffffffff]");
	take(DML_DMA_DEBUG_SG_BOUNDARY, 1);
	dml__dma_debug_unmap_sg(f->dev, sgl, 1, DMA_TO_DEVICE);
	none();
}

static void test_cacheline_overlap(void **state)
{
	struct fx *f = *state;
	dma_addr_t a, b, c, d;

	a = map_ok(f, 0x40000000, 100, DMA_FROM_DEVICE, 0);
	/* shares the line [0x40000040, 0x40000080) with a */
	b = map_ok(f, 0x40000070, 64, DMA_FROM_DEVICE, 0);
	first_says("cacheline tracking EEXIST, overlapping mappings aren't supported");
	take(DML_DMA_DEBUG_CACHELINE_OVERLAP, 1);
	/* not reported: SKIP_CPU_SYNC, TO_DEVICE, MMIO, another line */
	c = map_ok(f, 0x40000070, 64, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
	d = map_ok(f, 0x40000040, 64, DMA_TO_DEVICE, 0);
	dma_unmap_phys(f->dev, d, 64, DMA_TO_DEVICE, 0);
	d = map_ok(f, 0x40000040, 64, DMA_FROM_DEVICE, DMA_ATTR_MMIO);
	take(DML_DMA_DEBUG_MMIO_ON_RAM, 1);	/* RAM as MMIO: its own report */
	dma_unmap_phys(f->dev, d, 64, DMA_FROM_DEVICE, DMA_ATTR_MMIO);
	d = map_ok(f, 0x400000c0, 64, DMA_FROM_DEVICE, 0);
	none();
	dma_unmap_phys(f->dev, a, 100, DMA_FROM_DEVICE, 0);
	dma_unmap_phys(f->dev, b, 64, DMA_FROM_DEVICE, 0);
	dma_unmap_phys(f->dev, c, 64, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
	dma_unmap_phys(f->dev, d, 64, DMA_FROM_DEVICE, 0);
	/* once unmapped, the line is free again */
	a = map_ok(f, 0x40000000, 100, DMA_FROM_DEVICE, 0);
	dma_unmap_phys(f->dev, a, 100, DMA_FROM_DEVICE, 0);
	none();
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_clean_iommu, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_clean_direct, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_mapping_count, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_free_not_allocated, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_free_wrong_size, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_free_wrong_size_iommu, fx_setup,
					fx_teardown),
	cmocka_unit_test_setup_teardown(test_refused_dma_none_and_empty_sg,
					direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_refused_dma_none_and_empty_sg,
					fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_free_wrong_dir, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_9_13_map_error_not_checked, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_free_wrong_function_and_sg_count, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_free_coherent, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_9_21_best_fit, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_map_bad_memory, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_map_dma_layer_memory, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_sync_checks, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_sync_directions, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_sync_sg_count, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_sg_segment_limits, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_cacheline_overlap, direct_setup, fx_teardown),
};

DML_TEST_MAIN(tests)
