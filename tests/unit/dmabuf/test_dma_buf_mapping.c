/* SPDX-License-Identifier: MIT */
/*
 * test_dma_buf_mapping.c - MMIO ranges as sg tables and the mapping-type
 * negotiation (shared/reference/kernel-dma-semantics.md §7.2, §7.3, §9
 * item 22): dma_buf_phys_vec_to_sgt gives ONE DMA entry through IOVA,
 * bus addresses below a switch, one entry per range without an IOMMU,
 * and never a CPU list; the device reads the ranges' bytes through it
 * and faults once dma_buf_free_sgt unmapped it; bad input is -EINVAL
 * with nothing mapped; the core picks the exporter's first mutual type,
 * and a PAL importer maps the ranges itself with the two-step API.
 */
#include "dmabuf/fixture_p2p.h"

static struct dma_buf_attachment *attach_sgt_p2p(struct fxp *f,
						 struct dma_buf *buf)
{
	static const enum dma_buf_mapping_type imp[] = {
		DMA_BUF_MAPPING_SGT_P2P,
	};
	struct dma_buf_attachment *a;

	assert_int_equal(dma_buf_mapping_attach(buf, f->nic_dev, imp, 1,
						&p2p_ops, NULL, &a), 0);
	assert_int_equal(a->map_type, DMA_BUF_MAPPING_SGT_P2P);
	assert_true(a->peer2peer);
	return a;
}

/* no CPU list: "pages are NULL and orig_nents = 0" */
static void assert_no_cpu_list(const struct sg_table *sgt)
{
	unsigned int i;

	assert_int_equal(sgt->orig_nents, 0);
	for (i = 0; i < sgt->nents; i++)
		assert_int_equal(sgt->sgl[i].page_link & ~SG_END, 0);
}

/*
 * "THRU_HOST_BRIDGE: link every range with DMA_ATTR_MMIO, sync once, and
 * emit ONE DMA range"; after dma_buf_free_sgt the device faults
 */
static void test_sgt_iova_one_entry(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct bar_exp e = { 0 };
	struct dma_buf *buf = bar_export(f, &e, f->ssd, SSD_BAR);
	struct dma_buf_attachment *a = attach_sgt_p2p(f, buf);
	struct sg_table *sgt;
	dma_addr_t dma;
	u64 faults, off = 0;
	unsigned int i;
	u8 byte;

	*state = f;
	assert_int_equal(dma_buf_map_attachment_unlocked(a, DMA_TO_DEVICE,
							 &sgt), 0);
	assert_int_equal(sgt->nents, 1);
	assert_int_equal(sg_dma_len(sgt->sgl), RANGES_LEN);
	assert_no_cpu_list(sgt);
	dma = sg_dma_address(sgt->sgl);
	for (i = 0; i < 4; i++) {
		fxp_device_reads(f, dma + off, e.v[i].paddr, e.v[i].len);
		off += e.v[i].len;
	}
	dma_buf_unmap_attachment_unlocked(a, sgt, DMA_TO_DEVICE);
	faults = fxp_faults(f);
	dml_test_expect_dma_debug(DML_DMA_DEBUG_DEV_NOT_MAPPED);
	assert_int_equal(dml_dev_dma_read(f->nic_dev, dma, &byte, 1), -EFAULT);
	assert_int_equal(fxp_faults(f), faults + 1);
	dma_buf_detach(buf, a);
	dma_buf_put(buf);
}

/* "BUS_ADDR: bus addresses per range" (below the common switch) */
static void test_sgt_bus_addr(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct bar_exp e = { 0 };
	struct dma_buf *buf = bar_export(f, &e, f->gpu, GPU_BAR);
	struct dma_buf_attachment *a = attach_sgt_p2p(f, buf);
	struct sg_table *sgt;
	unsigned int i;

	*state = f;
	assert_int_equal(dma_buf_map_attachment_unlocked(a, DMA_FROM_DEVICE,
							 &sgt), 0);
	assert_int_equal(sgt->nents, 4);
	assert_no_cpu_list(sgt);
	for (i = 0; i < 4; i++) {
		assert_int_equal(sg_dma_address(&sgt->sgl[i]),
				 e.v[i].paddr + GPU_BUS_OFF);
		assert_int_equal(sg_dma_len(&sgt->sgl[i]), e.v[i].len);
		fxp_device_reads(f, sg_dma_address(&sgt->sgl[i]), e.v[i].paddr,
				 e.v[i].len);
	}
	dma_buf_unmap_attachment_unlocked(a, sgt, DMA_FROM_DEVICE);
	dma_buf_detach(buf, a);
	dma_buf_put(buf);
}

/* "or per-range dma_map_phys(..., MMIO)" when there is no IOVA space */
static void test_sgt_direct_per_range(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, false, 0);
	struct bar_exp e = { 0 };
	struct dma_buf *buf = bar_export(f, &e, f->ssd, SSD_BAR);
	struct dma_buf_attachment *a = attach_sgt_p2p(f, buf);
	struct sg_table *sgt;
	unsigned int i;

	*state = f;
	assert_int_equal(dma_buf_map_attachment_unlocked(a, DMA_TO_DEVICE,
							 &sgt), 0);
	assert_int_equal(sgt->nents, 4);
	assert_no_cpu_list(sgt);
	for (i = 0; i < 4; i++) {
		assert_int_equal(sg_dma_address(&sgt->sgl[i]), e.v[i].paddr);
		fxp_device_reads(f, sg_dma_address(&sgt->sgl[i]), e.v[i].paddr,
				 e.v[i].len);
	}
	dma_buf_unmap_attachment_unlocked(a, sgt, DMA_TO_DEVICE);
	dma_buf_detach(buf, a);
	dma_buf_put(buf);
}

/*
 * "other types -> -EINVAL" (a host bridge that does not route P2P), and
 * bad input leaves nothing mapped
 */
static void test_sgt_bad_input(void **state)
{
	struct fxp *f = fxp_build(NOT_LISTED, true, 0);
	struct bar_exp e = { 0 };
	struct dma_buf *buf = bar_export(f, &e, f->ssd, SSD_BAR);
	struct dma_buf_attachment *a = attach_sgt_p2p(f, buf);
	struct dml_iommu_stats before, after;
	struct phys_vec bad[2] = { { SSD_BAR, 0x1000 }, { SSD_BAR, 0 } };
	struct sg_table *sgt = NULL;

	*state = f;
	dml_iommu_get_stats(f->iommu, &before);
	assert_int_equal(dma_buf_map_attachment_unlocked(a, DMA_TO_DEVICE,
							 &sgt), -EINVAL);
	dma_resv_lock(buf->resv, NULL);
	assert_int_equal(dma_buf_phys_vec_to_sgt(a, e.provider, bad, 2, 0x1000,
						 DMA_TO_DEVICE, &sgt), -EINVAL);
	assert_int_equal(dma_buf_phys_vec_to_sgt(a, e.provider, bad, 1, 0x2000,
						 DMA_TO_DEVICE, &sgt), -EINVAL);
	assert_int_equal(dma_buf_phys_vec_to_sgt(a, NULL, bad, 1, 0x1000,
						 DMA_TO_DEVICE, &sgt), -EINVAL);
	assert_int_equal(dma_buf_phys_vec_to_sgt(a, e.provider, bad, 1, 0x1000,
						 DMA_NONE, &sgt), -EINVAL);
	dma_resv_unlock(buf->resv);
	dml_test_log_reset();
	assert_int_equal(dma_buf_phys_vec_to_sgt(a, e.provider, bad, 1, 0x1000,
						 DMA_TO_DEVICE, &sgt), -EINVAL);
	assert_int_equal(dml_test_log.count, 1);	/* the lock warning */
	assert_null(sgt);
	dml_iommu_get_stats(f->iommu, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	dma_buf_detach(buf, a);
	dma_buf_put(buf);
}

/* "core picks the first mutual match and stores it in attach->map_type" */
static void test_negotiation(void **state)
{
	static const enum dma_buf_mapping_type both[] = {
		DMA_BUF_MAPPING_SGT_P2P, DMA_BUF_MAPPING_PAL,
	};
	static const enum dma_buf_mapping_type sgts[] = {
		DMA_BUF_MAPPING_SGT, DMA_BUF_MAPPING_SGT_P2P,
	};
	static const enum dma_buf_mapping_type sgt[] = { DMA_BUF_MAPPING_SGT };
	static const enum dma_buf_mapping_type unknown[] = {
		DMA_BUF_MAPPING_SGT, (enum dma_buf_mapping_type)9,
	};
	struct dma_buf_ops classic_ops = bar_ops;
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct bar_exp e = { 0 };
	struct dma_buf *buf = bar_export(f, &e, f->ssd, SSD_BAR);
	struct dma_buf_export_info info = {
		.ops = &classic_ops, .size = RANGES_LEN, .priv = &e,
	};
	struct dma_buf_attachment *a = NULL;
	struct dma_buf *cbuf;

	*state = f;
	/* the importer's order does not matter: the exporter's first wins */
	assert_int_equal(dma_buf_mapping_attach(buf, f->nic_dev, both, 2,
						&p2p_ops, NULL, &a), 0);
	assert_int_equal(a->map_type, DMA_BUF_MAPPING_PAL);
	dma_buf_detach(buf, a);
	assert_int_equal(dma_buf_mapping_attach(buf, f->nic_dev, sgts, 2,
						&p2p_ops, NULL, &a), 0);
	assert_int_equal(a->map_type, DMA_BUF_MAPPING_SGT_P2P);
	dma_buf_detach(buf, a);
	a = NULL;
	assert_int_equal(dma_buf_mapping_attach(buf, f->nic_dev, sgt, 1,
						&p2p_ops, NULL, &a), -EOPNOTSUPP);
	/* peer types need a dynamic importer */
	assert_int_equal(dma_buf_mapping_attach(buf, f->nic_dev, both, 2,
						NULL, NULL, &a), -EOPNOTSUPP);
	assert_int_equal(dma_buf_mapping_attach(buf, f->nic_dev, unknown, 2,
						&p2p_ops, NULL, &a), -EINVAL);
	assert_int_equal(dma_buf_mapping_attach(buf, f->nic_dev, sgt, 0,
						&p2p_ops, NULL, &a), -EINVAL);
	assert_null(a);
	/* an exporter that does not negotiate offers classic SGT only */
	classic_ops.match_mapping = NULL;
	assert_int_equal(dma_buf_export(&info, &cbuf), 0);
	assert_int_equal(dma_buf_mapping_attach(cbuf, f->nic_dev, both, 2,
						&p2p_ops, NULL, &a),
			 -EOPNOTSUPP);
	assert_int_equal(dma_buf_mapping_attach(cbuf, f->nic_dev, sgts, 2,
						&p2p_ops, NULL, &a), 0);
	assert_int_equal(a->map_type, DMA_BUF_MAPPING_SGT);
	assert_false(a->peer2peer);
	dma_buf_detach(cbuf, a);
	dma_buf_put(cbuf);
	dma_buf_put(buf);
}

/*
 * PAL: "exporter map_phys returns {length, phys[]} plus provider info";
 * the importer links each range into its own IOVA with the two-step API
 */
static void test_pal_two_step(void **state)
{
	static const enum dma_buf_mapping_type pal[] = { DMA_BUF_MAPPING_PAL };
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct bar_exp e = { 0 };
	struct dma_buf *buf = bar_export(f, &e, f->ssd, SSD_BAR);
	struct dma_buf_phys_list *pl = NULL;
	struct dma_buf_attachment *a;
	struct dma_iova_state st;
	struct sg_table *sgt;
	size_t i, off = 0;

	*state = f;
	assert_int_equal(dma_buf_mapping_attach(buf, f->nic_dev, pal, 1,
						&p2p_ops, NULL, &a), 0);
	dma_resv_lock(buf->resv, NULL);
	assert_int_equal(dma_buf_map_attachment(a, DMA_TO_DEVICE, &sgt),
			 -EINVAL);
	assert_int_equal(dma_buf_map_phys(a, &pl), 0);
	dma_resv_unlock(buf->resv);
	assert_ptr_equal(pl->provider, e.provider);
	assert_int_equal(pl->length, RANGES_LEN);
	assert_int_equal(pci_p2pdma_map_type(pl->provider, f->nic_dev),
			 PCI_P2PDMA_MAP_THRU_HOST_BRIDGE);
	assert_true(dma_iova_try_alloc(f->nic_dev, &st, 0, pl->length));
	for (i = 0; i < pl->nr_ranges; i++) {
		assert_int_equal(dma_iova_link(f->nic_dev, &st,
					       pl->phys[i].paddr, off,
					       pl->phys[i].len, DMA_TO_DEVICE,
					       DMA_ATTR_MMIO), 0);
		off += pl->phys[i].len;
	}
	assert_int_equal(dma_iova_sync(f->nic_dev, &st, 0, off), 0);
	for (i = 0, off = 0; i < pl->nr_ranges; off += pl->phys[i].len, i++)
		fxp_device_reads(f, st.addr + off, pl->phys[i].paddr,
				 pl->phys[i].len);
	dma_iova_destroy(f->nic_dev, &st, off, DMA_TO_DEVICE, DMA_ATTR_MMIO);
	dma_resv_lock(buf->resv, NULL);
	dma_buf_unmap_phys(a, pl);
	dma_resv_unlock(buf->resv);
	dma_buf_detach(buf, a);
	dma_buf_put(buf);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_teardown(test_sgt_iova_one_entry, fxp_teardown),
	cmocka_unit_test_teardown(test_sgt_bus_addr, fxp_teardown),
	cmocka_unit_test_teardown(test_sgt_direct_per_range, fxp_teardown),
	cmocka_unit_test_teardown(test_sgt_bad_input, fxp_teardown),
	cmocka_unit_test_teardown(test_negotiation, fxp_teardown),
	cmocka_unit_test_teardown(test_pal_two_step, fxp_teardown),
};

DML_TEST_MAIN(tests)
