/* SPDX-License-Identifier: MIT */
/*
 * dma.h - what the DMA API's files share: path selection (dma-iommu when
 * the device has a domain, dma-direct otherwise: kernel/dma/mapping.c),
 * direction checks, the direction -> IOMMU protection rule, and the
 * entry points of direct.c and dma-iommu.c.
 */
#ifndef DML_DMA_H
#define DML_DMA_H

#include <dmalink/scatterlist.h>

#include "../base/device.h"
#include "../iommu/domain.h"
#include "../mem/mem.h"
#include "../pci/pci.h"

static inline bool dml__use_dma_iommu(const struct dml_device *dev)
{
	return dev->domain != NULL;
}

static inline bool dml__valid_dir(enum dma_data_direction dir)
{
	return (unsigned int)dir <= DMA_NONE;
}

/* dma_need_unmap() without the checker's term: IOMMU, non-coherent, bounced */
static inline bool dml__need_unmap_nodebug(struct dml_device *dev)
{
	return dml__use_dma_iommu(dev) || dev->non_coherent ||
	       atomic_load(&dev->dma_skip_sync_off);
}

/* dma_info_to_prot(): direction and attributes -> IOMMU_* bits */
static inline int dml__dir_to_prot(const struct dml_device *dev,
				   enum dma_data_direction dir,
				   unsigned long attrs)
{
	static const unsigned char rw[] = {
		[DMA_BIDIRECTIONAL] = IOMMU_READ | IOMMU_WRITE,
		[DMA_TO_DEVICE] = IOMMU_READ,
		[DMA_FROM_DEVICE] = IOMMU_WRITE,
		[DMA_NONE] = 0,
	};
	int prot;

	if (unlikely(!dml__valid_dir(dir) || dir == DMA_NONE))
		return 0;
	prot = rw[dir] | (dev->non_coherent ? 0 : IOMMU_CACHE);
	if (unlikely(attrs & (DMA_ATTR_PRIVILEGED | DMA_ATTR_MMIO))) {
		if (attrs & DMA_ATTR_PRIVILEGED)
			prot |= IOMMU_PRIV;
		if (attrs & DMA_ATTR_MMIO)
			prot = (prot & ~IOMMU_CACHE) | IOMMU_MMIO;
	}
	return prot;
}

/* direct.c */
/*
 * dma_kmalloc_needs_bounce(): @size could be a kmalloc() buffer sharing
 * cache lines with other data, which a non-coherent device's cache
 * maintenance would corrupt (not DMA_TO_DEVICE; only on a platform with a
 * swiotlb pool, as arm64 lowers kmalloc's alignment only then).
 */
bool dml__dma_kmalloc_needs_bounce(struct dml_device *dev, size_t size,
				   enum dma_data_direction dir);
dma_addr_t dml__direct_map_phys(struct dml_device *dev, phys_addr_t phys,
				size_t size, enum dma_data_direction dir,
				unsigned long attrs);
int dml__direct_map_sg(struct dml_device *dev, struct scatterlist *sgl,
		       int nents, enum dma_data_direction dir,
		       unsigned long attrs);
/* dma_direct_unmap_phys(): cache invalidate, bounce buffer copied back */
void dml__direct_unmap_phys(struct dml_device *dev, dma_addr_t addr,
			    size_t size, enum dma_data_direction dir,
			    unsigned long attrs);
void dml__direct_unmap_sg(struct dml_device *dev, struct scatterlist *sgl,
			  int nents, enum dma_data_direction dir,
			  unsigned long attrs);

/* dma-iommu.c */
dma_addr_t dml__iommu_map_phys(struct dml_device *dev, phys_addr_t phys,
			       size_t size, enum dma_data_direction dir,
			       unsigned long attrs);
void dml__iommu_unmap_phys(struct dml_device *dev, dma_addr_t addr,
			   size_t size, enum dma_data_direction dir,
			   unsigned long attrs);
/* coherent memory (coherent.c): IOVA below the coherent mask, read/write */
dma_addr_t dml__iommu_map_coherent(struct dml_device *dev, phys_addr_t phys,
				   size_t size);
int dml__iommu_map_sg(struct dml_device *dev, struct scatterlist *sgl,
		      int nents, enum dma_data_direction dir,
		      unsigned long attrs);
void dml__iommu_unmap_sg(struct dml_device *dev, struct scatterlist *sgl,
			 int nents, enum dma_data_direction dir,
			 unsigned long attrs);

/* dma-iommu.c: the two-step API; the front door (mapping.c) has checked
 * that @dev has a domain */
bool dml__iommu_iova_try_alloc(struct dml_device *dev,
			       struct dma_iova_state *state, phys_addr_t phys,
			       size_t size);
void dml__iommu_iova_free(struct dml_device *dev, struct dma_iova_state *state);
int dml__iommu_iova_link(struct dml_device *dev, struct dma_iova_state *state,
			 phys_addr_t phys, size_t offset, size_t size,
			 enum dma_data_direction dir, unsigned long attrs);
int dml__iommu_iova_sync(struct dml_device *dev, struct dma_iova_state *state,
			 size_t offset, size_t size);
int dml__iommu_iova_unlink(struct dml_device *dev, struct dma_iova_state *state,
			   size_t offset, size_t size,
			   enum dma_data_direction dir, unsigned long attrs);
void dml__iommu_iova_destroy(struct dml_device *dev,
			     struct dma_iova_state *state, size_t mapped_len,
			     enum dma_data_direction dir, unsigned long attrs);

/*
 * dml__cc_must_bounce - in a confidential guest, a device that is not
 * accepted into its TVM and in RUN reaches only shared memory: whatever
 * the caller does not mark shared (DMA_ATTR_CC_SHARED, or MMIO, which
 * implies it) must bounce through the shared pool (force_dma_unencrypted();
 * the proposed DMA_ATTR_CC_SHARED series).  False for other devices.
 */
static inline bool dml__cc_must_bounce(const struct dml_device *dev,
				       unsigned long attrs)
{
	return dev->cc_guest && !(attrs & (DMA_ATTR_CC_SHARED | DMA_ATTR_MMIO)) &&
	       !dml__dev_accepted(dev);
}

/*
 * dml__cc_mmio_refused - a DMA_ATTR_MMIO mapping of private MMIO (a BAR of
 * a device in TDISP RUN, src/pci/tdisp.c) by a device that is not
 * accepted into that device's TVM: MMIO cannot bounce, so it fails (the
 * P2P classification says NOT_SUPPORTED first, pci_p2pdma_map_type()).
 * *@private says whether the memory is private MMIO at all.
 */
static inline bool dml__cc_mmio_refused(const struct dml_device *dev,
					phys_addr_t phys, size_t size,
					unsigned long attrs, bool *private)
{
	*private = (attrs & DMA_ATTR_MMIO) &&
		   dml__mem_mmio_private(dev->plat->mem, phys, size);
	return *private && !dml__tdisp_mmio_peer(dev, phys);
}

#endif /* DML_DMA_H */
