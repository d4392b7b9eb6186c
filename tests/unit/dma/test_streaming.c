/* SPDX-License-Identifier: MIT */
/*
 * test_streaming.c - dma_map_phys, DMA_ATTR_MMIO, dma_map_resource and the
 * scatterlist path (shared/reference/kernel-dma-semantics.md §2 and the
 * invariants of §9 items 12-13), on dma-iommu and dma-direct devices, with
 * real transfers by the emulated device.
 */
#include <dmalink/scatterlist.h>

#include "fixture.h"

#define G 4096UL

/* dma_map_phys through the IOMMU: offset kept, bytes move, unmap revokes */
static void test_map_phys_iommu(void **state)
{
	struct fx *f = *state;
	u8 buf[300];
	dma_addr_t a;

	fx_fill(f, 0x40000000, 2 * G, 5);
	a = dma_map_phys(f->dev, 0x40000f00, 300, DMA_TO_DEVICE, 0);
	assert_int_equal(dma_mapping_error(f->dev, a), 0);
	assert_int_equal(a & (G - 1), 0xf00);
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, 300), 0);
	assert_memory_equal(buf, dml_kmap_local_phys(f->p, 0x40000f00, 300), 300);
	dma_unmap_phys(f->dev, a, 300, DMA_TO_DEVICE, 0);
	assert_int_equal(dml_dev_dma_read(f->dev, a, buf, 8), -EFAULT);
	assert_int_equal(fx_stats(f).stale_hits, 0);
	assert_int_equal(fx_pt_pages(f), 1);
}

/* §9.13: dma_mapping_error is -ENOMEM for DMA_MAPPING_ERROR only */
static void test_9_13_mapping_error(void **state)
{
	struct fx *f = *state;

	assert_int_equal(dma_mapping_error(f->dev, DMA_MAPPING_ERROR), -ENOMEM);
	assert_int_equal(dma_mapping_error(f->dev, 0x1000), 0);
	/* invalid arguments give the error address, not a crash */
	assert_int_equal(dma_map_phys(f->dev, 0x40000000, 0, DMA_TO_DEVICE, 0),
			 DMA_MAPPING_ERROR);
	assert_int_equal(dma_map_phys(f->dev, 0x40000000, G,
				      (enum dma_data_direction)9, 0),
			 DMA_MAPPING_ERROR);
	assert_int_equal(dma_map_phys(NULL, 0x40000000, G, DMA_TO_DEVICE, 0),
			 DMA_MAPPING_ERROR);
}

/* unmapping something that is not a mapping changes nothing */
static void test_unmap_not_mapped(void **state)
{
	struct fx *f = *state;
	dma_addr_t a = dma_map_phys(f->dev, 0x40000000, 2 * G, DMA_TO_DEVICE, 0);
	u8 buf[8];

	assert_int_equal(dma_mapping_error(f->dev, a), 0);
	dml_test_log_reset();
	dma_unmap_phys(f->dev, a + G, G, DMA_TO_DEVICE, 0);	/* half of it */
	assert_true(dml_test_log.count > 0);
	assert_int_equal(dml_dev_dma_read(f->dev, a + G, buf, 8), 0);
	dma_unmap_phys(f->dev, a, 2 * G, DMA_TO_DEVICE, 0);
	assert_int_equal(fx_pt_pages(f), 1);
}

/* §9.12: MMIO (a BAR) maps through the IOMMU and peer-to-peer works */
static void test_9_12_mmio_p2p(void **state)
{
	struct fx *f = *state;
	const phys_addr_t bar = 0x800000000ULL;
	u8 msg[64], *b;
	dma_addr_t a;

	assert_int_equal(dml_mmio_add(f->p, bar, 1 << 20, "bar2"), 0);
	assert_false(dml_phys_is_ram(f->p, bar, 64));
	memset(msg, 0x3c, sizeof(msg));
	a = dma_map_resource(f->dev, bar + 0x100, 64, DMA_FROM_DEVICE, 0);
	assert_int_equal(dma_mapping_error(f->dev, a), 0);
	assert_int_equal(dml_dev_dma_write(f->dev, a, msg, 64), 0);
	b = dml_kmap_local_phys(f->p, bar + 0x100, 64);
	assert_memory_equal(b, msg, 64);
	dma_unmap_resource(f->dev, a, 64, DMA_FROM_DEVICE, 0);
	/* dma_map_resource refuses RAM */
	assert_int_equal(dma_map_resource(f->dev, 0x40000000, 64, DMA_FROM_DEVICE, 0),
			 DMA_MAPPING_ERROR);
}

/* §9.12: MMIO on the direct path: the DMA address is the physical one */
static void test_9_12_mmio_direct(void **state)
{
	struct fx_opts o = { .no_iommu = true };
	struct fx *f = fx_create(&o);
	const phys_addr_t bar = 0x800000000ULL;
	dma_addr_t a;

	(void)state;
	assert_int_equal(dml_mmio_add(f->p, bar, 1 << 20, "bar0"), 0);
	a = dma_map_phys(f->dev, bar + 0x40, 64, DMA_BIDIRECTIONAL, DMA_ATTR_MMIO);
	assert_int_equal(dma_mapping_error(f->dev, a), 0);
	assert_int_equal(a, bar + 0x40);
	dma_unmap_phys(f->dev, a, 64, DMA_BIDIRECTIONAL, DMA_ATTR_MMIO);
	fx_destroy(f);
}

/* dma-direct: DMA address = phys; beyond the mask is an error with the
 * kernel's overflow message; the device cannot reach past its mask */
static void test_direct_mask(void **state)
{
	/* no swiotlb: beyond the mask is an error, not a bounce (ref §9.14) */
	struct fx_opts o = { .no_iommu = true, .dma_mask = DMA_BIT_MASK(32),
			     .swiotlb_off = true };
	struct fx *f = fx_create(&o);
	u8 buf[16];
	dma_addr_t a;

	(void)state;
	assert_int_equal(dml_ram_add(f->p, 0x100000000ULL, 1 << 30, 0), 0);
	a = dma_map_phys(f->dev, 0x40000000, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dma_mapping_error(f->dev, a), 0);
	assert_int_equal(a, 0x40000000);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	dml_test_log_reset();
	a = dma_map_phys(f->dev, 0x100000000ULL, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dma_mapping_error(f->dev, a), -ENOMEM);
	assert_true(strstr(dml_test_log.last, "overflow") != NULL);
	/* a mapping that ends past the mask is refused too */
	assert_int_equal(dma_map_phys(f->dev, 0xfffff000ULL, 2 * G, DMA_TO_DEVICE, 0),
			 DMA_MAPPING_ERROR);
	assert_int_equal(dml_dev_dma_read(f->dev, 0x100000000ULL, buf, 16), -EFAULT);
	assert_int_equal(dml_platform_fault_count(f->p), 1);
	assert_int_equal(dma_set_mask(f->dev, DMA_BIT_MASK(16)), -EIO);
	assert_int_equal(dma_set_mask_and_coherent(f->dev, DMA_BIT_MASK(40)), 0);
	assert_int_equal(dma_get_mask(f->dev), DMA_BIT_MASK(40));
	a = dma_map_phys(f->dev, 0x100000000ULL, G, DMA_TO_DEVICE, 0);
	assert_int_equal(dma_mapping_error(f->dev, a), 0);
	assert_int_equal(a, 0x100000000ULL);
	dma_unmap_phys(f->dev, a, G, DMA_TO_DEVICE, 0);
	fx_destroy(f);
}

/* scatterlist through the IOMMU: one IOVA range, aligned neighbours merge */
static void test_sg_iommu_merge(void **state)
{
	struct fx *f = *state;
	static const phys_addr_t ph[] = { 0x40005000, 0x40001000, 0x40009000, 0x40020200 };
	static const unsigned int len[] = { G, G, G, 512 };
	struct scatterlist sgl[4];
	u8 in[4 * G], out[4 * G];
	size_t off = 0;
	int i, n;

	sg_init_table(sgl, 4);
	for (i = 0; i < 4; i++) {
		sg_set_phys(&sgl[i], ph[i], len[i]);
		fx_fill(f, ph[i], len[i], (u8)(i + 1));
		memcpy(out + off, dml_kmap_local_phys(f->p, ph[i], len[i]), len[i]);
		off += len[i];
	}
	n = dma_map_sg(f->dev, sgl, 4, DMA_TO_DEVICE);
	/* three aligned pages merge; the last starts mid-granule: its own */
	assert_int_equal(n, 2);
	assert_int_equal(sg_dma_len(&sgl[0]), 3 * G);
	assert_int_equal(sg_dma_address(&sgl[1]) & (G - 1), 0x200);
	assert_int_equal(sg_dma_len(&sgl[1]), 512);
	assert_int_equal(dml_dev_dma_read(f->dev, sg_dma_address(&sgl[0]), in, 3 * G), 0);
	assert_int_equal(dml_dev_dma_read(f->dev, sg_dma_address(&sgl[1]), in + 3 * G, 512), 0);
	assert_memory_equal(in, out, 3 * G + 512);
	dma_unmap_sg(f->dev, sgl, 4, DMA_TO_DEVICE);
	assert_int_equal(dml_dev_dma_read(f->dev, sg_dma_address(&sgl[0]), in, 8), -EFAULT);
	assert_int_equal(fx_pt_pages(f), 1);
}

/* max_segment_size splits DMA segments */
static void test_sg_max_segment(void **state)
{
	struct fx_opts o = { 0 };
	struct fx *f = fx_create(&o);
	struct sg_table sgt;
	unsigned int i;

	(void)state;
	/* default max_segment_size is 64 KiB: 32 pages -> 2 segments */
	assert_int_equal(sg_alloc_table(&sgt, 32), 0);
	for (i = 0; i < 32; i++)
		sg_set_phys(&sgt.sgl[i], 0x40000000ULL + (u64)(31 - i) * G, G);
	assert_int_equal(dma_map_sgtable(f->dev, &sgt, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(sgt.nents, 2);
	assert_int_equal(sg_dma_len(&sgt.sgl[0]), 16 * G);
	assert_int_equal(sg_dma_address(&sgt.sgl[1]), sg_dma_address(&sgt.sgl[0]) + 16 * G);
	dma_unmap_sgtable(f->dev, &sgt, DMA_TO_DEVICE, 0);
	sg_free_table(&sgt);
	assert_int_equal(sg_alloc_table(&sgt, 0), -EINVAL);
	fx_destroy(f);
}

/* dma-direct scatterlists: one DMA segment per entry; overflow is -EIO */
static void test_sg_direct(void **state)
{
	/* no swiotlb: beyond the mask is an error, not a bounce (ref §9.14) */
	struct fx_opts o = { .no_iommu = true, .dma_mask = DMA_BIT_MASK(32),
			     .swiotlb_off = true };
	struct fx *f = fx_create(&o);
	struct sg_table sgt;

	(void)state;
	assert_int_equal(sg_alloc_table(&sgt, 2), 0);
	sg_set_phys(&sgt.sgl[0], 0x40001000, G);
	sg_set_phys(&sgt.sgl[1], 0x40000000, G);
	assert_int_equal(dma_map_sgtable(f->dev, &sgt, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(sgt.nents, 2);
	assert_int_equal(sg_dma_address(&sgt.sgl[1]), 0x40000000);
	dma_unmap_sgtable(f->dev, &sgt, DMA_TO_DEVICE, 0);
	sg_set_phys(&sgt.sgl[1], 0x100000000ULL, G);
	assert_int_equal(dma_map_sgtable(f->dev, &sgt, DMA_TO_DEVICE, 0), -EIO);
	assert_int_equal(dma_map_sg(f->dev, sgt.sgl, 2, DMA_TO_DEVICE), 0);
	sg_free_table(&sgt);
	fx_destroy(f);
}

/* the fault-injection hook: every step of a map fails cleanly and leaks
 * nothing; the same sequence then succeeds (reference/style.md C11) */
static void test_fail_nth_map(void **state)
{
	struct fx *f = *state;
	u64 base_pt = fx_pt_pages(f);
	struct dma_iova_state st;
	long n;

	for (n = 1; n < 64; n++) {
		bool ok;
		int ret = 0;

		dml_fail_nth(n);
		ok = dma_iova_try_alloc(f->dev, &st, 0, 64 * G);
		if (ok) {
			ret = dma_iova_link(f->dev, &st, 0x40000000, 0, 64 * G,
					    DMA_TO_DEVICE, 0);
			if (!ret)
				ret = dma_iova_sync(f->dev, &st, 0, 64 * G);
			dma_iova_destroy(f->dev, &st, ret ? 0 : 64 * G, DMA_TO_DEVICE, 0);
		}
		if (!dml_fail_nth_hit()) {
			assert_true(ok);
			assert_int_equal(ret, 0);
			break;
		}
		dml_fail_nth(0);
		assert_true(!ok || ret == -ENOMEM);
		assert_int_equal(fx_pt_pages(f), base_pt);
	}
	dml_fail_nth(0);
	assert_true(n > 1);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_map_phys_iommu, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_9_13_mapping_error, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_unmap_not_mapped, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_9_12_mmio_p2p, fx_setup, fx_teardown),
	cmocka_unit_test(test_9_12_mmio_direct),
	cmocka_unit_test(test_direct_mask),
	cmocka_unit_test_setup_teardown(test_sg_iommu_merge, fx_setup, fx_teardown),
	cmocka_unit_test(test_sg_max_segment),
	cmocka_unit_test(test_sg_direct),
	cmocka_unit_test_setup_teardown(test_fail_nth_map, fx_setup, fx_teardown),
};

DML_TEST_MAIN(tests)
