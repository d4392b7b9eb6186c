/* SPDX-License-Identifier: MIT */
/*
 * test_fail_nth.c - the fault-injection sweep (reference/style.md C11,
 * after iommufd's fail_nth selftest): for each representative sequence of
 * DMA API calls, fail the 1st, 2nd, ... allocation or backend call it
 * makes (dml_fail_nth()) until one run gets through without reaching the
 * armed call.  At every step:
 *  - a clean error: the sequence returns 0 or -ENOMEM and a failed call
 *    leaves nothing behind (the caller undoes what it did, as a driver
 *    must);
 *  - no leak: page-table pages (struct dml_iommu_stats.pt_pages), live
 *    IOVA ranges (struct dml_dev_stats iova_allocs - iova_frees) and the
 *    mappings the DMA-API checker tracks are back to their baseline;
 *  - the same sequence then succeeds when retried with nothing armed.
 * A hook hit that the code absorbs (a per-thread IOVA cache it can do
 * without) is allowed to succeed.  The checker is on, as everywhere under
 * the harness, and must report nothing: the error paths are correct code.
 */
#include <dmalink/scatterlist.h>

#include "dma/fixture.h"

#define G 4096UL
#define MAX_STEPS 256

/* live state that must come back to baseline */
struct snap {
	u64 pt_pages;
	u64 iova_live;
	u64 mappings;
	u64 faults;
};

static struct snap snap_of(struct fx *f)
{
	struct dml_dev_stats ds;
	struct snap s = { 0 };

	dml_dev_get_stats(f->dev, &ds);
	if (f->iommu)
		s.pt_pages = fx_pt_pages(f);
	s.iova_live = ds.iova_allocs - ds.iova_frees;
	s.mappings = dml_dma_debug_mapping_count(f->dev);
	s.faults = fx_faults(f);
	return s;
}

static void assert_snap_equal(const struct snap *a, const struct snap *b,
			      const char *what, long n)
{
	if (memcmp(a, b, sizeof(*a)))
		print_message("# %s, n=%ld: pt_pages %llu/%llu iova_live %llu/%llu mappings %llu/%llu faults %llu/%llu\n",
			      what, n, (unsigned long long)a->pt_pages,
			      (unsigned long long)b->pt_pages,
			      (unsigned long long)a->iova_live,
			      (unsigned long long)b->iova_live,
			      (unsigned long long)a->mappings,
			      (unsigned long long)b->mappings,
			      (unsigned long long)a->faults,
			      (unsigned long long)b->faults);
	assert_memory_equal(a, b, sizeof(*a));
}

typedef int (*seq_fn)(struct fx *f);

/*
 * sweep - run @seq with the n-th hook call failing, n = 1, 2, ...
 * Return: how many steps hit an injected failure.
 */
static long sweep(struct fx *f, seq_fn seq, const char *what)
{
	struct snap base = snap_of(f), now;
	long n, hits = 0;

	for (n = 1; n <= MAX_STEPS; n++) {
		bool hit;
		int ret;

		dml_fail_nth(n);
		ret = seq(f);
		hit = dml_fail_nth_hit();
		dml_fail_nth(0);
		now = snap_of(f);
		if (!hit) {
			/* the whole sequence ran: it must have worked */
			assert_int_equal(ret, 0);
			assert_snap_equal(&now, &base, what, n);
			break;
		}
		hits++;
		if (ret != 0 && ret != -ENOMEM)
			print_message("# %s, n=%ld: ret %d\n", what, n, ret);
		assert_true(ret == 0 || ret == -ENOMEM);
		assert_snap_equal(&now, &base, what, n);
		/* and the same sequence with nothing armed succeeds */
		assert_int_equal(seq(f), 0);
		now = snap_of(f);
		assert_snap_equal(&now, &base, what, n);
	}
	assert_true(n <= MAX_STEPS);
	assert_int_equal(dml_dma_debug_error_count(), 0);
	print_message("# %s: %ld failure points\n", what, hits);
	return hits;
}

/* fill a pattern the device must read back */
static void pattern(u8 *b, size_t len, u8 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (u8)(seed + i * 13);
}

/* ---- the sequences: map, let the device move bytes, tear down ---- */

static const phys_addr_t ranges[] = { 0x40007000, 0x40003000, 0x50000000,
				      0x7f000000, 0x40001000 };
#define NR_RANGES (sizeof(ranges) / sizeof(ranges[0]))

/* two-step: try_alloc, link each range, one sync, transfer, destroy */
static int seq_two_step(struct fx *f)
{
	struct dma_iova_state st;
	size_t off = 0, total = NR_RANGES * G;
	u8 in[NR_RANGES * G];
	unsigned int i;
	int ret = 0;

	if (!dma_iova_try_alloc(f->dev, &st, ranges[0], total))
		return -ENOMEM;
	for (i = 0; i < NR_RANGES && !ret; i++) {
		ret = dma_iova_link(f->dev, &st, ranges[i], off, G, DMA_TO_DEVICE, 0);
		if (!ret)
			off += G;
	}
	if (!ret)
		ret = dma_iova_sync(f->dev, &st, 0, off);
	if (ret) {
		dma_iova_destroy(f->dev, &st, off, DMA_TO_DEVICE, 0);
		return ret;
	}
	ret = dml_dev_dma_read(f->dev, st.addr, in, total);
	for (i = 0; !ret && i < NR_RANGES; i++)
		if (memcmp(in + i * G, dml_kmap_local_phys(f->p, ranges[i], G), G))
			ret = -EIO;
	dma_iova_destroy(f->dev, &st, total, DMA_TO_DEVICE, 0);
	return ret;
}

/* two-step with unlink and relink in the middle (HMM/ODP style) */
static int seq_two_step_relink(struct fx *f)
{
	struct dma_iova_state st;
	u8 out[G], in[G];
	int ret;

	if (!dma_iova_try_alloc(f->dev, &st, 0, 4 * G))
		return -ENOMEM;
	ret = dma_iova_link(f->dev, &st, 0x40000000, 0, 2 * G, DMA_FROM_DEVICE, 0);
	if (ret)
		goto out_free;
	ret = dma_iova_link(f->dev, &st, 0x50000000, 2 * G, 2 * G,
			    DMA_FROM_DEVICE, 0);
	if (ret)
		goto out_destroy_first;
	ret = dma_iova_sync(f->dev, &st, 0, 4 * G);
	if (ret)
		goto out_destroy_all;
	ret = dma_iova_unlink(f->dev, &st, 2 * G, 2 * G, DMA_FROM_DEVICE, 0);
	if (ret)
		goto out_destroy_all;
	ret = dma_iova_link(f->dev, &st, 0x60000000, 2 * G, 2 * G,
			    DMA_FROM_DEVICE, 0);
	if (ret)
		goto out_destroy_first;
	ret = dma_iova_sync(f->dev, &st, 2 * G, 2 * G);
	if (ret)
		goto out_destroy_all;
	pattern(out, G, 5);
	ret = dml_dev_dma_write(f->dev, st.addr + 3 * G, out, G);
	dma_iova_destroy(f->dev, &st, 4 * G, DMA_FROM_DEVICE, 0);
	if (!ret) {
		memcpy(in, dml_kmap_local_phys(f->p, 0x60000000 + G, G), G);
		ret = memcmp(in, out, G) ? -EIO : 0;
	}
	return ret;

out_destroy_all:
	dma_iova_destroy(f->dev, &st, 4 * G, DMA_FROM_DEVICE, 0);
	return ret;
out_destroy_first:
	dma_iova_destroy(f->dev, &st, 2 * G, DMA_FROM_DEVICE, 0);
	return ret;
out_free:
	dma_iova_free(f->dev, &st);
	return ret;
}

/* a scatterlist: allocate the table, map, transfer, unmap, free */
static int seq_map_sg(struct fx *f)
{
	struct sg_table sgt;
	u8 in[NR_RANGES * G];
	size_t done = 0;
	unsigned int i;
	int ret;

	ret = sg_alloc_table(&sgt, NR_RANGES);
	if (ret)
		return ret;
	for (i = 0; i < NR_RANGES; i++)
		sg_set_phys(&sgt.sgl[i], ranges[i], G);
	ret = dma_map_sgtable(f->dev, &sgt, DMA_TO_DEVICE, 0);
	if (ret)
		goto out_free;
	for (i = 0; !ret && i < sgt.nents; i++) {
		ret = dml_dev_dma_read(f->dev, sg_dma_address(&sgt.sgl[i]),
				       in + done, sg_dma_len(&sgt.sgl[i]));
		done += sg_dma_len(&sgt.sgl[i]);
	}
	for (i = 0; !ret && i < NR_RANGES; i++)
		if (memcmp(in + i * G, dml_kmap_local_phys(f->p, ranges[i], G), G))
			ret = -EIO;
	dma_unmap_sgtable(f->dev, &sgt, DMA_TO_DEVICE, 0);
out_free:
	sg_free_table(&sgt);
	return ret;
}

/* dma_map_phys per range, undoing the earlier ones on a failure */
static int seq_map_phys(struct fx *f)
{
	dma_addr_t a[NR_RANGES];
	u8 out[G];
	unsigned int i, n;
	int ret = 0;

	for (n = 0; n < NR_RANGES; n++) {
		a[n] = dma_map_phys(f->dev, ranges[n] + 0x80, G - 0x100,
				    DMA_FROM_DEVICE, 0);
		if (dma_mapping_error(f->dev, a[n])) {
			ret = -ENOMEM;
			break;
		}
	}
	pattern(out, G, 9);
	for (i = 0; !ret && i < n; i++)
		ret = dml_dev_dma_write(f->dev, a[i], out, G - 0x100);
	for (i = 0; i < n; i++)
		dma_unmap_phys(f->dev, a[i], G - 0x100, DMA_FROM_DEVICE, 0);
	for (i = 0; !ret && i < n; i++)
		if (memcmp(dml_kmap_local_phys(f->p, ranges[i] + 0x80, G - 0x100),
			   out, G - 0x100))
			ret = -EIO;
	return ret;
}

/* 8 MiB from a phys that is not 2 MiB aligned: 4 KiB leaves in several tables */
static int seq_two_step_large(struct fx *f)
{
	struct dma_iova_state st;
	const size_t len = 8UL << 20;
	int ret;

	if (!dma_iova_try_alloc(f->dev, &st, 0, len))
		return -ENOMEM;
	ret = dma_iova_link(f->dev, &st, 0x40001000, 0, len, DMA_TO_DEVICE, 0);
	if (ret) {
		dma_iova_free(f->dev, &st);
		return ret;
	}
	ret = dma_iova_sync(f->dev, &st, 0, len);
	dma_iova_destroy(f->dev, &st, len, DMA_TO_DEVICE, 0);
	return ret;
}

/* ---- the tests ---- */

static void test_sweep_two_step(void **state)
{
	assert_true(sweep(*state, seq_two_step, "two-step") > 0);
}

static void test_sweep_two_step_relink(void **state)
{
	assert_true(sweep(*state, seq_two_step_relink, "two-step relink") > 0);
}

static void test_sweep_map_sg(void **state)
{
	assert_true(sweep(*state, seq_map_sg, "map_sg") > 0);
}

static void test_sweep_map_phys(void **state)
{
	assert_true(sweep(*state, seq_map_phys, "map_phys") > 0);
}

static void test_sweep_two_step_large(void **state)
{
	assert_true(sweep(*state, seq_two_step_large, "two-step 8 MiB") > 0);
}

/* the first call on a fresh domain: its per-thread IOVA cache too */
static void test_sweep_fresh_domain(void **state)
{
	struct fx *f;
	long n;

	(void)state;
	for (n = 1; n <= 8; n++) {
		f = fx_create(NULL);
		dml_fail_nth(n);
		(void)seq_two_step(f);
		dml_fail_nth(0);
		assert_int_equal(seq_two_step(f), 0);
		assert_int_equal(fx_pt_pages(f), 1);
		assert_int_equal(dml_dma_debug_mapping_count(f->dev), 0);
		fx_destroy(f);
	}
	assert_int_equal(dml_dma_debug_error_count(), 0);
}

/* dma-direct: nothing to allocate in map and unmap, sg tables aside */
static void test_sweep_direct(void **state)
{
	struct fx_opts o = { .no_iommu = true };
	struct fx *f = fx_create(&o);

	(void)state;
	assert_true(sweep(f, seq_map_sg, "map_sg direct") >= 1);
	assert_int_equal(sweep(f, seq_map_phys, "map_phys direct"), 0);
	fx_destroy(f);
}

/* lazy mode: IOVA comes back through the flush queue, still no leak */
static void test_sweep_lazy(void **state)
{
	struct fx_opts o = { .lazy = true };
	struct fx *f = fx_create(&o);
	long n;

	(void)state;
	for (n = 1; n <= 64; n++) {
		bool hit;

		dml_fail_nth(n);
		(void)seq_two_step(f);
		hit = dml_fail_nth_hit();
		dml_fail_nth(0);
		if (!hit)
			break;
	}
	assert_true(n > 1 && n <= 64);
	fx_destroy(f);
	assert_int_equal(dml_dma_debug_error_count(), 0);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_sweep_two_step, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_sweep_two_step_relink, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_sweep_map_sg, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_sweep_map_phys, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_sweep_two_step_large, fx_setup, fx_teardown),
	cmocka_unit_test(test_sweep_fresh_domain),
	cmocka_unit_test(test_sweep_direct),
	cmocka_unit_test(test_sweep_lazy),
};

DML_TEST_MAIN(tests)
