/* SPDX-License-Identifier: MIT */
/*
 * vram-exporter.c - device memory exported as a dma-buf that the
 * exporter migrates between the device's BAR ("VRAM") and system memory,
 * as GPU drivers move buffers (TTM with move_notify / invalidate_mappings).
 *
 * struct vram_buf: the buffer is either in VRAM (one range of the BAR,
 * provider set) or in system memory (pages from the exporter's own
 * layout allocator, no provider); @list is the PAL of where it is now.
 * A move happens under the reservation lock: every importer is told
 * (dma_buf_invalidate_mappings), every fence waited for, the bytes
 * copied, @list switched; no mapping of the old place survives it, since
 * importers drop theirs in the callback and new maps see the new place.
 *
 * @sys_only counts attachments that cannot reach VRAM (not peer2peer,
 * or a P2P path the topology refuses): attaching one moves the buffer
 * to system memory, and while any is attached it does not go back.
 * @pins counts pins (dma_buf_pin, and static importers while mapped); a
 * pinned buffer does not move.  Both are guarded by the lock.
 */
#include <string.h>

#include <dmalink/dma-buf-exporter.h>

#include "base/base.h"
#include "dmabuf/dmabuf.h"
#include "pci/pci.h"

struct vram_buf {
	struct dml_platform *p;
	struct p2pdma_provider *provider;
	struct phys_vec vram;
	struct dml_layout *layout;
	struct dml_phys_range *sys;	/* the system pages while there */
	unsigned int nsys;
	struct phys_vec *sysv;		/* the same as phys_vec */
	struct dma_buf_phys_list list;
	unsigned int sys_only, pins;
};

static const struct dma_buf_ops vram_ops;

static bool in_vram(const struct vram_buf *e)
{
	return e->list.provider != NULL;
}

static bool reaches_vram(struct vram_buf *e, struct dma_buf_attachment *a)
{
	enum pci_p2pdma_map_type t = pci_p2pdma_map_type(e->provider, a->dev);

	return a->peer2peer && (t == PCI_P2PDMA_MAP_BUS_ADDR ||
				t == PCI_P2PDMA_MAP_THRU_HOST_BRIDGE);
}

/* copy @len bytes between a list of ranges and one contiguous range */
static void copy_ranges(struct vram_buf *e, const struct phys_vec *v,
			unsigned int nr, bool to_v)
{
	u8 *flat = dml_kmap_local_phys(e->p, e->vram.paddr, e->vram.len);
	unsigned int i;

	for (i = 0; i < nr; i++) {
		u8 *m = dml_kmap_local_phys(e->p, v[i].paddr, v[i].len);

		if (to_v)
			memcpy(m, flat, v[i].len);
		else
			memcpy(flat, m, v[i].len);
		flat += v[i].len;
	}
}

/* to system memory: pages from the layout, the bytes copied (lock held) */
static int move_to_system(struct vram_buf *e)
{
	unsigned int max = (unsigned int)(e->vram.len / PAGE_SIZE), i, nr;
	int ret;

	e->sys = dml__zalloc(max * sizeof(*e->sys));
	e->sysv = dml__zalloc(max * sizeof(*e->sysv));
	if (!e->sys || !e->sysv) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = dml_layout_alloc(e->layout, e->vram.len, e->sys, max, &nr);
	if (ret)
		goto err_free;
	for (i = 0; i < nr; i++) {
		e->sysv[i].paddr = e->sys[i].phys;
		e->sysv[i].len = e->sys[i].len;
	}
	copy_ranges(e, e->sysv, nr, true);
	e->nsys = nr;
	e->list.provider = NULL;
	e->list.nr_ranges = nr;
	e->list.phys = e->sysv;
	return 0;
err_free:
	dml__free(e->sys);
	dml__free(e->sysv);
	e->sys = NULL;
	e->sysv = NULL;
	return ret;
}

/* back to VRAM: the bytes copied, the pages freed (lock held) */
static void move_to_vram(struct vram_buf *e)
{
	copy_ranges(e, e->sysv, e->nsys, false);
	dml_layout_free(e->layout, e->sys, e->nsys);
	dml__free(e->sys);
	dml__free(e->sysv);
	e->sys = NULL;
	e->sysv = NULL;
	e->nsys = 0;
	e->list.provider = e->provider;
	e->list.nr_ranges = 1;
	e->list.phys = &e->vram;
}

/* the move itself, lock held: invalidate, wait for fences, copy, switch */
static int migrate_locked(struct dma_buf *dmabuf, bool to_vram)
{
	struct vram_buf *e = dmabuf->priv;

	if (in_vram(e) == to_vram)
		return 0;
	if (e->pins || (to_vram && e->sys_only))
		return -EBUSY;
	dma_buf_invalidate_mappings(dmabuf);
	dma_resv_wait_timeout(dmabuf->resv, DMA_RESV_USAGE_BOOKKEEP, false,
			      MAX_SCHEDULE_TIMEOUT);
	if (to_vram)
		move_to_vram(e);
	else if (move_to_system(e))
		return -ENOMEM;
	dml__dma_buf_set_memory(dmabuf, e->p, e->list.phys, e->list.nr_ranges);
	return 0;
}

static int vram_attach(struct dma_buf *dmabuf, struct dma_buf_attachment *a)
{
	struct vram_buf *e = dmabuf->priv;
	int ret;

	if (reaches_vram(e, a))
		return 0;
	dma_resv_lock(dmabuf->resv, NULL);
	ret = migrate_locked(dmabuf, false);
	if (!ret) {
		e->sys_only++;
		a->priv = e;	/* counted in sys_only */
	}
	dma_resv_unlock(dmabuf->resv);
	return ret;
}

static void vram_detach(struct dma_buf *dmabuf, struct dma_buf_attachment *a)
{
	struct vram_buf *e = dmabuf->priv;

	if (!a->priv)
		return;
	dma_resv_lock(dmabuf->resv, NULL);
	e->sys_only--;
	dma_resv_unlock(dmabuf->resv);
}

static int vram_pin(struct dma_buf_attachment *a)
{
	((struct vram_buf *)a->dmabuf->priv)->pins++;
	return 0;
}

static void vram_unpin(struct dma_buf_attachment *a)
{
	((struct vram_buf *)a->dmabuf->priv)->pins--;
}

static int vram_match(struct dma_buf_attachment *a,
		      const enum dma_buf_mapping_type *imp, size_t imp_len)
{
	static const enum dma_buf_mapping_type mine[] = {
		DMA_BUF_MAPPING_PAL, DMA_BUF_MAPPING_SGT_P2P,
		DMA_BUF_MAPPING_SGT,
	};

	return dma_buf_match_mapping(a, imp, imp_len, mine, ARRAY_SIZE(mine));
}

static int vram_map(struct dma_buf_attachment *a, enum dma_data_direction dir,
		    struct sg_table **out)
{
	struct vram_buf *e = a->dmabuf->priv;

	return dml__phys_vec_to_sgt(a, e->list.provider, e->list.phys,
				    e->list.nr_ranges, e->list.length, dir, out);
}

static void vram_unmap(struct dma_buf_attachment *a, struct sg_table *sgt,
		       enum dma_data_direction dir)
{
	dma_buf_free_sgt(a, sgt, dir);
}

static int vram_map_phys(struct dma_buf_attachment *a,
			 struct dma_buf_phys_list **out)
{
	*out = &((struct vram_buf *)a->dmabuf->priv)->list;
	return 0;
}

/* a CPU pointer to [pgoff, +len) where the buffer is now, if contiguous */
static int vram_mmap(struct dma_buf *dmabuf, size_t pgoff, size_t len,
		     void **addr)
{
	struct vram_buf *e = dmabuf->priv;
	u64 off = (u64)pgoff * PAGE_SIZE;
	size_t i;
	int ret = -EINVAL;

	dma_resv_lock(dmabuf->resv, NULL);
	for (i = 0; i < e->list.nr_ranges && off >= e->list.phys[i].len; i++)
		off -= e->list.phys[i].len;
	if (i < e->list.nr_ranges && len <= e->list.phys[i].len - off) {
		*addr = dml_kmap_local_phys(e->p, e->list.phys[i].paddr + off,
					    len);
		ret = *addr ? 0 : -EINVAL;
	}
	dma_resv_unlock(dmabuf->resv);
	return ret;
}

static void vram_release(struct dma_buf *dmabuf)
{
	struct vram_buf *e = dmabuf->priv;

	if (!in_vram(e)) {
		dml_layout_free(e->layout, e->sys, e->nsys);
		dml__free(e->sys);
		dml__free(e->sysv);
	}
	dml_layout_destroy(e->layout);
	dml__free(e);
}

static const struct dma_buf_ops vram_ops = {
	.grants_cpu_access = true,
	.attach = vram_attach,
	.detach = vram_detach,
	.pin = vram_pin,
	.unpin = vram_unpin,
	.map_dma_buf = vram_map,
	.unmap_dma_buf = vram_unmap,
	.release = vram_release,
	.match_mapping = vram_match,
	.map_phys = vram_map_phys,
	.mmap = vram_mmap,
};

int dml_vram_dma_buf_export(struct dml_pci_dev *pdev, u32 bar, u64 offset,
			    size_t len, struct dma_buf **out)
{
	struct dma_buf_export_info info = { .ops = &vram_ops, .size = len };
	struct p2pdma_provider *provider;
	struct vram_buf *e;
	u64 end;
	int ret;

	if (!pdev || !out || !len || bar >= PCI_STD_NUM_BARS ||
	    !IS_ALIGNED(offset, PAGE_SIZE) || !IS_ALIGNED(len, PAGE_SIZE))
		return -EINVAL;
	provider = pcim_p2pdma_provider(pdev, (int)bar);
	if (!provider || __builtin_add_overflow(offset, (u64)len, &end) ||
	    end > provider->size)
		return -EINVAL;
	e = dml__zalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->p = pdev->plat;
	ret = dml_layout_create(e->p, "4k-descending", &e->layout);
	if (ret)
		goto err_free;
	e->provider = provider;
	e->vram.paddr = provider->phys + offset;
	e->vram.len = len;
	e->list.provider = provider;
	e->list.length = len;
	e->list.nr_ranges = 1;
	e->list.phys = &e->vram;
	info.priv = e;
	ret = dma_buf_export(&info, out);
	if (ret)
		goto err_layout;
	dml__dma_buf_set_memory(*out, e->p, &e->vram, 1);
	return 0;
err_layout:
	dml_layout_destroy(e->layout);
err_free:
	dml__free(e);
	return ret;
}

int dml_vram_dma_buf_migrate(struct dma_buf *dmabuf, bool to_vram)
{
	int ret;

	if (!dmabuf || dmabuf->ops != &vram_ops)
		return -EINVAL;
	dma_resv_lock(dmabuf->resv, NULL);
	dml__dma_buf_exporter_enter();
	ret = migrate_locked(dmabuf, to_vram);
	dml__dma_buf_exporter_leave();
	dma_resv_unlock(dmabuf->resv);
	return ret;
}

bool dml_vram_dma_buf_in_vram(struct dma_buf *dmabuf)
{
	bool ret;

	if (!dmabuf || dmabuf->ops != &vram_ops)
		return false;
	dma_resv_lock(dmabuf->resv, NULL);
	ret = in_vram(dmabuf->priv);
	dma_resv_unlock(dmabuf->resv);
	return ret;
}
