/* SPDX-License-Identifier: MIT */
/*
 * test_coherent.c - coherent DMA memory (dma_alloc_coherent,
 * Documentation/core-api/dma-api.rst) and dma_pool (mm/dmapool.c,
 * include/linux/dmapool.h): placement, alignment, the masks, real device
 * transfers, misuse reported without damage, and every allocation failed
 * in turn (reference/style.md C11).
 */
#include "swiotlb/bfx.h"

/* the physical address behind a CPU pointer into emulated RAM */
static phys_addr_t cpu_to_phys(struct bfx *f, const void *va)
{
	const u8 *ram0 = dml_kmap_local_phys(f->p, 0, 1);

	return (phys_addr_t)((const u8 *)va - ram0);
}

/* dma-direct: DMA address = phys, zeroed, aligned, within the mask */
static void test_alloc_direct(void **state)
{
	struct bfx_opts o = { .coherent_mask = DMA_BIT_MASK(32) };
	struct bfx *f = bfx_create(&o);
	static const size_t sizes[] = { 1, 100, G, G + 1, 3 * G, 64 * 1024,
					2 << 20, (2 << 20) + 1 };
	void *va[ARRAY_SIZE(sizes)];
	dma_addr_t h[ARRAY_SIZE(sizes)];
	unsigned int i;
	u8 buf[256];

	(void)state;
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t align = (size_t)dml__roundup_pow2(DIV_ROUND_UP(sizes[i], G)) * G;

		va[i] = dma_alloc_coherent(f->dev, sizes[i], &h[i], GFP_KERNEL);
		assert_non_null(va[i]);
		assert_int_equal(h[i], cpu_to_phys(f, va[i]));
		assert_int_equal(h[i] % align, 0);
		assert_true(h[i] + sizes[i] - 1 <= DMA_BIT_MASK(32));
		assert_true(buf_is(va[i], sizes[i], 0));
		assert_true(dml_phys_is_ram(f->p, h[i], sizes[i]));
	}
	/* a coherent device and the CPU share it with no sync */
	memset(va[1], 0x11, 100);
	assert_int_equal(dml_dev_dma_read(f->dev, h[1], buf, 100), 0);
	assert_true(buf_is(buf, 100, 0x11));
	memset(buf, 0x22, sizeof(buf));
	assert_int_equal(dml_dev_dma_write(f->dev, h[2] + 8, buf, sizeof(buf)), 0);
	assert_true(buf_is((u8 *)va[2] + 8, sizeof(buf), 0x22));
	/* allocations do not overlap */
	for (i = 1; i < ARRAY_SIZE(sizes); i++)
		assert_true(h[i] >= h[i - 1] + sizes[i - 1] ||
			    h[i] + sizes[i] <= h[i - 1]);
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		dma_free_coherent(f->dev, sizes[i], va[i], h[i]);
	assert_int_equal(dml_test_log.count, 0);
	bfx_destroy(f);
}

/* a narrow coherent mask: the memory comes from below it */
static void test_alloc_direct_narrow_mask(void **state)
{
	struct bfx_opts o = { .coherent_mask = DMA_BIT_MASK(30) };
	struct bfx *f = bfx_create(&o);
	dma_addr_t h;
	void *va;

	(void)state;
	va = dma_alloc_coherent(f->dev, 8192, &h, GFP_KERNEL);
	assert_non_null(va);
	assert_true(h + 8191 <= DMA_BIT_MASK(30));
	assert_int_equal(h, cpu_to_phys(f, va));
	dma_free_coherent(f->dev, 8192, va, h);
	bfx_destroy(f);
}

/* behind an IOMMU: an IOVA below the coherent mask, device DMA through it */
static void test_alloc_iommu(void **state)
{
	struct bfx_opts o = { .iommu = true, .coherent_mask = DMA_BIT_MASK(32) };
	struct bfx *f = bfx_create(&o);
	u8 buf[G];
	dma_addr_t h;
	void *va;

	(void)state;
	assert_int_equal(dma_set_coherent_mask(f->dev, DMA_BIT_MASK(32)), 0);
	va = dma_alloc_coherent(f->dev, 3 * G, &h, GFP_KERNEL);
	assert_non_null(va);
	assert_true(h + 4 * G - 1 <= DMA_BIT_MASK(32));
	assert_int_equal(h % (4 * G), 0);
	assert_int_equal(bfx_xlate(f, h), cpu_to_phys(f, va));
	memset(va, 0x33, G);
	assert_int_equal(dml_dev_dma_read(f->dev, h, buf, G), 0);
	assert_true(buf_is(buf, G, 0x33));
	memset(buf, 0x44, G);
	assert_int_equal(dml_dev_dma_write(f->dev, h + 2 * G, buf, G), 0);
	assert_true(buf_is((u8 *)va + 2 * G, G, 0x44));
	dma_free_coherent(f->dev, 3 * G, va, h);
	assert_int_equal(bfx_xlate(f, h), 0);
	/* the IOVA is gone: the device faults */
	dml_test_expect_dma_debug(DML_DMA_DEBUG_DEV_NOT_MAPPED);
	assert_int_equal(dml_dev_dma_read(f->dev, h, buf, 16), -EFAULT);
	bfx_destroy(f);
}

/* above 2 MiB: a block of its own, naturally aligned, back to RAM on free */
static void test_alloc_large(void **state)
{
	struct bfx *f = bfx_create(NULL);
	dma_addr_t h, h2;
	void *va, *va2;

	(void)state;
	va = dma_alloc_coherent(f->dev, 3 << 20, &h, GFP_KERNEL);
	assert_non_null(va);
	assert_int_equal(h % (4 << 20), 0);
	assert_true(buf_is(va, 3 << 20, 0));
	dma_free_coherent(f->dev, 3 << 20, va, h);
	va2 = dma_alloc_coherent(f->dev, 4 << 20, &h2, GFP_KERNEL);
	assert_non_null(va2);
	assert_int_equal(h2, h);	/* the frames came back */
	dma_free_coherent(f->dev, 4 << 20, va2, h2);
	bfx_destroy(f);
}

/* misuse is reported and frees nothing */
static void test_free_mismatch(void **state)
{
	struct bfx *f = bfx_create(NULL);
	dma_addr_t h, h2;
	void *va;

	(void)state;
	/* the checker drops the record at the first bad free, as dma-debug */
	dml_test_expect_dma_debug(DML_DMA_DEBUG_FREE_WRONG_SIZE);
	dml_test_expect_dma_debug(DML_DMA_DEBUG_FREE_NOT_ALLOCATED);
	va = dma_alloc_coherent(f->dev, 2 * G, &h, GFP_KERNEL);
	assert_non_null(va);
	dma_free_coherent(f->dev, 8 * G, va, h);	/* wrong size */
	assert_non_null(strstr(dml_test_log.last, "is not an allocation"));
	dma_free_coherent(f->dev, 2 * G, (u8 *)va + G, h + G);	/* inside */
	assert_non_null(strstr(dml_test_log.last, "is not an allocation"));
	dma_free_coherent(f->dev, 2 * G, va, h + G);		/* wrong handle */
	assert_non_null(strstr(dml_test_log.last, "does not match"));
	dma_free_coherent(f->dev, 2 * G, va, h);
	/* freed at last: the same memory comes back */
	assert_ptr_equal(dma_alloc_coherent(f->dev, 2 * G, &h2, GFP_KERNEL), va);
	assert_int_equal(h2, h);
	dma_free_coherent(f->dev, 2 * G, va, h);
	dma_free_coherent(f->dev, 2 * G, va, h);		/* twice */
	assert_non_null(strstr(dml_test_log.last, "is not an allocation"));
	dma_free_coherent(f->dev, 2 * G, NULL, 0);		/* ignored */
	assert_null(dma_alloc_coherent(f->dev, 0, &h, GFP_KERNEL));
	assert_int_equal(h, DMA_MAPPING_ERROR);
	assert_null(dma_alloc_coherent(NULL, 10, &h, GFP_KERNEL));
	bfx_destroy(f);
}

/* every allocation failed in turn: NULL, nothing left, then success */
static void test_fail_nth_alloc(void **state)
{
	struct bfx_opts o = { .iommu = true };
	struct bfx *f = bfx_create(&o);
	dma_addr_t h;
	void *va;
	long n;

	(void)state;
	for (n = 1;; n++) {
		dml_fail_nth(n);
		va = dma_alloc_attrs(f->dev, 5 * G, &h, GFP_KERNEL, DMA_ATTR_NO_WARN);
		if (!dml_fail_nth_hit())
			break;
		dml_fail_nth(0);
		assert_null(va);
		assert_int_equal(h, DMA_MAPPING_ERROR);
	}
	dml_fail_nth(0);
	assert_non_null(va);
	assert_true(n > 2);
	dma_free_coherent(f->dev, 5 * G, va, h);
	assert_int_equal(dml_test_log.count, 0);
	bfx_destroy(f);
}

/* ------------------------------------------------------------------ */
/* dma_pool                                                            */
/* ------------------------------------------------------------------ */

/* dma_pool_create() rejects what mm/dmapool.c rejects */
static void test_pool_create_args(void **state)
{
	struct bfx *f = bfx_create(NULL);
	struct dma_pool *pool;

	(void)state;
	assert_null(dma_pool_create("x", f->dev, 0, 8, 0));
	assert_null(dma_pool_create("x", f->dev, 64, 12, 0));	/* align */
	assert_null(dma_pool_create("x", f->dev, 64, 8, 32));	/* < size */
	assert_null(dma_pool_create("x", f->dev, 64, 8, 96));	/* not pow2 */
	assert_null(dma_pool_create("x", NULL, 64, 8, 0));
	pool = dma_pool_create("ok", f->dev, 64, 0, 0);
	assert_non_null(pool);
	dma_pool_destroy(pool);
	dma_pool_destroy(NULL);
	bfx_destroy(f);
}

/* blocks: aligned, distinct, inside their page, never across the boundary */
static void test_pool_layout(void **state)
{
	struct bfx *f = bfx_create(NULL);
	struct dma_pool *pool = dma_pool_create("prp", f->dev, 100, 32, 256);
	dma_addr_t h[100];
	u8 *va[100];
	unsigned int i, j;

	(void)state;
	assert_non_null(pool);
	for (i = 0; i < 100; i++) {
		va[i] = dma_pool_alloc(pool, GFP_KERNEL, &h[i]);
		assert_non_null(va[i]);
		assert_int_equal(h[i] % 32, 0);
		assert_int_equal(h[i], cpu_to_phys(f, va[i]));
		/* 128-byte blocks (100 rounded to 32), two per 256 bytes */
		assert_int_equal(h[i] / 256, (h[i] + 128 - 1) / 256);
		for (j = 0; j < i; j++)
			assert_true(h[j] != h[i]);
	}
	/* 4 KiB pages hold 32 blocks: 100 blocks need 4 pages */
	for (i = 0; i < 32; i++)
		assert_int_equal(h[i] / G, h[0] / G);
	assert_true(h[32] / G != h[0] / G);
	for (i = 0; i < 100; i++)
		dma_pool_free(pool, va[i], h[i]);
	dma_pool_destroy(pool);
	assert_int_equal(dml_test_log.count, 0);

	/* the boundary moves blocks: 96-byte blocks, 256-byte boundary */
	pool = dma_pool_create("sgl", f->dev, 96, 16, 256);
	for (i = 0; i < 10; i++) {
		va[i] = dma_pool_alloc(pool, GFP_KERNEL, &h[i]);
		assert_int_equal(h[i] / 256, (h[i] + 96 - 1) / 256);
	}
	assert_int_equal(h[1] - h[0], 96);
	assert_int_equal(h[2] - h[0], 256);	/* 192 + 96 would cross */
	for (i = 0; i < 10; i++)
		dma_pool_free(pool, va[i], h[i]);
	dma_pool_destroy(pool);
	bfx_destroy(f);
}

/* reuse, zeroing, real DMA through an IOMMU, and misuse caught */
static void test_pool_use(void **state)
{
	struct bfx_opts o = { .iommu = true };
	struct bfx *f = bfx_create(&o);
	struct dma_pool *pool = dma_pool_create("desc", f->dev, 64, 64, 0);
	u8 buf[64];
	dma_addr_t h, h2;
	u8 *va, *va2;

	(void)state;
	va = dma_pool_alloc(pool, GFP_KERNEL, &h);
	assert_int_equal(bfx_xlate(f, h), cpu_to_phys(f, va));
	memset(va, 0x77, 64);
	assert_int_equal(dml_dev_dma_read(f->dev, h, buf, 64), 0);
	assert_true(buf_is(buf, 64, 0x77));
	dma_pool_free(pool, va, h);
	/* last freed, first reused; zalloc zeroes it */
	va2 = dma_pool_zalloc(pool, GFP_ATOMIC, &h2);
	assert_ptr_equal(va2, va);
	assert_int_equal(h2, h);
	assert_true(buf_is(va2, 64, 0));

	dml_test_log_reset();
	dma_pool_free(pool, va2 + 8, h2 + 8);
	assert_non_null(strstr(dml_test_log.last, "bad vaddr"));
	dma_pool_free(pool, va2, h2 + 64);
	assert_non_null(strstr(dml_test_log.last, "bad dma"));
	dma_pool_free(pool, buf, h2);
	assert_non_null(strstr(dml_test_log.last, "bad vaddr"));
	dma_pool_free(pool, va2, h2);
	dma_pool_free(pool, va2, h2);
	assert_non_null(strstr(dml_test_log.last, "already free"));

	/* destroying with a block in use: the kernel's message, pages kept */
	dml_test_expect_dma_debug(DML_DMA_DEBUG_LEAK);
	va = dma_pool_alloc(pool, GFP_KERNEL, &h);
	dml_test_log_reset();
	dma_pool_destroy(pool);
	assert_string_equal(dml_test_log.last, "bfxdev: dma_pool_destroy desc busy");
	assert_int_equal(bfx_xlate(f, h), cpu_to_phys(f, va));
	bfx_destroy(f);
}

/* every allocation of create/alloc failed in turn */
static void test_pool_fail_nth(void **state)
{
	struct bfx_opts o = { .iommu = true };
	struct bfx *f = bfx_create(&o);
	struct dma_pool *pool;
	dma_addr_t h;
	void *va;
	long n;

	(void)state;
	for (n = 1;; n++) {
		dml_fail_nth(n);
		pool = dma_pool_create("f", f->dev, 512, 8, 0);
		va = pool ? dma_pool_alloc(pool, GFP_KERNEL, &h) : NULL;
		if (!dml_fail_nth_hit())
			break;
		dml_fail_nth(0);
		assert_null(va);
		if (pool) {
			assert_int_equal(h, DMA_MAPPING_ERROR);
			/* the pool works once memory is back */
			va = dma_pool_alloc(pool, GFP_KERNEL, &h);
			assert_non_null(va);
			dma_pool_free(pool, va, h);
		}
		dma_pool_destroy(pool);
	}
	dml_fail_nth(0);
	assert_non_null(va);
	assert_true(n > 3);
	dma_pool_free(pool, va, h);
	dml_test_log_reset();
	dma_pool_destroy(pool);
	assert_int_equal(dml_test_log.count, 0);
	bfx_destroy(f);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_alloc_direct),
	cmocka_unit_test(test_alloc_direct_narrow_mask),
	cmocka_unit_test(test_alloc_iommu),
	cmocka_unit_test(test_alloc_large),
	cmocka_unit_test(test_free_mismatch),
	cmocka_unit_test(test_fail_nth_alloc),
	cmocka_unit_test(test_pool_create_args),
	cmocka_unit_test(test_pool_layout),
	cmocka_unit_test(test_pool_use),
	cmocka_unit_test(test_pool_fail_nth),
};

DML_TEST_MAIN(tests)
