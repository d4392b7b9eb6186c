/* SPDX-License-Identifier: MIT */
/*
 * bar-exporter.c - a PCI BAR exported as a dma-buf, modelled on VFIO's
 * VFIO_DEVICE_FEATURE_DMA_BUF (drivers/vfio/pci/vfio_pci_dmabuf.c, 6.19):
 * the ranges are checked as VFIO checks them, importers must take peer
 * memory and be revocable, the exporter offers PAL first, then SGT_P2P
 * (dma_buf_phys_vec_to_sgt), and revoke is the core's sequence.  The
 * BAR of a function in TDISP RUN is private MMIO: only PAL_PRIVATE, only
 * to importers of its TVM (Proposed, dmalink/dma-buf.h).
 *
 * The exporter owns a copy of the ranges as physical vectors; the
 * buffer's priv points to it; release frees it.  It listens to the
 * function's BAR events (src/pci/decode.c) as VFIO's does: memory decode
 * off (a PCI_COMMAND write, a reset) revokes the buffer, decode on gives
 * it back, and a function that is closed or destroyed revokes it for
 * good.  A buffer exported while decode is off starts revoked.  A buffer
 * with PAL_PRIVATE attachments is revoked when its function leaves TDISP
 * RUN (error, stop); it stays revoked when the function re-enters RUN
 * (which needs a new lock and accept) until decode goes off and on again
 * or the owner calls dml_dma_buf_unrevoke().
 */
#include "dmabuf/dmabuf.h"

#include "base/base.h"
#include "pci/pci.h"

/* how long a revoke waits for the importers to unmap (then it warns) */
#define BAR_REVOKE_TIMEOUT_NS (1000LL * 1000 * 1000)

/*
 * @pdev: the function, until DML_PCI_BAR_GONE (then NULL; set under the
 * function's bar_users_lock, read by release)
 */
struct bar_dmabuf {
	struct dml_pci_bar_user user;
	struct dml_pci_dev *_Atomic pdev;
	struct dma_buf *buf;
	struct dma_buf_phys_list list;	/* provider, length, ranges: @v */
	atomic_int nr_private;	/* PAL_PRIVATE attachments */
	struct phys_vec v[];
};

static int bar_attach(struct dma_buf *dmabuf, struct dma_buf_attachment *a)
{
	struct bar_dmabuf *e = dmabuf->priv;

	if (!a->peer2peer || !dma_buf_attach_revocable(a))
		return -EOPNOTSUPP;
	if (a->map_type == DMA_BUF_MAPPING_PAL_PRIVATE)
		atomic_fetch_add(&e->nr_private, 1);
	return 0;
}

static void bar_detach(struct dma_buf *dmabuf, struct dma_buf_attachment *a)
{
	struct bar_dmabuf *e = dmabuf->priv;

	if (a->map_type == DMA_BUF_MAPPING_PAL_PRIVATE)
		atomic_fetch_sub(&e->nr_private, 1);
}

/*
 * PAL, then SGT_P2P; while the BAR's function is in TDISP RUN its BAR is
 * private MMIO: PAL_PRIVATE only, and only for an importer accepted into
 * the function's TVM
 */
static int bar_match(struct dma_buf_attachment *a,
		     const enum dma_buf_mapping_type *imp, size_t imp_len)
{
	static const enum dma_buf_mapping_type mine[] = {
		DMA_BUF_MAPPING_PAL, DMA_BUF_MAPPING_SGT_P2P,
	};
	static const enum dma_buf_mapping_type private[] = {
		DMA_BUF_MAPPING_PAL_PRIVATE,
	};
	struct bar_dmabuf *e = a->dmabuf->priv;
	struct dml_pci_dev *owner = e->list.provider->owner;

	if (dml__tdisp_run(owner)) {
		if (!dml__tdisp_tvm_peer(a->dev->pci_dev, owner))
			return -EOPNOTSUPP;
		return dma_buf_match_mapping(a, imp, imp_len, private,
					     ARRAY_SIZE(private));
	}
	return dma_buf_match_mapping(a, imp, imp_len, mine, ARRAY_SIZE(mine));
}

static int bar_map(struct dma_buf_attachment *a, enum dma_data_direction dir,
		   struct sg_table **out)
{
	struct bar_dmabuf *e = a->dmabuf->priv;

	return dma_buf_phys_vec_to_sgt(a, e->list.provider, e->v,
				       e->list.nr_ranges, e->list.length, dir,
				       out);
}

static void bar_unmap(struct dma_buf_attachment *a, struct sg_table *sgt,
		      enum dma_data_direction dir)
{
	dma_buf_free_sgt(a, sgt, dir);
}

static int bar_map_phys(struct dma_buf_attachment *a,
			struct dma_buf_phys_list **out)
{
	struct bar_dmabuf *e = a->dmabuf->priv;

	/* private MMIO is gone once the function left RUN or the importer its TVM */
	if (a->map_type == DMA_BUF_MAPPING_PAL_PRIVATE &&
	    (!dml__tdisp_run(e->list.provider->owner) ||
	     !dml__tdisp_tvm_peer(a->dev->pci_dev, e->list.provider->owner)))
		return -ENODEV;

	*out = &e->list;
	return 0;
}

static void bar_release(struct dma_buf *dmabuf)
{
	struct bar_dmabuf *e = dmabuf->priv;
	struct dml_pci_dev *pdev = atomic_load(&e->pdev);

	if (pdev)
		dml__pci_bar_user_del(pdev, &e->user);
	dml__free(e);
}

/* vfio_pci_dma_buf_move() and vfio_pci_dma_buf_cleanup() */
static void bar_event(struct dml_pci_bar_user *u, enum dml_pci_bar_event ev)
{
	struct bar_dmabuf *e = container_of(u, struct bar_dmabuf, user);

	switch (ev) {
	case DML_PCI_BAR_DECODE_ON:
		if (atomic_load(&e->pdev))
			dml_dma_buf_unrevoke(e->buf);
		break;
	case DML_PCI_BAR_GONE:
		atomic_store(&e->pdev, NULL);
		/* fall through */
	case DML_PCI_BAR_DECODE_OFF:
		dml_dma_buf_revoke(e->buf, BAR_REVOKE_TIMEOUT_NS);
		break;
	case DML_PCI_BAR_LEFT_RUN:
		/* private MMIO is gone; stays revoked until decode comes back */
		if (atomic_load(&e->nr_private))
			dml_dma_buf_revoke(e->buf, BAR_REVOKE_TIMEOUT_NS);
		break;
	}
}

static const struct dma_buf_ops bar_ops = {
	.attach = bar_attach,
	.detach = bar_detach,
	.map_dma_buf = bar_map,
	.unmap_dma_buf = bar_unmap,
	.release = bar_release,
	.match_mapping = bar_match,
	.map_phys = bar_map_phys,
};

int dml_pci_bar_dma_buf_export(struct dml_pci_dev *pdev, u32 region_index,
			       const struct dml_dma_buf_range *ranges,
			       u32 nr_ranges, struct dma_buf **out)
{
	struct dma_buf_export_info info = { .ops = &bar_ops };
	struct p2pdma_provider *provider;
	struct bar_dmabuf *e;
	u64 total = 0, end;
	u32 i;
	int ret;

	if (!pdev || !out || !nr_ranges || !ranges)
		return -EINVAL;
	if (region_index >= PCI_STD_NUM_BARS)
		return -ENODEV;
	provider = pcim_p2pdma_provider(pdev, (int)region_index);
	if (!provider)
		return -EINVAL;
	for (i = 0; i < nr_ranges; i++) {
		u64 off = ranges[i].offset, len = ranges[i].length;

		if (!len || !IS_ALIGNED(off, PAGE_SIZE) ||
		    !IS_ALIGNED(len, PAGE_SIZE) ||
		    __builtin_add_overflow(total, len, &total) ||
		    __builtin_add_overflow(off, len, &end) ||
		    end > provider->size)
			return -EINVAL;
	}
	if (total >= 1ULL << 63)
		return -EINVAL;
	e = dml__zalloc(sizeof(*e) + nr_ranges * sizeof(e->v[0]));
	if (!e)
		return -ENOMEM;
	for (i = 0; i < nr_ranges; i++) {
		e->v[i].paddr = provider->phys + ranges[i].offset;
		e->v[i].len = ranges[i].length;
	}
	e->list.provider = provider;
	e->list.length = total;
	e->list.nr_ranges = nr_ranges;
	e->list.phys = e->v;
	e->user.event = bar_event;
	atomic_init(&e->pdev, pdev);
	info.size = total;
	info.priv = e;
	ret = dma_buf_export(&info, out);
	if (ret) {
		dml__free(e);
		return ret;
	}
	e->buf = *out;
	dml__dma_buf_set_memory(*out, pdev->plat, e->v, nr_ranges);
	dml__pci_bar_user_add(pdev, &e->user);
	return 0;
}
