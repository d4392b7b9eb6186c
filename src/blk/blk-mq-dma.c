/* SPDX-License-Identifier: MIT */
/*
 * blk-mq-dma.c - the request DMA iterator (block/blk-mq-dma.c): the P2P
 * decision on the first segment, one IOVA range for the whole request
 * when the gaps and the IOMMU allow it, dma_map_phys() per segment
 * otherwise, and the unmap that mirrors it.
 */
#include <errno.h>
#include <string.h>

#include "blk.h"

/* errno_to_blk_status() for the errors the mapping calls return */
static blk_status_t errno_to_blk_status(int err)
{
	switch (err) {
	case 0:
		return BLK_STS_OK;
	case -ENOMEM:
		return BLK_STS_RESOURCE;
	case -EOPNOTSUPP:
		return BLK_STS_NOTSUPP;
	case -EINVAL:
		return BLK_STS_INVAL;
	default:
		return BLK_STS_IOERR;
	}
}

static unsigned long map_attrs(const struct blk_dma_iter *iter)
{
	return iter->p2pdma.map == PCI_P2PDMA_MAP_THRU_HOST_BRIDGE && iter->p2pdma.mem ?
	       DMA_ATTR_MMIO : 0;
}

/*
 * The block layer never puts memory of two providers, or of a provider
 * and host RAM, in one request; a model request can, so each segment must
 * lie where the first did.
 */
static bool same_memory(struct blk_dma_iter *iter, struct dml_device *dev,
			phys_addr_t p, u32 len)
{
	const struct p2pdma_provider *mem = iter->p2pdma.mem;
	struct pci_p2pdma_map_state s = { 0 };

	if (mem)
		return p - mem->phys < mem->size && len <= mem->size - (p - mem->phys);
	return __pci_p2pdma_update_state(&s, dev, p) == PCI_P2PDMA_MAP_NONE;
}

/* one segment by bus address or dma_map_phys() */
static bool map_segment(struct request *req, struct dml_device *dev,
			struct blk_dma_iter *iter, phys_addr_t p, u32 len)
{
	dma_addr_t addr;

	if (!same_memory(iter, dev, p, len)) {
		iter->status = BLK_STS_INVAL;
		return false;
	}
	if (iter->p2pdma.mem && iter->p2pdma.map == PCI_P2PDMA_MAP_BUS_ADDR) {
		addr = pci_p2pdma_bus_addr_map(iter->p2pdma.mem, p);
	} else {
		addr = dma_map_phys(dev, p, len, req->dir, map_attrs(iter));
		if (dma_mapping_error(dev, addr)) {
			iter->status = BLK_STS_RESOURCE;
			return false;
		}
	}
	iter->addr = addr;
	iter->len = len;
	return true;
}

/*
 * Link every segment back to back, sync once, return the one range.  A
 * link error is kept (upstream lets the sync's result overwrite it) and
 * what was linked is destroyed.
 */
static bool map_iova(struct request *req, struct dml_device *dev,
		     struct dma_iova_state *state, struct blk_dma_iter *iter,
		     phys_addr_t p, u32 len)
{
	unsigned long attrs = map_attrs(iter);
	size_t mapped = 0;
	int err;

	do {
		err = same_memory(iter, dev, p, len) ? 0 : -EINVAL;
		if (!err)
			err = dma_iova_link(dev, state, p, mapped, len, req->dir, attrs);
		if (err)
			break;
		mapped += len;
	} while (dml__blk_map_iter_next(req->limits, &iter->iter, &p, &len));
	if (!err)
		err = dma_iova_sync(dev, state, 0, mapped);
	if (err) {
		dma_iova_destroy(dev, state, mapped, req->dir, attrs);
		memset(state, 0, sizeof(*state));
		iter->status = errno_to_blk_status(err);
		return false;
	}
	iter->addr = state->addr;
	iter->len = (u32)dma_iova_size(state);
	return true;
}

static bool dma_map_iter_start(struct request *req, struct dml_device *dev,
			       struct dma_iova_state *state,
			       struct blk_dma_iter *iter, bool integrity)
{
	u32 total;
	u64 gap;
	phys_addr_t p;
	u32 len;

	if (!iter)
		return false;
	memset(iter, 0, sizeof(*iter));
	if (!req || !req->limits || !dev || !state) {
		iter->status = BLK_STS_INVAL;
		return false;
	}
	memset(state, 0, sizeof(*state));
	iter->iter.bio = req->bio;
	iter->iter.is_integrity = integrity;
	total = integrity ? req->integrity_len : req->data_len;
	gap = integrity ? req->integrity_gap_mask : req->gap_mask;

	/* the first segment decides P2P for the whole request */
	if (!dml__blk_map_iter_next(req->limits, &iter->iter, &p, &len))
		return false;
	switch (pci_p2pdma_state(&iter->p2pdma, dev, p)) {
	case PCI_P2PDMA_MAP_BUS_ADDR:
		return map_segment(req, dev, iter, p, len);
	case PCI_P2PDMA_MAP_THRU_HOST_BRIDGE:
	case PCI_P2PDMA_MAP_NONE:
		break;
	default:
		iter->status = BLK_STS_INVAL;
		return false;
	}
	if (!(gap & dma_get_merge_boundary(dev)) &&
	    dma_iova_try_alloc(dev, state, p, total))
		return map_iova(req, dev, state, iter, p, len);
	memset(state, 0, sizeof(*state));
	return map_segment(req, dev, iter, p, len);
}

static bool dma_map_iter_next(struct request *req, struct dml_device *dev,
			      struct blk_dma_iter *iter)
{
	phys_addr_t p;
	u32 len;

	if (!iter)
		return false;
	if (!req || !req->limits || !dev || iter->status != BLK_STS_OK) {
		if (iter->status == BLK_STS_OK)
			iter->status = BLK_STS_INVAL;
		return false;
	}
	if (!dml__blk_map_iter_next(req->limits, &iter->iter, &p, &len))
		return false;
	return map_segment(req, dev, iter, p, len);
}

bool blk_rq_dma_map_iter_start(struct request *req, struct dml_device *dma_dev,
			       struct dma_iova_state *state,
			       struct blk_dma_iter *iter)
{
	return dma_map_iter_start(req, dma_dev, state, iter, false);
}

bool blk_rq_dma_map_iter_next(struct request *req, struct dml_device *dma_dev,
			      struct dma_iova_state *state,
			      struct blk_dma_iter *iter)
{
	(void)state;
	return dma_map_iter_next(req, dma_dev, iter);
}

bool blk_rq_integrity_dma_map_iter_start(struct request *req,
					 struct dml_device *dma_dev,
					 struct dma_iova_state *state,
					 struct blk_dma_iter *iter)
{
	return dma_map_iter_start(req, dma_dev, state, iter, true);
}

bool blk_rq_integrity_dma_map_iter_next(struct request *req,
					struct dml_device *dma_dev,
					struct dma_iova_state *state,
					struct blk_dma_iter *iter)
{
	(void)state;
	return dma_map_iter_next(req, dma_dev, iter);
}

bool blk_rq_dma_unmap(struct request *req, struct dml_device *dma_dev,
		      struct dma_iova_state *state, size_t mapped_len,
		      enum pci_p2pdma_map_type map)
{
	if (map == PCI_P2PDMA_MAP_BUS_ADDR)
		return true;
	if (state && dma_use_iova(state)) {
		dma_iova_destroy(dma_dev, state, mapped_len, req ? req->dir : DMA_BIDIRECTIONAL,
				 map == PCI_P2PDMA_MAP_THRU_HOST_BRIDGE ? DMA_ATTR_MMIO : 0);
		return true;
	}
	return !dma_need_unmap(dma_dev);
}
