/* SPDX-License-Identifier: MIT */
/*
 * test_cc_debug.c - the checker's confidential-computing reports (issue
 * 10 item 6, ref §7.5): private memory handed to a device that is not
 * accepted without a bounce (the proposed DMA_ATTR_CC_SHARED on a page
 * set_memory_decrypted() never converted; force_dma_unencrypted()), a
 * shared-encoded DMA address for private memory
 * (phys_to_dma_unencrypted() of kernel/dma/direct.h), and a mapping made
 * while the device was accepted used after it left TDISP RUN, which took
 * its private mappings away (pci-tsm.h).  Correct use reports nothing.
 */
#include <dmalink/cc.h>
#include <string.h>

#include "fixture_guest.h"
#include "debug/checker.h"

#define BUF	0x10000000ULL
#define LEN	0x4000ULL

static dma_addr_t map(struct cc_fx *f, phys_addr_t phys, unsigned long attrs)
{
	dma_addr_t a = dma_map_phys(f->dev, phys, LEN, DMA_BIDIRECTIONAL, attrs);

	assert_false(dma_mapping_error(f->dev, a));
	return a;
}

static void unmap(struct cc_fx *f, dma_addr_t a, unsigned long attrs)
{
	dma_unmap_phys(f->dev, a, LEN, DMA_BIDIRECTIONAL, attrs);
}

/*
 * Correct use, with and without an IOMMU, in both encodings: a device not
 * accepted bounces private memory and maps shared memory with
 * DMA_ATTR_CC_SHARED; once accepted it maps private memory directly, and
 * a mapping made before it was accepted is no private mapping to lose.
 */
static void check_correct_use_quiet(enum dml_cc_flavour flavour, bool iommu)
{
	struct cc_fx *f = cc_fx_build(flavour, false, iommu);
	struct dma_iova_state st;
	dma_addr_t a, early;

	a = map(f, BUF, 0);
	dma_sync_single_for_cpu(f->dev, a, LEN, DMA_BIDIRECTIONAL);
	unmap(f, a, 0);
	assert_int_equal(set_memory_decrypted(f->p, BUF + LEN, (int)(LEN >> 12)), 0);
	a = map(f, BUF + LEN, DMA_ATTR_CC_SHARED);
	unmap(f, a, DMA_ATTR_CC_SHARED);
	early = map(f, BUF, 0);

	cc_fx_accept(f);
	a = map(f, BUF + 2 * LEN, 0);
	dma_sync_single_for_device(f->dev, a, LEN, DMA_BIDIRECTIONAL);
	unmap(f, a, 0);
	a = map(f, BUF + LEN, DMA_ATTR_CC_SHARED);
	unmap(f, a, DMA_ATTR_CC_SHARED);
	if (iommu) {
		assert_true(dma_iova_try_alloc(f->dev, &st, BUF, LEN));
		assert_int_equal(dma_iova_link(f->dev, &st, BUF, 0, LEN,
					       DMA_TO_DEVICE, 0), 0);
		dma_iova_destroy(f->dev, &st, LEN, DMA_TO_DEVICE, 0);
	}
	assert_int_equal(dml_tdisp_error(f->ep), 0);
	unmap(f, early, 0);	/* bounced before RUN: nothing private lost */
	none();
	cc_fx_free(f);
}

static void test_sev_correct_use_quiet(void **state)
{
	(void)state;
	check_correct_use_quiet(DML_CC_SEV, false);
}

static void test_tdx_iommu_correct_use_quiet(void **state)
{
	(void)state;
	check_correct_use_quiet(DML_CC_TDX, true);
}

/* (a) DMA_ATTR_CC_SHARED on private memory for a device not accepted */
static void check_private_unaccepted(enum dml_cc_flavour flavour, bool iommu)
{
	struct cc_fx *f = cc_fx_build(flavour, false, iommu);
	dma_addr_t a = map(f, BUF, DMA_ATTR_CC_SHARED);

	take(DML_DMA_DEBUG_CC_PRIVATE_UNACCEPTED, 1);
	unmap(f, a, DMA_ATTR_CC_SHARED);
	none();
	cc_fx_free(f);
}

static void test_sev_private_unaccepted(void **state)
{
	(void)state;
	check_private_unaccepted(DML_CC_SEV, false);
}

static void test_tdx_iommu_private_unaccepted(void **state)
{
	(void)state;
	check_private_unaccepted(DML_CC_TDX, true);
}

/*
 * (b) an accepted device given private memory in the shared encoding:
 * the address is phys_to_dma_unencrypted() of an encrypted page, bit for
 * bit (dma-direct), and the report names the page.
 */
static void check_shared_addr_private(enum dml_cc_flavour flavour)
{
	struct cc_fx *f = cc_fx_build(flavour, false, false);
	dma_addr_t a;

	cc_fx_accept(f);
	a = map(f, BUF, DMA_ATTR_CC_SHARED);
	assert_int_equal(a, phys_to_dma_unencrypted(f->dev, BUF));
	assert_int_not_equal(a, phys_to_dma_encrypted(f->dev, BUF));
	first_says("[phys=0x0000000010000000]");
	take(DML_DMA_DEBUG_CC_SHARED_ADDR_PRIVATE, 1);
	unmap(f, a, DMA_ATTR_CC_SHARED);
	none();
	cc_fx_free(f);
}

static void test_sev_shared_addr_private(void **state)
{
	(void)state;
	check_shared_addr_private(DML_CC_SEV);
}

static void test_tdx_shared_addr_private(void **state)
{
	(void)state;
	check_shared_addr_private(DML_CC_TDX);
}

/* the same through dma_iova_link() of an accepted device behind an IOMMU */
static void test_iova_shared_addr_private(void **state)
{
	struct cc_fx *f = cc_fx_build(DML_CC_SEV, false, true);
	struct dma_iova_state st;

	(void)state;
	cc_fx_accept(f);
	assert_true(dma_iova_try_alloc(f->dev, &st, BUF, LEN));
	assert_int_equal(dma_iova_link(f->dev, &st, BUF, 0, LEN, DMA_TO_DEVICE,
				       DMA_ATTR_CC_SHARED), 0);
	take(DML_DMA_DEBUG_CC_SHARED_ADDR_PRIVATE, 1);
	dma_iova_destroy(f->dev, &st, LEN, DMA_TO_DEVICE, DMA_ATTR_CC_SHARED);
	none();
	cc_fx_free(f);
}

/*
 * (c) a mapping made in RUN, used after the device left RUN (ERROR, or a
 * stop through dml_tsm_unbind()): reported at the first sync or unmap
 * that touches it, once.
 */
static void test_left_run_sync_then_unmap(void **state)
{
	struct cc_fx *f = cc_fx_build(DML_CC_SEV, false, false);
	dma_addr_t a;

	(void)state;
	cc_fx_accept(f);
	a = map(f, BUF, 0);
	assert_int_equal(dml_tdisp_error(f->ep), 0);
	dma_sync_single_for_cpu(f->dev, a, LEN, DMA_BIDIRECTIONAL);
	first_says("after it left TDISP RUN");
	take(DML_DMA_DEBUG_CC_LEFT_RUN, 1);
	unmap(f, a, 0);
	none();
	cc_fx_free(f);
}

static void test_left_run_unmap_after_stop(void **state)
{
	struct cc_fx *f = cc_fx_build(DML_CC_TDX, false, true);
	dma_addr_t a;

	(void)state;
	cc_fx_accept(f);
	a = map(f, BUF, 0);
	assert_int_equal(dml_tsm_unbind(f->ep), 0);
	unmap(f, a, 0);
	take(DML_DMA_DEBUG_CC_LEFT_RUN, 1);
	cc_fx_free(f);
}

static void test_left_run_iova(void **state)
{
	struct cc_fx *f = cc_fx_build(DML_CC_SEV, false, true);
	struct dma_iova_state st;

	(void)state;
	cc_fx_accept(f);
	assert_true(dma_iova_try_alloc(f->dev, &st, BUF, LEN));
	assert_int_equal(dma_iova_link(f->dev, &st, BUF, 0, LEN, DMA_TO_DEVICE,
				       0), 0);
	assert_int_equal(dml_tdisp_error(f->ep), 0);
	dma_iova_destroy(f->dev, &st, LEN, DMA_TO_DEVICE, 0);
	take(DML_DMA_DEBUG_CC_LEFT_RUN, 1);
	cc_fx_free(f);
}

/*
 * Scatterlists: each private piece handed with DMA_ATTR_CC_SHARED to a
 * device not accepted reports; each DMA segment mapped in RUN reports
 * once when unmapped after the device left RUN.
 */
static void test_sg(void **state)
{
	struct cc_fx *f = cc_fx_build(DML_CC_SEV, false, false);
	struct sg_table sgt;

	(void)state;
	assert_int_equal(sg_alloc_table(&sgt, 2), 0);
	sg_set_phys(&sgt.sgl[0], BUF, LEN);
	sg_set_phys(&sgt.sgl[1], BUF + 2 * LEN, LEN);
	assert_int_equal(dma_map_sgtable(f->dev, &sgt, DMA_TO_DEVICE,
					 DMA_ATTR_CC_SHARED), 0);
	take(DML_DMA_DEBUG_CC_PRIVATE_UNACCEPTED, 2);
	dma_unmap_sgtable(f->dev, &sgt, DMA_TO_DEVICE, DMA_ATTR_CC_SHARED);
	none();

	cc_fx_accept(f);
	assert_int_equal(dma_map_sgtable(f->dev, &sgt, DMA_TO_DEVICE, 0), 0);
	assert_int_equal(sgt.nents, 2);	/* dma-direct: no merge */
	none();
	assert_int_equal(dml_tdisp_error(f->ep), 0);
	dma_unmap_sgtable(f->dev, &sgt, DMA_TO_DEVICE, 0);
	take(DML_DMA_DEBUG_CC_LEFT_RUN, sgt.nents);
	sg_free_table(&sgt);
	cc_fx_free(f);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_sev_correct_use_quiet),
	cmocka_unit_test(test_tdx_iommu_correct_use_quiet),
	cmocka_unit_test(test_sev_private_unaccepted),
	cmocka_unit_test(test_tdx_iommu_private_unaccepted),
	cmocka_unit_test(test_sev_shared_addr_private),
	cmocka_unit_test(test_tdx_shared_addr_private),
	cmocka_unit_test(test_iova_shared_addr_private),
	cmocka_unit_test(test_left_run_sync_then_unmap),
	cmocka_unit_test(test_left_run_unmap_after_stop),
	cmocka_unit_test(test_left_run_iova),
	cmocka_unit_test(test_sg),
};

DML_TEST_MAIN(tests)
