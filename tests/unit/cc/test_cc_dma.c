/* SPDX-License-Identifier: MIT */
/*
 * test_cc_dma.c - dma-direct in a confidential guest (issue 10 item 3,
 * ref §7.5; force_dma_unencrypted() of arch/x86/mm/mem_encrypt.c,
 * swiotlb_map()'s phys_to_dma_unencrypted(), the proposed
 * DMA_ATTR_CC_SHARED): a device not accepted into the TVM only reaches
 * shared memory (a bounce through the pool, which is shared, with the
 * unencrypted encoding); an accepted device in RUN maps private memory
 * directly with the encrypted encoding; DMA_ATTR_CC_SHARED and
 * DMA_ATTR_MMIO map directly, unencrypted.
 */
#include <dmalink/cc.h>
#include <dmalink/scatterlist.h>
#include <string.h>

#include "fixture_guest.h"

#define BUF	0x10000000ULL
#define LEN	0x10000ULL

/* map and check the result, as a driver must (dma_mapping_error()) */
static dma_addr_t map(struct cc_fx *f, phys_addr_t phys, enum dma_data_direction dir,
		      unsigned long attrs)
{
	dma_addr_t a = dma_map_phys(f->dev, phys, LEN, dir, attrs);

	assert_false(dma_mapping_error(f->dev, a));
	return a;
}

static u64 bounced_maps(struct cc_fx *f)
{
	struct dml_swiotlb_stats st;

	assert_int_equal(dml_swiotlb_get_stats(f->p, &st), 0);
	return st.maps;
}

/* not accepted: private memory bounces through the shared pool, unencrypted */
static void check_not_accepted_bounces(enum dml_cc_flavour flavour)
{
	struct cc_fx *f = cc_fx_build(flavour, false, false);
	u8 *buf = dml_kmap_local_phys(f->p, BUF, LEN);
	dma_addr_t a;
	phys_addr_t tlb;

	memset(buf, 0x3c, LEN);
	a = map(f, BUF, DMA_BIDIRECTIONAL, 0);
	assert_int_equal(bounced_maps(f), 1);
	/* the unencrypted encoding, bit for bit: SEV C-bit clear, TDX shared bit set */
	tlb = (phys_addr_t)(a & ~f->bit);
	assert_int_equal(a, phys_to_dma_unencrypted(f->dev, tlb));
	if (flavour == DML_CC_TDX)
		assert_true(a & f->bit);
	else
		assert_false(a & f->bit);
	assert_int_not_equal(tlb, BUF);
	/* the device sees shared memory only, holding the buffer's bytes */
	assert_true(dml_cc_phys_shared(f->p, tlb, LEN));
	assert_false(dml_cc_phys_shared(f->p, BUF, LEN));
	assert_int_equal(memcmp(dml_kmap_local_phys(f->p, tlb, LEN), buf, LEN), 0);
	/* what the device writes comes back on unmap */
	memset(dml_kmap_local_phys(f->p, tlb, LEN), 0xc3, LEN);
	dma_unmap_phys(f->dev, a, LEN, DMA_BIDIRECTIONAL, 0);
	assert_int_equal(buf[0], 0xc3);
	assert_int_equal(buf[LEN - 1], 0xc3);
	cc_fx_free(f);
}

static void test_sev_not_accepted_bounces(void **state)
{
	(void)state;
	check_not_accepted_bounces(DML_CC_SEV);
}

static void test_tdx_not_accepted_bounces(void **state)
{
	(void)state;
	check_not_accepted_bounces(DML_CC_TDX);
}

/* accepted and in RUN: direct, encrypted; leaving RUN bounces again */
static void check_accepted_direct(enum dml_cc_flavour flavour)
{
	struct cc_fx *f = cc_fx_build(flavour, false, false);
	dma_addr_t a;

	cc_fx_accept(f);
	a = map(f, BUF, DMA_TO_DEVICE, 0);
	assert_int_equal(a, phys_to_dma_encrypted(f->dev, BUF));
	assert_int_equal(a, flavour == DML_CC_SEV ? BUF | f->bit : BUF);
	assert_int_equal(bounced_maps(f), 0);
	dma_unmap_phys(f->dev, a, LEN, DMA_TO_DEVICE, 0);

	assert_int_equal(dml_tdisp_error(f->ep), 0);
	a = map(f, BUF, DMA_TO_DEVICE, 0);
	assert_int_not_equal(a & ~f->bit, BUF);
	assert_int_equal(bounced_maps(f), 1);
	dma_unmap_phys(f->dev, a, LEN, DMA_TO_DEVICE, 0);
	cc_fx_free(f);
}

static void test_sev_accepted_direct(void **state)
{
	(void)state;
	check_accepted_direct(DML_CC_SEV);
}

static void test_tdx_accepted_direct(void **state)
{
	(void)state;
	check_accepted_direct(DML_CC_TDX);
}

/* DMA_ATTR_CC_SHARED and DMA_ATTR_MMIO: direct, unencrypted, for every device */
static void test_shared_attr(void **state)
{
	struct cc_fx *f = cc_fx_build(DML_CC_SEV, false, false);
	dma_addr_t a;

	(void)state;
	assert_int_equal(dml_mmio_add(f->p, 1ULL << 36, SZ_2M, "bar"), 0);
	assert_int_equal(set_memory_decrypted(f->p, BUF, (int)(LEN >> 12)), 0);
	a = map(f, BUF, DMA_FROM_DEVICE, DMA_ATTR_CC_SHARED);
	assert_int_equal(a, BUF);
	dma_unmap_phys(f->dev, a, LEN, DMA_FROM_DEVICE, DMA_ATTR_CC_SHARED);
	a = map(f, 1ULL << 36, DMA_FROM_DEVICE, DMA_ATTR_MMIO);
	assert_int_equal(a, 1ULL << 36);
	dma_unmap_phys(f->dev, a, LEN, DMA_FROM_DEVICE, DMA_ATTR_MMIO);
	/* an accepted device's shared mapping is unencrypted too */
	cc_fx_accept(f);
	a = map(f, BUF, DMA_FROM_DEVICE, DMA_ATTR_CC_SHARED);
	assert_int_equal(a, BUF);
	dma_unmap_phys(f->dev, a, LEN, DMA_FROM_DEVICE, DMA_ATTR_CC_SHARED);
	assert_int_equal(bounced_maps(f), 0);
	cc_fx_free(f);
}

/* where the bounce is impossible the map fails: no pool, DMA_ATTR_REQUIRE_COHERENT */
static void test_no_bounce_fails(void **state)
{
	struct cc_fx *f = cc_fx_build(DML_CC_TDX, true, false);

	(void)state;
	assert_true(dma_mapping_error(f->dev,
		    dma_map_phys(f->dev, BUF, LEN, DMA_TO_DEVICE, 0)));
	cc_fx_free(f);
	f = cc_fx_build(DML_CC_TDX, false, false);
	assert_true(dma_mapping_error(f->dev,
		    dma_map_phys(f->dev, BUF, LEN, DMA_TO_DEVICE,
				 DMA_ATTR_REQUIRE_COHERENT)));
	assert_int_equal(bounced_maps(f), 0);
	cc_fx_free(f);
}

/* without encryption nothing changes: the address is the physical one */
static void test_no_encryption(void **state)
{
	struct cc_fx *f = cc_fx_build(DML_CC_NONE, false, false);
	dma_addr_t a;

	(void)state;
	a = map(f, BUF, DMA_TO_DEVICE, DMA_ATTR_CC_SHARED);
	assert_int_equal(a, BUF);
	dma_unmap_phys(f->dev, a, LEN, DMA_TO_DEVICE, DMA_ATTR_CC_SHARED);
	a = map(f, BUF, DMA_TO_DEVICE, 0);
	assert_int_equal(a, BUF);
	dma_unmap_phys(f->dev, a, LEN, DMA_TO_DEVICE, 0);
	assert_int_equal(bounced_maps(f), 0);
	cc_fx_free(f);
}

/*
 * Behind an IOMMU the rule is the same for dma_map_phys(): a device not
 * accepted gets private memory only through a whole bounce (even granule
 * aligned), an accepted one maps it directly; dma_iova_link() of private
 * memory for a device not accepted fails with -EPERM, as a link that
 * would have to bounce MMIO does (iommu_dma_iova_link_swiotlb()).
 */
static void test_iommu(void **state)
{
	struct cc_fx *f = cc_fx_build(DML_CC_SEV, false, true);
	struct dma_iova_state st;
	u8 *buf = dml_kmap_local_phys(f->p, BUF, LEN);
	dma_addr_t a;

	(void)state;
	memset(buf, 0x11, LEN);
	a = map(f, BUF, DMA_FROM_DEVICE, 0);
	assert_int_equal(bounced_maps(f), 1);
	dma_unmap_phys(f->dev, a, LEN, DMA_FROM_DEVICE, 0);

	assert_true(dma_iova_try_alloc(f->dev, &st, BUF, LEN));
	assert_int_equal(dma_iova_link(f->dev, &st, BUF, 0, LEN, DMA_TO_DEVICE, 0), -EPERM);
	assert_int_equal(set_memory_decrypted(f->p, BUF, (int)(LEN >> 12)), 0);
	assert_int_equal(dma_iova_link(f->dev, &st, BUF, 0, LEN, DMA_TO_DEVICE,
				       DMA_ATTR_CC_SHARED), 0);
	dma_iova_destroy(f->dev, &st, LEN, DMA_TO_DEVICE, DMA_ATTR_CC_SHARED);

	cc_fx_accept(f);
	a = map(f, BUF, DMA_FROM_DEVICE, 0);
	assert_int_equal(bounced_maps(f), 1);
	dma_unmap_phys(f->dev, a, LEN, DMA_FROM_DEVICE, 0);
	assert_true(dma_iova_try_alloc(f->dev, &st, BUF, LEN));
	assert_int_equal(dma_iova_link(f->dev, &st, BUF, 0, LEN, DMA_TO_DEVICE, 0), 0);
	dma_iova_destroy(f->dev, &st, LEN, DMA_TO_DEVICE, 0);
	cc_fx_free(f);
}

static u64 pool_used(struct cc_fx *f)
{
	struct dml_swiotlb_stats st;

	assert_int_equal(dml_swiotlb_get_stats(f->p, &st), 0);
	return st.used;
}

/*
 * Behind an IOMMU, what a device that is not accepted writes into the
 * bounce buffer of a DMA_FROM_DEVICE mapping comes back to the private
 * buffer on dma_unmap_phys(), and the slots go back to the pool
 * (iommu_dma_unmap_phys(): swiotlb_tbl_unmap_single() of a bounced
 * address, kernel/dma/swiotlb.c copies DMA_FROM_DEVICE on unmap).
 */
static void test_iommu_unmap_copies_back(void **state)
{
	struct cc_fx *f = cc_fx_build(DML_CC_TDX, false, true);
	u8 *buf = dml_kmap_local_phys(f->p, BUF, LEN);
	u8 pat[LEN];
	dma_addr_t a;

	(void)state;
	memset(buf, 0x11, LEN);
	memset(pat, 0x7e, LEN);
	a = map(f, BUF, DMA_FROM_DEVICE, 0);
	assert_int_equal(bounced_maps(f), 1);
	assert_int_not_equal(pool_used(f), 0);
	assert_int_equal(dml_dev_dma_write(f->dev, a, pat, LEN), 0);
	assert_int_equal(buf[0], 0x11);		/* not before the unmap */
	dma_unmap_phys(f->dev, a, LEN, DMA_FROM_DEVICE, 0);
	assert_int_equal(memcmp(buf, pat, LEN), 0);
	assert_int_equal(pool_used(f), 0);
	cc_fx_free(f);
}

/* three private pieces, not contiguous, each LEN / 4 bytes */
static void sg_three(struct sg_table *sgt)
{
	unsigned int i;

	assert_int_equal(sg_alloc_table(sgt, 3), 0);
	for (i = 0; i < 3; i++)
		sg_set_phys(&sgt->sgl[i], BUF + i * LEN, (unsigned int)(LEN / 4));
}

/*
 * dma_map_sg() in a confidential guest, with an IOMMU and without: for a
 * device that is not accepted each private piece is bounced through the
 * shared pool (dma_direct_map_sg() maps each entry with
 * dma_direct_map_phys(), which bounces under force_dma_unencrypted();
 * iommu_dma_map_sg() goes entry by entry, iommu_dma_map_sg_swiotlb()),
 * the device reads the data and what it writes comes back on unmap; an
 * accepted device in RUN maps the same pieces with no bounce.
 */
static void check_sg(enum dml_cc_flavour flavour, bool iommu, bool accepted)
{
	struct cc_fx *f = cc_fx_build(flavour, false, iommu);
	u8 got[3 * LEN / 4], want[3 * LEN / 4], pat[3 * LEN / 4];
	struct sg_table sgt;
	unsigned int i, off;

	if (accepted)
		cc_fx_accept(f);
	memset(pat, 0x40, sizeof(pat));
	for (i = 0; i < 3; i++) {
		memset(want + i * LEN / 4, 0x20 + (int)i, LEN / 4);
		memcpy(dml_kmap_local_phys(f->p, BUF + i * LEN, LEN / 4),
		       want + i * LEN / 4, LEN / 4);
	}
	sg_three(&sgt);
	assert_int_equal(dma_map_sgtable(f->dev, &sgt, DMA_BIDIRECTIONAL, 0), 0);
	assert_int_equal(bounced_maps(f), accepted ? 0 : 3);
	/* the device reads the pieces in order, then overwrites them */
	for (i = 0, off = 0; i < sgt.nents; off += sg_dma_len(&sgt.sgl[i]), i++) {
		assert_true(off + sg_dma_len(&sgt.sgl[i]) <= sizeof(got));
		assert_int_equal(dml_dev_dma_read(f->dev, sg_dma_address(&sgt.sgl[i]),
						  got + off, sg_dma_len(&sgt.sgl[i])), 0);
		assert_int_equal(dml_dev_dma_write(f->dev, sg_dma_address(&sgt.sgl[i]),
						   pat + off, sg_dma_len(&sgt.sgl[i])), 0);
	}
	assert_int_equal(off, sizeof(got));
	assert_int_equal(memcmp(got, want, sizeof(got)), 0);
	dma_unmap_sgtable(f->dev, &sgt, DMA_BIDIRECTIONAL, 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(memcmp(dml_kmap_local_phys(f->p, BUF + i * LEN, LEN / 4),
					pat, LEN / 4), 0);
	assert_int_equal(pool_used(f), 0);
	sg_free_table(&sgt);
	cc_fx_free(f);
}

static void test_sg_not_accepted(void **state)
{
	(void)state;
	check_sg(DML_CC_SEV, false, false);
	check_sg(DML_CC_TDX, false, false);
	check_sg(DML_CC_SEV, true, false);
	check_sg(DML_CC_TDX, true, false);
}

static void test_sg_accepted(void **state)
{
	(void)state;
	check_sg(DML_CC_SEV, false, true);
	check_sg(DML_CC_TDX, true, true);
}

/*
 * A device that is not accepted bounces every mapping, so its largest
 * mapping is one bounce buffer, with an IOMMU and without
 * (dma_direct_max_mapping_size() under is_swiotlb_force_bounce(), which a
 * confidential guest sets); accepted and in RUN it has no such limit, and
 * leaving RUN brings the limit back.
 */
static void test_max_mapping_size(void **state)
{
	int iommu;

	(void)state;
	for (iommu = 0; iommu < 2; iommu++) {
		struct cc_fx *f = cc_fx_build(DML_CC_TDX, false, iommu);
		size_t bounce = dma_max_mapping_size(f->dev);

		assert_true(bounce >= LEN && bounce <= 256 * 1024);
		cc_fx_accept(f);
		assert_int_equal(dma_max_mapping_size(f->dev), SIZE_MAX);
		assert_int_equal(dml_tdisp_error(f->ep), 0);
		assert_int_equal(dma_max_mapping_size(f->dev), bounce);
		cc_fx_free(f);
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_iommu_unmap_copies_back),
	cmocka_unit_test(test_sg_not_accepted),
	cmocka_unit_test(test_sg_accepted),
	cmocka_unit_test(test_max_mapping_size),
	cmocka_unit_test(test_iommu),
	cmocka_unit_test(test_sev_not_accepted_bounces),
	cmocka_unit_test(test_tdx_not_accepted_bounces),
	cmocka_unit_test(test_sev_accepted_direct),
	cmocka_unit_test(test_tdx_accepted_direct),
	cmocka_unit_test(test_shared_attr),
	cmocka_unit_test(test_no_bounce_fails),
	cmocka_unit_test(test_no_encryption),
};

DML_TEST_MAIN(tests)
