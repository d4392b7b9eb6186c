/* SPDX-License-Identifier: MIT */
/*
 * test_swiotlb_low.c - where the swiotlb pool lies (ref §5; kernel/dma/
 * swiotlb.c swiotlb_init_remap() takes it with memblock_alloc_low()): at
 * the top of the RAM below 4 GiB, so that a device with a 32-bit mask can
 * bounce on a machine with more RAM, and the carving of page tables still
 * comes from the top of RAM.
 */
#include "swiotlb/bfx.h"

#define SZ_4G (1ULL << 32)
#define POOL (64ULL << 20)

/* an emulated machine with @ram bytes of RAM and one direct device */
static struct bfx *low_create(u64 ram, u64 mask, bool iommu)
{
	struct bfx *f = calloc(1, sizeof(*f));
	struct dml_emu_opts eo = {
		.size = DML_SIZEOF(&eo, swiotlb_off),
		.ram_size = ram,
	};
	struct dml_iommu_opts io = { .size = DML_SIZEOF(&io, superpages) };
	struct dml_device_opts dop = {
		.size = DML_SIZEOF(&dop, dma_min_align_mask),
		.name = "lowdev",
		.source_id = 0x0300,
		.pci = true,
		.dma_mask = mask,
	};

	assert_non_null(f);
	assert_int_equal(dml_platform_create_emu(&eo, &f->p), 0);
	if (iommu) {
		assert_int_equal(dml_iommu_create(f->p, &io, &f->iommu), 0);
		dop.iommu = f->iommu;
	}
	assert_int_equal(dml_device_create(f->p, &dop, &f->dev), 0);
	dml_test_log_reset();
	return f;
}

/* ref §5: a 32-bit device on an 8 GiB machine bounces both ways */
static void test_5_32bit_device_8g(void **state)
{
	struct bfx *f = low_create(2 * SZ_4G, DMA_BIT_MASK(32), false);
	const phys_addr_t hi = 0x1c0000000ULL + 0x1000;	/* above 4 GiB */
	struct dml_swiotlb_stats st;
	u8 buf[3 * 4096];
	dma_addr_t a;

	(void)state;
	bfx_fill(f, hi, sizeof(buf), 5);
	a = dma_map_phys(f->dev, hi, sizeof(buf), DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	assert_true(bfx_in_pool(f, (phys_addr_t)a));
	assert_true(a + sizeof(buf) - 1 <= DMA_BIT_MASK(32));
	st = bfx_sw(f);
	/* the top of the RAM below 4 GiB, as memblock_alloc_low() takes it */
	assert_int_equal(st.phys, SZ_4G - POOL);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, sizeof(buf)), 0);
	assert_true(buf_check(buf, sizeof(buf), 5));
	dma_unmap_phys(f->dev, a, sizeof(buf), DMA_TO_DEVICE, 0);

	a = dma_map_phys(f->dev, hi, sizeof(buf), DMA_FROM_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	buf_fill(buf, sizeof(buf), 6);
	assert_int_equal(dml_dev_dma_write(f->dev, a, buf, sizeof(buf)), 0);
	dma_unmap_phys(f->dev, a, sizeof(buf), DMA_FROM_DEVICE, 0);
	assert_true(bfx_check(f, hi, sizeof(buf), 6));
	assert_int_equal(bfx_sw(f).used, 0);
	assert_int_equal(dml_platform_fault_count(f->p), 0);
	bfx_destroy(f);
}

/*
 * The pool below 4 GiB leaves the RAM above it to the rest: page tables
 * still come from the top of RAM, and the pool is no memory to map.
 */
static void test_5_page_tables_stay_high(void **state)
{
	struct bfx *f = low_create(2 * SZ_4G, DMA_BIT_MASK(64), true);
	struct dml_mem_region *r = &f->p->mem->r[0];
	dma_addr_t a;

	(void)state;
	assert_true(dml__swiotlb_active(f->p));
	assert_int_equal(bfx_sw(f).phys, SZ_4G - POOL);
	a = dma_map_phys(f->dev, 0x40000000, G, DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	/* the page-table pool carved from the top, the pool did not move it */
	assert_true(r->carve_top >= SZ_4G && r->carve_top < r->size);

	/* the checker calls the pool memory the DMA layer's own */
	a = dma_map_phys(f->dev, SZ_4G - POOL + G, G, DMA_TO_DEVICE, 0);
	if (!dma_mapping_error(f->dev, a))
		dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_dma_debug_category_count(DML_DMA_DEBUG_MAP_BAD_MEMORY),
			 1);
	dml_dma_debug_clear_errors();
	bfx_destroy(f);
}

/* With 4 GiB of RAM or less, the pool is at the top of RAM, as before. */
static void test_5_small_machine_top_of_ram(void **state)
{
	struct bfx *f = low_create(SZ_1G, DMA_BIT_MASK(64), false);

	(void)state;
	assert_true(dml__swiotlb_active(f->p));
	assert_int_equal(bfx_sw(f).phys, SZ_1G - POOL);
	bfx_destroy(f);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_5_32bit_device_8g),
	cmocka_unit_test(test_5_page_tables_stay_high),
	cmocka_unit_test(test_5_small_machine_top_of_ram),
};

DML_TEST_MAIN(tests)
