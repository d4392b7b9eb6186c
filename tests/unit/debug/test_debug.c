/* SPDX-License-Identifier: MIT */
/*
 * test_debug.c - the DMA-API checker (dmalink/dma-debug.h): every report
 * category triggers, with the right category, on the misuse it names, and
 * none triggers on correct code (shared/reference/kernel-dma-semantics.md
 * §6, and §9 item 21: each check of §6 with its category, best-fit
 * matching, MMIO skipping the checks that do not apply, the first error
 * only printed by default).  The dma_sync_* and coherent-memory hooks are
 * driven through the checker's internal entry points (src/dma/debug.h)
 * until those public calls exist.
 *
 * Every test examines its reports and clears them; the harness
 * (testutil.h) then fails it on any report left over.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dma/fixture.h"
#include "dma/debug.h"

#define G 4096UL

/* print the reports kept so far (to see why an assertion failed) */
static void show_reports(void)
{
	u64 i, n = dml_dma_debug_error_count();

	for (i = 0; i < n; i++) {
		struct dml_dma_debug_error e;

		if (dml_dma_debug_error_get(i, &e))
			break;
		print_message("# report %llu (%s): %s\n", (unsigned long long)i,
			      dml_dma_debug_category_name(e.category), e.message);
	}
}

/* exactly @n reports so far, all of category @cat; then forget them */
static void take(enum dml_dma_debug_category cat, u64 n)
{
	if (dml_dma_debug_error_count() != n ||
	    dml_dma_debug_category_count(cat) != n)
		show_reports();
	assert_int_equal(dml_dma_debug_error_count(), n);
	assert_int_equal(dml_dma_debug_category_count(cat), n);
	dml_dma_debug_clear_errors();
}

static void none(void)
{
	take(DML_DMA_DEBUG_LEAK, 0);
}

/* the first report's message contains @s */
static void first_says(const char *s)
{
	struct dml_dma_debug_error e;

	assert_int_equal(dml_dma_debug_error_get(0, &e), 0);
	if (!strstr(e.message, s))
		print_message("# message: %s\n", e.message);
	assert_non_null(strstr(e.message, s));
}

static int direct_setup(void **state)
{
	struct fx_opts o = { .no_iommu = true };

	*state = fx_create(&o);
	dml_test_log_reset();
	return 0;
}

static dma_addr_t map_ok(struct fx *f, phys_addr_t phys, size_t size,
			 enum dma_data_direction dir, unsigned long attrs)
{
	dma_addr_t a = dma_map_phys(f->dev, phys, size, dir, attrs);

	assert_int_equal(dma_mapping_error(f->dev, a), 0);
	return a;
}

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

/*
 * The CPU may not look at a DMA_FROM_DEVICE buffer while the device owns
 * it: before unmap or dma_sync_*_for_cpu, and again after
 * dma_sync_*_for_device.  TO_DEVICE and MMIO buffers are not checked.
 */
static void test_cpu_device_owned(void **state)
{
	struct fx *f = *state;
	const phys_addr_t bar = 0x800000000ULL;
	struct scatterlist sgl[2];
	struct dma_iova_state st;
	dma_addr_t a, b;

	a = map_ok(f, 0x40000000, 2 * G, DMA_FROM_DEVICE, 0);
	assert_non_null(dml_kmap_local_phys(f->p, 0x40000100, 64));
	first_says("cpu touching an active dma mapped cacheline");
	take(DML_DMA_DEBUG_CPU_DEVICE_OWNED, 1);
	dml__dma_debug_sync_single(f->dev, a, 2 * G, DMA_FROM_DEVICE, true);
	assert_non_null(dml_kmap_local_phys(f->p, 0x40000100, 64));
	none();
	dml__dma_debug_sync_single(f->dev, a, 2 * G, DMA_FROM_DEVICE, false);
	assert_non_null(dml_kmap_local_phys(f->p, 0x40001000, 64));
	take(DML_DMA_DEBUG_CPU_DEVICE_OWNED, 1);
	dma_unmap_phys(f->dev, a, 2 * G, DMA_FROM_DEVICE, 0);
	assert_non_null(dml_kmap_local_phys(f->p, 0x40000100, 64));
	none();

	/* TO_DEVICE: the CPU may read it */
	b = map_ok(f, 0x40010000, G, DMA_TO_DEVICE, 0);
	assert_non_null(dml_kmap_local_phys(f->p, 0x40010000, G));
	dma_unmap_phys(f->dev, b, G, DMA_TO_DEVICE, 0);
	none();

	/* the second entry of a list */
	sg_init_table(sgl, 2);
	sg_set_phys(&sgl[0], 0x40020000, G);
	sg_set_phys(&sgl[1], 0x40030000, G);
	assert_true(dma_map_sg(f->dev, sgl, 2, DMA_FROM_DEVICE) > 0);
	assert_non_null(dml_kmap_local_phys(f->p, 0x40030010, 16));
	take(DML_DMA_DEBUG_CPU_DEVICE_OWNED, 1);
	dma_unmap_sg(f->dev, sgl, 2, DMA_FROM_DEVICE);

	/* a link of a reservation */
	assert_true(dma_iova_try_alloc(f->dev, &st, 0, G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40040000, 0, G,
				       DMA_FROM_DEVICE, 0), 0);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, G), 0);
	assert_non_null(dml_kmap_local_phys(f->p, 0x40040000, G));
	take(DML_DMA_DEBUG_CPU_DEVICE_OWNED, 1);
	dma_iova_destroy(f->dev, &st, G, DMA_FROM_DEVICE, 0);
	assert_non_null(dml_kmap_local_phys(f->p, 0x40040000, G));

	/* MMIO: skipped */
	assert_int_equal(dml_mmio_add(f->p, bar, 1 << 20, "bar2"), 0);
	a = dma_map_resource(f->dev, bar, G, DMA_FROM_DEVICE, 0);
	assert_int_equal(dma_mapping_error(f->dev, a), 0);
	assert_non_null(dml_kmap_local_phys(f->p, bar, G));
	dma_unmap_resource(f->dev, a, G, DMA_FROM_DEVICE, 0);
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

/* ------------------------------------------------------------------ */
/* Leaks (ref §6 item 8)                                               */
/* ------------------------------------------------------------------ */

static void test_leak_on_device_destroy(void **state)
{
	struct fx *f = *state;
	struct dml_device_opts dop = {
		.size = DML_SIZEOF(&dop, iommu),
		.name = "leaky",
		.pci = true,
		.iommu = f->iommu,
	};
	struct dml_dma_debug_error e;
	struct dma_iova_state st;
	struct dml_device *dev;

	assert_int_equal(dml_device_create(f->p, &dop, &dev), 0);
	assert_int_equal(dma_mapping_error(dev, dma_map_phys(dev, 0x40000000, G,
							     DMA_TO_DEVICE, 0)), 0);
	assert_true(dma_iova_try_alloc(dev, &st, 0, 2 * G));
	assert_int_equal(dma_iova_link(dev, &st, 0x40100000, 0, G, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_link(dev, &st, 0x40200000, G, G, DMA_TO_DEVICE, 0), 0);
	dml_test_log_reset();
	dml_device_destroy(dev);
	assert_int_equal(dml_dma_debug_error_get(0, &e), 0);
	assert_string_equal(e.device, "leaky");
	assert_non_null(strstr(e.message, "device driver has pending DMA allocations while released from device [count=4]"));
	assert_true(e.map_depth > 0);
	/* the printed report lists what is still mapped */
	assert_true(dml_test_log.count >= 4);
	take(DML_DMA_DEBUG_LEAK, 1);
}

static void test_leak_on_platform_destroy(void **state)
{
	struct fx *f = fx_create(NULL);

	(void)state;
	assert_int_equal(dma_mapping_error(f->dev, dma_map_phys(f->dev, 0x40000000,
								G, DMA_FROM_DEVICE, 0)), 0);
	fx_destroy(f);
	first_says("[count=1]");
	take(DML_DMA_DEBUG_LEAK, 1);
}

/* ------------------------------------------------------------------ */
/* The two-step API                                                    */
/* ------------------------------------------------------------------ */

static void test_iova_bad_state(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st = { 0 }, junk = { .addr = 0x12340000, .__size = G };

	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G, DMA_TO_DEVICE, 0),
			 -EINVAL);
	take(DML_DMA_DEBUG_IOVA_BAD_STATE, 1);
	/* a state nobody allocated (sync changes nothing in the backend) */
	dma_iova_sync(f->dev, &junk, 0, G);
	first_says("with an IOVA state it has not allocated");
	take(DML_DMA_DEBUG_IOVA_BAD_STATE, 1);
	/* a zeroed state freed or destroyed with nothing linked: fine */
	dma_iova_free(f->dev, &st);
	dma_iova_destroy(f->dev, &st, 0, DMA_TO_DEVICE, 0);
	none();
}

/*
 * dma_iova_free() and dma_iova_destroy() zero the caller's state, so a
 * later call with it is a zeroed state (-EINVAL, reported as such); a
 * copy kept elsewhere (in a request that was duplicated, say) still names
 * the freed IOVA, and that is the use after free.
 */
static void test_iova_use_after_free(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st, copy, again;

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 4 * G));
	copy = st;
	dma_iova_free(f->dev, &st);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, G), -EINVAL);
	take(DML_DMA_DEBUG_IOVA_BAD_STATE, 1);
	dma_iova_sync(f->dev, &copy, 0, G);
	first_says("with an IOVA state after it was freed");
	take(DML_DMA_DEBUG_IOVA_USE_AFTER_FREE, 1);
	/* destroy as well */
	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 2 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G, DMA_TO_DEVICE, 0), 0);
	copy = st;
	dma_iova_destroy(f->dev, &st, G, DMA_TO_DEVICE, 0);
	dma_iova_sync(f->dev, &copy, 0, G);
	take(DML_DMA_DEBUG_IOVA_USE_AFTER_FREE, 1);
	/* the IOVA handed out again is a new, valid state */
	assert_true(dma_iova_try_alloc(f->dev, &again, 0, 2 * G));
	assert_int_equal(dma_iova_sync(f->dev, &again, 0, G), 0);
	dma_iova_free(f->dev, &again);
	none();
}

static void test_iova_link_overlap_outside(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 4 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, 2 * G,
				       DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x50000000, G, 2 * G,
				       DMA_TO_DEVICE, 0), -EEXIST);
	first_says("device driver links IOVA over an offset already linked");
	take(DML_DMA_DEBUG_IOVA_LINK_OVERLAP, 1);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x50000000, 3 * G, 2 * G,
				       DMA_TO_DEVICE, 0), -EINVAL);
	first_says("device driver links IOVA outside the reserved size");
	take(DML_DMA_DEBUG_IOVA_LINK_OUTSIDE, 1);
	assert_int_equal(dma_iova_sync(f->dev, &st, 2 * G, 4 * G), -EINVAL);
	first_says("device driver syncs IOVA outside the reserved size");
	take(DML_DMA_DEBUG_IOVA_SYNC_OUTSIDE, 1);
	/* the refused calls left the tracking as the backend: one link */
	dma_iova_destroy(f->dev, &st, 2 * G, DMA_TO_DEVICE, 0);
	none();
}

static void test_iova_link_align(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 4 * G));
	/* ref §9.4: an unaligned phys may only be linked at offset 0 */
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000010, G, G,
				       DMA_TO_DEVICE, 0), -EIO);
	first_says("links an unaligned physical address at a non-zero offset");
	take(DML_DMA_DEBUG_IOVA_LINK_ALIGN, 1);
	/* a link other than the first off the merge boundary */
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, 1000,
				       DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40002000, 1000, G,
				       DMA_TO_DEVICE, 0), -EINVAL);
	first_says("links IOVA off the merge boundary");
	take(DML_DMA_DEBUG_IOVA_LINK_ALIGN, 1);
	dma_iova_destroy(f->dev, &st, 1000, DMA_TO_DEVICE, 0);
	none();
}

static void test_iova_unlink_checks(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 8 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, 4 * G,
				       DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40100000, 4 * G, 2 * G,
				       DMA_TO_DEVICE, 0), 0);
	/* a hole */
	assert_int_equal(dma_iova_unlink(f->dev, &st, 6 * G, 2 * G,
					 DMA_TO_DEVICE, 0), -ENOENT);
	first_says("dma_iova_unlink of IOVA that is not linked");
	take(DML_DMA_DEBUG_IOVA_NOT_LINKED, 1);
	/* part of a link */
	assert_int_equal(dma_iova_unlink(f->dev, &st, G, 2 * G, DMA_TO_DEVICE, 0),
			 -ENOENT);
	first_says("dma_iova_unlink of IOVA that splits a link");
	take(DML_DMA_DEBUG_IOVA_SPLIT, 1);
	/* the other direction */
	assert_int_equal(dma_iova_unlink(f->dev, &st, 4 * G, 2 * G,
					 DMA_FROM_DEVICE, 0), 0);
	first_says("[linked with DMA_TO_DEVICE] [unlinked with DMA_FROM_DEVICE]");
	take(DML_DMA_DEBUG_IOVA_WRONG_DIR, 1);
	/* and unlinked twice */
	assert_int_equal(dma_iova_unlink(f->dev, &st, 4 * G, 2 * G,
					 DMA_TO_DEVICE, 0), -ENOENT);
	take(DML_DMA_DEBUG_IOVA_NOT_LINKED, 1);
	dma_iova_destroy(f->dev, &st, 4 * G, DMA_TO_DEVICE, 0);
	none();
}

/* ref §9.10: free with links outstanding, and a destroy that misses some */
static void test_9_10_free_linked(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 4 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G, DMA_TO_DEVICE, 0), 0);
	dma_iova_free(f->dev, &st);
	first_says("dma_iova_free of IOVA with links outstanding");
	take(DML_DMA_DEBUG_IOVA_FREE_LINKED, 1);
	/* the backend kept the reservation, and so does the checker */
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40100000, 2 * G, G,
				       DMA_TO_DEVICE, 0), 0);
	dma_iova_destroy(f->dev, &st, G, DMA_TO_DEVICE, 0);
	first_says("links outstanding beyond mapped_len");
	take(DML_DMA_DEBUG_IOVA_FREE_LINKED, 1);
	/* destroy(0) with links is a free with links */
	assert_true(dma_iova_try_alloc(f->dev, &st, 0, G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G, DMA_TO_DEVICE, 0), 0);
	dma_iova_destroy(f->dev, &st, 0, DMA_TO_DEVICE, 0);
	take(DML_DMA_DEBUG_IOVA_FREE_LINKED, 1);
	dma_iova_destroy(f->dev, &st, G, DMA_TO_DEVICE, 0);
	none();
}

/* a destroy the backend refuses (not whole links) changes nothing */
static void test_iova_destroy_refused(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;

	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 4 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, 4 * G,
				       DMA_TO_DEVICE, 0), 0);
	dma_iova_destroy(f->dev, &st, 2 * G, DMA_TO_DEVICE, 0);
	take(DML_DMA_DEBUG_IOVA_SPLIT, 1);
	assert_int_equal(dml_dma_debug_mapping_count(f->dev), 2);
	dma_iova_destroy(f->dev, &st, 4 * G, DMA_TO_DEVICE, 0);
	none();
}

/* ------------------------------------------------------------------ */
/* The device touching memory                                          */
/* ------------------------------------------------------------------ */

static void test_device_access(void **state)
{
	struct fx *f = *state;
	struct dma_iova_state st;
	u8 buf[64];
	dma_addr_t a;

	a = map_ok(f, 0x40000000, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_dev_dma_write(f->dev, a, buf, 64), -EFAULT);
	first_says("device writes DMA memory mapped with DMA_TO_DEVICE");
	take(DML_DMA_DEBUG_DEV_WRONG_DIR, 1);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, 64), -EFAULT);
	first_says("device reads DMA memory it has not been given");
	take(DML_DMA_DEBUG_DEV_NOT_MAPPED, 1);

	a = map_ok(f, 0x40000000, G, DMA_FROM_DEVICE, 0);
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, 64), -EFAULT);
	first_says("device reads DMA memory mapped with DMA_FROM_DEVICE");
	take(DML_DMA_DEBUG_DEV_WRONG_DIR, 1);
	/* reaching past the end of a mapping */
	assert_int_equal(dml_dev_dma_write(f->dev, a + G - 32, buf, 64), -EFAULT);
	take(DML_DMA_DEBUG_DEV_NOT_MAPPED, 1);
	dma_unmap_phys(f->dev, a, G, DMA_FROM_DEVICE, 0);

	/* reserved, linked, synced */
	assert_true(dma_iova_try_alloc(f->dev, &st, 0, 2 * G));
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr, buf, 64), -EFAULT);
	first_says("device reads reserved IOVA that is not linked");
	take(DML_DMA_DEBUG_DEV_NOT_LINKED, 1);
	assert_int_equal(dma_iova_link(f->dev, &st, 0x40000000, 0, G,
				       DMA_BIDIRECTIONAL, 0), 0);
	/* strict VT-d without caching mode forgives this; the checker not */
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr, buf, 64), 0);
	first_says("device reads linked IOVA before dma_iova_sync");
	take(DML_DMA_DEBUG_DEV_NOT_SYNCED, 1);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, G), 0);
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr, buf, 64), 0);
	assert_int_equal(dml_dev_dma_write(f->dev, st.addr, buf, 64), 0);
	none();
	dma_iova_destroy(f->dev, &st, G, DMA_BIDIRECTIONAL, 0);
}

/* dma-direct has no IOMMU to fault: the checker is the only witness */
static void test_device_access_direct(void **state)
{
	struct fx *f = *state;
	u8 buf[64];
	dma_addr_t a;

	assert_int_equal(dml_dev_dma_read(f->dev, 0x40000000, buf, 64), 0);
	take(DML_DMA_DEBUG_DEV_NOT_MAPPED, 1);
	a = map_ok(f, 0x40000000, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_dev_dma_write(f->dev, a, buf, 64), 0);
	take(DML_DMA_DEBUG_DEV_WRONG_DIR, 1);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	none();
}

/* ------------------------------------------------------------------ */
/* Reporting                                                           */
/* ------------------------------------------------------------------ */

/* §9.21: only the first report is printed by default; all are counted */
static void test_9_21_first_error_only(void **state)
{
	struct fx *f = *state;
	u64 w;

	dml_dma_debug_set_show(1);
	w = dml_warn_count();
	dma_unmap_phys(f->dev, 0x11000000, G, DMA_TO_DEVICE, 0);
	dma_unmap_phys(f->dev, 0x12000000, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_warn_count(), w + 1);
	assert_int_equal(dml_dma_debug_error_count(), 2);
	dml_dma_debug_set_show(0);
	dma_unmap_phys(f->dev, 0x13000000, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_warn_count(), w + 1);
	dml_dma_debug_set_show(-1);
	dma_unmap_phys(f->dev, 0x14000000, G, DMA_TO_DEVICE, 0);
	dma_unmap_phys(f->dev, 0x15000000, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_warn_count(), w + 3);
	take(DML_DMA_DEBUG_FREE_NOT_ALLOCATED, 5);
}

static void test_error_api(void **state)
{
	struct fx *f = *state;
	struct dml_dma_debug_error e;
	dma_addr_t a = map_ok(f, 0x40000000, 2 * G, DMA_TO_DEVICE, 0);
	unsigned int i, j;

	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_dma_debug_error_get(0, &e), 0);
	assert_int_equal(e.category, DML_DMA_DEBUG_FREE_WRONG_SIZE);
	assert_string_equal(e.device, "testdev");
	assert_int_equal(e.addr, a);
	assert_int_equal(e.size, G);
	assert_true(!strncmp(e.message, "DMA-API: testdev: device driver frees", 37));
	assert_true(e.call_depth > 0 && e.call_depth <= DML_DMA_DEBUG_TRACE_DEPTH);
	assert_true(e.map_depth > 0 && e.map_depth <= DML_DMA_DEBUG_TRACE_DEPTH);
	assert_int_equal(dml_dma_debug_error_get(1, &e), -ENOENT);
	assert_int_equal(dml_dma_debug_error_get(0, NULL), -EINVAL);
	/* no backtraces when told so */
	dml_dma_debug_clear_errors();
	dml_dma_debug_set_trace_depth(0);
	a = map_ok(f, 0x40000000, 2 * G, DMA_TO_DEVICE, 0);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_dma_debug_error_get(0, &e), 0);
	assert_int_equal(e.call_depth, 0);
	assert_int_equal(e.map_depth, 0);
	dml_dma_debug_set_trace_depth(5);
	dml_dma_debug_clear_errors();
	assert_int_equal(dml_dma_debug_error_count(), 0);
	assert_int_equal(dml_dma_debug_error_get(0, &e), -ENOENT);

	for (i = 0; i < DML_DMA_DEBUG_NR; i++) {
		const char *n = dml_dma_debug_category_name(i);

		assert_string_not_equal(n, "unknown");
		for (j = 0; j < i; j++)
			assert_string_not_equal(n, dml_dma_debug_category_name(j));
	}
	assert_string_equal(dml_dma_debug_category_name(DML_DMA_DEBUG_NR), "unknown");
	assert_int_equal(dml_dma_debug_category_count(DML_DMA_DEBUG_NR), 0);

	/* the first DML_DMA_DEBUG_KEPT reports are kept, all are counted */
	dml_dma_debug_set_show(0);
	for (i = 0; i < DML_DMA_DEBUG_KEPT + 6; i++)
		dma_unmap_phys(f->dev, 0x10000000 + (dma_addr_t)i * G, G,
			       DMA_TO_DEVICE, 0);
	dml_dma_debug_set_show(-1);
	assert_int_equal(dml_dma_debug_error_get(DML_DMA_DEBUG_KEPT - 1, &e), 0);
	assert_int_equal(dml_dma_debug_error_get(DML_DMA_DEBUG_KEPT, &e), -ENOENT);
	take(DML_DMA_DEBUG_FREE_NOT_ALLOCATED, DML_DMA_DEBUG_KEPT + 6);
}

/* abort mode: the first report ends the process (tests, fuzzing) */
static void test_abort_mode(void **state)
{
	struct fx *f = *state;
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0)
			dup2(fd, 2);
		dml_set_log(NULL, NULL);
		dml_dma_debug_set_abort(true);
		dma_unmap_phys(f->dev, 0x12345000, G, DMA_TO_DEVICE, 0);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	none();
}

/* the checker watches the devices created while it is on */
static void test_enable_scope(void **state)
{
	struct fx *f = *state;
	struct dml_device_opts dop = { .size = DML_SIZEOF(&dop, iommu), .name = "late",
				       .pci = true, .iommu = f->iommu };
	struct dml_device *dev;

	dml_dma_debug_enable(false);
	assert_false(dml_dma_debug_enabled());
	dma_unmap_phys(f->dev, 0x12345000, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_dma_debug_error_count(), 0);
	dml_dma_debug_enable(true);
	/* f->dev was created before: not watched any more */
	dma_unmap_phys(f->dev, 0x12345000, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_dma_debug_mapping_count(f->dev), 0);
	none();
	assert_int_equal(dml_device_create(f->p, &dop, &dev), 0);
	dma_unmap_phys(dev, 0x12345000, G, DMA_TO_DEVICE, 0);
	take(DML_DMA_DEBUG_FREE_NOT_ALLOCATED, 1);
	dml_device_destroy(dev);
	dml_dma_debug_set_show(-1);
}

/* DMALINK_DMA_DEBUG at program start (debug-env-probe, next to us) */
static int run_probe(const char *env, int *status)
{
	char exe[4096], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 64);
	pid_t pid;

	if (n <= 0)
		return -1;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	strcpy(slash, "/debug/debug-env-probe");
	if (access(exe, X_OK)) {
		strcpy(slash, "/debug-env-probe");
		if (access(exe, X_OK))
			return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (env)
			setenv("DMALINK_DMA_DEBUG", env, 1);
		else
			unsetenv("DMALINK_DMA_DEBUG");
		execl(exe, exe, (char *)NULL);
		_exit(127);
	}
	return waitpid(pid, status, 0) == pid ? 0 : -1;
}

static void test_env_variable(void **state)
{
	int st;

	(void)state;
	if (run_probe(NULL, &st))
		skip();
	/* probe exit code: 10 + reports counted, 0 when the checker is off */
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(run_probe("1", &st), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 11);
	assert_int_equal(run_probe("1,all", &st), 0);
	assert_int_equal(WEXITSTATUS(st), 11);
	assert_int_equal(run_probe("0", &st), 0);
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(run_probe("off", &st), 0);
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(run_probe("1,abort", &st), 0);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_clean_iommu, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_clean_direct, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_mapping_count, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_free_not_allocated, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_free_wrong_size, direct_setup, fx_teardown),
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
	cmocka_unit_test_setup_teardown(test_cpu_device_owned, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_sg_segment_limits, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_cacheline_overlap, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_leak_on_device_destroy, fx_setup, fx_teardown),
	cmocka_unit_test(test_leak_on_platform_destroy),
	cmocka_unit_test_setup_teardown(test_iova_bad_state, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_iova_use_after_free, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_iova_link_overlap_outside, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_iova_link_align, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_iova_unlink_checks, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_9_10_free_linked, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_iova_destroy_refused, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_device_access, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_device_access_direct, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_9_21_first_error_only, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_error_api, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_abort_mode, direct_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_enable_scope, fx_setup, fx_teardown),
	cmocka_unit_test(test_env_variable),
};

DML_TEST_MAIN(tests)
