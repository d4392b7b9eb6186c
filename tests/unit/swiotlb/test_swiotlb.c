/* SPDX-License-Identifier: MIT */
/*
 * test_swiotlb.c - bounce buffering against shared/reference/
 * kernel-dma-semantics.md §5 and §9 items 7 (two-step swiotlb path),
 * 14 (dma-direct overflow) and 20 (the pool's rules); each test names the
 * item it checks.  Every transfer is a real one by the emulated device.
 */
#include <pthread.h>

#include "bfx.h"

#define LOW 0x10000000ULL	/* a buffer well below the pool */

/* ------------------------------------------------------------------ */
/* §9.14: dma-direct beyond the mask                                   */
/* ------------------------------------------------------------------ */

/* §9.14: an address beyond the mask is bounced when swiotlb is active */
static void test_9_14_overflow_bounces(void **state)
{
	struct bfx_opts o = { .dma_mask = DMA_BIT_MASK(32) };
	struct bfx *f = bfx_create(&o);
	const phys_addr_t hi = 0x100000000ULL + 0x3000;
	u8 buf[8192];
	dma_addr_t a;

	(void)state;
	/* the CPU peeks at a DMA_FROM_DEVICE buffer to show it is not back */
	dml_test_expect_dma_debug(DML_DMA_DEBUG_CPU_DEVICE_OWNED);
	assert_int_equal(dml_ram_add(f->p, 0x100000000ULL, 1ULL << 30, 0), 0);
	assert_false(dml_test_need_unmap_unchecked(f->dev));
	bfx_fill(f, hi, sizeof(buf), 1);

	/* to the device: the bounce buffer holds the data, below the mask */
	a = dma_map_phys(f->dev, hi, sizeof(buf), DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	assert_true(a != hi && a + sizeof(buf) - 1 <= DMA_BIT_MASK(32));
	assert_true(bfx_in_pool(f, a));
	/* §1.4: a direct device that bounced must keep its addresses */
	assert_true(dml_test_need_unmap_unchecked(f->dev));
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, sizeof(buf)), 0);
	assert_true(buf_check(buf, sizeof(buf), 1));
	assert_int_equal(bfx_sw(f).used, 4);
	dma_unmap_phys(f->dev, a, sizeof(buf), DMA_TO_DEVICE, 0);
	assert_int_equal(bfx_sw(f).used, 0);

	/* from the device: the unmap copies the bounce buffer back */
	a = dma_map_phys(f->dev, hi, sizeof(buf), DMA_FROM_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	buf_fill(buf, sizeof(buf), 2);
	assert_int_equal(dml_dev_dma_write(f->dev, a, buf, sizeof(buf)), 0);
	assert_true(bfx_check(f, hi, sizeof(buf), 1));	/* not yet */
	dma_unmap_phys(f->dev, a, sizeof(buf), DMA_FROM_DEVICE, 0);
	assert_true(bfx_check(f, hi, sizeof(buf), 2));

	/* an address within the mask is not bounced */
	a = dma_map_phys(f->dev, LOW, G, DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	assert_int_equal(a, LOW);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	assert_int_equal(bfx_sw(f).used, 0);
	assert_int_equal(bfx_sw(f).maps, 2);
	bfx_destroy(f);
}

/* §9.14: no swiotlb: the overflow is an error with the kernel's message */
static void test_9_14_overflow_without_swiotlb(void **state)
{
	struct bfx_opts o = { .dma_mask = DMA_BIT_MASK(32), .swiotlb_off = true };
	struct bfx *f = bfx_create(&o);
	struct dml_swiotlb_stats st;

	(void)state;
	assert_int_equal(dml_ram_add(f->p, 0x100000000ULL, 1ULL << 30, 0), 0);
	assert_int_equal(dma_map_phys(f->dev, 0x100000000ULL, G, DMA_TO_DEVICE, 0),
			 DMA_MAPPING_ERROR);
	assert_non_null(strstr(dml_test_log.last, "overflow"));
	assert_int_equal(dml_swiotlb_get_stats(f->p, &st), -ENODEV);
	assert_int_equal(dma_max_mapping_size(f->dev), SIZE_MAX);
	assert_false(dml_test_need_unmap_unchecked(f->dev));
	bfx_destroy(f);
}

/* force_bounce: every mapping bounces; MMIO cannot be bounced (§9.12) */
static void test_force_bounce(void **state)
{
	struct bfx_opts o = { .force_bounce = true };
	struct bfx *f = bfx_create(&o);
	u8 buf[300];
	dma_addr_t a;

	(void)state;
	assert_int_equal(dml_mmio_add(f->p, 0x200000000ULL, 1 << 20, "bar"), 0);
	/* §1.4: every mapping bounces, so addresses must be kept from the start */
	assert_true(dml_test_need_unmap_unchecked(f->dev));
	bfx_fill(f, LOW + 5, sizeof(buf), 3);
	a = dma_map_phys(f->dev, LOW + 5, sizeof(buf), DMA_BIDIRECTIONAL, 0);
	assert_false(dma_mapping_error(f->dev, a));
	assert_true(bfx_in_pool(f, a));
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, sizeof(buf)), 0);
	assert_true(buf_check(buf, sizeof(buf), 3));
	dma_unmap_phys(f->dev, a, sizeof(buf), DMA_BIDIRECTIONAL, 0);
	assert_int_equal(dma_map_phys(f->dev, 0x200000000ULL, G, DMA_TO_DEVICE,
				      DMA_ATTR_MMIO), DMA_MAPPING_ERROR);
	assert_int_equal(dma_map_resource(f->dev, 0x200000000ULL, G,
					  DMA_TO_DEVICE, 0), DMA_MAPPING_ERROR);
	assert_int_equal(dma_max_mapping_size(f->dev), 128 * 2048);
	assert_int_equal(bfx_sw(f).used, 0);
	bfx_destroy(f);
}

/* ------------------------------------------------------------------ */
/* §9.20 and §5: the pool's rules                                      */
/* ------------------------------------------------------------------ */

/*
 * §9.20 always copy on map: a FROM_DEVICE bounce buffer starts as a copy
 * of the original, so bytes the device does not write come back unchanged
 */
static void test_9_20_always_copy_on_map(void **state)
{
	struct bfx_opts o = { .force_bounce = true };
	struct bfx *f = bfx_create(&o);
	u8 *cpu = dml_kmap_local_phys(f->p, LOW, 2 * G);
	u8 part[100];
	dma_addr_t a;

	(void)state;
	bfx_fill(f, LOW, 2 * G, 4);
	a = dma_map_phys(f->dev, LOW, 2 * G, DMA_FROM_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	/* the bounce buffer holds the original already */
	assert_true(buf_check(dml_kmap_local_phys(f->p, a, 2 * G), 2 * G, 4));
	memset(part, 0xee, sizeof(part));
	assert_int_equal(dml_dev_dma_write(f->dev, a + 1000, part, sizeof(part)), 0);
	dma_unmap_phys(f->dev, a, 2 * G, DMA_FROM_DEVICE, 0);
	assert_true(buf_is(cpu + 1000, sizeof(part), 0xee));
	assert_true(buf_check_at(cpu, 0, 1000, 4));
	assert_true(buf_check_at(cpu + 1100, 1100, 2 * G - 1100, 4));
	bfx_destroy(f);
}

/* §9.20 min_align_mask: the bounce address keeps the masked bits */
static void test_9_20_min_align_mask(void **state)
{
	struct bfx_opts o = { .force_bounce = true, .min_align_mask = 0xfff };
	struct bfx *f = bfx_create(&o);
	static const u64 offs[] = { 0x0, 0x8, 0x234, 0x800, 0xa10, 0xfff };
	unsigned int i;
	dma_addr_t a;

	(void)state;
	assert_int_equal(dma_get_min_align_mask(f->dev), 0xfff);
	/* swiotlb_max_mapping_size(): 256 KiB less the rounded mask */
	assert_int_equal(dma_max_mapping_size(f->dev), 256 * 1024 - 4096);
	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		a = dma_map_phys(f->dev, LOW + offs[i], 3000, DMA_TO_DEVICE, 0);
		assert_false(dma_mapping_error(f->dev, a));
		assert_int_equal(a & 0xfff, offs[i]);
		dma_unmap_phys(f->dev, a, 3000, DMA_TO_DEVICE, 0);
	}
	/* a mask above a slot: bits above 2 KiB come from the slot choice */
	assert_int_equal(dma_set_min_align_mask(f->dev, 0x3fff), 0);
	for (i = 0; i < 4; i++) {
		phys_addr_t orig = LOW + 0x2a34 + i * 0x1000;

		a = dma_map_phys(f->dev, orig, 5000, DMA_BIDIRECTIONAL, 0);
		assert_false(dma_mapping_error(f->dev, a));
		assert_int_equal(a & 0x3fff, orig & 0x3fff);
		dma_unmap_phys(f->dev, a, 5000, DMA_BIDIRECTIONAL, 0);
	}
	/* the largest mapping the mask allows still fits, worst offset */
	assert_int_equal(dma_max_mapping_size(f->dev), 256 * 1024 - 16384);
	a = dma_map_phys(f->dev, LOW + 0x3fff, 256 * 1024 - 16384,
			 DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	dma_unmap_phys(f->dev, a, 256 * 1024 - 16384, DMA_TO_DEVICE, 0);
	assert_int_equal(bfx_sw(f).used, 0);
	bfx_destroy(f);
}

/* §9.20 alloc_align_mask: the allocation is aligned to the mask + 1 */
static void test_9_20_alloc_align_mask(void **state)
{
	struct bfx_opts o = { .force_bounce = true };
	struct bfx *f = bfx_create(&o);
	phys_addr_t t[8];
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		/* 600 bytes at offset 0x123: offset kept under the mask */
		t[i] = dml__swiotlb_tbl_map_single(f->dev, LOW + 0x123, 600,
						   0x3fff, 0x3fff, DMA_TO_DEVICE, 0);
		assert_true(t[i] != (phys_addr_t)DMA_MAPPING_ERROR);
		assert_int_equal(t[i] & 0x3fff, 0x123);
	}
	for (i = 0; i < ARRAY_SIZE(t); i++)
		dml__swiotlb_tbl_unmap_single(f->dev, t[i], 600, DMA_TO_DEVICE, 0);
	/* without min_align_mask the data starts at the aligned slot */
	t[0] = dml__swiotlb_tbl_map_single(f->dev, LOW + 0x123, 600, 0xffff, 0,
					   DMA_TO_DEVICE, 0);
	assert_int_equal(t[0] & 0xffff, 0);
	dml__swiotlb_tbl_unmap_single(f->dev, t[0], 600, DMA_TO_DEVICE, 0);
	assert_int_equal(bfx_sw(f).used, 0);
	bfx_destroy(f);
}

/* §5 (c): with neither mask, a mapping of a page or more is page aligned */
static void test_9_20_page_alignment(void **state)
{
	struct bfx_opts o = { .force_bounce = true };
	struct bfx *f = bfx_create(&o);
	dma_addr_t small1, small2, big;

	(void)state;
	small1 = dma_map_phys(f->dev, LOW, 2048, DMA_TO_DEVICE, 0);
	small2 = dma_map_phys(f->dev, LOW, 1000, DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, small1));
	assert_false(dma_mapping_error(f->dev, small2));
	/* sub-page mappings are slot aligned only: the second follows */
	assert_int_equal(small2, small1 + 2048);
	assert_int_equal(small2 & (G - 1), 2048);
	big = dma_map_phys(f->dev, LOW + 0x10, G, DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, big));
	assert_int_equal(big & (G - 1), 0);
	dma_unmap_phys(f->dev, big, G, DMA_TO_DEVICE, 0);
	dma_unmap_phys(f->dev, small2, 1000, DMA_TO_DEVICE, 0);
	dma_unmap_phys(f->dev, small1, 2048, DMA_TO_DEVICE, 0);
	assert_int_equal(bfx_sw(f).used, 0);
	bfx_destroy(f);
}

/* §9.20 boundary mask: no bounce buffer crosses the segment boundary */
static void test_9_20_segment_boundary(void **state)
{
	struct bfx_opts o = { .force_bounce = true, .seg_boundary_mask = 0xffff };
	struct bfx *f = bfx_create(&o);
	dma_addr_t a[16], first;
	unsigned int i;

	(void)state;
	first = dma_map_phys(f->dev, LOW, 32 * 1024, DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, first));
	assert_int_equal(first & 0xffff, 0);
	for (i = 0; i < ARRAY_SIZE(a); i++) {
		a[i] = dma_map_phys(f->dev, LOW, 48 * 1024, DMA_TO_DEVICE, 0);
		assert_false(dma_mapping_error(f->dev, a[i]));
		assert_int_equal(a[i] >> 16, (a[i] + 48 * 1024 - 1) >> 16);
	}
	/* the first 48 KiB could not go right after the 32 KiB one */
	assert_int_equal(a[0], first + 0x10000);
	/* larger than the boundary: never fits */
	assert_int_equal(dma_map_phys(f->dev, LOW, 0x10000 + 1, DMA_TO_DEVICE,
				      DMA_ATTR_NO_WARN), DMA_MAPPING_ERROR);
	for (i = 0; i < ARRAY_SIZE(a); i++)
		dma_unmap_phys(f->dev, a[i], 48 * 1024, DMA_TO_DEVICE, 0);
	dma_unmap_phys(f->dev, first, 32 * 1024, DMA_TO_DEVICE, 0);
	assert_int_equal(bfx_sw(f).used, 0);
	bfx_destroy(f);
}

/* §9.20 128-slot cap: 256 KiB is the largest mapping */
static void test_9_20_128_slot_cap(void **state)
{
	struct bfx_opts o = { .force_bounce = true };
	struct bfx *f = bfx_create(&o);
	dma_addr_t a;

	(void)state;
	a = dma_map_phys(f->dev, LOW, 256 * 1024, DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	assert_int_equal(bfx_sw(f).used, 128);
	dma_unmap_phys(f->dev, a, 256 * 1024, DMA_TO_DEVICE, 0);
	dml_test_log_reset();
	a = dma_map_phys(f->dev, LOW, 256 * 1024 + 1, DMA_TO_DEVICE, 0);
	assert_int_equal(a, DMA_MAPPING_ERROR);
	assert_non_null(strstr(dml_test_log.last, "swiotlb buffer is full (sz: 262145 bytes)"));
	assert_int_equal(bfx_sw(f).used, 0);
	bfx_destroy(f);
}

/* §9.20 full pool: the kernel's message and an error; NO_WARN is quiet */
static void test_9_20_full_pool(void **state)
{
	struct bfx_opts o = { .force_bounce = true, .swiotlb_size = 2ULL << 20 };
	struct bfx *f = bfx_create(&o);
	dma_addr_t a[8];
	unsigned int i;

	(void)state;
	assert_int_equal(bfx_sw(f).nslabs, 1024);
	for (i = 0; i < 8; i++) {
		a[i] = dma_map_phys(f->dev, LOW, 256 * 1024, DMA_TO_DEVICE, 0);
		assert_false(dma_mapping_error(f->dev, a[i]));
	}
	dml_test_log_reset();
	assert_int_equal(dma_map_phys(f->dev, LOW, 2048, DMA_TO_DEVICE, 0),
			 DMA_MAPPING_ERROR);
	assert_int_equal(dml_test_log.count, 1);
	assert_string_equal(dml_test_log.last,
			    "bfxdev: swiotlb buffer is full (sz: 2048 bytes), total 1024 (slots), used 1024 (slots)");
	assert_int_equal(dma_map_phys(f->dev, LOW, 2048, DMA_TO_DEVICE,
				      DMA_ATTR_NO_WARN), DMA_MAPPING_ERROR);
	assert_int_equal(dml_test_log.count, 1);
	assert_int_equal(bfx_sw(f).full, 2);
	for (i = 0; i < 8; i++)
		dma_unmap_phys(f->dev, a[i], 256 * 1024, DMA_TO_DEVICE, 0);
	assert_int_equal(bfx_sw(f).used, 0);
	/* and the space is usable again */
	a[0] = dma_map_phys(f->dev, LOW, 256 * 1024, DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a[0]));
	dma_unmap_phys(f->dev, a[0], 256 * 1024, DMA_TO_DEVICE, 0);
	bfx_destroy(f);
}

/* a bad unmap address is reported and frees nothing */
static void test_unmap_not_a_bounce_buffer(void **state)
{
	struct bfx_opts o = { .force_bounce = true };
	struct bfx *f = bfx_create(&o);
	dma_addr_t a;

	(void)state;
	dml_test_expect_dma_debug(DML_DMA_DEBUG_FREE_NOT_ALLOCATED);
	a = dma_map_phys(f->dev, LOW, 3 * G, DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	dml_test_log_reset();
	dma_unmap_phys(f->dev, a + G, 2 * G, DMA_TO_DEVICE, 0);
	assert_non_null(strstr(dml_test_log.last, "does not start a bounce buffer"));
	assert_int_equal(bfx_sw(f).used, 6);
	dma_unmap_phys(f->dev, a, 3 * G, DMA_TO_DEVICE, 0);
	dma_unmap_phys(f->dev, a, 3 * G, DMA_TO_DEVICE, 0);	/* twice */
	assert_non_null(strstr(dml_test_log.last, "does not start a bounce buffer"));
	assert_int_equal(bfx_sw(f).used, 0);
	bfx_destroy(f);
}

/* ------------------------------------------------------------------ */
/* Syncs on bounce buffers                                             */
/* ------------------------------------------------------------------ */

/* sync_for_device copies in, sync_for_cpu copies back (§5 data movement) */
static void test_sync_single_bounce(void **state)
{
	struct bfx_opts o = { .force_bounce = true };
	struct bfx *f = bfx_create(&o);
	u8 buf[1500];
	dma_addr_t a;

	(void)state;
	bfx_fill(f, LOW + 100, sizeof(buf), 5);
	a = dma_map_phys(f->dev, LOW + 100, sizeof(buf), DMA_BIDIRECTIONAL, 0);
	assert_false(dma_mapping_error(f->dev, a));
	/* the CPU changes the buffer: the device sees it only after a sync */
	bfx_fill(f, LOW + 100, sizeof(buf), 6);
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, sizeof(buf)), 0);
	assert_true(buf_check(buf, sizeof(buf), 5));
	dma_sync_single_for_device(f->dev, a, sizeof(buf), DMA_BIDIRECTIONAL);
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, sizeof(buf)), 0);
	assert_true(buf_check(buf, sizeof(buf), 6));
	/* the device writes: the CPU sees it only after a sync */
	buf_fill(buf, sizeof(buf), 7);
	assert_int_equal(dml_dev_dma_write(f->dev, a, buf, sizeof(buf)), 0);
	assert_true(bfx_check(f, LOW + 100, sizeof(buf), 6));
	dma_sync_single_for_cpu(f->dev, a, sizeof(buf), DMA_BIDIRECTIONAL);
	assert_true(bfx_check(f, LOW + 100, sizeof(buf), 7));
	/* a partial range sync moves only that part */
	buf_fill(buf, sizeof(buf), 8);
	assert_int_equal(dml_dev_dma_write(f->dev, a, buf, sizeof(buf)), 0);
	dma_sync_single_range_for_cpu(f->dev, a, 500, 100, DMA_FROM_DEVICE);
	assert_memory_equal(dml_kmap_local_phys(f->p, LOW + 600, 100), buf + 500, 100);
	assert_int_equal(((u8 *)dml_kmap_local_phys(f->p, LOW + 100, 1))[0],
			 bfx_byte(0, 7));
	/* SKIP_CPU_SYNC: the unmap copies nothing back */
	dma_unmap_phys(f->dev, a, sizeof(buf), DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
	assert_int_equal(((u8 *)dml_kmap_local_phys(f->p, LOW + 100, 1))[0],
			 bfx_byte(0, 7));
	assert_int_equal(bfx_sw(f).used, 0);
	bfx_destroy(f);
}

/* scatterlists on a force-bounce direct device: per entry, data intact */
static void test_sg_bounce_direct(void **state)
{
	struct bfx_opts o = { .force_bounce = true };
	struct bfx *f = bfx_create(&o);
	struct scatterlist sg[4];
	u8 buf[3000];
	int i, n;

	(void)state;
	sg_init_table(sg, 4);
	for (i = 0; i < 4; i++) {
		sg_set_phys(&sg[i], LOW + i * 3 * G + 7 * i, 3000);
		bfx_fill(f, sg_phys(&sg[i]), 3000, (u8)(10 + i));
	}
	n = dma_map_sg(f->dev, sg, 4, DMA_BIDIRECTIONAL);
	assert_int_equal(n, 4);
	for (i = 0; i < 4; i++) {
		assert_true(bfx_in_pool(f, sg_dma_address(&sg[i])));
		assert_int_equal(dml_dev_dma_read(f->dev, sg_dma_address(&sg[i]),
						  buf, 3000), 0);
		assert_true(buf_check(buf, 3000, (u8)(10 + i)));
		buf_fill(buf, 3000, (u8)(20 + i));
		assert_int_equal(dml_dev_dma_write(f->dev, sg_dma_address(&sg[i]),
						   buf, 3000), 0);
	}
	dma_sync_sg_for_cpu(f->dev, sg, 4, DMA_BIDIRECTIONAL);
	for (i = 0; i < 4; i++)
		assert_true(bfx_check(f, sg_phys(&sg[i]), 3000, (u8)(20 + i)));
	dma_unmap_sg(f->dev, sg, 4, DMA_BIDIRECTIONAL);
	assert_int_equal(bfx_sw(f).used, 0);
	bfx_destroy(f);
}

/* ------------------------------------------------------------------ */
/* §9.7: the two-step path for untrusted devices                       */
/* ------------------------------------------------------------------ */

/*
 * The devices here keep the granule offset in their bounce buffers
 * (dma_min_align_mask 0xfff, as NVMe sets it): the bounce buffer keeps
 * only the masked bits (iommu_dma_map_swiotlb() passes the granule as the
 * alloc-align mask), so without it an unaligned head cannot be linked.
 */

/* phys 0x...100, 2 granules + 0x300: head 0xf00, middle 0x1000, tail 0x400 */
#define UPHYS (LOW + 0x100)
#define USIZE (2 * G + 0x300)

/*
 * §9.7: untrusted and unaligned: head and tail bounced with their offsets,
 * padding zeroed, the aligned middle linked directly, the flag set
 */
static void test_9_7_link_bounces_head_and_tail(void **state)
{
	struct bfx_opts o = { .iommu = true, .untrusted = true,
				.min_align_mask = 0xfff };
	struct bfx *f = bfx_create(&o);
	struct dma_iova_state st;
	u8 buf[USIZE], pad[G];

	(void)state;
	/* the device reads the padding around the buffer to see zeros */
	dml_test_expect_dma_debug(DML_DMA_DEBUG_DEV_NOT_MAPPED);
	bfx_fill(f, LOW, 4 * G, 30);	/* the neighbours too */
	assert_true(dma_iova_try_alloc(f->dev, &st, UPHYS, USIZE));
	assert_int_equal(dma_iova_link(f->dev, &st, UPHYS, 0, USIZE,
				       DMA_TO_DEVICE, 0), 0);
	assert_true(st.__size & DMA_IOVA_USE_SWIOTLB);
	assert_int_equal(dma_iova_size(&st), USIZE);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, USIZE), 0);

	/* head and tail translate into the pool, same granule offset */
	assert_true(bfx_in_pool(f, bfx_xlate(f, st.addr)));
	assert_int_equal(bfx_xlate(f, st.addr) & (G - 1), 0x100);
	assert_int_equal(bfx_xlate(f, st.addr + 0xf00), LOW + G);
	assert_true(bfx_in_pool(f, bfx_xlate(f, st.addr + 0x1f00)));
	assert_int_equal(bfx_xlate(f, st.addr + 0x1f00) & (G - 1), 0);
	assert_int_equal(bfx_sw(f).maps, 2);

	/* the device reads exactly the original */
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr, buf, USIZE), 0);
	assert_memory_equal(buf, dml_kmap_local_phys(f->p, UPHYS, USIZE), USIZE);
	/* and zeros, not the neighbours' data, in the padding */
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr - 0x100, pad, 0x100), 0);
	assert_true(buf_is(pad, 0x100, 0));
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr + USIZE, pad,
					  G - 0x400), 0);
	assert_true(buf_is(pad, G - 0x400, 0));

	dma_iova_destroy(f->dev, &st, USIZE, DMA_TO_DEVICE, 0);
	assert_int_equal(bfx_sw(f).used, 0);
	assert_int_equal(bfx_faults(f), 0);
	bfx_destroy(f);
}

/*
 * §9.7 + §9.8: a bounced FROM_DEVICE link: destroy copies each bounced
 * granule back, exactly the linked bytes (what the device wrote into the
 * padding never reaches the neighbours)
 */
static void test_9_7_destroy_copies_back(void **state)
{
	struct bfx_opts o = { .iommu = true, .untrusted = true,
				.min_align_mask = 0xfff };
	struct bfx *f = bfx_create(&o);
	struct dma_iova_state st;
	u8 buf[USIZE], junk[0x100];
	u8 *cpu = dml_kmap_local_phys(f->p, LOW, 4 * G);

	(void)state;
	/* the device writes into the padding, which must not leak out */
	dml_test_expect_dma_debug(DML_DMA_DEBUG_DEV_NOT_MAPPED);
	bfx_fill(f, LOW, 4 * G, 31);
	assert_true(dma_iova_try_alloc(f->dev, &st, UPHYS, USIZE));
	assert_int_equal(dma_iova_link(f->dev, &st, UPHYS, 0, USIZE,
				       DMA_FROM_DEVICE, 0), 0);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, USIZE), 0);
	buf_fill(buf, USIZE, 32);
	assert_int_equal(dml_dev_dma_write(f->dev, st.addr, buf, USIZE), 0);
	memset(junk, 0x5a, sizeof(junk));
	assert_int_equal(dml_dev_dma_write(f->dev, st.addr - 0x100, junk, 0x100), 0);
	assert_int_equal(dml_dev_dma_write(f->dev, st.addr + USIZE, junk, 0x100), 0);
	/* before the teardown only the middle granule went in place */
	assert_true(buf_check_at(cpu + 0x100, 0x100, 0xf00, 31));
	assert_memory_equal(cpu + G, buf + 0xf00, G);
	dma_iova_destroy(f->dev, &st, USIZE, DMA_FROM_DEVICE, 0);
	assert_memory_equal(cpu + 0x100, buf, USIZE);
	assert_true(buf_check_at(cpu, 0, 0x100, 31));
	assert_true(buf_check_at(cpu + 0x100 + USIZE, 0x100 + USIZE,
				 4 * G - 0x100 - USIZE, 31));
	assert_int_equal(bfx_sw(f).used, 0);
	assert_false(dma_use_iova(&st));
	bfx_destroy(f);
}

/* §9.8: unlink of a bounced link copies back, frees, and allows a relink */
static void test_9_8_unlink_bounced_then_relink(void **state)
{
	struct bfx_opts o = { .iommu = true, .untrusted = true,
				.min_align_mask = 0xfff };
	struct bfx *f = bfx_create(&o);
	struct dma_iova_state st;
	u8 buf[USIZE];

	(void)state;
	bfx_fill(f, LOW, 4 * G, 33);
	assert_true(dma_iova_try_alloc(f->dev, &st, UPHYS, USIZE));
	assert_int_equal(dma_iova_link(f->dev, &st, UPHYS, 0, USIZE,
				       DMA_BIDIRECTIONAL, 0), 0);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, USIZE), 0);
	buf_fill(buf, USIZE, 34);
	assert_int_equal(dml_dev_dma_write(f->dev, st.addr, buf, USIZE), 0);
	assert_int_equal(dma_iova_unlink(f->dev, &st, 0, USIZE,
					 DMA_BIDIRECTIONAL, 0), 0);
	assert_memory_equal(dml_kmap_local_phys(f->p, UPHYS, USIZE), buf, USIZE);
	assert_int_equal(bfx_sw(f).used, 0);
	assert_int_equal(bfx_xlate(f, st.addr), 0);
	/* the flag stays with the state; the same offsets link again */
	assert_true(st.__size & DMA_IOVA_USE_SWIOTLB);
	assert_int_equal(dma_iova_link(f->dev, &st, UPHYS, 0, USIZE,
				       DMA_BIDIRECTIONAL, 0), 0);
	assert_int_equal(bfx_sw(f).used, 4);
	/* a partial unlink is refused and nothing is released */
	dml_test_expect_dma_debug(DML_DMA_DEBUG_IOVA_SPLIT);
	assert_int_equal(dma_iova_unlink(f->dev, &st, 0, G, DMA_BIDIRECTIONAL, 0),
			 -ENOENT);
	assert_int_equal(bfx_sw(f).used, 4);
	assert_true(bfx_in_pool(f, bfx_xlate(f, st.addr)));
	dma_iova_destroy(f->dev, &st, USIZE, DMA_BIDIRECTIONAL, 0);
	assert_int_equal(bfx_sw(f).used, 0);
	bfx_destroy(f);
}

/* §9.7: only untrusted *and* unaligned bounce; a sub-granule link is one */
static void test_9_7_when_it_bounces(void **state)
{
	struct bfx_opts o = { .iommu = true, .untrusted = true,
				.min_align_mask = 0xfff };
	struct bfx_opts t = { .iommu = true };
	struct bfx *f = bfx_create(&o), *g = bfx_create(&t);
	struct dma_iova_state st;
	u8 buf[200];

	(void)state;
	/* aligned: linked directly, no flag */
	assert_true(dma_iova_try_alloc(f->dev, &st, LOW, 2 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, LOW, 0, 2 * G, DMA_TO_DEVICE, 0), 0);
	assert_false(st.__size & DMA_IOVA_USE_SWIOTLB);
	assert_int_equal(bfx_xlate(f, st.addr), LOW);
	dma_iova_destroy(f->dev, &st, 2 * G, DMA_TO_DEVICE, 0);

	/* trusted and unaligned: linked directly */
	assert_true(dma_iova_try_alloc(g->dev, &st, UPHYS, USIZE));
	assert_int_equal(dma_iova_link(g->dev, &st, UPHYS, 0, USIZE, DMA_TO_DEVICE, 0), 0);
	assert_false(st.__size & DMA_IOVA_USE_SWIOTLB);
	assert_int_equal(bfx_xlate(g, st.addr), UPHYS);
	dma_iova_destroy(g->dev, &st, USIZE, DMA_TO_DEVICE, 0);

	/* within one granule: a single bounce (the head covers it all) */
	bfx_fill(f, LOW + 0x300, sizeof(buf), 35);
	assert_true(dma_iova_try_alloc(f->dev, &st, LOW + 0x300, sizeof(buf)));
	assert_int_equal(dma_iova_link(f->dev, &st, LOW + 0x300, 0, sizeof(buf),
				       DMA_TO_DEVICE, 0), 0);
	assert_true(st.__size & DMA_IOVA_USE_SWIOTLB);
	assert_int_equal(bfx_sw(f).used, 2);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, sizeof(buf)), 0);
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr, buf, sizeof(buf)), 0);
	assert_true(buf_check(buf, sizeof(buf), 35));
	dma_iova_destroy(f->dev, &st, sizeof(buf), DMA_TO_DEVICE, 0);
	assert_int_equal(bfx_sw(f).used, 0);
	bfx_destroy(g);
	bfx_destroy(f);
}

/* §9.7: MMIO that would need a bounce is -EPERM; nothing linked */
static void test_9_7_mmio_eperm(void **state)
{
	struct bfx_opts o = { .iommu = true, .untrusted = true,
				.min_align_mask = 0xfff };
	struct bfx *f = bfx_create(&o);
	const phys_addr_t bar = 0x200000000ULL;
	struct dma_iova_state st;

	(void)state;
	assert_int_equal(dml_mmio_add(f->p, bar, 1 << 20, "bar"), 0);
	assert_true(dma_iova_try_alloc(f->dev, &st, bar + 0x80, G));
	assert_int_equal(dma_iova_link(f->dev, &st, bar + 0x80, 0, G,
				       DMA_TO_DEVICE, DMA_ATTR_MMIO), -EPERM);
	assert_int_equal(bfx_xlate(f, st.addr), 0);
	/* aligned MMIO is fine */
	dma_iova_free(f->dev, &st);
	assert_true(dma_iova_try_alloc(f->dev, &st, bar, G));
	assert_int_equal(dma_iova_link(f->dev, &st, bar, 0, G, DMA_TO_DEVICE,
				       DMA_ATTR_MMIO), 0);
	dma_iova_destroy(f->dev, &st, G, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	/* dma_map_phys: an unaligned BAR range cannot be bounced either */
	assert_int_equal(dma_map_resource(f->dev, bar + 0x80, G, DMA_TO_DEVICE, 0),
			 DMA_MAPPING_ERROR);
	bfx_destroy(f);
}

/* §9.7: swiotlb inactive: -ENOMEM with the kernel's warning */
static void test_9_7_inactive_enomem(void **state)
{
	struct bfx_opts o = { .iommu = true, .untrusted = true, .swiotlb_off = true };
	struct bfx *f = bfx_create(&o);
	struct dma_iova_state st;

	(void)state;
	assert_true(dma_iova_try_alloc(f->dev, &st, UPHYS, USIZE));
	assert_int_equal(dma_iova_link(f->dev, &st, UPHYS, 0, USIZE,
				       DMA_TO_DEVICE, 0), -ENOMEM);
	assert_int_equal(bfx_xlate(f, st.addr + 0xf00), 0);
	assert_false(st.__size & DMA_IOVA_USE_SWIOTLB);
	dma_iova_free(f->dev, &st);
	assert_int_equal(dma_map_phys(f->dev, UPHYS, 100, DMA_TO_DEVICE, 0),
			 DMA_MAPPING_ERROR);
	bfx_destroy(f);
}

/*
 * §9.7: a failure part-way through a bounced link unlinks what this call
 * linked and frees its bounce buffers: fail each allocation in turn
 * (reference/style.md C11) and check that nothing is left behind
 */
static void test_9_7_partial_failure_unlinks(void **state)
{
	struct bfx_opts o = { .iommu = true, .untrusted = true,
				.min_align_mask = 0xfff };
	struct bfx *f = bfx_create(&o);
	struct dma_iova_state st;
	u8 buf[USIZE];
	long n;
	int ret;

	(void)state;
	bfx_fill(f, LOW, 4 * G, 36);
	(void)bfx_sw(f);
	assert_true(dml__swiotlb_active(f->p));
	assert_true(dma_iova_try_alloc(f->dev, &st, UPHYS, USIZE));
	for (n = 1;; n++) {
		size_t off;

		dml_fail_nth(n);
		ret = dma_iova_link(f->dev, &st, UPHYS, 0, USIZE, DMA_TO_DEVICE, 0);
		if (!dml_fail_nth_hit()) {
			dml_fail_nth(0);
			assert_int_equal(ret, 0);
			break;
		}
		dml_fail_nth(0);
		assert_int_equal(ret, -ENOMEM);
		for (off = 0; off < 3 * G; off += G)
			assert_int_equal(bfx_xlate(f, st.addr - 0x100 + off), 0);
		assert_int_equal(bfx_sw(f).used, 0);
	}
	assert_true(n > 2);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, USIZE), 0);
	assert_int_equal(dml_dev_dma_read(f->dev, st.addr, buf, USIZE), 0);
	assert_memory_equal(buf, dml_kmap_local_phys(f->p, UPHYS, USIZE), USIZE);
	dma_iova_destroy(f->dev, &st, USIZE, DMA_TO_DEVICE, 0);
	assert_int_equal(bfx_sw(f).used, 0);
	bfx_destroy(f);
}

/* dma_map_phys on an untrusted device: unaligned buffers bounce whole */
static void test_map_phys_untrusted(void **state)
{
	struct bfx_opts o = { .iommu = true, .untrusted = true };
	struct bfx *f = bfx_create(&o);
	u8 buf[5000];
	dma_addr_t a;

	(void)state;
	bfx_fill(f, LOW + 0x40, sizeof(buf), 37);
	a = dma_map_phys(f->dev, LOW + 0x40, sizeof(buf), DMA_BIDIRECTIONAL, 0);
	assert_false(dma_mapping_error(f->dev, a));
	assert_true(bfx_in_pool(f, bfx_xlate(f, a)));
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, sizeof(buf)), 0);
	assert_true(buf_check(buf, sizeof(buf), 37));
	buf_fill(buf, sizeof(buf), 38);
	assert_int_equal(dml_dev_dma_write(f->dev, a, buf, sizeof(buf)), 0);
	dma_unmap_phys(f->dev, a, sizeof(buf), DMA_BIDIRECTIONAL, 0);
	assert_true(bfx_check(f, LOW + 0x40, sizeof(buf), 38));
	assert_int_equal(bfx_sw(f).used, 0);
	/* aligned address and size: mapped in place */
	a = dma_map_phys(f->dev, LOW, 2 * G, DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	assert_int_equal(bfx_xlate(f, a), LOW);
	dma_unmap_phys(f->dev, a, 2 * G, DMA_TO_DEVICE, 0);
	assert_int_equal(bfx_sw(f).maps, 1);
	assert_int_equal(dma_max_mapping_size(f->dev), 256 * 1024);
	bfx_destroy(f);
}

/* scatterlists on an untrusted device: entry by entry, unaligned bounced */
static void test_sg_untrusted(void **state)
{
	struct bfx_opts o = { .iommu = true, .untrusted = true };
	struct bfx *f = bfx_create(&o);
	struct scatterlist sg[3];
	u8 buf[G];
	int i;

	(void)state;
	sg_init_table(sg, 3);
	sg_set_phys(&sg[0], LOW + 0x10, 1000);		/* bounced */
	sg_set_phys(&sg[1], LOW + 2 * G, G);		/* in place */
	sg_set_phys(&sg[2], LOW + 4 * G, 1500);		/* bounced */
	for (i = 0; i < 3; i++)
		bfx_fill(f, sg_phys(&sg[i]), sg[i].length, (u8)(40 + i));
	assert_int_equal(dma_map_sg(f->dev, sg, 3, DMA_BIDIRECTIONAL), 3);
	assert_true(bfx_in_pool(f, bfx_xlate(f, sg_dma_address(&sg[0]))));
	assert_int_equal(bfx_xlate(f, sg_dma_address(&sg[1])), LOW + 2 * G);
	assert_true(bfx_in_pool(f, bfx_xlate(f, sg_dma_address(&sg[2]))));
	for (i = 0; i < 3; i++) {
		assert_int_equal(dml_dev_dma_read(f->dev, sg_dma_address(&sg[i]),
						  buf, sg[i].length), 0);
		assert_true(buf_check(buf, sg[i].length, (u8)(40 + i)));
		buf_fill(buf, sg[i].length, (u8)(50 + i));
		assert_int_equal(dml_dev_dma_write(f->dev, sg_dma_address(&sg[i]),
						   buf, sg[i].length), 0);
	}
	dma_unmap_sg(f->dev, sg, 3, DMA_BIDIRECTIONAL);
	for (i = 0; i < 3; i++)
		assert_true(bfx_check(f, sg_phys(&sg[i]), sg[i].length, (u8)(50 + i)));
	assert_int_equal(bfx_sw(f).used, 0);
	bfx_destroy(f);
}

/* ------------------------------------------------------------------ */
/* §9.20 area locking: concurrent bouncing                             */
/* ------------------------------------------------------------------ */

#define THREADS 4
#define ITERS 3000

struct worker {
	struct bfx *f;
	unsigned int id;
	unsigned long bad;
};

static void *bounce_worker(void *arg)
{
	struct worker *w = arg;
	unsigned int seed = 1234 + w->id, i;
	const phys_addr_t base = LOW + (u64)w->id * (16ULL << 20);
	static _Thread_local u8 buf[70000];

	for (i = 0; i < ITERS; i++) {
		size_t size = 1 + (size_t)(rand_r(&seed) % 65536);
		phys_addr_t phys = base + (u64)(rand_r(&seed) % 8192);
		enum dma_data_direction dir = (enum dma_data_direction)(i % 3);
		u8 s = (u8)(i + w->id * 50);
		dma_addr_t a;

		bfx_fill(w->f, phys, size, s);
		a = dma_map_phys(w->f->dev, phys, size, dir, 0);
		if (dma_mapping_error(w->f->dev, a)) {
			w->bad++;
			continue;
		}
		if (dir != DMA_FROM_DEVICE) {
			if (dml_dev_dma_read(w->f->dev, a, buf, size) ||
			    !buf_check(buf, size, s))
				w->bad++;
		}
		if (dir != DMA_TO_DEVICE) {
			buf_fill(buf, size, (u8)(s + 1));
			if (dml_dev_dma_write(w->f->dev, a, buf, size))
				w->bad++;
		}
		dma_unmap_phys(w->f->dev, a, size, dir, 0);
		if (!bfx_check(w->f, phys, size, dir == DMA_TO_DEVICE ? s : (u8)(s + 1)))
			w->bad++;
	}
	return NULL;
}

/* §9.20: threads bounce at once, each from its own area; data and slots */
static void test_9_20_concurrent_bouncing(void **state)
{
	struct bfx_opts o = { .force_bounce = true };
	struct bfx *f = bfx_create(&o);
	struct worker w[THREADS];
	pthread_t t[THREADS];
	struct dml_swiotlb_stats st;
	unsigned int i;

	(void)state;
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .f = f, .id = i };
		assert_int_equal(pthread_create(&t[i], NULL, bounce_worker, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].bad, 0);
	}
	st = bfx_sw(f);
	assert_int_equal(st.used, 0);
	assert_int_equal(st.maps, THREADS * ITERS);
	assert_int_equal(st.full, 0);
	assert_true(st.nareas >= 1 && (st.nareas & (st.nareas - 1)) == 0);
	bfx_destroy(f);
}

/* fault injection on the direct bounce path: clean errors, no leak */
static void test_fail_nth_bounce(void **state)
{
	struct bfx_opts o = { .force_bounce = true };
	struct bfx *f = bfx_create(&o);
	struct dml_swiotlb_stats st;
	dma_addr_t a;
	long n;

	(void)state;
	for (n = 1;; n++) {
		dml_fail_nth(n);
		a = dma_map_phys(f->dev, LOW, 3 * G, DMA_TO_DEVICE, DMA_ATTR_NO_WARN);
		if (!dml_fail_nth_hit())
			break;
		dml_fail_nth(0);
		assert_int_equal(a, DMA_MAPPING_ERROR);
		if (!dml_swiotlb_get_stats(f->p, &st))
			assert_int_equal(st.used, 0);
	}
	dml_fail_nth(0);
	assert_false(dma_mapping_error(f->dev, a));
	assert_true(n > 1);
	dma_unmap_phys(f->dev, a, 3 * G, DMA_TO_DEVICE, 0);
	assert_int_equal(bfx_sw(f).used, 0);
	bfx_destroy(f);
}

/* bad options */
static void test_pool_options(void **state)
{
	struct dml_emu_opts eo = { .size = DML_SIZEOF(&eo, swiotlb_off) };
	struct dml_platform *p;

	(void)state;
	eo.swiotlb_size = 3ULL << 20;	/* not a multiple of 2 MiB */
	assert_int_equal(dml_platform_create_emu(&eo, &p), -EINVAL);
	eo.swiotlb_size = 8ULL << 30;	/* above RAM */
	assert_int_equal(dml_platform_create_emu(&eo, &p), -EINVAL);
	eo.swiotlb_size = 4ULL << 20;
	assert_int_equal(dml_platform_create_emu(&eo, &p), 0);
	dml_platform_destroy(p);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_9_14_overflow_bounces),
	cmocka_unit_test(test_9_14_overflow_without_swiotlb),
	cmocka_unit_test(test_force_bounce),
	cmocka_unit_test(test_9_20_always_copy_on_map),
	cmocka_unit_test(test_9_20_min_align_mask),
	cmocka_unit_test(test_9_20_alloc_align_mask),
	cmocka_unit_test(test_9_20_page_alignment),
	cmocka_unit_test(test_9_20_segment_boundary),
	cmocka_unit_test(test_9_20_128_slot_cap),
	cmocka_unit_test(test_9_20_full_pool),
	cmocka_unit_test(test_unmap_not_a_bounce_buffer),
	cmocka_unit_test(test_sync_single_bounce),
	cmocka_unit_test(test_sg_bounce_direct),
	cmocka_unit_test(test_9_7_link_bounces_head_and_tail),
	cmocka_unit_test(test_9_7_destroy_copies_back),
	cmocka_unit_test(test_9_8_unlink_bounced_then_relink),
	cmocka_unit_test(test_9_7_when_it_bounces),
	cmocka_unit_test(test_9_7_mmio_eperm),
	cmocka_unit_test(test_9_7_inactive_enomem),
	cmocka_unit_test(test_9_7_partial_failure_unlinks),
	cmocka_unit_test(test_map_phys_untrusted),
	cmocka_unit_test(test_sg_untrusted),
	cmocka_unit_test(test_9_20_concurrent_bouncing),
	cmocka_unit_test(test_fail_nth_bounce),
	cmocka_unit_test(test_pool_options),
};

DML_TEST_MAIN(tests)
