/* SPDX-License-Identifier: MIT */
/*
 * dma-iommu.h - what the single and sg paths (dma-iommu.c) and the
 * two-step API (dma-iommu-iova.c) share: granule arithmetic, IOVA
 * allocation and release, and bouncing (drivers/iommu/dma-iommu.c).
 *
 * Terms: granule = the domain's smallest page size; pad = offset of an
 * address within its granule; iova_align(x) = x rounded up to a granule.
 */
#ifndef DML_DMA_IOMMU_H
#define DML_DMA_IOMMU_H

#include "dma.h"
#include "swiotlb.h"

static inline size_t iova_offset(const struct dml_domain *d, u64 x)
{
	return (size_t)(x & (d->granule - 1));
}

static inline size_t iova_align(const struct dml_domain *d, size_t x)
{
	return ALIGN(x, (size_t)d->granule);
}

/*
 * dev_use_swiotlb(): an untrusted device, or a buffer of @size that a
 * non-coherent device's cache maintenance could corrupt
 * (dma_kmalloc_needs_bounce()); the caller bounces only what is not
 * granule aligned.
 */
static inline bool dev_use_swiotlb(struct dml_device *dev, size_t size,
				   enum dma_data_direction dir)
{
	return dev->untrusted ||
	       (dev->non_coherent && dml__dma_kmalloc_needs_bounce(dev, size, dir));
}

/* iommu_dma_alloc_iova() below the streaming DMA mask; Return: IOVA or 0 */
dml_iova_t dml__iommu_alloc_iova(struct dml_device *dev, struct dml_domain *d,
				 size_t size);

/* give back [iova, +size) (granule aligned) to the domain's allocator */
void dml__iommu_free_iova(struct dml_domain *d, dml_iova_t iova, size_t size);

/*
 * __iommu_dma_unmap(): unmap [iova, +size) (@flags: DML_UNMAP_EXACT to
 * refuse ranges not made of whole mappings), then invalidate and free
 * @free_size bytes of IOVA now (strict) or queue them (lazy).
 * Return: 0, or the backend's error with nothing changed.
 */
int dml__iommu_unmap_and_free(struct dml_domain *d, dml_iova_t iova,
			      size_t size, size_t free_size, unsigned int flags);

/*
 * iommu_dma_map_swiotlb(): bounce [phys, +size) keeping its offset in the
 * granule; for an untrusted device the rest of the granules is zeroed.
 * Return: the bounce buffer's address, or DMA_MAPPING_ERROR.
 */
phys_addr_t dml__iommu_map_swiotlb(struct dml_device *dev, phys_addr_t phys,
				   size_t size, enum dma_data_direction dir,
				   unsigned long attrs,
				   unsigned int min_align_mask);

#endif /* DML_DMA_IOMMU_H */
