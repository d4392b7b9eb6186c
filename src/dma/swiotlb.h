/* SPDX-License-Identifier: MIT */
/*
 * swiotlb.h - the bounce-buffer pool (kernel/dma/swiotlb.c; ref §5), the
 * internal side: what dma-direct, dma-iommu and the sync calls use.  The
 * pool itself and its locking rules are described at the top of
 * swiotlb.c.  Public side: dma_max_mapping_size(), dma_set_min_align_mask()
 * and dml_swiotlb_get_stats().
 *
 * Addresses: a "tlb" address is the emulated physical address of bytes in
 * the pool; "orig" is the physical address of the caller's buffer.
 */
#ifndef DML_DMA_SWIOTLB_H
#define DML_DMA_SWIOTLB_H

#include "dma.h"

#define IO_TLB_SHIFT 11				/* 2 KiB slots */
#define IO_TLB_SIZE (1U << IO_TLB_SHIFT)
#define IO_TLB_SEGSIZE 128			/* slots one mapping may span */
#define IO_TLB_DEFAULT_SIZE (64ULL << 20)	/* 64 MiB */

struct dml_swiotlb_slot;
struct dml_swiotlb_area;

/*
 * struct dml_swiotlb - one platform's pool (io_tlb_pool).  Only @start and
 * @end are read outside swiotlb.c (dml__is_swiotlb_buffer()).
 */
struct dml_swiotlb {
	phys_addr_t start;		/* 2 MiB aligned */
	phys_addr_t end;		/* exclusive */
	u8 *host;			/* CPU view of [start, end) */
	unsigned long nslabs;
	unsigned int nareas;		/* power of two */
	unsigned int area_nslabs;	/* multiple of IO_TLB_SEGSIZE */
	unsigned int area_shift;	/* log2(area_nslabs) if a power of 2 */
	struct dml_swiotlb_area *areas;
	struct dml_swiotlb_slot *slots;
};

struct dml_swiotlb *dml__swiotlb_create(struct dml_platform *p);

/*
 * dml__swiotlb_get - the platform's pool, created on first use (64 MiB by
 * default, struct dml_emu_opts.swiotlb_size).  NULL when the platform has
 * none (swiotlb_off, not emulated) or it could not be created now.
 */
static inline struct dml_swiotlb *dml__swiotlb_get(struct dml_platform *p)
{
	struct dml_swiotlb *sw = dml__platform_slot(p, DML_SLOT_SWIOTLB);

	return likely(sw) ? sw : dml__swiotlb_create(p);
}

/* is_swiotlb_buffer(): @phys lies in @p's pool; never creates the pool */
static inline bool dml__is_swiotlb_buffer(struct dml_platform *p,
					  phys_addr_t phys)
{
	struct dml_swiotlb *sw = dml__platform_slot(p, DML_SLOT_SWIOTLB);

	return sw && phys >= sw->start && phys < sw->end;
}

/* is_swiotlb_active(): the platform can bounce (creates the pool) */
static inline bool dml__swiotlb_active(struct dml_platform *p)
{
	return dml__swiotlb_get(p) != NULL;
}

/* dma_capable() of kernel/dma/direct.h: [addr, +size) within the limit */
static inline bool dml__dma_capable(const struct dml_device *dev,
				    dma_addr_t addr, size_t size)
{
	u64 limit = dev->dma_mask;
	dma_addr_t end = addr + size - 1;

	if (dev->bus_dma_limit && dev->bus_dma_limit < limit)
		limit = dev->bus_dma_limit;
	return size && end >= addr && end <= limit;
}

/*
 * dml__swiotlb_tbl_map_single - bounce [@orig, +@mapping_size)
 * (swiotlb_tbl_map_single): find slots, record the original address per
 * slot and ALWAYS copy the original into the bounce buffer, whatever @dir
 * (so bytes a device does not write come back unchanged).
 * @alloc_align_mask: the first allocated slot is aligned to mask + 1 and
 *	the allocation is a multiple of it (dma-iommu passes granule - 1)
 * @min_align_mask: the bits of @orig under this mask are kept in the
 *	returned address (the device's dma_min_align_mask)
 * Return: the bounce address, or DMA_MAPPING_ERROR with the kernel's
 * "swiotlb buffer is full" message (unless DMA_ATTR_NO_WARN) when no run
 * of slots fits or the request exceeds IO_TLB_SEGSIZE slots.
 */
phys_addr_t dml__swiotlb_tbl_map_single(struct dml_device *dev, phys_addr_t orig,
					size_t mapping_size,
					unsigned int alloc_align_mask,
					unsigned int min_align_mask,
					enum dma_data_direction dir,
					unsigned long attrs);

/*
 * dml__swiotlb_tbl_unmap_single - copy back (FROM_DEVICE, BIDIRECTIONAL,
 * unless DMA_ATTR_SKIP_CPU_SYNC) and release the slots of the mapping that
 * starts at @tlb.  An address that does not start a mapping is reported
 * and ignored.
 */
void dml__swiotlb_tbl_unmap_single(struct dml_device *dev, phys_addr_t tlb,
				   size_t mapping_size,
				   enum dma_data_direction dir,
				   unsigned long attrs);

/* swiotlb_sync_single_for_device(): copy to the bounce buffer (TO, BIDI) */
void dml__swiotlb_sync_for_device(struct dml_device *dev, phys_addr_t tlb,
				  size_t size, enum dma_data_direction dir);
/* swiotlb_sync_single_for_cpu(): copy back to the original (FROM, BIDI) */
void dml__swiotlb_sync_for_cpu(struct dml_device *dev, phys_addr_t tlb,
			       size_t size, enum dma_data_direction dir);

/*
 * dml__swiotlb_map - dma-direct's bounce (swiotlb_map): map, check that
 * the bounce address is reachable, clean the CPU cache for non-coherent
 * devices.  Return: the DMA address or DMA_MAPPING_ERROR.
 */
dma_addr_t dml__swiotlb_map(struct dml_device *dev, phys_addr_t phys,
			    size_t size, enum dma_data_direction dir,
			    unsigned long attrs);

/*
 * sg->dma_flags of the first entry: the list was mapped entry by entry
 * through swiotlb (the kernel's SG_DMA_SWIOTLB)
 */
#define DML_SG_DMA_SWIOTLB (1U << 1)

/* swiotlb_max_mapping_size(): 256 KiB less the min_align_mask padding */
size_t dml__swiotlb_max_mapping_size(const struct dml_device *dev);

#endif /* DML_DMA_SWIOTLB_H */
