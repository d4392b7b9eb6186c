/* SPDX-License-Identifier: MIT */
/*
 * test_bar_decode.c - the BAR exporter follows its function's memory
 * decode, as VFIO's does (drivers/vfio/pci/vfio_pci_dmabuf.c:
 * vfio_pci_dma_buf_move(), vfio_pci_dma_buf_cleanup()): decode off
 * revokes (the importer is told and unmaps, the device's DMA through the
 * dropped mapping faults, new maps fail -ENODEV), decode on gives the
 * buffer back with a second notify, a buffer exported while decode is
 * off starts revoked, a function that goes away with its platform
 * revokes for good, and an importer mapping and reading on another thread
 * while decode flips never reads through a revoked mapping (TSan suite).
 */
#include <pthread.h>
#include <sched.h>

#include "dmabuf/fixture_p2p.h"

static const enum dma_buf_mapping_type sgt_p2p[] = { DMA_BUF_MAPPING_SGT_P2P };

/* an importer that unmaps in its invalidate callback */
struct decode_imp {
	struct dma_buf_attachment *a;
	struct sg_table *sgt;
	int invalidations;
};

static void decode_invalidate(struct dma_buf_attachment *a)
{
	struct decode_imp *im = a->importer_priv;

	im->invalidations++;
	if (im->sgt)
		dma_buf_unmap_attachment(a, im->sgt, DMA_TO_DEVICE);
	im->sgt = NULL;
}

static const struct dma_buf_attach_ops decode_ops = {
	.allow_peer2peer = true,
	.invalidate_mappings = decode_invalidate,
};

static int attach(struct fxp *f, struct dma_buf *buf, struct decode_imp *im)
{
	return dma_buf_mapping_attach(buf, f->nic_dev, sgt_p2p, 1, &decode_ops,
				      im, &im->a);
}

static void test_decode_off_on(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct phys_vec v[4];
	struct dma_buf *buf = lib_bar_export(f, f->ssd, SSD_BAR, v);
	struct decode_imp im = { 0 };
	struct sg_table *sgt;
	dma_addr_t dma;
	u64 faults;
	u8 byte;

	*state = f;
	assert_int_equal(attach(f, buf, &im), 0);
	assert_int_equal(dma_buf_map_attachment_unlocked(im.a, DMA_TO_DEVICE,
							 &im.sgt), 0);
	dma = sg_dma_address(im.sgt->sgl);
	fxp_device_reads(f, dma, v[0].paddr, v[0].len);

	/* decode off: told, unmapped, revoked; the old address faults */
	assert_int_equal(dml_pci_set_memory_decode(f->ssd, false), 0);
	assert_int_equal(im.invalidations, 1);
	assert_null(im.sgt);
	assert_true(dml_dma_buf_revoked(buf));
	faults = fxp_faults(f);
	dml_test_expect_dma_debug(DML_DMA_DEBUG_DEV_NOT_MAPPED);
	assert_int_equal(dml_dev_dma_read(f->nic_dev, dma, &byte, 1), -EFAULT);
	assert_int_equal(fxp_faults(f), faults + 1);
	assert_int_equal(dma_buf_map_attachment_unlocked(im.a, DMA_TO_DEVICE,
							 &sgt), -ENODEV);
	/* no change, no event */
	assert_int_equal(dml_pci_set_memory_decode(f->ssd, false), 0);
	assert_int_equal(im.invalidations, 1);

	/* decode on: a second notify, then the bytes are reachable again */
	assert_int_equal(dml_pci_set_memory_decode(f->ssd, true), 0);
	assert_int_equal(im.invalidations, 2);
	assert_false(dml_dma_buf_revoked(buf));
	assert_int_equal(dma_buf_map_attachment_unlocked(im.a, DMA_TO_DEVICE,
							 &im.sgt), 0);
	fxp_device_reads(f, sg_dma_address(im.sgt->sgl), v[0].paddr, v[0].len);
	dma_buf_unmap_attachment_unlocked(im.a, im.sgt, DMA_TO_DEVICE);
	dma_buf_detach(buf, im.a);
	dma_buf_put(buf);
}

/* "priv->revoked = !__vfio_pci_memory_enabled(vdev)" at export */
static void test_export_while_off(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct decode_imp im = { 0 };
	struct phys_vec v[4];
	struct dma_buf *buf;

	*state = f;
	assert_int_equal(dml_pci_set_memory_decode(f->ssd, false), 0);
	buf = lib_bar_export(f, f->ssd, SSD_BAR, v);
	assert_true(dml_dma_buf_revoked(buf));
	assert_int_equal(attach(f, buf, &im), -ENODEV);
	assert_int_equal(dml_pci_set_memory_decode(f->ssd, true), 0);
	assert_false(dml_dma_buf_revoked(buf));
	assert_int_equal(attach(f, buf, &im), 0);
	assert_int_equal(dma_buf_map_attachment_unlocked(im.a, DMA_TO_DEVICE,
							 &im.sgt), 0);
	fxp_device_reads(f, sg_dma_address(im.sgt->sgl), v[0].paddr, v[0].len);
	dma_buf_unmap_attachment_unlocked(im.a, im.sgt, DMA_TO_DEVICE);
	dma_buf_detach(buf, im.a);
	dma_buf_put(buf);
}

/*
 * The function goes with its platform: the buffer is revoked for good
 * and can still be put afterwards (ASan: nothing of the function is
 * touched then); a decode change of another function leaves it alone.
 */
static void test_function_gone(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct phys_vec v[4];
	struct dma_buf *buf = lib_bar_export(f, f->ssd, SSD_BAR, v);

	(void)state;
	assert_int_equal(dml_pci_set_memory_decode(f->gpu, false), 0);
	assert_false(dml_dma_buf_revoked(buf));
	fxp_teardown((void **)&f);
	assert_true(dml_dma_buf_revoked(buf));
	dma_buf_put(buf);
}

/* ---- decode flips on one thread, an importer maps and reads on another ---- */

#define FLIPS 200

struct racer {
	struct fxp *f;
	struct dma_buf *buf;
	const struct phys_vec *v;
	struct decode_imp im;
	atomic_bool stop;
	atomic_uint reads;
	unsigned int refused, bad;
};

/*
 * The importer's side: under the reservation lock (which the exporter's
 * invalidation also holds) map when nothing is mapped, then let the
 * device read the first range; a map may only fail with -ENODEV (revoked
 * at that moment), a read through a live mapping must find the bytes.
 */
static void *importer_loop(void *arg)
{
	struct racer *r = arg;
	u8 got[64];
	size_t i;
	int ret;

	while (!atomic_load(&r->stop)) {
		dma_resv_lock(r->buf->resv, NULL);
		ret = r->im.sgt ? 0 : dma_buf_map_attachment(r->im.a, DMA_TO_DEVICE,
							    &r->im.sgt);
		if (ret) {
			r->im.sgt = NULL;
			if (ret == -ENODEV)
				r->refused++;
			else
				r->bad++;
		} else if (dml_dev_dma_read(r->f->nic_dev,
					    sg_dma_address(r->im.sgt->sgl),
					    got, sizeof(got))) {
			r->bad++;
		} else {
			for (i = 0; i < sizeof(got); i++)
				r->bad += got[i] != fxp_pattern(r->v[0].paddr + i);
			atomic_fetch_add(&r->reads, 1);
		}
		dma_resv_unlock(r->buf->resv);
	}
	return NULL;
}

static void test_decode_races_importer(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);
	struct phys_vec v[4];
	struct racer r = { .f = f, .v = v };
	pthread_t t;
	unsigned int i;

	*state = f;
	r.buf = lib_bar_export(f, f->ssd, SSD_BAR, v);
	assert_int_equal(attach(f, r.buf, &r.im), 0);
	assert_int_equal(pthread_create(&t, NULL, importer_loop, &r), 0);
	while (!atomic_load(&r.reads))
		sched_yield();	/* mapped and read once before the first flip */
	for (i = 0; i < FLIPS; i++)
		assert_int_equal(dml_pci_set_memory_decode(f->ssd, i & 1), 0);
	assert_int_equal(dml_pci_set_memory_decode(f->ssd, true), 0);
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	assert_int_equal(r.bad, 0);
	/* each flip off and each flip on told the importer once */
	assert_int_equal(r.im.invalidations, FLIPS);
	if (r.im.sgt)
		dma_buf_unmap_attachment_unlocked(r.im.a, r.im.sgt, DMA_TO_DEVICE);
	dma_buf_detach(r.buf, r.im.a);
	dma_buf_put(r.buf);
}

static void test_decode_refusals(void **state)
{
	struct fxp *f = fxp_build(SKX_ROOT_PORT, true, 0);

	*state = f;
	assert_int_equal(dml_pci_set_memory_decode(NULL, false), -EINVAL);
	assert_int_equal(dml_pci_set_memory_decode(f->hb, false), -EINVAL);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_teardown(test_decode_off_on, fxp_teardown),
	cmocka_unit_test_teardown(test_export_while_off, fxp_teardown),
	cmocka_unit_test(test_function_gone),
	cmocka_unit_test_teardown(test_decode_races_importer, fxp_teardown),
	cmocka_unit_test_teardown(test_decode_refusals, fxp_teardown),
};

DML_TEST_MAIN(tests)
