/* SPDX-License-Identifier: MIT */
/*
 * importer.c - the three importers of dmalink/dma-buf-importer.h: an
 * RDMA memory region (dynamic, PAL mapped with the two-step API, mapped
 * again on its next use after an invalidation), an iommufd area (pinned,
 * one range at a fixed IOVA, revoked without remap) and a static importer
 * (SGT, pinned while mapped).
 *
 * An importer's mapping is one of two kinds, by the attachment's
 * negotiated type: an exporter's sg table (SGT, SGT_P2P), or a PAL that
 * the importer maps itself through struct dml__pv (dmabuf.h).  Either
 * way @segs lists the DMA ranges in buffer order, which is all
 * dml_dma_buf_importer_dma() reads.
 *
 * Locking: the mapping state (@mapped, @sgt, @pal, @pv, @segs) is guarded
 * by the buffer's reservation lock: the exporter calls invalidate with
 * it held, and every other path takes it.  @invalidations is atomic so
 * it can be read without the lock.
 *
 * The iommufd importer keeps its IOVA reservation from import to
 * destroy: a revoke unlinks the range, a remap links it at the same
 * address.  The RDMA importer reserves afresh at every map, as the
 * memory (and its provider) may have moved.
 */
#include <dmalink/dma-buf-importer.h>

#include "base/base.h"
#include "dma/dma.h"
#include "dmabuf/dmabuf.h"

struct seg {
	dma_addr_t addr;
	u64 len;
};

struct dml_dma_buf_importer {
	enum dml_dma_buf_importer_type type;
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	enum dma_data_direction dir;
	bool pinned;
	bool mapped;
	struct sg_table *sgt;
	struct dma_buf_phys_list *pal;
	struct dml__pv pv;
	bool pv_started;
	struct seg *segs;
	size_t nsegs, cap;
	atomic_ullong invalidations;
};

static int segs_reserve(struct dml_dma_buf_importer *imp, size_t n)
{
	struct seg *s;

	if (n <= imp->cap)
		return 0;
	if (n > SIZE_MAX / sizeof(*s))
		return -ENOMEM;
	s = dml__zalloc(n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	dml__free(imp->segs);
	imp->segs = s;
	imp->cap = n;
	return 0;
}

/* the PAL's ranges are mapped through @pv: give back what the map made */
static void pal_unmap(struct dml_dma_buf_importer *imp)
{
	size_t i;

	if (imp->pv.mode == DML_PV_PHYS)
		for (i = 0; i < imp->nsegs; i++)
			dml__pv_unmap(&imp->pv, imp->segs[i].addr,
				      imp->segs[i].len, imp->dir);
	if (imp->type == DML_DMA_BUF_IMPORTER_IOMMUFD) {
		dml__pv_unlink(&imp->pv, imp->dir);
	} else {
		dml__pv_end(&imp->pv, imp->dir);
		imp->pv_started = false;
	}
	imp->nsegs = 0;
}

/* map the PAL's ranges with the two-step API (or per range, or by bus) */
static int pal_map(struct dml_dma_buf_importer *imp)
{
	struct dma_buf_phys_list *pal = imp->pal;
	size_t i;
	int ret;

	if (!pal->nr_ranges || (imp->type == DML_DMA_BUF_IMPORTER_IOMMUFD &&
				pal->nr_ranges != 1))
		return -EOPNOTSUPP;
	if (imp->pv_started && imp->pv.provider != pal->provider)
		return -EOPNOTSUPP;	/* iommufd: the kind was fixed at import */
	if (!imp->pv_started) {
		ret = dml__pv_start(&imp->pv, imp->attach->dev, pal->provider,
				    pal->phys[0].paddr, pal->length);
		if (ret)
			return ret;
		imp->pv_started = true;
		if (imp->type == DML_DMA_BUF_IMPORTER_IOMMUFD &&
		    imp->pv.mode != DML_PV_IOVA) {
			ret = -EOPNOTSUPP;
			goto err_unmap;
		}
	}
	ret = segs_reserve(imp, pal->nr_ranges);
	if (ret)
		goto err_unmap;
	for (i = 0; i < pal->nr_ranges; i++) {
		dma_addr_t addr;

		ret = dml__pv_map(&imp->pv, &pal->phys[i], imp->dir, &addr);
		if (ret)
			goto err_unmap;
		if (imp->pv.mode != DML_PV_IOVA) {
			imp->segs[imp->nsegs].addr = addr;
			imp->segs[imp->nsegs++].len = pal->phys[i].len;
		}
	}
	ret = dml__pv_sync(&imp->pv);
	if (ret)
		goto err_unmap;
	if (imp->pv.mode == DML_PV_IOVA) {
		imp->segs[0].addr = imp->pv.state.addr;
		imp->segs[0].len = imp->pv.linked;
		imp->nsegs = 1;
	}
	return 0;
err_unmap:
	pal_unmap(imp);
	return ret;
}

static int sgt_segs(struct dml_dma_buf_importer *imp)
{
	unsigned int i;
	int ret;

	ret = segs_reserve(imp, imp->sgt->nents);
	if (ret)
		return ret;
	for (i = 0; i < imp->sgt->nents; i++) {
		imp->segs[i].addr = sg_dma_address(&imp->sgt->sgl[i]);
		imp->segs[i].len = sg_dma_len(&imp->sgt->sgl[i]);
	}
	imp->nsegs = imp->sgt->nents;
	return 0;
}

/* map the buffer for the importer's device (lock held) */
static int map_locked(struct dml_dma_buf_importer *imp)
{
	struct dma_buf_attachment *a = imp->attach;
	int ret;

	if (imp->mapped)
		return 0;
	if (a->map_type == DMA_BUF_MAPPING_PAL) {
		ret = dma_buf_map_phys(a, &imp->pal);
		if (ret)
			return ret;
		ret = pal_map(imp);
		if (ret) {
			dma_buf_unmap_phys(a, imp->pal);
			return ret;
		}
	} else {
		ret = dma_buf_map_attachment(a, imp->dir, &imp->sgt);
		if (ret)
			return ret;
		ret = sgt_segs(imp);
		if (ret) {
			dma_buf_unmap_attachment(a, imp->sgt, imp->dir);
			return ret;
		}
	}
	imp->mapped = true;
	return 0;
}

/* drop the mapping (lock held) */
static void unmap_locked(struct dml_dma_buf_importer *imp)
{
	if (!imp->mapped)
		return;
	if (imp->attach->map_type == DMA_BUF_MAPPING_PAL) {
		pal_unmap(imp);
		dma_buf_unmap_phys(imp->attach, imp->pal);
		imp->pal = NULL;
	} else {
		dma_buf_unmap_attachment(imp->attach, imp->sgt, imp->dir);
		imp->sgt = NULL;
		imp->nsegs = 0;
	}
	imp->mapped = false;
}

/* the exporter moves or revokes: drop the mapping before further DMA */
static void importer_invalidate(struct dma_buf_attachment *a)
{
	struct dml_dma_buf_importer *imp = a->importer_priv;

	atomic_fetch_add(&imp->invalidations, 1);
	unmap_locked(imp);
}

static const struct dma_buf_attach_ops importer_ops = {
	.allow_peer2peer = true,
	.invalidate_mappings = importer_invalidate,
};

static const enum dma_buf_mapping_type rdma_types[] = {
	DMA_BUF_MAPPING_PAL, DMA_BUF_MAPPING_SGT_P2P, DMA_BUF_MAPPING_SGT,
};

static const enum dma_buf_mapping_type iommufd_types[] = {
	DMA_BUF_MAPPING_PAL,
};

static int importer_attach(struct dml_dma_buf_importer *imp,
			   struct dml_device *dev)
{
	switch (imp->type) {
	case DML_DMA_BUF_IMPORTER_RDMA_MR:
		return dma_buf_mapping_attach(imp->dmabuf, dev, rdma_types,
					      ARRAY_SIZE(rdma_types),
					      &importer_ops, imp, &imp->attach);
	case DML_DMA_BUF_IMPORTER_IOMMUFD:
		return dma_buf_mapping_attach(imp->dmabuf, dev, iommufd_types,
					      ARRAY_SIZE(iommufd_types),
					      &importer_ops, imp, &imp->attach);
	default:
		return dma_buf_attach(imp->dmabuf, dev, &imp->attach);
	}
}

int dml_dma_buf_import(struct dma_buf *dmabuf, struct dml_device *dev,
		       enum dml_dma_buf_importer_type type,
		       enum dma_data_direction dir,
		       struct dml_dma_buf_importer **out)
{
	struct dml_dma_buf_importer *imp;
	int ret;

	if (!dmabuf || !dev || !out || type > DML_DMA_BUF_IMPORTER_STATIC ||
	    !dml__valid_dir(dir) || dir == DMA_NONE)
		return -EINVAL;
	imp = dml__zalloc(sizeof(*imp));
	if (!imp)
		return -ENOMEM;
	imp->type = type;
	imp->dir = dir;
	imp->dmabuf = dma_buf_get(dmabuf);
	ret = importer_attach(imp, dev);
	if (ret)
		goto err_put;
	dma_resv_lock(dmabuf->resv, NULL);
	if (type == DML_DMA_BUF_IMPORTER_IOMMUFD) {
		ret = dma_buf_pin(imp->attach);
		if (ret)
			goto err_unlock;
		imp->pinned = true;
	}
	ret = map_locked(imp);
	if (ret)
		goto err_unpin;
	dma_resv_unlock(dmabuf->resv);
	*out = imp;
	return 0;
err_unpin:
	if (imp->pinned)
		dma_buf_unpin(imp->attach);
err_unlock:
	dma_resv_unlock(dmabuf->resv);
	if (imp->pv_started)
		dml__pv_end(&imp->pv, dir);
	dma_buf_detach(dmabuf, imp->attach);
err_put:
	dma_buf_put(dmabuf);
	dml__free(imp->segs);
	dml__free(imp);
	return ret;
}

void dml_dma_buf_importer_destroy(struct dml_dma_buf_importer *imp)
{
	struct dma_buf *dmabuf;

	if (!imp)
		return;
	dmabuf = imp->dmabuf;
	dma_resv_lock(dmabuf->resv, NULL);
	unmap_locked(imp);
	if (imp->pinned)
		dma_buf_unpin(imp->attach);
	dma_resv_unlock(dmabuf->resv);
	if (imp->pv_started)
		dml__pv_end(&imp->pv, imp->dir);
	dma_buf_detach(dmabuf, imp->attach);
	dma_buf_put(dmabuf);
	dml__free(imp->segs);
	dml__free(imp);
}

int dml_dma_buf_importer_map(struct dml_dma_buf_importer *imp)
{
	int ret;

	if (!imp)
		return -EINVAL;
	dma_resv_lock(imp->dmabuf->resv, NULL);
	ret = map_locked(imp);
	dma_resv_unlock(imp->dmabuf->resv);
	return ret;
}

int dml_dma_buf_importer_dma(struct dml_dma_buf_importer *imp, u64 offset,
			     dma_addr_t *dma, u64 *len)
{
	size_t i;
	int ret = 0;

	if (!imp || !dma || !len || offset >= imp->dmabuf->size)
		return -EINVAL;
	dma_resv_lock(imp->dmabuf->resv, NULL);
	if (!imp->mapped)
		ret = imp->type == DML_DMA_BUF_IMPORTER_RDMA_MR ?
		      map_locked(imp) : -ENOENT;
	for (i = 0; !ret && i < imp->nsegs; i++) {
		if (offset < imp->segs[i].len) {
			*dma = (dma_addr_t)(imp->segs[i].addr + offset);
			*len = imp->segs[i].len - offset;
			break;
		}
		offset -= imp->segs[i].len;
	}
	if (!ret && i == imp->nsegs)
		ret = -EINVAL;	/* the exporter mapped less than its size */
	dma_resv_unlock(imp->dmabuf->resv);
	return ret;
}

bool dml_dma_buf_importer_mapped(struct dml_dma_buf_importer *imp)
{
	bool mapped;

	if (!imp)
		return false;
	dma_resv_lock(imp->dmabuf->resv, NULL);
	mapped = imp->mapped;
	dma_resv_unlock(imp->dmabuf->resv);
	return mapped;
}

struct dma_buf_attachment *
dml_dma_buf_importer_attachment(struct dml_dma_buf_importer *imp)
{
	return imp ? imp->attach : NULL;
}

u64 dml_dma_buf_importer_invalidations(struct dml_dma_buf_importer *imp)
{
	return imp ? atomic_load(&imp->invalidations) : 0;
}
