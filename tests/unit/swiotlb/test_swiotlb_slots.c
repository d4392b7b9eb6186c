/* SPDX-License-Identifier: MIT */
/*
 * test_swiotlb_slots.c - where the pool keeps a mapping's metadata (its
 * first data slot only, src/dma/swiotlb.c): syncs that start in a later
 * slot still find their mapping and its original (shared/reference/
 * kernel-dma-semantics.md §5, swiotlb_bounce()).
 */
#include "bfx.h"

#define LOW 0x10000000ULL	/* a buffer well below the pool */

/*
 * Range syncs in the later slots of a mapping that follows another in the
 * pool (§5: "sync_single_for_cpu/device copy only the range asked for";
 * swiotlb_bounce() finds the original from any address inside the
 * mapping): each moves exactly its bytes, between this mapping and its own
 * original; a range past the mapping's end is cut to it ("Buffer overflow
 * detected").
 */
static void test_sync_range_later_slots(void **state)
{
	struct bfx_opts o = { .force_bounce = true };
	struct bfx *f = bfx_create(&o);
	const size_t len = 5 * 2048;
	u8 *buf = malloc(len), *orig;
	dma_addr_t first, a;

	(void)state;
	assert_non_null(buf);
	bfx_fill(f, LOW + 3 * G, 3000, 1);
	first = dma_map_phys(f->dev, LOW + 3 * G, 3000, DMA_BIDIRECTIONAL, 0);
	assert_false(dma_mapping_error(f->dev, first));
	bfx_fill(f, LOW + 100, len, 2);
	a = dma_map_phys(f->dev, LOW + 100, len, DMA_BIDIRECTIONAL, 0);
	assert_false(dma_mapping_error(f->dev, a));
	assert_true(a > first);

	/* the device writes seed 3; a sync of [7000, +300) brings only that */
	buf_fill(buf, len, 3);
	assert_int_equal(dml_dev_dma_write(f->dev, a, buf, len), 0);
	dma_sync_single_range_for_cpu(f->dev, a, 7000, 300, DMA_FROM_DEVICE);
	orig = dml_kmap_local_phys(f->p, LOW + 100, len);
	assert_memory_equal(orig + 7000, buf + 7000, 300);
	assert_int_equal(orig[6999], bfx_byte(6999, 2));
	assert_int_equal(orig[7300], bfx_byte(7300, 2));

	/* the CPU writes seed 4; a sync of [9000, +1240) sends only that */
	bfx_fill(f, LOW + 100, len, 4);
	dma_sync_single_range_for_device(f->dev, a, 9000, 1240, DMA_TO_DEVICE);
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, len), 0);
	assert_int_equal(buf[8999], bfx_byte(8999, 3));
	assert_int_equal(buf[9000], bfx_byte(9000, 4));
	assert_int_equal(buf[len - 1], bfx_byte(len - 1, 4));

	/* past the end (the checker says so too): cut to the mapping */
	dml_test_expect_dma_debug(DML_DMA_DEBUG_SYNC_OUTSIDE);
	bfx_fill(f, LOW + 100, len, 5);
	dma_sync_single_range_for_device(f->dev, a, len - 40, 100, DMA_TO_DEVICE);
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, len), 0);
	assert_int_equal(buf[len - 41], bfx_byte(len - 41, 4));
	assert_int_equal(buf[len - 40], bfx_byte(len - 40, 5));
	assert_int_equal(buf[len - 1], bfx_byte(len - 1, 5));
	assert_int_equal(dml_dev_dma_read(f->dev, first, buf, 3000), 0);
	assert_true(buf_check(buf, 3000, 1));

	dma_unmap_phys(f->dev, a, len, DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
	dma_unmap_phys(f->dev, first, 3000, DMA_BIDIRECTIONAL, 0);
	assert_int_equal(bfx_sw(f).used, 0);
	free(buf);
	bfx_destroy(f);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_sync_range_later_slots),
};

DML_TEST_MAIN(tests)
