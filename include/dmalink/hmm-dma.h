/* SPDX-License-Identifier: MIT */
/*
 * dmalink/hmm-dma.h - incremental DMA mapping for users that map pages one
 * at a time as they fault, and unmap them one at a time as the CPU side
 * invalidates them (RDMA on-demand paging), with the kernel's names and
 * semantics (include/linux/hmm-dma.h, include/linux/hmm.h and the
 * hmm_dma_* functions of mm/hmm.c, Linux 6.18: host-bridge P2P pages are
 * mapped with DMA_ATTR_MMIO and RAM with dma_map_phys()).
 *
 * One struct hmm_dma_map covers nr_entries pages of a virtual range.  The
 * caller fills map->pfn_list (the kernel's hmm_range_fault() does) with
 * HMM_PFN_VALID, optionally HMM_PFN_WRITE, and the page frame number
 * (phys >> DML_HMM_PAGE_SHIFT) in the low bits, keeping the sticky bits
 * HMM_PFN_INOUT_FLAGS of the entry as they were.  hmm_dma_map_pfn() then
 * maps one entry: with one IOVA reservation for the whole range when the
 * device is behind an IOMMU (link that entry at idx * dma_entry_size and
 * make it visible with one dma_iova_sync()), else with dma_map_phys().
 *
 * Differences from the kernel, all for bad input the kernel does not check:
 *  - struct hmm_dma_map has a trailing @nr_entries; an index past it, an
 *    entry without HMM_PFN_VALID, a NULL device or map are refused.
 *  - @p2pdma_state may be NULL when the range holds no peer memory.
 *
 * No locking: as in the kernel, the caller serialises the calls on one
 * map (the ODP code holds its umem mutex and the notifier lock).
 * phys_addr_t is the backend's: the emulated physical address on emu, the
 * process virtual address on vfio.
 */
#ifndef DMALINK_HMM_DMA_H
#define DMALINK_HMM_DMA_H

#include <dmalink/dma-mapping.h>
#include <dmalink/pci-p2pdma.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Built with -fvisibility=hidden: what is declared here is exported. */
#pragma GCC visibility push(default)

/* DML_HMM_PAGE_SHIFT - the page a pfn_list entry names: 4 KiB */
#define DML_HMM_PAGE_SHIFT	12
#define DML_HMM_PAGE_SIZE	(1UL << DML_HMM_PAGE_SHIFT)

/*
 * HMM_PFN_* - the bits of a pfn_list entry, the kernel's layout for a
 * 64-bit unsigned long (include/linux/hmm.h, Linux 6.16 to 6.18): flags
 * from bit 63 down, the map order in bits 53..58, the pfn below (later
 * trees add HMM_PFN_DEVICE_PRIVATE at bit 57 and move the order down one).
 * VALID, WRITE and ERROR are outputs of the fault; DMA_MAPPED, P2PDMA and
 * P2PDMA_BUS are sticky: only hmm_dma_map_pfn()/hmm_dma_unmap_pfn() change
 * them, and whoever refreshes an entry must carry them over
 * (HMM_PFN_INOUT_FLAGS, which mm/hmm.c keeps private).
 */
#define HMM_PFN_VALID		(1UL << 63)
#define HMM_PFN_WRITE		(1UL << 62)
#define HMM_PFN_ERROR		(1UL << 61)
#define HMM_PFN_DMA_MAPPED	(1UL << 60)
#define HMM_PFN_P2PDMA		(1UL << 59)
#define HMM_PFN_P2PDMA_BUS	(1UL << 58)
#define HMM_PFN_ORDER_SHIFT	53
#define HMM_PFN_REQ_FAULT	HMM_PFN_VALID
#define HMM_PFN_REQ_WRITE	HMM_PFN_WRITE
#define HMM_PFN_FLAGS		(~((1UL << HMM_PFN_ORDER_SHIFT) - 1))
#define HMM_PFN_INOUT_FLAGS	(HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA | \
				 HMM_PFN_P2PDMA_BUS)

/**
 * hmm_pfn_to_phys - the address of the page a pfn_list entry names
 * @hmm_pfn: an entry with HMM_PFN_VALID
 *
 * include/linux/hmm.h hmm_pfn_to_phys().
 * Return: the page's first byte; emu: emulated physical address, vfio:
 * process virtual address.
 */
static inline phys_addr_t hmm_pfn_to_phys(unsigned long hmm_pfn)
{
	return (phys_addr_t)((u64)(hmm_pfn & ~HMM_PFN_FLAGS) << DML_HMM_PAGE_SHIFT);
}

/**
 * struct hmm_dma_map - DMA state of a range mapped page by page
 * @state: the IOVA reservation; dma_use_iova(&state) false when the
 *	per-page path is in use
 * @pfn_list: nr_entries entries, HMM_PFN_* bits and page frame numbers;
 *	the caller fills it, hmm_dma_map_pfn() reads it
 * @dma_list: per-page path only, and only when dma_need_unmap(): the DMA
 *	address of each mapped entry; NULL otherwise
 * @dma_entry_size: bytes one entry maps (a power of two, >= 4 KiB)
 * @nr_entries: entries in @pfn_list (dmalink: for bounds checks)
 *
 * include/linux/hmm-dma.h struct hmm_dma_map, plus @nr_entries.
 */
struct hmm_dma_map {
	struct dma_iova_state state;
	unsigned long *pfn_list;
	dma_addr_t *dma_list;
	size_t dma_entry_size;
	size_t nr_entries;
};

/**
 * hmm_dma_map_alloc - prepare a map for @nr_entries pages
 * @dev: device that will DMA to the pages
 * @map: zeroed first, always; filled on success
 * @nr_entries: pages of the range (4 KiB each), > 0
 * @dma_entry_size: bytes each hmm_dma_map_pfn() maps: a power of two,
 *	at least 4 KiB and at most @nr_entries * 4 KiB
 *
 * Allocates @pfn_list (zeroed) and reserves IOVA for the whole range,
 * @nr_entries * 4 KiB, with dma_iova_try_alloc(); when that fails (no
 * IOMMU) and dma_need_unmap(), allocates @dma_list for the per-page path.
 * HMM cannot hand buffer ownership back and forth, so devices that may
 * need cache maintenance or bounce buffers are refused
 * (mm/hmm.c hmm_dma_map_alloc()).
 * Return: 0; -EINVAL for a NULL @dev or @map or a bad size or count;
 * -EOPNOTSUPP when @dev is non-coherent, untrusted, forced to bounce or
 * addressing-limited so that mappings would be bounced; -ENOMEM.
 */
int hmm_dma_map_alloc(struct dml_device *dev, struct hmm_dma_map *map,
		      size_t nr_entries, size_t dma_entry_size);

/**
 * hmm_dma_map_free - release what hmm_dma_map_alloc() allocated
 * @dev: the same device
 * @map: every entry unmapped first with hmm_dma_unmap_pfn()
 *
 * Frees the IOVA reservation (dma_iova_free()) and both lists, and zeroes
 * @map (mm/hmm.c hmm_dma_map_free()).  A NULL @dev or @map does nothing.
 */
void hmm_dma_map_free(struct dml_device *dev, struct hmm_dma_map *map);

/**
 * hmm_dma_map_pfn - map one entry of @map for @dev
 * @dev: the device of hmm_dma_map_alloc()
 * @map: the map; map->pfn_list[@idx] carries HMM_PFN_VALID and a pfn
 * @idx: the entry; it maps dma_entry_size bytes at IOVA offset
 *	@idx * dma_entry_size, which must lie inside the reservation
 * @p2pdma_state: classification cache for peer memory (zeroed by the
 *	caller before the first call); NULL: the range holds no peer memory
 *
 * An entry already HMM_PFN_DMA_MAPPED (and not a bus address) returns its
 * address again.  Otherwise the page is classified with pci_p2pdma_state():
 * RAM is mapped as is; a peer BAR reached through the host bridge is
 * mapped with DMA_ATTR_MMIO and marked HMM_PFN_P2PDMA; a peer BAR the
 * device reaches by bus address is not mapped, marked HMM_PFN_P2PDMA_BUS
 * and its bus address returned.  With an IOVA reservation the entry is
 * linked and that entry alone synced (unlinked again if the sync fails);
 * without one it goes through dma_map_phys(), DMA_BIDIRECTIONAL, and the
 * address is kept in @dma_list when dma_need_unmap().  On success the
 * entry gains HMM_PFN_DMA_MAPPED (mm/hmm.c hmm_dma_map_pfn()).
 * Return: the DMA address; DMA_MAPPING_ERROR for bad arguments, an entry
 * without HMM_PFN_VALID, a peer the device cannot reach, or a failed link,
 * sync or map; the entry's flags and every other mapping are then as
 * before.
 */
dma_addr_t hmm_dma_map_pfn(struct dml_device *dev, struct hmm_dma_map *map,
			   size_t idx, struct pci_p2pdma_map_state *p2pdma_state);

/**
 * hmm_dma_unmap_pfn - unmap one entry, when it is mapped
 * @dev: the device of hmm_dma_map_alloc()
 * @map: the map
 * @idx: the entry
 *
 * Only an entry with both HMM_PFN_VALID and HMM_PFN_DMA_MAPPED is
 * unmapped: a bus-address entry needs nothing, an IOVA entry is unlinked
 * (dma_iova_unlink(), keeping the reservation; the IOTLB is flushed before
 * this returns), a per-page entry is dma_unmap_phys()'d when
 * dma_need_unmap().  It then loses HMM_PFN_DMA_MAPPED, HMM_PFN_P2PDMA and
 * HMM_PFN_P2PDMA_BUS (mm/hmm.c hmm_dma_unmap_pfn()).  The caller clears
 * HMM_PFN_VALID itself when the page goes away.
 * Return: true when the entry was mapped and now is not; false otherwise,
 * and for a NULL @dev or @map or an @idx past the map.
 */
bool hmm_dma_unmap_pfn(struct dml_device *dev, struct hmm_dma_map *map,
		       size_t idx);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMALINK_HMM_DMA_H */
