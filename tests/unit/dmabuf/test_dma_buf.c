/* SPDX-License-Identifier: MIT */
/*
 * test_dma_buf.c - the dma-buf core (shared/reference/kernel-dma-semantics.md
 * §7.1, §7.4, §9 item 22): export checks, references, static and dynamic
 * attachments, the exporter mapping for attach->dev (the device reads
 * the bytes through the addresses it got), the reservation lock that
 * map requires, pin for static importers, invalidate_mappings with the
 * importer remapping after a move (the data moved with the buffer), and
 * which attachments are revocable.
 */
#include <pthread.h>

#include <dmalink/dma-buf.h>

#include "dma/fixture.h"

#define BUF_A	0x10000000ULL
#define BUF_B	0x20000000ULL
#define BUF_LEN	(64 * 1024)

/* an exporter of one RAM range that it can move */
struct ram_exp {
	struct fx *f;
	phys_addr_t phys;
	int pins, attaches, releases;
	bool reject_unrevocable;
	int cpu_begins, cpu_ends, vmaps;
};

static int ram_attach(struct dma_buf *dmabuf, struct dma_buf_attachment *a)
{
	struct ram_exp *e = dmabuf->priv;

	if (e->reject_unrevocable && !dma_buf_attach_revocable(a))
		return -EOPNOTSUPP;
	e->attaches++;
	return 0;
}

static void ram_detach(struct dma_buf *dmabuf, struct dma_buf_attachment *a)
{
	struct ram_exp *e = dmabuf->priv;

	(void)a;
	e->attaches--;
}

static int ram_pin(struct dma_buf_attachment *a)
{
	((struct ram_exp *)a->dmabuf->priv)->pins++;
	return 0;
}

static void ram_unpin(struct dma_buf_attachment *a)
{
	((struct ram_exp *)a->dmabuf->priv)->pins--;
}

static int ram_map(struct dma_buf_attachment *a, enum dma_data_direction dir,
		   struct sg_table **out)
{
	struct ram_exp *e = a->dmabuf->priv;
	struct sg_table *sgt = calloc(1, sizeof(*sgt));
	int ret;

	if (!sgt)
		return -ENOMEM;
	ret = sg_alloc_table(sgt, 1);
	if (ret)
		goto err_free;
	sg_set_phys(sgt->sgl, e->phys, BUF_LEN);
	ret = dma_map_sgtable(a->dev, sgt, dir, 0);
	if (ret)
		goto err_table;
	*out = sgt;
	return 0;
err_table:
	sg_free_table(sgt);
err_free:
	free(sgt);
	return ret;
}

static void ram_unmap(struct dma_buf_attachment *a, struct sg_table *sgt,
		      enum dma_data_direction dir)
{
	dma_unmap_sgtable(a->dev, sgt, dir, 0);
	sg_free_table(sgt);
	free(sgt);
}

static void ram_release(struct dma_buf *dmabuf)
{
	((struct ram_exp *)dmabuf->priv)->releases++;
}

static int ram_begin_cpu(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	(void)dir;
	((struct ram_exp *)dmabuf->priv)->cpu_begins++;
	return 0;
}

static int ram_end_cpu(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	(void)dir;
	((struct ram_exp *)dmabuf->priv)->cpu_ends++;
	return 0;
}

static int ram_vmap(struct dma_buf *dmabuf, void **vaddr)
{
	struct ram_exp *e = dmabuf->priv;

	e->vmaps++;
	*vaddr = dml_kmap_local_phys(e->f->p, e->phys, BUF_LEN);
	return 0;
}

static void ram_vunmap(struct dma_buf *dmabuf, void *vaddr)
{
	(void)vaddr;
	((struct ram_exp *)dmabuf->priv)->vmaps--;
}

static const struct dma_buf_ops ram_ops = {
	.attach = ram_attach,
	.detach = ram_detach,
	.pin = ram_pin,
	.unpin = ram_unpin,
	.map_dma_buf = ram_map,
	.unmap_dma_buf = ram_unmap,
	.release = ram_release,
	.begin_cpu_access = ram_begin_cpu,
	.end_cpu_access = ram_end_cpu,
	.vmap = ram_vmap,
	.vunmap = ram_vunmap,
};

static struct dma_buf *ram_export(struct ram_exp *e, struct fx *f)
{
	struct dma_buf_export_info info = {
		.ops = &ram_ops, .size = BUF_LEN, .priv = e,
	};
	struct dma_buf *buf;

	e->f = f;
	e->phys = BUF_A;
	fx_fill(f, BUF_A, BUF_LEN, 0x5a);
	assert_int_equal(dma_buf_export(&info, &buf), 0);
	return buf;
}

/* the device reads the whole buffer through @sgt and finds @seed's bytes */
static void device_reads(struct fx *f, struct sg_table *sgt, u8 seed)
{
	u8 *got = malloc(BUF_LEN);
	size_t i;

	assert_non_null(got);
	assert_int_equal(sgt->nents, 1);
	assert_int_equal(sg_dma_len(sgt->sgl), BUF_LEN);
	assert_int_equal(dml_dev_dma_read(f->dev, sg_dma_address(sgt->sgl),
					  got, BUF_LEN), 0);
	for (i = 0; i < BUF_LEN; i++)
		assert_int_equal(got[i], (u8)(seed + i * 7 + (i >> 9)));
	free(got);
}

/* dma_buf_export: size, map/unmap/release required, pin needs unpin */
static void test_export_checks(void **state)
{
	struct dma_buf_ops no_release = ram_ops, pin_only = ram_ops;
	struct dma_buf_export_info info = { .ops = &ram_ops, .size = 0 };
	struct dma_buf *buf = NULL;

	(void)state;
	no_release.release = NULL;
	pin_only.unpin = NULL;
	assert_int_equal(dma_buf_export(&info, &buf), -EINVAL);
	info.size = BUF_LEN;
	assert_int_equal(dma_buf_export(NULL, &buf), -EINVAL);
	assert_int_equal(dma_buf_export(&info, NULL), -EINVAL);
	info.ops = &no_release;
	assert_int_equal(dma_buf_export(&info, &buf), -EINVAL);
	info.ops = &pin_only;
	assert_int_equal(dma_buf_export(&info, &buf), -EINVAL);
	assert_null(buf);
}

/* dma_buf_get/put: the exporter's release runs at the last put only */
static void test_get_put(void **state)
{
	struct ram_exp e = { 0 };
	struct dma_buf *buf = ram_export(&e, *state);

	assert_ptr_equal(dma_buf_get(buf), buf);
	dma_buf_put(buf);
	assert_int_equal(e.releases, 0);
	assert_non_null(buf->resv);
	dma_buf_put(buf);
	assert_int_equal(e.releases, 1);
	assert_null(dma_buf_get(NULL));
}

/*
 * "map requires the resv lock"; "static importers get the buffer pinned
 * for the mapping's lifetime"; the exporter maps for attach->dev
 */
static void test_static_map(void **state)
{
	struct fx *f = *state;
	struct ram_exp e = { 0 };
	struct dma_buf *buf = ram_export(&e, f);
	struct dma_buf_attachment *a;
	struct sg_table *sgt = NULL;

	assert_int_equal(dma_buf_attach(buf, f->dev, &a), 0);
	assert_int_equal(e.attaches, 1);
	assert_false(a->peer2peer);
	assert_false(dma_buf_attach_revocable(a));
	dml_test_log_reset();
	assert_int_equal(dma_buf_map_attachment(a, DMA_TO_DEVICE, &sgt),
			 -EINVAL);
	assert_non_null(strstr(dml_test_log.last, "WARNING"));
	assert_null(sgt);
	assert_int_equal(dma_buf_map_attachment_unlocked(a, DMA_NONE, &sgt),
			 -EINVAL);
	/* a static importer cannot pin by itself */
	dma_resv_lock(buf->resv, NULL);
	assert_int_equal(dma_buf_pin(a), -EINVAL);
	dma_resv_unlock(buf->resv);
	assert_int_equal(e.pins, 0);

	assert_int_equal(dma_buf_map_attachment_unlocked(a, DMA_TO_DEVICE,
							 &sgt), 0);
	assert_int_equal(e.pins, 1);
	device_reads(f, sgt, 0x5a);
	dma_buf_unmap_attachment_unlocked(a, sgt, DMA_TO_DEVICE);
	assert_int_equal(e.pins, 0);
	dma_buf_detach(buf, a);
	assert_int_equal(e.attaches, 0);
	dma_buf_put(buf);
}

/* the importer of the move test: it remaps on its next use */
struct importer {
	struct dma_buf_attachment *a;
	struct sg_table *sgt;
	int invalidations;
};

static void imp_invalidate(struct dma_buf_attachment *a)
{
	struct importer *imp = a->importer_priv;

	assert_true(dma_resv_held(a->dmabuf->resv));
	imp->invalidations++;
	if (imp->sgt)
		dma_buf_unmap_attachment(a, imp->sgt, DMA_TO_DEVICE);
	imp->sgt = NULL;
}

static const struct dma_buf_attach_ops imp_ops = {
	.allow_peer2peer = true,
	.invalidate_mappings = imp_invalidate,
};

/* the exporter moves its memory: copy, then invalidate under the lock */
static void ram_move(struct ram_exp *e, struct dma_buf *buf, phys_addr_t to)
{
	assert_int_equal(dma_resv_lock(buf->resv, NULL), 0);
	assert_int_equal(dma_buf_invalidate_mappings(buf), 0);
	memcpy(dml_kmap_local_phys(e->f->p, to, BUF_LEN),
	       dml_kmap_local_phys(e->f->p, e->phys, BUF_LEN), BUF_LEN);
	e->phys = to;
	dma_resv_unlock(buf->resv);
}

/*
 * "move_notify: each dynamic importer must drop/recreate mappings before
 * further DMA ... new mappings may be requested as soon as the callback
 * returns": after the move the importer remaps and reads the same bytes
 * from the new place
 */
static void test_dynamic_invalidate_remap(void **state)
{
	struct fx *f = *state;
	struct ram_exp e = { 0 };
	struct dma_buf *buf = ram_export(&e, f);
	struct importer imp = { 0 };
	struct dma_buf_attachment *st;

	assert_int_equal(dma_buf_dynamic_attach(buf, f->dev, &imp_ops, &imp,
						&imp.a), 0);
	assert_int_equal(dma_buf_attach(buf, f->dev, &st), 0);
	assert_true(imp.a->peer2peer);
	assert_true(dma_buf_attach_revocable(imp.a));
	assert_ptr_equal(imp_ops.move_notify, imp_invalidate);

	assert_int_equal(dma_buf_map_attachment_unlocked(imp.a, DMA_TO_DEVICE,
							 &imp.sgt), 0);
	assert_int_equal(e.pins, 0);	/* dynamic: not pinned for the map */
	device_reads(f, imp.sgt, 0x5a);

	ram_move(&e, buf, BUF_B);
	assert_int_equal(imp.invalidations, 1);
	assert_null(imp.sgt);
	fx_fill(f, BUF_A, BUF_LEN, 0x11);	/* the old place is reused */
	assert_int_equal(dma_buf_map_attachment_unlocked(imp.a, DMA_TO_DEVICE,
							 &imp.sgt), 0);
	device_reads(f, imp.sgt, 0x5a);

	/* the pre-7.1 name does the same */
	dma_resv_lock(buf->resv, NULL);
	assert_int_equal(dma_buf_move_notify(buf), 0);
	dma_resv_unlock(buf->resv);
	assert_int_equal(imp.invalidations, 2);
	assert_int_equal(dma_buf_move_notify(buf), -EINVAL);	/* unlocked */
	assert_int_equal(imp.invalidations, 2);

	dma_buf_detach(buf, st);
	dma_buf_detach(buf, imp.a);
	dma_buf_put(buf);
}

/*
 * "attach_revocable false for importers without the op"; "exporters that
 * need revoke reject them in attach"; pin needs the lock
 */
static void test_revocable_and_pin(void **state)
{
	static const struct dma_buf_attach_ops pinned_ops = {
		.allow_peer2peer = true,
	};
	struct fx *f = *state;
	struct ram_exp e = { .reject_unrevocable = true };
	struct dma_buf *buf = ram_export(&e, f);
	struct dma_buf_attachment *a = NULL;
	struct importer imp = { 0 };

	e.reject_unrevocable = true;
	assert_int_equal(dma_buf_attach(buf, f->dev, &a), -EOPNOTSUPP);
	assert_int_equal(dma_buf_dynamic_attach(buf, f->dev, &pinned_ops,
						NULL, &a), -EOPNOTSUPP);
	assert_null(a);
	assert_int_equal(dma_buf_dynamic_attach(buf, f->dev, &imp_ops, &imp,
						&a), 0);
	dml_test_log_reset();
	assert_int_equal(dma_buf_pin(a), -EINVAL);
	assert_int_equal(dml_test_log.count, 1);
	dma_resv_lock(buf->resv, NULL);
	assert_int_equal(dma_buf_pin(a), 0);
	assert_int_equal(e.pins, 1);
	dma_buf_unpin(a);
	assert_int_equal(e.pins, 0);
	dma_resv_unlock(buf->resv);
	assert_int_equal(dma_buf_dynamic_attach(NULL, f->dev, &imp_ops, &imp,
						&a), -EINVAL);
	dma_buf_detach(buf, a);
	dma_buf_put(buf);
}

static void *cpu_writer(void *arg)
{
	struct dma_fence *f = arg;

	dma_fence_signal(f);
	return NULL;
}

/*
 * "CPU access only through exporter-mediated calls: vmap/vunmap,
 * begin/end_cpu_access (implicit-sync fences are waited on), and mmap,
 * which calls the exporter's mmap op (fails without one)"
 */
static void test_cpu_access(void **state)
{
	struct fx *f = *state;
	struct ram_exp e = { 0 };
	struct dma_buf *buf = ram_export(&e, f);
	struct dma_fence *dev_write;
	void *v1, *v2, *m = NULL;
	pthread_t t;

	assert_int_equal(dma_buf_mmap(buf, 0, 4096, &m), -EINVAL);	/* no op */
	assert_null(m);
	assert_int_equal(dma_buf_vmap(buf, &v1), -EINVAL);	/* no lock */
	dma_resv_lock(buf->resv, NULL);
	assert_int_equal(dma_buf_vmap(buf, &v1), 0);
	assert_int_equal(dma_buf_vmap(buf, &v2), 0);
	assert_ptr_equal(v1, v2);
	assert_int_equal(e.vmaps, 1);	/* the exporter's vmap ran once */
	assert_int_equal(((u8 *)v1)[1], (u8)(0x5a + 7));
	dma_buf_vunmap(buf, v2);
	assert_int_equal(e.vmaps, 1);
	dma_buf_vunmap(buf, v1);
	assert_int_equal(e.vmaps, 0);

	/* a device write in flight: a CPU read waits for its fence */
	assert_int_equal(dml_dma_fence_create(&dev_write), 0);
	assert_int_equal(dma_resv_reserve_fences(buf->resv, 1), 0);
	assert_int_equal(dma_resv_add_fence(buf->resv, dev_write,
					    DMA_RESV_USAGE_WRITE), 0);
	dma_resv_unlock(buf->resv);
	assert_int_equal(pthread_create(&t, NULL, cpu_writer, dev_write), 0);
	assert_int_equal(dma_buf_begin_cpu_access(buf, DMA_FROM_DEVICE), 0);
	assert_true(dma_fence_is_signaled(dev_write));
	assert_int_equal(e.cpu_begins, 1);
	assert_int_equal(dma_buf_end_cpu_access(buf, DMA_FROM_DEVICE), 0);
	assert_int_equal(e.cpu_ends, 1);
	assert_int_equal(dma_buf_begin_cpu_access(buf, DMA_NONE), -EINVAL);
	pthread_join(t, NULL);
	dma_fence_put(dev_write);
	dma_buf_put(buf);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_export_checks),
	cmocka_unit_test_setup_teardown(test_get_put, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_static_map, fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_dynamic_invalidate_remap,
					fx_setup, fx_teardown),
	cmocka_unit_test_setup_teardown(test_revocable_and_pin, fx_setup,
					fx_teardown),
	cmocka_unit_test_setup_teardown(test_cpu_access, fx_setup, fx_teardown),
};

DML_TEST_MAIN(tests)
