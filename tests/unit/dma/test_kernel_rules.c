/* SPDX-License-Identifier: MIT */
/*
 * test_kernel_rules.c - rules of today's kernel DMA code, one test each,
 * naming the kernel function it follows: DMA_ATTR_REQUIRE_COHERENT,
 * dma_map_page_attrs / dma_map_single_attrs, the kmalloc bounce trigger,
 * the flush of dma_iova_sync, the two-step bounce alignment, and RAM
 * without a memmap.  (The 32-bit IOVA try without a cache flush came with
 * wip/iova: dml__iova_try_alloc() and its test in tests/unit/iova.)
 */
#include "swiotlb/bfx.h"
#include "mem/cache.h"

#define BUF 0x10000000ULL

/* the device reads [addr, +len) and finds pattern @seed */
static void dev_reads(struct bfx *f, dma_addr_t addr, size_t len, u8 seed)
{
	u8 *b = malloc(len);

	assert_non_null(b);
	assert_int_equal(dml_dev_dma_read(f->dev, addr, b, len), 0);
	assert_true(buf_check(b, len, seed));
	free(b);
}

/*
 * kernel/dma/mapping.c dma_map_phys(): DMA_ATTR_REQUIRE_COHERENT on a
 * non-coherent device is refused, on either path
 */
static void test_require_coherent_noncoherent_device(void **state)
{
	struct bfx_opts o = { .iommu = true, .non_coherent = true };
	struct bfx_opts od = { .non_coherent = true };
	struct bfx *f = bfx_create(&o), *fd = bfx_create(&od);
	struct dma_iova_state st;
	dma_addr_t a;

	(void)state;
	a = dma_map_phys(f->dev, BUF, G, DMA_TO_DEVICE, DMA_ATTR_REQUIRE_COHERENT);
	assert_true(dma_mapping_error(f->dev, a));
	a = dma_map_phys(fd->dev, BUF, G, DMA_TO_DEVICE, DMA_ATTR_REQUIRE_COHERENT);
	assert_true(dma_mapping_error(fd->dev, a));
	/* without it the same mapping works */
	a = dma_map_phys(f->dev, BUF, G, DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	/* drivers/iommu/dma-iommu.c dma_iova_link(): -EOPNOTSUPP */
	assert_true(dma_iova_try_alloc(f->dev, &st, BUF, G));
	assert_int_equal(dma_iova_link(f->dev, &st, BUF, 0, G, DMA_TO_DEVICE,
				       DMA_ATTR_REQUIRE_COHERENT), -EOPNOTSUPP);
	dma_iova_free(f->dev, &st);
	bfx_destroy(fd);
	bfx_destroy(f);
}

/*
 * kernel/dma/direct.h dma_direct_map_phys(): a REQUIRE_COHERENT mapping
 * is never bounced: not for a force_bounce device, not for an address
 * beyond the mask (which is bounced without the attribute)
 */
static void test_require_coherent_direct_never_bounces(void **state)
{
	struct bfx_opts of = { .force_bounce = true };
	struct bfx_opts om = { .dma_mask = DMA_BIT_MASK(32) };
	struct bfx *ff = bfx_create(&of), *fm = bfx_create(&om);
	const phys_addr_t high = 1ULL << 32;
	dma_addr_t a;

	(void)state;
	a = dma_map_phys(ff->dev, BUF, G, DMA_TO_DEVICE, DMA_ATTR_REQUIRE_COHERENT);
	assert_true(dma_mapping_error(ff->dev, a));
	assert_int_equal(bfx_sw(ff).maps, 0);

	assert_int_equal(dml_ram_add(fm->p, high, SZ_2M, 0), 0);
	bfx_fill(fm, high, G, 3);
	a = dma_map_phys(fm->dev, high, G, DMA_TO_DEVICE, DMA_ATTR_REQUIRE_COHERENT);
	assert_true(dma_mapping_error(fm->dev, a));
	assert_int_equal(bfx_sw(fm).maps, 0);
	a = dma_map_phys(fm->dev, high, G, DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(fm->dev, a));
	assert_int_equal(bfx_sw(fm).maps, 1);
	dev_reads(fm, a, G, 3);
	dma_unmap_phys(fm->dev, a, G, DMA_TO_DEVICE, 0);
	bfx_destroy(fm);
	bfx_destroy(ff);
}

/*
 * drivers/iommu/dma-iommu.c iommu_dma_map_phys() and dma_iova_link(): an
 * unaligned range that must bounce (untrusted device) fails with
 * REQUIRE_COHERENT (map error, link -EPERM), and a state an earlier link
 * bounced refuses any REQUIRE_COHERENT link (-EOPNOTSUPP, warned)
 */
static void test_require_coherent_iommu_never_bounces(void **state)
{
	struct bfx_opts o = { .iommu = true, .untrusted = true,
			      .min_align_mask = 0xfff };
	struct bfx *f = bfx_create(&o);
	struct dma_iova_state st;
	dma_addr_t a;

	(void)state;
	a = dma_map_phys(f->dev, BUF + 0x100, 0x200, DMA_TO_DEVICE,
			 DMA_ATTR_REQUIRE_COHERENT);
	assert_true(dma_mapping_error(f->dev, a));
	assert_int_equal(bfx_sw(f).maps, 0);

	assert_true(dma_iova_try_alloc(f->dev, &st, BUF + 0x100, 2 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, BUF + 0x100, 0, G - 0x100,
				       DMA_TO_DEVICE, DMA_ATTR_REQUIRE_COHERENT),
			 -EPERM);
	/* bounced without the attribute; then the state refuses it */
	assert_int_equal(dma_iova_link(f->dev, &st, BUF + 0x100, 0, G - 0x100,
				       DMA_TO_DEVICE, 0), 0);
	assert_true(st.__size & DMA_IOVA_USE_SWIOTLB);
	assert_int_equal(dma_iova_link(f->dev, &st, BUF + G, G - 0x100, G,
				       DMA_TO_DEVICE, DMA_ATTR_REQUIRE_COHERENT),
			 -EOPNOTSUPP);
	dma_iova_destroy(f->dev, &st, G - 0x100, DMA_TO_DEVICE, 0);
	assert_int_equal(bfx_sw(f).used, 0);
	bfx_destroy(f);
}

/*
 * kernel/dma/mapping.c dma_map_page_attrs(): page + offset mapped as
 * dma_map_phys(); DMA_ATTR_MMIO refused; dma_unmap_page_attrs() ignores
 * a call with DMA_ATTR_MMIO
 */
static void test_map_page_attrs(void **state)
{
	struct bfx_opts o = { .iommu = true };
	struct bfx *f = bfx_create(&o);
	dma_addr_t a, b;

	(void)state;
	/* the device tries the address once it is unmapped */
	dml_test_expect_dma_debug(DML_DMA_DEBUG_DEV_NOT_MAPPED);
	bfx_fill(f, BUF + 0x300, 0x900, 7);
	a = dma_map_page_attrs(f->dev, BUF, 0x300, 0x900, DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	assert_int_equal(a % G, 0x300);
	dev_reads(f, a, 0x900, 7);
	/* ignored: the mapping stays and the device still reads it */
	dma_unmap_page_attrs(f->dev, a, 0x900, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	dev_reads(f, a, 0x900, 7);
	dma_unmap_page(f->dev, a, 0x900, DMA_TO_DEVICE);
	assert_int_not_equal(dml_dev_dma_read(f->dev, a, &b, 1), 0);

	b = dma_map_page_attrs(f->dev, BUF, 0, G, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	assert_true(dma_mapping_error(f->dev, b));
	/* a page is named by its 4 KiB aligned address */
	b = dma_map_page_attrs(f->dev, BUF + 0x10, 0, G, DMA_TO_DEVICE, 0);
	assert_true(dma_mapping_error(f->dev, b));
	bfx_destroy(f);
}

/*
 * include/linux/dma-mapping.h dma_map_single_attrs(): a linear-map
 * pointer is mapped through its page; anything else is rejected
 */
static void test_map_single_attrs(void **state)
{
	struct bfx_opts o = { .iommu = true };
	struct bfx *f = bfx_create(&o);
	u8 *cpu = dml_kmap_local_phys(f->p, BUF, 2 * G), local[64];
	dma_addr_t a;

	(void)state;
	buf_fill(cpu + 0x123, 3000, 9);
	a = dma_map_single(f->dev, cpu + 0x123, 3000, DMA_TO_DEVICE);
	assert_false(dma_mapping_error(f->dev, a));
	assert_int_equal(a % G, 0x123);
	dev_reads(f, a, 3000, 9);
	dma_unmap_single(f->dev, a, 3000, DMA_TO_DEVICE);

	a = dma_map_single(f->dev, local, sizeof(local), DMA_TO_DEVICE);
	assert_true(dma_mapping_error(f->dev, a));
	assert_int_equal(dml_mmio_add(f->p, 0x200000000ULL, 16 * G, "bar"), 0);
	a = dma_map_single(f->dev, dml_kmap_local_phys(f->p, 0x200000000ULL, G),
			   G, DMA_TO_DEVICE);
	assert_true(dma_mapping_error(f->dev, a));
	bfx_destroy(f);
}

/*
 * RAM without a memmap: no struct page, so dma_map_page_attrs(),
 * dma_map_single_attrs() and dma_map_sg() (sg_page()) refuse it, while
 * dma_map_phys(), the two-step API and the CPU (kmap_local_phys twin) use
 * it like any RAM (kernel/dma/mapping.c dma_map_phys(): "no struct page")
 */
static void test_no_memmap_ram(void **state)
{
	struct bfx_opts o = { .iommu = true };
	struct bfx *f = bfx_create(&o);
	const phys_addr_t nm = 0x180000000ULL;
	struct dma_iova_state st;
	struct sg_table sgt;
	u8 *cpu;
	dma_addr_t a;

	(void)state;
	assert_int_equal(dml_ram_add(f->p, nm, SZ_2M, DML_RAM_NO_MEMMAP), 0);
	cpu = dml_kmap_local_phys(f->p, nm, 2 * G);
	assert_non_null(cpu);
	buf_fill(cpu, 2 * G, 11);

	a = dma_map_phys(f->dev, nm, 2 * G, DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	dev_reads(f, a, 2 * G, 11);
	dma_unmap_phys(f->dev, a, 2 * G, DMA_TO_DEVICE, 0);

	assert_true(dma_iova_try_alloc(f->dev, &st, nm, 2 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, nm, 0, 2 * G, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, 2 * G), 0);
	dev_reads(f, st.addr, 2 * G, 11);
	dma_iova_destroy(f->dev, &st, 2 * G, DMA_TO_DEVICE, 0);

	a = dma_map_page(f->dev, nm, 0, G, DMA_TO_DEVICE);
	assert_true(dma_mapping_error(f->dev, a));
	a = dma_map_single(f->dev, cpu, G, DMA_TO_DEVICE);
	assert_true(dma_mapping_error(f->dev, a));
	assert_int_equal(sg_alloc_table(&sgt, 2), 0);
	sg_set_phys(&sgt.sgl[0], BUF, G);
	sg_set_phys(&sgt.sgl[1], nm, G);
	assert_int_equal(dma_map_sgtable(f->dev, &sgt, DMA_TO_DEVICE, 0), -EINVAL);
	sg_free_table(&sgt);
	bfx_destroy(f);
}

/*
 * include/linux/dma-map-ops.h dma_kmalloc_needs_bounce(), kernel/dma/
 * direct.h dma_direct_map_phys(): on a non-coherent device a mapping the
 * device may write whose size a kmalloc() buffer could have without being
 * cache-line aligned is bounced; the device's data still reaches the CPU
 */
static void test_kmalloc_bounce_direct(void **state)
{
	struct bfx_opts o = { .non_coherent = true };
	struct bfx_opts oc = { 0 };
	struct bfx_opts off = { .non_coherent = true, .swiotlb_off = true };
	struct bfx *f = bfx_create(&o), *fc = bfx_create(&oc), *fo = bfx_create(&off);
	u8 data[80];
	dma_addr_t a;

	(void)state;
	/* 80 bytes: kmalloc-96, not a multiple of a 64-byte line: bounced */
	a = dma_map_phys(f->dev, BUF, 80, DMA_FROM_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	assert_int_not_equal(a, BUF);
	assert_int_equal(bfx_sw(f).maps, 1);
	buf_fill(data, sizeof(data), 21);
	assert_int_equal(dml_dev_dma_write(f->dev, a, data, sizeof(data)), 0);
	dma_unmap_phys(f->dev, a, 80, DMA_FROM_DEVICE, 0);
	assert_true(bfx_check(f, BUF, 80, 21));
	/* 64 bytes (kmalloc-64), DMA_TO_DEVICE, 256 bytes: not bounced */
	a = dma_map_phys(f->dev, BUF, 64, DMA_FROM_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	assert_int_equal(a, BUF);
	dma_unmap_phys(f->dev, a, 64, DMA_FROM_DEVICE, 0);
	a = dma_map_phys(f->dev, BUF, 80, DMA_TO_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	assert_int_equal(a, BUF);
	dma_unmap_phys(f->dev, a, 80, DMA_TO_DEVICE, 0);
	a = dma_map_phys(f->dev, BUF, 256, DMA_BIDIRECTIONAL, 0);
	assert_false(dma_mapping_error(f->dev, a));
	assert_int_equal(a, BUF);
	dma_unmap_phys(f->dev, a, 256, DMA_BIDIRECTIONAL, 0);
	assert_int_equal(bfx_sw(f).maps, 1);
	/* a coherent device, or a platform without swiotlb: kmalloc is aligned */
	a = dma_map_phys(fc->dev, BUF, 80, DMA_FROM_DEVICE, 0);
	assert_false(dma_mapping_error(fc->dev, a));
	assert_int_equal(a, BUF);
	dma_unmap_phys(fc->dev, a, 80, DMA_FROM_DEVICE, 0);
	a = dma_map_phys(fo->dev, BUF, 80, DMA_FROM_DEVICE, 0);
	assert_false(dma_mapping_error(fo->dev, a));
	assert_int_equal(a, BUF);
	dma_unmap_phys(fo->dev, a, 80, DMA_FROM_DEVICE, 0);
	bfx_destroy(fo);
	bfx_destroy(fc);
	bfx_destroy(f);
}

/*
 * drivers/iommu/dma-iommu.c dev_use_swiotlb(): behind an IOMMU the same
 * rule bounces a non-coherent device's unaligned small buffer, in a
 * mapping or in a scatterlist
 */
static void test_kmalloc_bounce_iommu(void **state)
{
	struct bfx_opts o = { .iommu = true, .non_coherent = true };
	struct bfx *f = bfx_create(&o);
	struct sg_table sgt;
	u8 data[80];
	dma_addr_t a;

	(void)state;
	a = dma_map_phys(f->dev, BUF + 0x40, 80, DMA_FROM_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	assert_int_equal(bfx_sw(f).maps, 1);
	buf_fill(data, sizeof(data), 23);
	assert_int_equal(dml_dev_dma_write(f->dev, a, data, sizeof(data)), 0);
	dma_unmap_phys(f->dev, a, 80, DMA_FROM_DEVICE, 0);
	assert_true(bfx_check(f, BUF + 0x40, 80, 23));
	assert_int_equal(bfx_sw(f).used, 0);
	/* a whole granule needs no bounce */
	a = dma_map_phys(f->dev, BUF, G, DMA_FROM_DEVICE, 0);
	assert_false(dma_mapping_error(f->dev, a));
	dma_unmap_phys(f->dev, a, G, DMA_FROM_DEVICE, 0);
	assert_int_equal(bfx_sw(f).maps, 1);

	/*
	 * dev_use_sg_swiotlb(): a list holding such an entry is mapped entry
	 * by entry, the small unaligned one bounced
	 */
	assert_int_equal(sg_alloc_table(&sgt, 2), 0);
	sg_set_phys(&sgt.sgl[0], BUF + 0x40, 80);
	sg_set_phys(&sgt.sgl[1], BUF + G, G);
	assert_int_equal(dma_map_sgtable(f->dev, &sgt, DMA_FROM_DEVICE, 0), 0);
	assert_int_equal(sgt.nents, 2);
	assert_int_equal(bfx_sw(f).maps, 2);
	buf_fill(data, sizeof(data), 29);
	assert_int_equal(dml_dev_dma_write(f->dev, sg_dma_address(&sgt.sgl[0]),
					   data, sizeof(data)), 0);
	dma_unmap_sgtable(f->dev, &sgt, DMA_FROM_DEVICE, 0);
	assert_true(bfx_check(f, BUF + 0x40, 80, 29));
	assert_int_equal(bfx_sw(f).used, 0);
	sg_free_table(&sgt);
	bfx_destroy(f);
}

static u64 cache_flushes(struct bfx *f)
{
	struct dml__cache_stats cs;

	dml__cache_get_stats(f->p, &cs);
	return cs.flushes;
}

/*
 * drivers/iommu/dma-iommu.c dma_iova_sync(): a non-coherent device's
 * links are followed by one arch_sync_dma_flush() at the sync, however
 * many links; a coherent device needs none
 */
static void test_iova_sync_flushes_once(void **state)
{
	struct bfx_opts o = { .iommu = true, .non_coherent = true };
	struct bfx_opts oc = { .iommu = true };
	struct bfx *f = bfx_create(&o), *fc = bfx_create(&oc);
	struct dma_iova_state st;
	u64 before;

	(void)state;
	bfx_fill(f, BUF, 2 * G, 5);
	assert_true(dma_iova_try_alloc(f->dev, &st, BUF, 2 * G));
	assert_int_equal(dma_iova_link(f->dev, &st, BUF, 0, G, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_link(f->dev, &st, BUF + G, G, G, DMA_TO_DEVICE, 0), 0);
	before = cache_flushes(f);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, 2 * G), 0);
	assert_int_equal(cache_flushes(f), before + 1);
	dev_reads(f, st.addr, 2 * G, 5);
	dma_iova_destroy(f->dev, &st, 2 * G, DMA_TO_DEVICE, 0);

	assert_true(dma_iova_try_alloc(fc->dev, &st, BUF, G));
	assert_int_equal(dma_iova_link(fc->dev, &st, BUF, 0, G, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_sync(fc->dev, &st, 0, G), 0);
	assert_int_equal(cache_flushes(fc), 0);
	dma_iova_destroy(fc->dev, &st, G, DMA_TO_DEVICE, 0);
	bfx_destroy(fc);
	bfx_destroy(f);
}

/*
 * drivers/iommu/dma-iommu.c iommu_dma_iova_bounce_and_link(): the bounce
 * buffer is allocated in whole granules (alloc-align mask granule - 1) and
 * keeps only the bits of phys under the device's dma_min_align_mask: with
 * NVMe's 0xfff the unaligned head links and keeps its offset; with no mask
 * the head lands at a granule start, the link is misaligned and the IOMMU
 * refuses it (nothing stays bounced)
 */
static void test_bounce_alignment_from_min_align_mask(void **state)
{
	struct bfx_opts o = { .iommu = true, .untrusted = true,
			      .min_align_mask = 0xfff };
	struct bfx_opts on = { .iommu = true, .untrusted = true };
	struct bfx *f = bfx_create(&o), *fn = bfx_create(&on);
	struct dma_iova_state st;

	(void)state;
	bfx_fill(f, BUF + 0x100, G - 0x100, 13);
	assert_true(dma_iova_try_alloc(f->dev, &st, BUF + 0x100, G - 0x100));
	assert_int_equal(dma_iova_link(f->dev, &st, BUF + 0x100, 0, G - 0x100,
				       DMA_TO_DEVICE, 0), 0);
	assert_int_equal(dma_iova_sync(f->dev, &st, 0, G - 0x100), 0);
	assert_int_equal(st.addr % G, 0x100);
	dev_reads(f, st.addr, G - 0x100, 13);
	dma_iova_destroy(f->dev, &st, G - 0x100, DMA_TO_DEVICE, 0);

	assert_true(dma_iova_try_alloc(fn->dev, &st, BUF + 0x100, G - 0x100));
	assert_int_equal(dma_iova_link(fn->dev, &st, BUF + 0x100, 0, G - 0x100,
				       DMA_TO_DEVICE, 0), -EINVAL);
	assert_int_equal(bfx_sw(fn).used, 0);
	dma_iova_free(fn->dev, &st);
	bfx_destroy(fn);
	bfx_destroy(f);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_require_coherent_noncoherent_device),
	cmocka_unit_test(test_require_coherent_direct_never_bounces),
	cmocka_unit_test(test_require_coherent_iommu_never_bounces),
	cmocka_unit_test(test_map_page_attrs),
	cmocka_unit_test(test_map_single_attrs),
	cmocka_unit_test(test_no_memmap_ram),
	cmocka_unit_test(test_kmalloc_bounce_direct),
	cmocka_unit_test(test_kmalloc_bounce_iommu),
	cmocka_unit_test(test_iova_sync_flushes_once),
	cmocka_unit_test(test_bounce_alignment_from_min_align_mask),
};

DML_TEST_MAIN(tests)
