/* SPDX-License-Identifier: MIT */
/*
 * test_bar_exporter.c - the VFIO-BAR-like exporter of the library
 * (shared/reference/kernel-dma-semantics.md §7.2, §9 item 22): each bad
 * range is rejected with VFIO's error; importers that cannot take peer
 * memory or cannot be revoked are refused; the negotiated type is PAL
 * when the importer takes it, SGT_P2P otherwise; the device reads the
 * exported ranges through the sg table, faults after a revoke, and reads
 * again after re-enable.
 */
#include "dmabuf/fixture_p2p.h"

static void nop_invalidate(struct dma_buf_attachment *a)
{
	struct sg_table **sgt = a->importer_priv;

	if (*sgt)
		dma_buf_unmap_attachment(a, *sgt, DMA_TO_DEVICE);
	*sgt = NULL;
}

static const struct dma_buf_attach_ops revocable = {
	.allow_peer2peer = true,
	.invalidate_mappings = nop_invalidate,
};

/*
 * "region index must be a BAR ...; each range non-zero, offset and
 * length PAGE_SIZE aligned, inside the BAR, no overflow"
 */
static void test_bar_validation(void **state)
{
	static const struct {
		u32 region;
		struct dml_dma_buf_range r;
		int err;
	} bad[] = {
		{ 6, { 0, 0x1000 }, -ENODEV },		/* the ROM: not a BAR */
		{ 1, { 0, 0x1000 }, -EINVAL },		/* no such BAR */
		{ 0, { 0, 0 }, -EINVAL },		/* empty */
		{ 0, { 0x800, 0x1000 }, -EINVAL },	/* offset unaligned */
		{ 0, { 0, 0x1800 }, -EINVAL },		/* length unaligned */
		{ 0, { BAR_LEN - 0x1000, 0x2000 }, -EINVAL },	/* past */
		{ 0, { ~0xfffULL, 0x2000 }, -EINVAL },	/* overflow */
	};
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct dml_dma_buf_range ok = { 0, BAR_LEN };
	struct dma_buf *buf = NULL;
	unsigned int i;

	*state = f;
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(dml_pci_bar_dma_buf_export(f->ssd, bad[i].region,
							    &bad[i].r, 1, &buf),
				 bad[i].err);
	assert_int_equal(dml_pci_bar_dma_buf_export(f->ssd, 0, &ok, 0, &buf),
			 -EINVAL);
	assert_null(buf);
	assert_int_equal(dml_pci_bar_dma_buf_export(f->ssd, 0, &ok, 1, &buf), 0);
	assert_int_equal(buf->size, BAR_LEN);
	dma_buf_put(buf);
}

/*
 * "attach requires attach->peer2peer (else -EOPNOTSUPP)"; "VFIO offers
 * PAL first, then SGT_P2P"; revoke faults the device, re-enable maps
 */
static void test_bar_import_revoke(void **state)
{
	static const enum dma_buf_mapping_type both[] = {
		DMA_BUF_MAPPING_SGT_P2P, DMA_BUF_MAPPING_PAL,
	};
	static const enum dma_buf_mapping_type sgt_p2p[] = {
		DMA_BUF_MAPPING_SGT_P2P,
	};
	static const struct dma_buf_attach_ops no_p2p = {
		.invalidate_mappings = nop_invalidate,
	};
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct dml_dma_buf_range r[2] = { { 0x8000, 0x2000 }, { 0x1000, 0x1000 } };
	struct dma_buf_attachment *a = NULL, *pal;
	struct sg_table *sgt = NULL;
	struct dma_buf *buf;
	dma_addr_t dma;
	u64 faults;
	u8 byte;

	*state = f;
	fxp_fill(f, SSD_BAR, BAR_LEN);
	assert_int_equal(dml_pci_bar_dma_buf_export(f->ssd, 0, r, 2, &buf), 0);
	assert_int_equal(dma_buf_attach(buf, f->nic_dev, &a), -EOPNOTSUPP);
	assert_int_equal(dma_buf_dynamic_attach(buf, f->nic_dev, &no_p2p, &sgt,
						&a), -EOPNOTSUPP);
	assert_int_equal(dma_buf_mapping_attach(buf, f->nic_dev, both, 2,
						&revocable, &sgt, &pal), 0);
	assert_int_equal(pal->map_type, DMA_BUF_MAPPING_PAL);
	assert_int_equal(dma_buf_mapping_attach(buf, f->nic_dev, sgt_p2p, 1,
						&revocable, &sgt, &a), 0);
	assert_int_equal(a->map_type, DMA_BUF_MAPPING_SGT_P2P);

	assert_int_equal(dma_buf_map_attachment_unlocked(a, DMA_TO_DEVICE,
							 &sgt), 0);
	assert_int_equal(sgt->nents, 1);
	dma = sg_dma_address(sgt->sgl);
	fxp_device_reads(f, dma, SSD_BAR + 0x8000, 0x2000);
	fxp_device_reads(f, dma + 0x2000, SSD_BAR + 0x1000, 0x1000);

	assert_int_equal(dml_dma_buf_revoke(buf, MAX_SCHEDULE_TIMEOUT), 0);
	assert_null(sgt);
	faults = fxp_faults(f);
	dml_test_expect_dma_debug(DML_DMA_DEBUG_DEV_NOT_MAPPED);
	assert_int_equal(dml_dev_dma_read(f->nic_dev, dma, &byte, 1), -EFAULT);
	assert_int_equal(fxp_faults(f), faults + 1);
	assert_int_equal(dma_buf_map_attachment_unlocked(a, DMA_TO_DEVICE,
							 &sgt), -ENODEV);
	assert_int_equal(dml_dma_buf_unrevoke(buf), 0);
	assert_int_equal(dma_buf_map_attachment_unlocked(a, DMA_TO_DEVICE,
							 &sgt), 0);
	fxp_device_reads(f, sg_dma_address(sgt->sgl), SSD_BAR + 0x8000, 0x2000);
	dma_buf_unmap_attachment_unlocked(a, sgt, DMA_TO_DEVICE);
	dma_buf_detach(buf, a);
	dma_buf_detach(buf, pal);
	dma_buf_put(buf);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_teardown(test_bar_validation, fxp_teardown),
	cmocka_unit_test_teardown(test_bar_import_revoke, fxp_teardown),
};

DML_TEST_MAIN(tests)
