/* SPDX-License-Identifier: MIT */
/*
 * test_cc_leave_run.c - device DMA across a TDI leaving TDISP RUN (issue
 * 10 items 4 and 5, ref §7.5: "BARs of a TDISP device in RUN state belong
 * to the TVM"; §7.4 revoke: "importers are told and unmap, after which
 * the memory is unreachable"; the TDISP chapter of the PCIe 6.x
 * specification: an error or a stop takes a TDI out of RUN and ends its
 * access to the TVM's private memory).
 *
 *  - The provider leaves RUN: an accepted peer (the NVMe, behind an
 *    IOMMU) has really written into the GPU's private BAR through its
 *    PAL_PRIVATE mapping; the GPU's error or stop revokes the buffer, the
 *    importer is told and unmaps, and the same DMA now faults in the
 *    IOMMU (not present) and moves no byte.
 *  - The importer leaves RUN: every private mapping of the NVMe (private
 *    RAM by dma_map_phys() and by the two-step API, the GPU's private
 *    BAR) stops at once: its DMA faults, nothing moves, and unmapping it
 *    all leaks nothing.
 */
#include "fixture_run.h"

#include "debug/checker.h"

#define RAM	0x10000000ULL
#define RLEN	0x2000ULL

/* the last fault of the unit: a device write to @addr not present */
static void faulted_write(struct run_fx *f, u64 before, dma_addr_t addr)
{
	struct dml_fault ft;
	u64 n = dml_iommu_fault_count(f->iommu);

	assert_int_equal(n, before + 1);
	assert_int_equal(dml_iommu_fault_get(f->iommu, n - 1, &ft), 0);
	assert_int_equal(ft.addr, addr);
	assert_true(ft.write);
	assert_int_equal(ft.reason, DML_FAULT_NOT_PRESENT);
}

static void check_provider_leaves(enum dml_cc_flavour flavour, bool stop)
{
	struct run_fx *f = run_fx_build(flavour);
	u8 data[64], got[64], *bar, *host, *before = malloc(RUN_LEN);
	struct run_imp imp;
	dma_addr_t a;
	u64 faults;

	assert_non_null(before);
	assert_int_equal(run_imp_attach(f, &imp), 0);
	assert_int_equal(imp.a->map_type, DMA_BUF_MAPPING_PAL_PRIVATE);
	assert_int_equal(run_imp_map(&imp), 0);
	a = (dma_addr_t)(imp.st.addr + 0x100);

	/* in RUN: the peer's DMA lands in the private BAR, as the TVM sees it */
	bar = dml_tvm_mmio_map(f->tvm, RUN_BAR + RUN_OFF, RUN_LEN);
	assert_non_null(bar);
	memset(data, 0xa5, sizeof(data));
	assert_int_equal(dml_dev_dma_write(f->nvme_dev, a, data, sizeof(data)), 0);
	assert_int_equal(bar[0x100], 0xa5);
	assert_int_equal(bar[0x13f], 0xa5);
	assert_int_equal(bar[0x140], 0);
	assert_int_equal(dml_dev_dma_read(f->nvme_dev, a, got, sizeof(got)), 0);
	assert_int_equal(memcmp(got, data, sizeof(got)), 0);

	/* the provider leaves RUN (no reservation lock held): told, unmapped */
	faults = dml_iommu_fault_count(f->iommu);
	if (stop)
		assert_int_equal(dml_tsm_unbind(f->gpu), 0);
	else
		assert_int_equal(dml_tdisp_error(f->gpu), 0);
	assert_true(dml_dma_buf_revoked(f->buf));
	assert_int_equal(atomic_load(&imp.invalidations), 1);
	assert_false(imp.mapped);

	/* the same DMA faults in the IOMMU and moves nothing */
	host = dml_kmap_local_phys(f->p, RUN_BAR + RUN_OFF, RUN_LEN);
	assert_non_null(host);			/* shared MMIO again */
	memcpy(before, host, RUN_LEN);
	memset(data, 0x3c, sizeof(data));
	assert_int_equal(dml_dev_dma_write(f->nvme_dev, a, data, sizeof(data)),
			 -EFAULT);
	faulted_write(f, faults, a);
	memset(got, 0, sizeof(got));
	assert_int_equal(dml_dev_dma_read(f->nvme_dev, a, got, sizeof(got)),
			 -EFAULT);
	assert_int_equal(got[0], 0);
	assert_int_equal(memcmp(host, before, RUN_LEN), 0);
	assert_int_equal(host[0x100], 0xa5);
	take(DML_DMA_DEBUG_DEV_NOT_MAPPED, 2);	/* the checker saw both */

	/* and the importer cannot map it again: revoked */
	assert_int_equal(run_imp_map(&imp), -ENODEV);
	run_imp_detach(&imp);
	none();
	free(before);
	run_fx_free(f);
}

static void test_sev_provider_error(void **state)
{
	(void)state;
	check_provider_leaves(DML_CC_SEV, false);
}

static void test_tdx_provider_stop(void **state)
{
	(void)state;
	check_provider_leaves(DML_CC_TDX, true);
}

/* @ram is all 0x5a and the BAR range all 0: nothing moved */
static void untouched(struct run_fx *f, const u8 *ram)
{
	const u8 *bar = dml_tvm_mmio_map(f->tvm, RUN_BAR + RUN_OFF, RUN_LEN);
	u64 i;

	assert_non_null(bar);
	for (i = 0; i < RLEN; i++)
		assert_int_equal(ram[i], 0x5a);
	for (i = 0; i < RUN_LEN; i++)
		assert_int_equal(bar[i], 0);
}

/*
 * The NVMe holds three private mappings, all working while it is
 * accepted; its error takes it out of RUN and every one of them stops at
 * once: DMA faults, no byte of RAM or BAR moves.  The driver's unmaps
 * are each reported once as use after leaving RUN; nothing leaks.
 */
static void test_importer_leaves(void **state)
{
	struct run_fx *f = run_fx_build(DML_CC_SEV);
	u8 *ram = dml_kmap_local_phys(f->p, RAM, 2 * RLEN), data[64], got[64];
	dma_addr_t single, two, bar;
	struct dma_iova_state st;
	struct run_imp imp;

	(void)state;
	memset(ram, 0x5a, 2 * RLEN);
	single = dma_map_phys(f->nvme_dev, RAM, RLEN, DMA_BIDIRECTIONAL, 0);
	assert_false(dma_mapping_error(f->nvme_dev, single));
	assert_true(dma_iova_try_alloc(f->nvme_dev, &st, RAM + RLEN, RLEN));
	assert_int_equal(dma_iova_link(f->nvme_dev, &st, RAM + RLEN, 0, RLEN,
				       DMA_BIDIRECTIONAL, 0), 0);
	assert_int_equal(dma_iova_sync(f->nvme_dev, &st, 0, RLEN), 0);
	two = st.addr;
	assert_int_equal(run_imp_attach(f, &imp), 0);
	assert_int_equal(run_imp_map(&imp), 0);
	bar = imp.st.addr;
	assert_int_equal(dml_dev_dma_read(f->nvme_dev, single, got, 64), 0);
	assert_int_equal(got[63], 0x5a);
	assert_int_equal(dml_dev_dma_read(f->nvme_dev, two, got, 64), 0);
	assert_int_equal(got[0], 0x5a);
	assert_int_equal(dml_dev_dma_read(f->nvme_dev, bar, got, 64), 0);
	assert_int_equal(got[0], 0);

	assert_int_equal(dml_tdisp_error(f->nvme), 0);
	assert_false(dml_tsm_accepted(f->nvme_dev));
	memset(data, 0xee, sizeof(data));
	assert_int_equal(dml_dev_dma_write(f->nvme_dev, single, data, 64), -EFAULT);
	assert_int_equal(dml_dev_dma_write(f->nvme_dev, two, data, 64), -EFAULT);
	assert_int_equal(dml_dev_dma_write(f->nvme_dev, bar, data, 64), -EFAULT);
	memset(got, 0x11, sizeof(got));
	assert_int_equal(dml_dev_dma_read(f->nvme_dev, bar, got, 64), -EFAULT);
	assert_int_equal(got[0], 0x11);
	untouched(f, ram);
	none();

	/* the driver's unmaps: one CC_LEFT_RUN report per mapping, no leak */
	dma_unmap_phys(f->nvme_dev, single, RLEN, DMA_BIDIRECTIONAL, 0);
	dma_iova_destroy(f->nvme_dev, &st, RLEN, DMA_BIDIRECTIONAL, 0);
	run_imp_detach(&imp);
	take(DML_DMA_DEBUG_CC_LEFT_RUN, 3);
	run_fx_free(f);
	none();
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_sev_provider_error),
	cmocka_unit_test(test_tdx_provider_stop),
	cmocka_unit_test(test_importer_leaves),
};

DML_TEST_MAIN(tests)
