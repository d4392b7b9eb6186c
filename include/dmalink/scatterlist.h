/* SPDX-License-Identifier: MIT */
/*
 * dmalink/scatterlist.h - the legacy scatterlist path, our baseline
 * (include/linux/scatterlist.h, dma_map_sg in kernel/dma/mapping.c and
 * iommu_dma_map_sg in drivers/iommu/dma-iommu.c).
 *
 * A scatterlist entry is 32 bytes, as on 64-bit Linux; it names memory by
 * physical address (no struct page here): @page_link holds the
 * page-aligned phys of the entry's first page plus the chain/end bits.
 */
#ifndef DMALINK_SCATTERLIST_H
#define DMALINK_SCATTERLIST_H

#include <dmalink/dma-mapping.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Built with -fvisibility=hidden: what is declared here is exported. */
#pragma GCC visibility push(default)

/**
 * struct scatterlist - one CPU-side segment and, after mapping, one DMA
 * segment
 * @page_link: page-aligned phys | SG_END
 * @offset: offset of the data in its first page, bytes
 * @length: bytes
 * @dma_address: DMA address of DMA segment i (valid for i < mapped nents)
 * @dma_length: bytes of DMA segment i
 * @dma_flags: private
 */
struct scatterlist {
	u64 page_link;
	unsigned int offset;
	unsigned int length;
	dma_addr_t dma_address;
	unsigned int dma_length;
	unsigned int dma_flags;
};

#define SG_END 0x2UL

/**
 * struct sg_table - a scatterlist array
 * @sgl: the entries
 * @nents: DMA segments after mapping (dma_map_sgtable sets it)
 * @orig_nents: CPU segments
 */
struct sg_table {
	struct scatterlist *sgl;
	unsigned int nents;
	unsigned int orig_nents;
};

/** sg_init_table - zero @nents entries and mark the last as the end */
void sg_init_table(struct scatterlist *sgl, unsigned int nents);

/**
 * sg_set_phys - point @sg at [@phys, @phys + @len); @len < 4 GiB
 * @phys: emu: the emulated physical address; vfio: the process virtual
 *	address that VFIO pins
 */
void sg_set_phys(struct scatterlist *sg, phys_addr_t phys, unsigned int len);

/** sg_phys - the physical address of @sg's data */
static inline phys_addr_t sg_phys(const struct scatterlist *sg)
{
	return (sg->page_link & ~0xfffULL) + sg->offset;
}

/** sg_is_last - whether @sg is the last entry */
static inline bool sg_is_last(const struct scatterlist *sg)
{
	return sg->page_link & SG_END;
}

/** sg_next - the entry after @sg, or NULL after the last */
static inline struct scatterlist *sg_next(struct scatterlist *sg)
{
	return sg_is_last(sg) ? NULL : sg + 1;
}

#define sg_dma_address(sg) ((sg)->dma_address)
#define sg_dma_len(sg) ((sg)->dma_length)

/*
 * SG_DMA_BUS_ADDRESS - @dma_flags bit of a DMA segment whose address is a
 * PCI bus address (PCI_P2PDMA_MAP_BUS_ADDR): not mapped through the IOMMU,
 * nothing to unmap (SG_DMA_BUS_ADDRESS in include/linux/scatterlist.h)
 */
#define SG_DMA_BUS_ADDRESS (1U << 0)

/**
 * sg_dma_is_bus_address - whether DMA segment @sg is a PCI bus address
 * @sg: a DMA segment of a mapped list
 *
 * Set by dma_map_sg_attrs() for peer-to-peer memory reached through a
 * switch; cleared again by dma_unmap_sg_attrs().  Follows
 * sg_dma_is_bus_address() in include/linux/scatterlist.h.
 * Return: true for a bus-address segment.
 */
static inline bool sg_dma_is_bus_address(const struct scatterlist *sg)
{
	return sg->dma_flags & SG_DMA_BUS_ADDRESS;
}

/**
 * sg_dma_mark_bus_address - mark DMA segment @sg as a PCI bus address
 * @sg: the segment (sg_dma_mark_bus_address() in include/linux/scatterlist.h)
 */
static inline void sg_dma_mark_bus_address(struct scatterlist *sg)
{
	sg->dma_flags |= SG_DMA_BUS_ADDRESS;
}

/**
 * sg_dma_unmark_bus_address - clear @sg's bus-address mark
 * @sg: the segment (sg_dma_unmark_bus_address() in
 *	include/linux/scatterlist.h)
 */
static inline void sg_dma_unmark_bus_address(struct scatterlist *sg)
{
	sg->dma_flags &= ~SG_DMA_BUS_ADDRESS;
}

/* for_each_sg - iterate over @nents entries of @sglist with @sg, index @i */
#define for_each_sg(sglist, sg, nr, i) \
	for ((i) = 0, (sg) = (sglist); (i) < (nr); (i)++, (sg) = sg_next(sg))

/**
 * sg_alloc_table - allocate a table of @nents entries (one array, no chain)
 * Return: 0; -EINVAL for @nents 0; -ENOMEM.
 */
int sg_alloc_table(struct sg_table *table, unsigned int nents);

/** sg_free_table - free what sg_alloc_table() allocated */
void sg_free_table(struct sg_table *table);

/**
 * dma_map_sg_attrs - map a scatterlist
 * @dev: device
 * @sg: entries (at most 4 GiB - 1 each)
 * @nents: CPU segments
 * @dir, @attrs: as dma_map_phys()
 *
 * dma-iommu: one IOVA allocation for the whole list, each segment mapped
 * at its granule-aligned slot without syncing, one iotlb_sync_map, then
 * segments merged into DMA segments within max_segment_size and the
 * segment boundary (iommu_dma_map_sg).  dma-direct: one DMA segment per
 * entry.  An entry stands for the kernel's sg_page() + offset, so one in
 * RAM without a memmap (DML_RAM_NO_MEMMAP) fails the whole list.
 *
 * Peer-to-peer memory (a BAR of a function set up with pcim_p2pdma_init())
 * may be mixed with host memory in one list; each entry is classified with
 * pci_p2pdma_state() for @dev: PCI_P2PDMA_MAP_BUS_ADDR entries become DMA
 * segments of their own holding the bus address, marked with
 * sg_dma_mark_bus_address(), never mapped through the IOMMU and never
 * merged; PCI_P2PDMA_MAP_THRU_HOST_BRIDGE entries are mapped like host
 * memory with DMA_ATTR_MMIO (no CPU cache maintenance, IOMMU_MMIO);
 * PCI_P2PDMA_MAP_NOT_SUPPORTED fails the whole list (dma_map_sgtable():
 * -EREMOTEIO).
 * Return: the number of DMA segments (> 0), or 0 on failure (nothing left
 * mapped); @nents 0 (or no @sg) maps nothing and is a failure with a
 * warning, as in kernel/dma/mapping.c __dma_map_sg_attrs().
 */
int dma_map_sg_attrs(struct dml_device *dev, struct scatterlist *sg, int nents,
		     enum dma_data_direction dir, unsigned long attrs);

/**
 * dma_unmap_sg_attrs - undo dma_map_sg_attrs()
 * @nents: the CPU segment count given to dma_map_sg_attrs() (not its result)
 *
 * Bus-address segments are not unmapped (nothing was mapped for them);
 * their marks are cleared (iommu_dma_unmap_sg(), dma_direct_unmap_sg()).
 */
void dma_unmap_sg_attrs(struct dml_device *dev, struct scatterlist *sg,
			int nents, enum dma_data_direction dir,
			unsigned long attrs);

#define dma_map_sg(d, s, n, r) dma_map_sg_attrs(d, s, n, r, 0)
#define dma_unmap_sg(d, s, n, r) dma_unmap_sg_attrs(d, s, n, r, 0)

/**
 * dma_map_sgtable - map an sg_table; sets @sgt->nents
 * Return: 0; -EINVAL (bad arguments, an entry in RAM without a memmap),
 * -ENOMEM (IOVA or page-table memory), -EIO (unreachable address),
 * -EREMOTEIO (peer-to-peer memory @dev cannot reach:
 * PCI_P2PDMA_MAP_NOT_SUPPORTED), as the kernel's dma_map_sgtable().
 */
int dma_map_sgtable(struct dml_device *dev, struct sg_table *sgt,
		    enum dma_data_direction dir, unsigned long attrs);

/** dma_unmap_sgtable - undo dma_map_sgtable() */
void dma_unmap_sgtable(struct dml_device *dev, struct sg_table *sgt,
		       enum dma_data_direction dir, unsigned long attrs);

/**
 * dma_sync_sg_for_cpu - dma_sync_single_for_cpu() over a mapped list
 * @dev: device
 * @sg: the list given to dma_map_sg_attrs()
 * @nelems: the CPU entry count given to dma_map_sg_attrs() (not its result)
 * @dir: the mapping's direction
 *
 * dma-direct: each entry at its DMA address for its length.  dma-iommu:
 * each entry's physical range (non-coherent devices), or each entry's own
 * bounce buffer when the list was mapped entry by entry through swiotlb
 * (untrusted device, unaligned entries).
 */
void dma_sync_sg_for_cpu(struct dml_device *dev, struct scatterlist *sg,
			 int nelems, enum dma_data_direction dir);

/** dma_sync_sg_for_device - dma_sync_single_for_device() over a mapped list */
void dma_sync_sg_for_device(struct dml_device *dev, struct scatterlist *sg,
			    int nelems, enum dma_data_direction dir);

/** dma_sync_sgtable_for_cpu - dma_sync_sg_for_cpu() of @sgt's CPU entries */
void dma_sync_sgtable_for_cpu(struct dml_device *dev, struct sg_table *sgt,
			      enum dma_data_direction dir);

/** dma_sync_sgtable_for_device - dma_sync_sg_for_device() of @sgt's entries */
void dma_sync_sgtable_for_device(struct dml_device *dev, struct sg_table *sgt,
				 enum dma_data_direction dir);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMALINK_SCATTERLIST_H */
