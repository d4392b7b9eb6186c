/* SPDX-License-Identifier: MIT */
/*
 * direct.c - dma-direct (kernel/dma/direct.c) for devices without an
 * IOMMU: the DMA address is the physical address, checked against the
 * device's mask and bus limit.  An unreachable address is an error with
 * the kernel's "overflow" message (swiotlb bouncing comes with issue 4).
 */
#include "dma.h"

/* dma_capable(): does [addr, addr + size) fit the device's limit? */
static bool dma_capable(const struct dml_device *dev, dma_addr_t addr,
			size_t size)
{
	u64 limit = dev->dma_mask;
	dma_addr_t end = addr + size - 1;

	if (dev->bus_dma_limit && dev->bus_dma_limit < limit)
		limit = dev->bus_dma_limit;
	return end >= addr && end <= limit;
}

dma_addr_t dml__direct_map_phys(struct dml_device *dev, phys_addr_t phys,
				size_t size, enum dma_data_direction dir,
				unsigned long attrs)
{
	dma_addr_t dma_addr = (dma_addr_t)phys;

	(void)dir;
	(void)attrs;
	if (unlikely(!dma_capable(dev, dma_addr, size))) {
		dml__warn("%s: DMA addr %#llx+%zu overflow (mask %llx, bus limit %llx).",
			  dev->name, (unsigned long long)dma_addr, size,
			  (unsigned long long)dev->dma_mask,
			  (unsigned long long)dev->bus_dma_limit);
		return DMA_MAPPING_ERROR;
	}
	return dma_addr;
}

int dml__direct_map_sg(struct dml_device *dev, struct scatterlist *sgl,
		       int nents, enum dma_data_direction dir,
		       unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i) {
		sg->dma_address = dml__direct_map_phys(dev, sg_phys(sg),
						       sg->length, dir, attrs);
		if (sg->dma_address == DMA_MAPPING_ERROR)
			return -EIO;
		sg->dma_length = sg->length;
	}
	return nents;
}
