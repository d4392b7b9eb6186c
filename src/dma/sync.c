/* SPDX-License-Identifier: MIT */
/*
 * sync.c - handing a streaming mapping back and forth between CPU and
 * device: dma_sync_single_for_{cpu,device}() and dma_sync_sg_for_{cpu,
 * device}() (kernel/dma/mapping.c, kernel/dma/direct.h,
 * drivers/iommu/dma-iommu.c), with their dma-direct and dma-iommu halves.
 *
 * For CPU: invalidate the CPU cache over the buffer (non-coherent devices,
 * not for DMA_TO_DEVICE), then copy a bounce buffer back to the original
 * (DMA_FROM_DEVICE, DMA_BIDIRECTIONAL).  For device: copy the original into
 * the bounce buffer (DMA_TO_DEVICE, DMA_BIDIRECTIONAL), then clean the
 * cache.  A device that is coherent, trusted and has never bounced needs
 * neither, and the calls return at once (dma_dev_need_sync()).
 *
 * dma-iommu translates the DMA address granule by granule (a mapping need
 * not be physically contiguous); dma-direct's DMA address is the physical
 * address.  No locking: syncing a mapping while it is torn down is a
 * caller bug, as in the kernel.  The checker (src/dma/debug/) hears of every
 * sync after it is done, as debug_dma_sync_*() in kernel/dma/mapping.c.
 */
#include "debug.h"
#include "swiotlb.h"
#include "../mem/cache.h"

/* dma_dev_need_sync(): may a sync on @dev have anything to do? */
static inline bool dev_need_sync(const struct dml_device *dev)
{
	return dev->non_coherent || dev->untrusted || dev->force_bounce ||
	       atomic_load_explicit(&dev->dma_skip_sync_off,
				    memory_order_relaxed);
}

static bool sync_args_ok(struct dml_device *dev, size_t size,
			 enum dma_data_direction dir, const char *fn)
{
	/* valid_dma_direction(): DMA_NONE is not a direction to sync */
	if (unlikely(!dev || !size || (unsigned int)dir >= DMA_NONE)) {
		dml__warn("%s: invalid arguments (dev %p, size %zu, dir %d)", fn,
			  (void *)dev, size, (int)dir);
		return false;
	}
	return true;
}

/* ---- one physically contiguous piece ---- */

static void phys_for_cpu(struct dml_device *dev, phys_addr_t phys, size_t size,
			 enum dma_data_direction dir)
{
	if (dev->non_coherent)
		dml__arch_sync_dma_for_cpu(dev->plat, phys, size, dir);
	if (dml__is_swiotlb_buffer(dev->plat, phys))
		dml__swiotlb_sync_for_cpu(dev, phys, size, dir);
}

static void phys_for_device(struct dml_device *dev, phys_addr_t phys,
			    size_t size, enum dma_data_direction dir)
{
	if (dml__is_swiotlb_buffer(dev->plat, phys))
		dml__swiotlb_sync_for_device(dev, phys, size, dir);
	if (dev->non_coherent)
		dml__arch_sync_dma_for_device(dev->plat, phys, size, dir);
}

/*
 * dma-iommu: walk [addr, +size) granule by granule through the page
 * table and apply @fn to each translated piece.
 */
static void iommu_walk(struct dml_device *dev, dma_addr_t addr, size_t size,
		       enum dma_data_direction dir,
		       void (*fn)(struct dml_device *, phys_addr_t, size_t,
				  enum dma_data_direction))
{
	struct dml_domain *d = dev->domain;

	while (size) {
		size_t len = d->granule - (size_t)(addr & (d->granule - 1));
		phys_addr_t phys = d->ops->iova_to_phys(d, (dml_iova_t)addr);

		if (unlikely(!phys)) {
			dml__warn("%s: DMA sync of %#llx, which is not mapped",
				  dev->name, (unsigned long long)addr);
			return;
		}
		len = min(len, size);
		fn(dev, phys, len, dir);
		addr += len;
		size -= len;
	}
}

static void sync_single(struct dml_device *dev, dma_addr_t addr, size_t size,
			enum dma_data_direction dir, bool for_cpu)
{
	void (*fn)(struct dml_device *, phys_addr_t, size_t,
		   enum dma_data_direction) =
		for_cpu ? phys_for_cpu : phys_for_device;

	if (dml__use_dma_iommu(dev))
		iommu_walk(dev, addr, size, dir, fn);
	else
		fn(dev, (phys_addr_t)(addr & ~dev->cc_mask), size, dir);
}

/* ------------------------------------------------------------------ */
/* Public                                                              */
/* ------------------------------------------------------------------ */

static void sync_single_checked(struct dml_device *dev, dma_addr_t addr,
				size_t size, enum dma_data_direction dir,
				bool for_cpu, const char *fn)
{
	if (!sync_args_ok(dev, size, dir, fn))
		return;
	if (dev_need_sync(dev))
		sync_single(dev, addr, size, dir, for_cpu);
	if (dml__dma_debug_active())
		dml__dma_debug_sync_single(dev, addr, size, dir, for_cpu);
}

void dma_sync_single_for_cpu(struct dml_device *dev, dma_addr_t addr,
			     size_t size, enum dma_data_direction dir)
{
	sync_single_checked(dev, addr, size, dir, true, __func__);
}

void dma_sync_single_for_device(struct dml_device *dev, dma_addr_t addr,
				size_t size, enum dma_data_direction dir)
{
	sync_single_checked(dev, addr, size, dir, false, __func__);
}

void dma_sync_single_range_for_cpu(struct dml_device *dev, dma_addr_t addr,
				   unsigned long offset, size_t size,
				   enum dma_data_direction dir)
{
	sync_single_checked(dev, addr + offset, size, dir, true, __func__);
}

void dma_sync_single_range_for_device(struct dml_device *dev, dma_addr_t addr,
				      unsigned long offset, size_t size,
				      enum dma_data_direction dir)
{
	sync_single_checked(dev, addr + offset, size, dir, false, __func__);
}

/*
 * Scatterlists: dma-direct syncs each entry at its DMA address for its CPU
 * length (entries map one to one); dma-iommu syncs each entry's physical
 * range when the list was mapped in one IOVA block, or each entry's own
 * mapping when it was mapped entry by entry through swiotlb.
 */
static void sync_sg(struct dml_device *dev, struct scatterlist *sgl, int nents,
		    enum dma_data_direction dir, bool for_cpu, const char *fn)
{
	void (*one)(struct dml_device *, phys_addr_t, size_t,
		    enum dma_data_direction) =
		for_cpu ? phys_for_cpu : phys_for_device;
	struct scatterlist *sg;
	int i;

	if (!sgl || nents <= 0 || !sync_args_ok(dev, 1, dir, fn))
		return;
	for_each_sg(sgl, sg, nents, i) {
		if (!dev_need_sync(dev))
			break;
		if (!sg->length)
			continue;
		if (!dml__use_dma_iommu(dev) || (sgl->dma_flags & DML_SG_DMA_SWIOTLB))
			sync_single(dev, sg->dma_address, sg->length, dir, for_cpu);
		else if (dev->non_coherent)
			one(dev, sg_phys(sg), sg->length, dir);
	}
	if (dml__dma_debug_active())
		dml__dma_debug_sync_sg(dev, sgl, nents, dir, for_cpu);
}

void dma_sync_sg_for_cpu(struct dml_device *dev, struct scatterlist *sg,
			 int nelems, enum dma_data_direction dir)
{
	sync_sg(dev, sg, nelems, dir, true, __func__);
}

void dma_sync_sg_for_device(struct dml_device *dev, struct scatterlist *sg,
			    int nelems, enum dma_data_direction dir)
{
	sync_sg(dev, sg, nelems, dir, false, __func__);
}

void dma_sync_sgtable_for_cpu(struct dml_device *dev, struct sg_table *sgt,
			      enum dma_data_direction dir)
{
	if (sgt)
		dma_sync_sg_for_cpu(dev, sgt->sgl, (int)sgt->orig_nents, dir);
}

void dma_sync_sgtable_for_device(struct dml_device *dev, struct sg_table *sgt,
				 enum dma_data_direction dir)
{
	if (sgt)
		dma_sync_sg_for_device(dev, sgt->sgl, (int)sgt->orig_nents, dir);
}
