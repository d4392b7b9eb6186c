/* SPDX-License-Identifier: MIT */
/*
 * expected.h - the DMA-API reports that tests outside tests/unit/debug
 * cause on purpose (or knowingly), for the harness of testutil.h: the
 * checker is on under DML_TEST_MAIN, and a test passes only if it makes
 * exactly the categories of reports listed for it here or announced with
 * dml_test_expect_dma_debug() (every listed category must occur; any other
 * report fails the test).  New tests should announce what they expect in
 * their own body; this table covers the tests written before the checker.
 * Owner of this file: the checker (src/dma/debug/).
 */
#ifndef DML_TEST_DEBUG_EXPECTED_H
#define DML_TEST_DEBUG_EXPECTED_H

#include <string.h>

#include <dmalink/dma-debug.h>

#define DML_EXP(c) (1ULL << DML_DMA_DEBUG_##c)

struct dml_test_expected {
	const char *file;	/* basename of the test source */
	const char *test;	/* cmocka test name */
	unsigned long long cats;	/* DML_EXP() bits */
	const char *why;
};

static const struct dml_test_expected dml_test_expected_table[] = {
	/* dma/test_two_step.c: the error paths of ref §9 items 3-10 */
	{ "test_two_step.c", "test_9_3_reservation_alignment",
	  DML_EXP(IOVA_LINK_OUTSIDE), "links one granule past the reservation" },
	{ "test_two_step.c", "test_9_4_unaligned_middle_eio",
	  DML_EXP(IOVA_LINK_ALIGN), "unaligned phys at offset > 0 (-EIO)" },
	{ "test_two_step.c", "test_9_4_overlap_eexist",
	  DML_EXP(IOVA_LINK_OVERLAP) | DML_EXP(DEV_NOT_LINKED),
	  "overlapping link; the device then reads the unlinked granule" },
	{ "test_two_step.c", "test_9_4_link_bounds",
	  DML_EXP(IOVA_BAD_STATE) | DML_EXP(IOVA_LINK_OUTSIDE) |
	  DML_EXP(IOVA_SYNC_OUTSIDE),
	  "links with a zeroed state and outside the reservation" },
	{ "test_two_step.c", "test_9_5_link_needs_sync",
	  DML_EXP(DEV_NOT_SYNCED), "the device reads before dma_iova_sync" },
	{ "test_two_step.c", "test_9_6_direction_protection",
	  DML_EXP(DEV_WRONG_DIR), "device accesses against the direction" },
	{ "test_two_step.c", "test_9_8_unlink_relink",
	  DML_EXP(DEV_NOT_LINKED), "the device reads an unlinked range" },
	{ "test_two_step.c", "test_9_8_unlink_whole_links_only",
	  DML_EXP(IOVA_SPLIT) | DML_EXP(IOVA_NOT_LINKED),
	  "unlinks that split links or cover holes" },
	{ "test_two_step.c", "test_9_10_free_with_links",
	  DML_EXP(IOVA_FREE_LINKED) | DML_EXP(DEV_NOT_SYNCED),
	  "free with a link outstanding; the device reads the never-synced link" },
	/* dma/test_streaming.c */
	{ "test_streaming.c", "test_map_phys_iommu",
	  DML_EXP(DEV_NOT_MAPPED), "the device reads after dma_unmap_phys" },
	{ "test_streaming.c", "test_unmap_not_mapped",
	  DML_EXP(FREE_NOT_ALLOCATED), "unmaps half of a mapping" },
	{ "test_streaming.c", "test_direct_mask",
	  DML_EXP(DEV_NOT_MAPPED), "the device reads past its mask" },
	{ "test_streaming.c", "test_sg_iommu_merge",
	  DML_EXP(DEV_NOT_MAPPED), "the device reads after dma_unmap_sg" },
	/* iommu/test_iotlb.c: maps through the backend ops, below the DMA API */
	{ "test_iotlb.c", "test_device_stale_write",
	  DML_EXP(DEV_NOT_MAPPED), "the mapping is made with d->ops->map, which the checker does not see" },
	/* cc/test_cc_enforce.c: the misuse the fabric must block (issue 10) */
	{ "test_cc_enforce.c", "test_sev_error_blocks", DML_EXP(CC_LEFT_RUN),
	  "unmaps a private mapping after the device entered ERROR" },
	{ "test_cc_enforce.c", "test_tdx_stop_blocks", DML_EXP(CC_LEFT_RUN),
	  "unmaps a private mapping after the device was stopped" },
	{ "test_cc_enforce.c", "test_iommu_error_blocks", DML_EXP(CC_LEFT_RUN),
	  "unmaps a private IOMMU mapping after the device entered ERROR" },
	{ "test_cc_enforce.c", "test_sev_shared_alias_blocked",
	  DML_EXP(CC_PRIVATE_UNACCEPTED),
	  "DMA_ATTR_CC_SHARED on private memory of a device not accepted" },
	{ "test_cc_enforce.c", "test_tdx_iommu_private_blocked",
	  DML_EXP(CC_PRIVATE_UNACCEPTED),
	  "DMA_ATTR_CC_SHARED on private memory of a device not accepted" },
};

/* the categories @test of @file is listed with (0: none) */
static inline unsigned long long dml_test_expected_for(const char *file,
							const char *test)
{
	const char *base = strrchr(file, '/');
	size_t i;

	base = base ? base + 1 : file;
	for (i = 0; i < sizeof(dml_test_expected_table) /
			sizeof(dml_test_expected_table[0]); i++)
		if (!strcmp(dml_test_expected_table[i].file, base) &&
		    !strcmp(dml_test_expected_table[i].test, test))
			return dml_test_expected_table[i].cats;
	return 0;
}

#endif /* DML_TEST_DEBUG_EXPECTED_H */
