/* SPDX-License-Identifier: MIT */
/*
 * test_dma_buf_revoke.c - the full revoke sequence with real device DMA
 * (shared/reference/kernel-dma-semantics.md §7.2, §7.4, §9 item 22): the
 * device first reads the BAR ranges that the library's VFIO-BAR exporter
 * (dml_pci_bar_dma_buf_export) offers; the revoke invalidates, waits
 * for every fence (an importer finishes its in-flight DMA meanwhile) and
 * for every unmap; afterwards the device's DMA through the dropped
 * mapping faults in the emulated IOMMU, new maps and attachments fail
 * -ENODEV, and re-enabling notifies and maps again.  An importer that
 * never unmaps makes the bounded wait warn; importers that cannot be
 * revoked are refused at attach.  The quick importer is the library's
 * RDMA importer (dmalink/dma-buf-importer.h); the slow one, whose DMA is
 * still in flight when told, is this file's.
 */
#include <pthread.h>

#include <dmalink/dma-buf-importer.h>

#include "dmabuf/fixture_p2p.h"

static const enum dma_buf_mapping_type sgt_p2p[] = { DMA_BUF_MAPPING_SGT_P2P };

/* an importer that unmaps later than its callback, when its DMA is done */
struct imp {
	struct fxp *f;
	const struct phys_vec *v;	/* the exported ranges */
	struct dma_buf_attachment *a;
	struct sg_table *sgt;
	dma_addr_t dma;
	atomic_int invalidations;
	struct dma_fence *in_flight;	/* its DMA still running */
};

static void imp_invalidate(struct dma_buf_attachment *a)
{
	struct imp *im = a->importer_priv;

	atomic_fetch_add(&im->invalidations, 1);
}

static const struct dma_buf_attach_ops imp_ops = {
	.allow_peer2peer = true,
	.invalidate_mappings = imp_invalidate,
};

static void imp_attach_map(struct imp *im, struct fxp *f, struct dma_buf *buf,
			   const struct phys_vec *v)
{
	im->f = f;
	im->v = v;
	assert_int_equal(dma_buf_mapping_attach(buf, f->nic_dev, sgt_p2p, 1,
						&imp_ops, im, &im->a), 0);
	assert_int_equal(dma_buf_map_attachment_unlocked(im->a, DMA_TO_DEVICE,
							 &im->sgt), 0);
	assert_int_equal(im->sgt->nents, 1);
	im->dma = sg_dma_address(im->sgt->sgl);
}

/*
 * the slow importer: told to stop, it lets its in-flight DMA finish
 * (allowed until its fence signals), signals, then unmaps
 */
static void *slow_importer(void *arg)
{
	struct imp *im = arg;
	struct sg_table *sgt;

	while (!atomic_load(&im->invalidations))
		sched_yield();
	sgt = im->sgt;

	fxp_device_reads(im->f, im->dma, im->v[0].paddr, im->v[0].len);
	dma_fence_signal(im->in_flight);
	im->sgt = NULL;
	dma_buf_unmap_attachment_unlocked(im->a, sgt, DMA_TO_DEVICE);
	return NULL;
}

/*
 * "under the resv lock mark revoked -> invalidate mappings -> wait for
 * all fences (BOOKKEEP) -> unlock -> wait until every importer has
 * called unmap"; "later maps fail with -ENODEV; re-enable flips it back
 * (also a notify)"
 */
static void test_revoke_sequence(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct phys_vec v[4];
	struct dma_buf *buf = lib_bar_export(f, f->ssd, SSD_BAR, v);
	struct imp slow = { 0 };
	struct dml_dma_buf_importer *quick;
	struct dma_buf_attachment *late;
	dma_addr_t quick_dma;
	pthread_t t;
	u64 faults, len;
	u8 byte;

	*state = f;
	/* the quick importer is the library's RDMA one: it unmaps at once */
	assert_int_equal(dml_dma_buf_import(buf, f->nic_dev,
					    DML_DMA_BUF_IMPORTER_RDMA_MR,
					    DMA_TO_DEVICE, &quick), 0);
	assert_int_equal(dml_dma_buf_importer_dma(quick, 0, &quick_dma, &len),
			 0);
	imp_attach_map(&slow, f, buf, v);
	fxp_device_reads(f, quick_dma, v[0].paddr, v[0].len);
	assert_int_equal(dml_dma_fence_create(&slow.in_flight), 0);
	dma_resv_lock(buf->resv, NULL);
	assert_int_equal(dma_resv_reserve_fences(buf->resv, 1), 0);
	assert_int_equal(dma_resv_add_fence(buf->resv, slow.in_flight,
					    DMA_RESV_USAGE_BOOKKEEP), 0);
	dma_resv_unlock(buf->resv);

	assert_int_equal(pthread_create(&t, NULL, slow_importer, &slow), 0);
	assert_int_equal(dml_dma_buf_revoke(buf, MAX_SCHEDULE_TIMEOUT), 0);
	/* revoke returned: the fence signaled and both unmapped */
	assert_true(dma_fence_is_signaled(slow.in_flight));
	assert_null(slow.sgt);
	assert_false(dml_dma_buf_importer_mapped(quick));
	pthread_join(t, NULL);
	assert_true(dml_dma_buf_revoked(buf));

	/* the device's DMA now faults: the emulated IOMMU logs it */
	faults = fxp_faults(f);
	dml_test_expect_dma_debug(DML_DMA_DEBUG_DEV_NOT_MAPPED);
	assert_int_equal(dml_dev_dma_read(f->nic_dev, quick_dma, &byte, 1),
			 -EFAULT);
	assert_int_equal(dml_dev_dma_read(f->nic_dev, slow.dma, &byte, 1),
			 -EFAULT);
	assert_int_equal(fxp_faults(f), faults + 2);
	assert_int_equal(dml_dma_buf_importer_map(quick), -ENODEV);
	assert_int_equal(dma_buf_mapping_attach(buf, f->nic_dev, sgt_p2p, 1,
						&imp_ops, &slow, &late),
			 -ENODEV);

	/* re-enable: a notify, then maps work and the bytes are there */
	assert_int_equal(dml_dma_buf_importer_invalidations(quick), 1);
	assert_int_equal(dml_dma_buf_unrevoke(buf), 0);
	assert_int_equal(dml_dma_buf_importer_invalidations(quick), 2);
	assert_false(dml_dma_buf_revoked(buf));
	assert_int_equal(dml_dma_buf_importer_dma(quick, 0, &quick_dma, &len),
			 0);
	fxp_device_reads(f, quick_dma, v[0].paddr, v[0].len);
	dml_dma_buf_importer_destroy(quick);
	dma_fence_put(slow.in_flight);
	dma_buf_detach(buf, slow.a);
	dma_buf_put(buf);
}

/* "importers ... must unmap in bounded time": a wait that warns */
static void test_revoke_bounded_wait(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct phys_vec v[4];
	struct dma_buf *buf = lib_bar_export(f, f->ssd, SSD_BAR, v);
	struct imp stuck = { 0 };

	*state = f;
	imp_attach_map(&stuck, f, buf, v);
	dml_test_log_reset();
	assert_int_equal(dml_dma_buf_revoke(buf, 1000000), -ETIMEDOUT);
	assert_non_null(strstr(dml_test_log.last, "did not unmap"));
	assert_true(dml_dma_buf_revoked(buf));
	/* a second revoke waits on the same outstanding mapping */
	assert_int_equal(dml_dma_buf_revoke(buf, 0), -ETIMEDOUT);
	dma_buf_unmap_attachment_unlocked(stuck.a, stuck.sgt, DMA_TO_DEVICE);
	assert_int_equal(dml_dma_buf_revoke(buf, 0), 0);
	assert_int_equal(dml_dma_buf_revoke(NULL, 0), -EINVAL);
	assert_int_equal(dml_dma_buf_revoke(buf, -1), -EINVAL);
	dma_buf_detach(buf, stuck.a);
	dma_buf_put(buf);
}

/*
 * "pinned importers without [invalidate_mappings] may never unmap, so
 * exporters needing revoke reject them in attach"; "attach requires
 * attach->peer2peer (else -EOPNOTSUPP)"
 */
static void test_revoke_refuses(void **state)
{
	static const struct dma_buf_attach_ops pinned = {
		.allow_peer2peer = true,
	};
	static const struct dma_buf_attach_ops no_p2p = {
		.invalidate_mappings = imp_invalidate,
	};
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct phys_vec v[4];
	struct dma_buf *buf = lib_bar_export(f, f->ssd, SSD_BAR, v);
	struct dma_buf_attachment *a = NULL;

	*state = f;
	assert_int_equal(dma_buf_attach(buf, f->nic_dev, &a), -EOPNOTSUPP);
	assert_int_equal(dma_buf_dynamic_attach(buf, f->nic_dev, &pinned, NULL,
						&a), -EOPNOTSUPP);
	assert_int_equal(dma_buf_dynamic_attach(buf, f->nic_dev, &no_p2p, NULL,
						&a), -EOPNOTSUPP);
	assert_null(a);
	dma_buf_put(buf);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_teardown(test_revoke_sequence, fxp_teardown),
	cmocka_unit_test_teardown(test_revoke_bounded_wait, fxp_teardown),
	cmocka_unit_test_teardown(test_revoke_refuses, fxp_teardown),
};

DML_TEST_MAIN(tests)
