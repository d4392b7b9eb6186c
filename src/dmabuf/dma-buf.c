/* SPDX-License-Identifier: MIT */
/*
 * dma-buf.c - the dma-buf core (drivers/dma-buf/dma-buf.c, 6.19 with the
 * 7.1 renames): export, references, attachments static and dynamic, pin,
 * map and unmap through the exporter, and invalidation.
 *
 * A buffer is struct dml__dma_buf around the public struct dma_buf: a
 * reference count, whether the buffer made (and so frees) its
 * reservation object, and the singly linked list of attachments.  The
 * list and every attachment's mapping count are guarded by the
 * reservation lock, as the kernel's attachment list is: attach and
 * detach take it; map, unmap, pin, unpin and invalidate require the
 * caller to hold it (the _unlocked variants take it themselves).
 *
 * Mapping types (proposed upstream): an attachment made through
 * dma_buf_mapping_attach() gets the exporter's first type the importer
 * also accepts; one made the classic way is SGT.  SGT types map through
 * map_dma_buf, PAL through map_phys; both count in __maps.
 *
 * Revoke (dml_dma_buf_revoke) is the exporter's sequence of 7.1 run by
 * the core: @revoked (under the lock) makes new attachments and maps
 * fail with -ENODEV; @maps counts the buffer's live mappings, and while
 * a revoke waits for them to reach 0 the @unmapped fence is what it
 * sleeps on: the unmap that drops @maps to 0 signals it.
 *
 * CPU access goes through the exporter only (begin/end_cpu_access, mmap,
 * vmap): an sg table carries DMA addresses, never a CPU pointer.  @vmaps
 * counts dma_buf_vmap() calls sharing the exporter's one @vaddr.
 *
 * The checker's dma-buf rule: a buffer whose exporter declared its
 * memory (dml__dma_buf_set_memory) while the checker was on is @watched;
 * the core then tells the checker its live mappings and its open CPU
 * access (@cpu_windows of begin/end_cpu_access, a vmap, @cpu_grants of
 * attachments granted CPU access, Proposed) each time they change, and
 * runs the exporter's ops that touch memory as exporter code.
 *
 * What cannot fail: put, detach, unmap, unpin.  The exporter's ops are
 * called with the lock held, except attach, detach and release, as in
 * the kernel.
 */
#include "dmabuf/dmabuf.h"

#include "base/base.h"
#include "dma/dma.h"

struct dml__dma_buf {
	struct dma_buf buf;
	atomic_int refs;
	bool owns_resv;
	struct dma_buf_attachment *attachments;
	bool revoked;
	unsigned int maps;
	unsigned int vmaps;
	void *vaddr;
	struct dma_fence *unmapped;
	bool watched;
	atomic_uint cpu_windows;
	unsigned int cpu_grants;
};

static struct dml__dma_buf *to_buf(struct dma_buf *dmabuf)
{
	return container_of(dmabuf, struct dml__dma_buf, buf);
}

void dml__dma_buf_set_memory(struct dma_buf *dmabuf, struct dml_platform *p,
			     const struct phys_vec *v, size_t nr)
{
	struct dml__dma_buf *b = to_buf(dmabuf);

	if (!dml__dma_debug_active() && !b->watched)
		return;
	b->watched = nr && dml__dma_debug_active();
	dml__dma_debug_dmabuf_memory(dmabuf, p, v, nr);
}

/* tell the checker the buffer's mappings and CPU access now */
static void checker_state(struct dml__dma_buf *b)
{
	if (b->watched)
		dml__dma_debug_dmabuf_state(&b->buf, b->maps,
					    atomic_load(&b->cpu_windows) +
					    (b->vmaps ? 1 : 0) + b->cpu_grants);
}

/* the kernel's dma_resv_assert_held(), as a checked precondition */
static bool resv_not_held(struct dma_buf *dmabuf)
{
	return DML_WARN_ON(!dma_resv_held(dmabuf->resv));
}

int dma_buf_export(const struct dma_buf_export_info *exp_info,
		   struct dma_buf **out)
{
	const struct dma_buf_ops *ops;
	struct dml__dma_buf *b;
	int ret;

	if (!exp_info || !out || !exp_info->size || !exp_info->ops)
		return -EINVAL;
	ops = exp_info->ops;
	if (!ops->map_dma_buf || !ops->unmap_dma_buf || !ops->release ||
	    (ops->pin && !ops->unpin))
		return -EINVAL;
	b = dml__zalloc(sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->buf.resv = exp_info->resv;
	if (!b->buf.resv) {
		ret = dml_dma_resv_create(&b->buf.resv);
		if (ret) {
			dml__free(b);
			return ret;
		}
		b->owns_resv = true;
	}
	b->buf.size = exp_info->size;
	b->buf.ops = ops;
	b->buf.priv = exp_info->priv;
	atomic_init(&b->refs, 1);
	*out = &b->buf;
	return 0;
}

struct dma_buf *dma_buf_get(struct dma_buf *dmabuf)
{
	if (dmabuf)
		atomic_fetch_add_explicit(&to_buf(dmabuf)->refs, 1,
					  memory_order_relaxed);
	return dmabuf;
}

void dma_buf_put(struct dma_buf *dmabuf)
{
	struct dml__dma_buf *b;

	if (!dmabuf)
		return;
	b = to_buf(dmabuf);
	if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
		return;
	DML_WARN_ON(b->attachments);
	dma_fence_put(b->unmapped);
	if (b->watched)
		dml__dma_debug_dmabuf_memory(dmabuf, NULL, NULL, 0);
	dml__dma_buf_exporter_enter();
	dmabuf->ops->release(dmabuf);
	dml__dma_buf_exporter_leave();
	if (b->owns_resv)
		dml_dma_resv_destroy(dmabuf->resv);
	dml__free(b);
}

static bool type_in(enum dma_buf_mapping_type t,
		    const enum dma_buf_mapping_type *list, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (list[i] == t)
			return true;
	return false;
}

int dma_buf_match_mapping(struct dma_buf_attachment *attach,
			  const enum dma_buf_mapping_type *imp, size_t imp_len,
			  const enum dma_buf_mapping_type *exp, size_t exp_len)
{
	size_t i;

	if (!attach || !imp || !exp)
		return -EINVAL;
	for (i = 0; i < exp_len; i++) {
		if (!type_in(exp[i], imp, imp_len) ||
		    (exp[i] != DMA_BUF_MAPPING_SGT && !attach->importer_ops))
			continue;
		attach->map_type = exp[i];
		attach->peer2peer = exp[i] != DMA_BUF_MAPPING_SGT;
		return 0;
	}
	return -EOPNOTSUPP;
}

static const enum dma_buf_mapping_type classic = DMA_BUF_MAPPING_SGT;

/*
 * make an attachment; with @imp, negotiate its map type first (the
 * exporter's match_mapping op, or SGT only); without, it is classic SGT
 */
static int attach_common(struct dma_buf *dmabuf, struct dml_device *dev,
			 const enum dma_buf_mapping_type *imp, size_t imp_len,
			 const struct dma_buf_attach_ops *importer_ops,
			 void *importer_priv, struct dma_buf_attachment **out)
{
	struct dma_buf_attachment *a;
	struct dml__dma_buf *b;
	int ret;

	if (!dmabuf || !dev || !out)
		return -EINVAL;
	a = dml__zalloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->dmabuf = dmabuf;
	a->dev = dev;
	a->importer_ops = importer_ops;
	a->importer_priv = importer_priv;
	a->peer2peer = importer_ops && importer_ops->allow_peer2peer;
	a->map_type = DMA_BUF_MAPPING_SGT;
	if (imp) {
		a->map_type = DMA_BUF_MAPPING_NONE;
		if (dmabuf->ops->match_mapping)
			ret = dmabuf->ops->match_mapping(a, imp, imp_len);
		else
			ret = dma_buf_match_mapping(a, imp, imp_len, &classic, 1);
		if (!ret && a->map_type == DMA_BUF_MAPPING_NONE)
			ret = -EOPNOTSUPP;
		if (ret)
			goto err_free;
	}
	/* Proposed: CPU access only where the exporter grants it at attach */
	if (importer_ops && importer_ops->needs_cpu_access &&
	    !dmabuf->ops->grants_cpu_access) {
		ret = -EOPNOTSUPP;
		goto err_free;
	}
	if (dmabuf->ops->attach) {
		dml__dma_buf_exporter_enter();
		ret = dmabuf->ops->attach(dmabuf, a);
		dml__dma_buf_exporter_leave();
		if (ret)
			goto err_free;
	}
	b = to_buf(dmabuf);
	dma_resv_lock(dmabuf->resv, NULL);
	if (b->revoked) {
		dma_resv_unlock(dmabuf->resv);
		if (dmabuf->ops->detach)
			dmabuf->ops->detach(dmabuf, a);
		ret = -ENODEV;
		goto err_free;
	}
	a->__next = b->attachments;
	b->attachments = a;
	if (importer_ops && importer_ops->needs_cpu_access) {
		b->cpu_grants++;
		checker_state(b);
	}
	dma_resv_unlock(dmabuf->resv);
	*out = a;
	return 0;
err_free:
	dml__free(a);
	return ret;
}

int dma_buf_dynamic_attach(struct dma_buf *dmabuf, struct dml_device *dev,
			   const struct dma_buf_attach_ops *importer_ops,
			   void *importer_priv,
			   struct dma_buf_attachment **out)
{
	return attach_common(dmabuf, dev, NULL, 0, importer_ops, importer_priv,
			     out);
}

int dma_buf_mapping_attach(struct dma_buf *dmabuf, struct dml_device *dev,
			   const enum dma_buf_mapping_type *imp, size_t imp_len,
			   const struct dma_buf_attach_ops *importer_ops,
			   void *importer_priv,
			   struct dma_buf_attachment **out)
{
	size_t i;

	if (!imp || !imp_len)
		return -EINVAL;
	for (i = 0; i < imp_len; i++)
		if (imp[i] < DMA_BUF_MAPPING_SGT ||
		    imp[i] > DMA_BUF_MAPPING_PAL_PRIVATE)
			return -EINVAL;
	return attach_common(dmabuf, dev, imp, imp_len, importer_ops,
			     importer_priv, out);
}

int dma_buf_attach(struct dma_buf *dmabuf, struct dml_device *dev,
		   struct dma_buf_attachment **out)
{
	return dma_buf_dynamic_attach(dmabuf, dev, NULL, NULL, out);
}

void dma_buf_detach(struct dma_buf *dmabuf, struct dma_buf_attachment *attach)
{
	struct dma_buf_attachment **pp;

	if (!dmabuf || !attach || DML_WARN_ON(attach->dmabuf != dmabuf))
		return;
	dma_resv_lock(dmabuf->resv, NULL);
	DML_WARN_ON(attach->__maps);
	for (pp = &to_buf(dmabuf)->attachments; *pp; pp = &(*pp)->__next)
		if (*pp == attach) {
			*pp = attach->__next;
			break;
		}
	if (attach->importer_ops && attach->importer_ops->needs_cpu_access) {
		to_buf(dmabuf)->cpu_grants--;
		checker_state(to_buf(dmabuf));
	}
	dma_resv_unlock(dmabuf->resv);
	if (dmabuf->ops->detach)
		dmabuf->ops->detach(dmabuf, attach);
	dml__free(attach);
}

int dma_buf_pin(struct dma_buf_attachment *attach)
{
	struct dma_buf *dmabuf;

	if (!attach || DML_WARN_ON(!attach->importer_ops))
		return -EINVAL;
	dmabuf = attach->dmabuf;
	if (resv_not_held(dmabuf))
		return -EINVAL;
	return dmabuf->ops->pin ? dmabuf->ops->pin(attach) : 0;
}

void dma_buf_unpin(struct dma_buf_attachment *attach)
{
	struct dma_buf *dmabuf;

	if (!attach || DML_WARN_ON(!attach->importer_ops))
		return;
	dmabuf = attach->dmabuf;
	if (resv_not_held(dmabuf))
		return;
	if (dmabuf->ops->unpin)
		dmabuf->ops->unpin(attach);
}

/* a mapping of @dmabuf was made (lock held) */
static void map_made(struct dma_buf_attachment *attach)
{
	attach->__maps++;
	to_buf(attach->dmabuf)->maps++;
	checker_state(to_buf(attach->dmabuf));
}

/* a mapping went away (lock held): wake a revoke waiting for the last */
static void map_gone(struct dma_buf_attachment *attach)
{
	struct dml__dma_buf *b = to_buf(attach->dmabuf);

	attach->__maps--;
	if (!--b->maps && b->unmapped)
		dma_fence_signal(b->unmapped);
	checker_state(b);
}

/* a static importer of an exporter that can pin holds a pin per mapping */
static bool pins_for_map(struct dma_buf_attachment *attach)
{
	return !attach->importer_ops && attach->dmabuf->ops->pin;
}

int dma_buf_map_attachment(struct dma_buf_attachment *attach,
			   enum dma_data_direction dir, struct sg_table **out)
{
	struct dma_buf *dmabuf;
	int ret;

	if (!attach || !out || !dml__valid_dir(dir) || dir == DMA_NONE)
		return -EINVAL;
	dmabuf = attach->dmabuf;
	if (resv_not_held(dmabuf) || attach->map_type == DMA_BUF_MAPPING_PAL ||
	    attach->map_type == DMA_BUF_MAPPING_PAL_PRIVATE)
		return -EINVAL;
	if (to_buf(dmabuf)->revoked)
		return -ENODEV;
	if (pins_for_map(attach)) {
		ret = dmabuf->ops->pin(attach);
		if (ret)
			return ret;
	}
	ret = dmabuf->ops->map_dma_buf(attach, dir, out);
	if (ret) {
		if (pins_for_map(attach))
			dmabuf->ops->unpin(attach);
		return ret;
	}
	map_made(attach);
	return 0;
}

void dma_buf_unmap_attachment(struct dma_buf_attachment *attach,
			      struct sg_table *sgt,
			      enum dma_data_direction dir)
{
	struct dma_buf *dmabuf;

	if (!attach || !sgt)
		return;
	dmabuf = attach->dmabuf;
	if (resv_not_held(dmabuf) || DML_WARN_ON(!attach->__maps))
		return;
	dmabuf->ops->unmap_dma_buf(attach, sgt, dir);
	map_gone(attach);
	if (pins_for_map(attach))
		dmabuf->ops->unpin(attach);
}

int dma_buf_map_phys(struct dma_buf_attachment *attach,
		     struct dma_buf_phys_list **out)
{
	int ret;

	if (!attach || !out || (attach->map_type != DMA_BUF_MAPPING_PAL &&
				attach->map_type != DMA_BUF_MAPPING_PAL_PRIVATE) ||
	    !attach->dmabuf->ops->map_phys || resv_not_held(attach->dmabuf))
		return -EINVAL;
	if (to_buf(attach->dmabuf)->revoked)
		return -ENODEV;
	ret = attach->dmabuf->ops->map_phys(attach, out);
	if (!ret)
		map_made(attach);
	return ret;
}

void dma_buf_unmap_phys(struct dma_buf_attachment *attach,
			struct dma_buf_phys_list *list)
{
	if (!attach || !list || resv_not_held(attach->dmabuf) ||
	    DML_WARN_ON(!attach->__maps))
		return;
	if (attach->dmabuf->ops->unmap_phys)
		attach->dmabuf->ops->unmap_phys(attach, list);
	map_gone(attach);
}

int dma_buf_map_attachment_unlocked(struct dma_buf_attachment *attach,
				    enum dma_data_direction dir,
				    struct sg_table **out)
{
	int ret;

	if (!attach)
		return -EINVAL;
	dma_resv_lock(attach->dmabuf->resv, NULL);
	ret = dma_buf_map_attachment(attach, dir, out);
	dma_resv_unlock(attach->dmabuf->resv);
	return ret;
}

void dma_buf_unmap_attachment_unlocked(struct dma_buf_attachment *attach,
				       struct sg_table *sgt,
				       enum dma_data_direction dir)
{
	if (!attach)
		return;
	dma_resv_lock(attach->dmabuf->resv, NULL);
	dma_buf_unmap_attachment(attach, sgt, dir);
	dma_resv_unlock(attach->dmabuf->resv);
}

int dma_buf_invalidate_mappings(struct dma_buf *dmabuf)
{
	struct dma_buf_attachment *a, *next;

	if (!dmabuf || resv_not_held(dmabuf))
		return -EINVAL;
	for (a = to_buf(dmabuf)->attachments; a; a = next) {
		next = a->__next;
		if (dma_buf_attach_revocable(a))
			a->importer_ops->invalidate_mappings(a);
	}
	return 0;
}

int dma_buf_move_notify(struct dma_buf *dmabuf)
{
	return dma_buf_invalidate_mappings(dmabuf);
}

bool dma_buf_attach_revocable(struct dma_buf_attachment *attach)
{
	return attach && attach->importer_ops &&
	       attach->importer_ops->invalidate_mappings;
}

int dml_dma_buf_revoke(struct dma_buf *dmabuf, long timeout)
{
	struct dml__dma_buf *b;
	struct dma_fence *unmapped = NULL;
	int ret = 0;

	if (!dmabuf || timeout < 0)
		return -EINVAL;
	b = to_buf(dmabuf);
	dma_resv_lock(dmabuf->resv, NULL);
	b->revoked = true;
	dma_buf_invalidate_mappings(dmabuf);
	dma_resv_wait_timeout(dmabuf->resv, DMA_RESV_USAGE_BOOKKEEP, false,
			      MAX_SCHEDULE_TIMEOUT);
	if (b->maps && !b->unmapped)
		ret = dml_dma_fence_create(&b->unmapped);
	if (b->maps && !ret)
		unmapped = dma_fence_get(b->unmapped);
	dma_resv_unlock(dmabuf->resv);
	if (!unmapped)
		return ret;
	if (!dma_fence_wait_timeout(unmapped, false, timeout)) {
		dml__warn("dma-buf: an importer did not unmap within %ld ns of a revoke",
			  timeout);
		ret = -ETIMEDOUT;
	}
	dma_resv_lock(dmabuf->resv, NULL);
	if (b->unmapped == unmapped && dma_fence_is_signaled(unmapped)) {
		dma_fence_put(b->unmapped);
		b->unmapped = NULL;
	}
	dma_resv_unlock(dmabuf->resv);
	dma_fence_put(unmapped);
	return ret;
}

int dml_dma_buf_unrevoke(struct dma_buf *dmabuf)
{
	if (!dmabuf)
		return -EINVAL;
	dma_resv_lock(dmabuf->resv, NULL);
	to_buf(dmabuf)->revoked = false;
	dma_buf_invalidate_mappings(dmabuf);
	dma_resv_unlock(dmabuf->resv);
	return 0;
}

bool dml_dma_buf_revoked(struct dma_buf *dmabuf)
{
	bool revoked;

	if (!dmabuf)
		return false;
	dma_resv_lock(dmabuf->resv, NULL);
	revoked = to_buf(dmabuf)->revoked;
	dma_resv_unlock(dmabuf->resv);
	return revoked;
}

int dma_buf_begin_cpu_access(struct dma_buf *dmabuf,
			     enum dma_data_direction dir)
{
	bool write = dir == DMA_BIDIRECTIONAL || dir == DMA_TO_DEVICE;
	int ret;

	if (!dmabuf || !dml__valid_dir(dir) || dir == DMA_NONE)
		return -EINVAL;
	/* a CPU write waits for readers too; a CPU read only for writers */
	dma_resv_wait_timeout(dmabuf->resv, write ? DMA_RESV_USAGE_READ :
			      DMA_RESV_USAGE_WRITE, true, MAX_SCHEDULE_TIMEOUT);
	if (dmabuf->ops->begin_cpu_access) {
		dml__dma_buf_exporter_enter();
		ret = dmabuf->ops->begin_cpu_access(dmabuf, dir);
		dml__dma_buf_exporter_leave();
		if (ret)
			return ret;
	}
	if (to_buf(dmabuf)->watched) {
		dma_resv_lock(dmabuf->resv, NULL);
		atomic_fetch_add(&to_buf(dmabuf)->cpu_windows, 1);
		checker_state(to_buf(dmabuf));
		dma_resv_unlock(dmabuf->resv);
	}
	return 0;
}

int dma_buf_end_cpu_access(struct dma_buf *dmabuf,
			   enum dma_data_direction dir)
{
	struct dml__dma_buf *b;
	int ret = 0;

	if (!dmabuf || !dml__valid_dir(dir) || dir == DMA_NONE)
		return -EINVAL;
	b = to_buf(dmabuf);
	if (b->watched && atomic_load(&b->cpu_windows)) {
		dma_resv_lock(dmabuf->resv, NULL);
		atomic_fetch_sub(&b->cpu_windows, 1);
		checker_state(b);
		dma_resv_unlock(dmabuf->resv);
	}
	if (dmabuf->ops->end_cpu_access) {
		dml__dma_buf_exporter_enter();
		ret = dmabuf->ops->end_cpu_access(dmabuf, dir);
		dml__dma_buf_exporter_leave();
	}
	return ret;
}

int dma_buf_mmap(struct dma_buf *dmabuf, size_t pgoff, size_t len,
		 void **addr)
{
	size_t start, end;
	int ret;

	if (!dmabuf || !addr || !len || !dmabuf->ops->mmap ||
	    __builtin_mul_overflow(pgoff, (size_t)PAGE_SIZE, &start) ||
	    __builtin_add_overflow(start, len, &end) || end > dmabuf->size)
		return -EINVAL;
	dml__dma_buf_exporter_enter();
	ret = dmabuf->ops->mmap(dmabuf, pgoff, len, addr);
	dml__dma_buf_exporter_leave();
	return ret;
}

int dma_buf_vmap(struct dma_buf *dmabuf, void **vaddr)
{
	struct dml__dma_buf *b;
	int ret;

	if (!dmabuf || !vaddr || !dmabuf->ops->vmap || resv_not_held(dmabuf))
		return -EINVAL;
	b = to_buf(dmabuf);
	if (!b->vmaps) {
		dml__dma_buf_exporter_enter();
		ret = dmabuf->ops->vmap(dmabuf, &b->vaddr);
		dml__dma_buf_exporter_leave();
		if (ret)
			return ret;
	}
	b->vmaps++;
	checker_state(b);
	*vaddr = b->vaddr;
	return 0;
}

void dma_buf_vunmap(struct dma_buf *dmabuf, void *vaddr)
{
	struct dml__dma_buf *b;

	if (!dmabuf || resv_not_held(dmabuf))
		return;
	b = to_buf(dmabuf);
	if (DML_WARN_ON(!b->vmaps || vaddr != b->vaddr))
		return;
	if (!--b->vmaps && dmabuf->ops->vunmap) {
		dml__dma_buf_exporter_enter();
		dmabuf->ops->vunmap(dmabuf, b->vaddr);
		dml__dma_buf_exporter_leave();
	}
	checker_state(b);
}
