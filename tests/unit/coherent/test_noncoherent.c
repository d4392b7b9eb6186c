/* SPDX-License-Identifier: MIT */
/*
 * test_noncoherent.c - devices that do not snoop the CPU cache
 * (src/mem/cache.c): without the syncs the device and the CPU see wrong
 * data, exactly as on real non-coherent hardware, and with them the right
 * data.  Each test first shows the wrong data, then the right data.
 * Semantics: dma_sync_single_for_{cpu,device}, dma_map/unmap cache
 * maintenance (kernel/dma/direct.h, drivers/iommu/dma-iommu.c;
 * Documentation/core-api/dma-api-howto.rst "DMA and the CPU cache").
 */
#include "swiotlb/bfx.h"

#define BUF 0x10000000ULL

/*
 * CPU writes after the map stay in the cache: the device reads stale
 * memory until dma_sync_single_for_device()
 */
static void test_to_device_needs_sync(void **state)
{
	struct bfx_opts o = { .non_coherent = true };
	struct bfx *f = bfx_create(&o);
	u8 buf[3000];
	dma_addr_t a;

	(void)state;
	bfx_fill(f, BUF, sizeof(buf), 1);
	/* the map cleans the cache: the device sees the data */
	a = dma_map_phys(f->dev, BUF, sizeof(buf), DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	assert_int_equal(a, BUF);
	assert_true(dml_test_need_unmap_unchecked(f->dev));
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, sizeof(buf)), 0);
	assert_true(buf_check(buf, sizeof(buf), 1));

	/* new CPU data, no sync: the device still reads the old data */
	bfx_fill(f, BUF, sizeof(buf), 2);
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, sizeof(buf)), 0);
	assert_true(buf_check(buf, sizeof(buf), 1));
	assert_false(buf_check(buf, sizeof(buf), 2));

	/* after the sync it reads the new data */
	dma_sync_single_for_device(f->dev, a, sizeof(buf), DMA_TO_DEVICE);
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, sizeof(buf)), 0);
	assert_true(buf_check(buf, sizeof(buf), 2));
	dma_unmap_phys(f->dev, a, sizeof(buf), DMA_TO_DEVICE, 0);
	bfx_destroy(f);
}

/*
 * Device writes land in memory: the CPU reads its stale cache until
 * dma_sync_single_for_cpu() (or the unmap)
 */
static void test_from_device_needs_sync(void **state)
{
	struct bfx_opts o = { .non_coherent = true };
	struct bfx *f = bfx_create(&o);
	u8 buf[5000];
	dma_addr_t a;

	(void)state;
	/* the CPU looks before the sync: that is the point */
	dml_test_expect_dma_debug(DML_DMA_DEBUG_CPU_DEVICE_OWNED);
	bfx_fill(f, BUF, sizeof(buf), 3);
	a = dma_map_phys(f->dev, BUF, sizeof(buf), DMA_FROM_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	buf_fill(buf, sizeof(buf), 4);
	assert_int_equal(dml_dev_dma_write(f->dev, a, buf, sizeof(buf)), 0);
	/* no sync: the CPU sees the old bytes */
	assert_true(bfx_check(f, BUF, sizeof(buf), 3));
	assert_false(bfx_check(f, BUF, sizeof(buf), 4));
	dma_sync_single_for_cpu(f->dev, a, sizeof(buf), DMA_FROM_DEVICE);
	assert_true(bfx_check(f, BUF, sizeof(buf), 4));

	/* give it back, the device writes again, the unmap syncs */
	dma_sync_single_for_device(f->dev, a, sizeof(buf), DMA_FROM_DEVICE);
	buf_fill(buf, sizeof(buf), 5);
	assert_int_equal(dml_dev_dma_write(f->dev, a, buf, sizeof(buf)), 0);
	assert_true(bfx_check(f, BUF, sizeof(buf), 4));
	dma_unmap_phys(f->dev, a, sizeof(buf), DMA_FROM_DEVICE, 0);
	assert_true(bfx_check(f, BUF, sizeof(buf), 5));
	bfx_destroy(f);
}

/* DMA_ATTR_SKIP_CPU_SYNC on the unmap: the CPU keeps its stale view */
static void test_skip_cpu_sync(void **state)
{
	struct bfx_opts o = { .non_coherent = true };
	struct bfx *f = bfx_create(&o);
	u8 buf[256];
	dma_addr_t a;

	(void)state;
	bfx_fill(f, BUF, sizeof(buf), 6);
	a = dma_map_phys(f->dev, BUF, sizeof(buf), DMA_FROM_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	buf_fill(buf, sizeof(buf), 7);
	assert_int_equal(dml_dev_dma_write(f->dev, a, buf, sizeof(buf)), 0);
	dma_unmap_phys(f->dev, a, sizeof(buf), DMA_FROM_DEVICE,
		       DMA_ATTR_SKIP_CPU_SYNC);
	assert_true(bfx_check(f, BUF, sizeof(buf), 6));
	bfx_destroy(f);
}

/*
 * Maintenance is per 64-byte line.  A line the buffer shares with other
 * data: if the CPU left it clean, the device's bytes in it come back; if
 * the CPU dirtied it while mapped, the invalidate writes the line back
 * first (arm64 cleans partial lines), so the CPU's neighbour survives and
 * the device's bytes in that line are lost - why DMA buffers must not
 * share cache lines.  A dirty line inside the buffer is discarded.
 */
static void test_partial_lines(void **state)
{
	struct bfx_opts o = { .non_coherent = true };
	struct bfx *f = bfx_create(&o);
	u8 *cpu = dml_kmap_local_phys(f->p, BUF, 512);
	u8 buf[128];
	dma_addr_t a;

	(void)state;
	memset(cpu, 0x10, 512);
	cpu[90] = 0xaa;		/* before the map: the map cleans it */
	/* [BUF + 96, +128) shares lines 64..127 and 192..255 */
	a = dma_map_phys(f->dev, BUF + 96, 128, DMA_FROM_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	cpu[150] = 0xcc;	/* inside the buffer while mapped: a bug */
	cpu[230] = 0xbb;	/* a neighbour in the last line, while mapped */
	memset(buf, 0x20, sizeof(buf));
	assert_int_equal(dml_dev_dma_write(f->dev, a, buf, sizeof(buf)), 0);
	dma_unmap_phys(f->dev, a, 128, DMA_FROM_DEVICE, 0);
	assert_int_equal(cpu[90], 0xaa);
	assert_true(buf_is(cpu + 96, 32, 0x20));	/* clean shared line */
	assert_true(buf_is(cpu + 128, 64, 0x20));	/* 0xcc discarded */
	assert_int_equal(cpu[230], 0xbb);
	assert_true(buf_is(cpu + 192, 32, 0x10));	/* lost to the write-back */
	assert_int_equal(cpu[224], 0x10);
	bfx_destroy(f);
}

/* dma-direct without a map: the device reads memory, not the CPU cache */
static void test_unmapped_dma_sees_memory(void **state)
{
	struct bfx_opts o = { .non_coherent = true };
	struct bfx *f = bfx_create(&o);
	u8 buf[64];

	(void)state;
	dml_test_expect_dma_debug(DML_DMA_DEBUG_DEV_NOT_MAPPED);
	bfx_fill(f, BUF, sizeof(buf), 8);
	assert_int_equal(dml_dev_dma_read(f->dev, BUF, buf, sizeof(buf)), 0);
	assert_true(buf_is(buf, sizeof(buf), 0));
	bfx_destroy(f);
}

/* a coherent device on the same machine never needs a sync */
static void test_coherent_device_unaffected(void **state)
{
	struct bfx *f = bfx_create(NULL);
	u8 buf[512];
	dma_addr_t a;

	(void)state;
	a = dma_map_phys(f->dev, BUF, sizeof(buf), DMA_BIDIRECTIONAL, 0);
	assert_false(dma_mapping_error(f->dev, a));
	assert_false(dml_test_need_unmap_unchecked(f->dev));
	bfx_fill(f, BUF, sizeof(buf), 9);
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, sizeof(buf)), 0);
	assert_true(buf_check(buf, sizeof(buf), 9));
	buf_fill(buf, sizeof(buf), 10);
	assert_int_equal(dml_dev_dma_write(f->dev, a, buf, sizeof(buf)), 0);
	assert_true(bfx_check(f, BUF, sizeof(buf), 10));
	dma_unmap_phys(f->dev, a, sizeof(buf), DMA_BIDIRECTIONAL, 0);
	bfx_destroy(f);
}

/* coherent memory on a non-coherent device: uncached, no sync needed */
static void test_coherent_memory_is_uncached(void **state)
{
	struct bfx_opts o = { .non_coherent = true };
	struct bfx *f = bfx_create(&o);
	struct dma_pool *pool;
	u8 buf[64], *blk;
	dma_addr_t h, hb;
	u8 *va;

	(void)state;
	va = dma_alloc_coherent(f->dev, G, &h, GFP_KERNEL);
	assert_non_null(va);
	memset(va, 0x31, 64);
	assert_int_equal(dml_dev_dma_read(f->dev, h, buf, 64), 0);
	assert_true(buf_is(buf, 64, 0x31));
	memset(buf, 0x32, 64);
	assert_int_equal(dml_dev_dma_write(f->dev, h + 128, buf, 64), 0);
	assert_true(buf_is(va + 128, 64, 0x32));
	dma_free_coherent(f->dev, G, va, h);

	/* dma_pool blocks come from the same memory */
	pool = dma_pool_create("nc", f->dev, 64, 64, 0);
	blk = dma_pool_zalloc(pool, GFP_KERNEL, &hb);
	memset(blk, 0x35, 64);
	assert_int_equal(dml_dev_dma_read(f->dev, hb, buf, 64), 0);
	assert_true(buf_is(buf, 64, 0x35));
	dma_pool_free(pool, blk, hb);
	dma_pool_destroy(pool);
	bfx_destroy(f);
}

/* behind an IOMMU: map and unmap, dma_sync_* translate per granule */
static void test_iommu_noncoherent(void **state)
{
	struct bfx_opts o = { .iommu = true, .non_coherent = true };
	struct bfx *f = bfx_create(&o);
	u8 buf[2 * G];
	dma_addr_t a;

	(void)state;
	bfx_fill(f, BUF + 0x100, sizeof(buf), 11);
	a = dma_map_phys(f->dev, BUF + 0x100, sizeof(buf), DMA_BIDIRECTIONAL, 0);
	assert_false(dma_mapping_error(f->dev, a));
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, sizeof(buf)), 0);
	assert_true(buf_check(buf, sizeof(buf), 11));
	bfx_fill(f, BUF + 0x100, sizeof(buf), 12);
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, sizeof(buf)), 0);
	assert_true(buf_check(buf, sizeof(buf), 11));		/* stale */
	dma_sync_single_for_device(f->dev, a, sizeof(buf), DMA_BIDIRECTIONAL);
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, sizeof(buf)), 0);
	assert_true(buf_check(buf, sizeof(buf), 12));
	buf_fill(buf, sizeof(buf), 13);
	assert_int_equal(dml_dev_dma_write(f->dev, a, buf, sizeof(buf)), 0);
	assert_true(bfx_check(f, BUF + 0x100, sizeof(buf), 12));	/* stale */
	dma_unmap_phys(f->dev, a, sizeof(buf), DMA_BIDIRECTIONAL, 0);
	assert_true(bfx_check(f, BUF + 0x100, sizeof(buf), 13));
	bfx_destroy(f);
}

/* the two-step API: link cleans, unlink/destroy invalidate */
static void test_two_step_noncoherent(void **state)
{
	struct bfx_opts o = { .iommu = true, .non_coherent = true };
	struct bfx *f = bfx_create(&o);
	struct dma_iova_state st;
	u8 buf[3 * G];

	(void)state;
	bfx_fill(f, BUF, sizeof(buf), 14);
	assert_true(dma_iova_try_alloc(f->dev, &st, BUF, sizeof(buf)));
	assert_int_equal(dma_iova_link(f->dev, &st, BUF, 0, G, DMA_BIDIRECTIONAL, 0), 0);
	/* a CPU write between links reaches the device only if linked after */
	bfx_fill(f, BUF, sizeof(buf), 15);
	assert_int_equal(dma_iova_link(f->dev, &st, BUF + G, G, 2 * G,
				       DMA_BIDIRECTIONAL, 0), 0);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, sizeof(buf)), 0);
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr, buf, sizeof(buf)), 0);
	assert_true(buf_check_at(buf, 0, G, 14));		/* stale */
	assert_true(buf_check_at(buf + G, G, 2 * G, 15));
	buf_fill(buf, sizeof(buf), 16);
	assert_int_equal(dml_dev_dma_write(f->dev, st.addr, buf, sizeof(buf)), 0);
	assert_true(bfx_check(f, BUF, sizeof(buf), 15));	/* stale */
	assert_int_equal(dma_iova_unlink(f->dev, &st, 0, G, DMA_BIDIRECTIONAL, 0), 0);
	assert_true(buf_check_at(dml_kmap_local_phys(f->p, BUF, G), 0, G, 16));
	assert_true(buf_check_at(dml_kmap_local_phys(f->p, BUF + G, G), G, G, 15));
	assert_int_equal(dma_iova_unlink(f->dev, &st, G, 2 * G, DMA_BIDIRECTIONAL, 0), 0);
	assert_true(bfx_check(f, BUF, sizeof(buf), 16));
	dma_iova_free(f->dev, &st);
	bfx_destroy(f);
}

/* scatterlists: dma_sync_sg_* over each entry */
static void test_sg_noncoherent(void **state)
{
	struct bfx_opts o = { .iommu = true, .non_coherent = true };
	struct bfx *f = bfx_create(&o);
	struct scatterlist sg[2];
	u8 buf[G];

	(void)state;
	sg_init_table(sg, 2);
	sg_set_phys(&sg[0], BUF, G);
	sg_set_phys(&sg[1], BUF + 8 * G, G);
	bfx_fill(f, BUF, G, 17);
	bfx_fill(f, BUF + 8 * G, G, 18);
	assert_int_equal(dma_map_sg(f->dev, sg, 2, DMA_BIDIRECTIONAL), 1);
	bfx_fill(f, BUF + 8 * G, G, 19);
	assert_int_equal(dml_dev_dma_read(f->dev, sg_dma_address(&sg[0]) + G, buf, G), 0);
	assert_true(buf_check(buf, G, 18));			/* stale */
	dma_sync_sg_for_device(f->dev, sg, 2, DMA_BIDIRECTIONAL);
	assert_int_equal(dml_dev_dma_read(f->dev, sg_dma_address(&sg[0]) + G, buf, G), 0);
	assert_true(buf_check(buf, G, 19));
	buf_fill(buf, G, 20);
	assert_int_equal(dml_dev_dma_write(f->dev, sg_dma_address(&sg[0]), buf, G), 0);
	assert_true(bfx_check(f, BUF, G, 17));			/* stale */
	dma_sync_sg_for_cpu(f->dev, sg, 2, DMA_BIDIRECTIONAL);
	assert_true(bfx_check(f, BUF, G, 20));
	dma_unmap_sg(f->dev, sg, 2, DMA_BIDIRECTIONAL);
	bfx_destroy(f);
}

/* swiotlb on a non-coherent device: bounce buffers are cleaned too */
static void test_bounce_noncoherent(void **state)
{
	struct bfx_opts o = { .force_bounce = true, .non_coherent = true };
	struct bfx *f = bfx_create(&o);
	u8 buf[1000];
	dma_addr_t a;

	(void)state;
	bfx_fill(f, BUF, sizeof(buf), 21);
	a = dma_map_phys(f->dev, BUF, sizeof(buf), DMA_BIDIRECTIONAL, 0);
	assert_false(dma_mapping_error(f->dev, a));
	assert_true(bfx_in_pool(f, a));
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, sizeof(buf)), 0);
	assert_true(buf_check(buf, sizeof(buf), 21));
	buf_fill(buf, sizeof(buf), 22);
	assert_int_equal(dml_dev_dma_write(f->dev, a, buf, sizeof(buf)), 0);
	dma_unmap_phys(f->dev, a, sizeof(buf), DMA_BIDIRECTIONAL, 0);
	assert_true(bfx_check(f, BUF, sizeof(buf), 22));
	bfx_destroy(f);
}

/* creating a non-coherent device with memory failing: a clean -ENOMEM */
static void test_fail_nth_device(void **state)
{
	struct dml_device_opts dop = {
		.size = DML_SIZEOF(&dop, non_coherent),
		.non_coherent = true,
	};
	struct dml_platform *p;
	struct dml_device *dev = NULL;
	long n;
	int ret;

	(void)state;
	for (n = 1;; n++) {
		assert_int_equal(dml_platform_create_emu(NULL, &p), 0);
		dml_fail_nth(n);
		ret = dml_device_create(p, &dop, &dev);
		if (!dml_fail_nth_hit())
			break;
		dml_fail_nth(0);
		assert_int_equal(ret, -ENOMEM);
		dml_platform_destroy(p);
	}
	dml_fail_nth(0);
	assert_int_equal(ret, 0);
	assert_true(n > 1);
	dml_platform_destroy(p);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_to_device_needs_sync),
	cmocka_unit_test(test_from_device_needs_sync),
	cmocka_unit_test(test_skip_cpu_sync),
	cmocka_unit_test(test_partial_lines),
	cmocka_unit_test(test_unmapped_dma_sees_memory),
	cmocka_unit_test(test_coherent_device_unaffected),
	cmocka_unit_test(test_coherent_memory_is_uncached),
	cmocka_unit_test(test_iommu_noncoherent),
	cmocka_unit_test(test_two_step_noncoherent),
	cmocka_unit_test(test_sg_noncoherent),
	cmocka_unit_test(test_bounce_noncoherent),
	cmocka_unit_test(test_fail_nth_device),
};

DML_TEST_MAIN(tests)
