/* SPDX-License-Identifier: MIT */
/*
 * hmm.c - incremental DMA mapping of a page range (mm/hmm.c hmm_dma_*,
 * Linux 6.18; dmalink/hmm-dma.h has the contract).  This file owns struct
 * hmm_dma_map: its two lists and its IOVA reservation.
 *
 * Invariants, for every entry idx of a map:
 *  - HMM_PFN_DMA_MAPPED without HMM_PFN_P2PDMA_BUS: with an IOVA
 *    reservation, [idx * dma_entry_size, +dma_entry_size) of it is linked
 *    and synced; without one, dma_list[idx] (when there is a dma_list)
 *    holds the dma_map_phys() address.
 *  - HMM_PFN_P2PDMA_BUS implies HMM_PFN_DMA_MAPPED and nothing mapped:
 *    the device reaches the peer by bus address.
 *  - HMM_PFN_P2PDMA marks an entry mapped with DMA_ATTR_MMIO, which its
 *    unmap must pass again.
 * A failed hmm_dma_map_pfn() leaves the entry's bits as they were.
 * Teardown (unmap_pfn, map_free) cannot fail.  No locking: the caller
 * serialises the calls on one map, as the kernel's ODP code does.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <dmalink/hmm-dma.h>

#include "dma/dma.h"

/*
 * The kernel refuses devices for which dma_need_sync() is true or that
 * are dma_addressing_limited(), so that no mapping is ever bounced: here
 * a non-coherent device (cache maintenance), an untrusted one (bounces
 * unaligned IOMMU mappings), one forced to bounce, or a dma-direct device
 * whose mappings may go through swiotlb (dma_max_mapping_size() is the
 * swiotlb slot limit exactly then).
 */
static bool hmm_dev_may_bounce(struct dml_device *dev)
{
	return dev->non_coherent || dev->untrusted || dev->force_bounce ||
	       (!dml__use_dma_iommu(dev) && dma_max_mapping_size(dev) != SIZE_MAX);
}

int hmm_dma_map_alloc(struct dml_device *dev, struct hmm_dma_map *map,
		      size_t nr_entries, size_t dma_entry_size)
{
	size_t total;

	if (!map)
		return -EINVAL;
	memset(map, 0, sizeof(*map));
	if (!dev || !nr_entries || dma_entry_size < DML_HMM_PAGE_SIZE ||
	    (dma_entry_size & (dma_entry_size - 1)) ||
	    __builtin_mul_overflow(nr_entries, DML_HMM_PAGE_SIZE, &total) ||
	    total < dma_entry_size ||
	    nr_entries > SIZE_MAX / sizeof(*map->pfn_list))
		return -EINVAL;
	if (hmm_dev_may_bounce(dev))
		return -EOPNOTSUPP;

	map->pfn_list = dml__zalloc(nr_entries * sizeof(*map->pfn_list));
	if (!map->pfn_list)
		return -ENOMEM;
	map->dma_entry_size = dma_entry_size;
	map->nr_entries = nr_entries;
	if (!dma_iova_try_alloc(dev, &map->state, 0, total) &&
	    dma_need_unmap(dev)) {
		map->dma_list = dml__zalloc(nr_entries * sizeof(*map->dma_list));
		if (!map->dma_list)
			goto err_free_pfns;
	}
	return 0;

err_free_pfns:
	dml__free(map->pfn_list);
	memset(map, 0, sizeof(*map));
	return -ENOMEM;
}

void hmm_dma_map_free(struct dml_device *dev, struct hmm_dma_map *map)
{
	if (!dev || !map)
		return;
	if (dma_use_iova(&map->state))
		dma_iova_free(dev, &map->state);
	dml__free(map->pfn_list);
	dml__free(map->dma_list);
	memset(map, 0, sizeof(*map));
}

/* may entry @idx be mapped: inside the lists and the reservation */
static bool hmm_idx_ok(const struct hmm_dma_map *map, size_t idx)
{
	return map->pfn_list && idx < map->nr_entries &&
	       (idx + 1) * map->dma_entry_size <=
	       map->nr_entries * DML_HMM_PAGE_SIZE;
}

dma_addr_t hmm_dma_map_pfn(struct dml_device *dev, struct hmm_dma_map *map,
			   size_t idx, struct pci_p2pdma_map_state *p2pdma_state)
{
	struct pci_p2pdma_map_state none = { 0 };
	struct dma_iova_state *state;
	unsigned long *pfn, attrs = 0;
	size_t offset, len;
	phys_addr_t phys;
	dma_addr_t addr;

	if (!dev || !map || !hmm_idx_ok(map, idx) ||
	    !(map->pfn_list[idx] & HMM_PFN_VALID))
		return DMA_MAPPING_ERROR;
	state = &map->state;
	pfn = &map->pfn_list[idx];
	len = map->dma_entry_size;
	offset = idx * len;
	phys = hmm_pfn_to_phys(*pfn);

	if ((*pfn & HMM_PFN_DMA_MAPPED) && !(*pfn & HMM_PFN_P2PDMA_BUS)) {
		/* a refault of a mapped page: hand back what is mapped */
		if (dma_use_iova(state))
			return state->addr + offset;
		if (map->dma_list)
			return map->dma_list[idx];
		/* nothing recorded (no unmap needed): map again */
	}

	if (!p2pdma_state)
		p2pdma_state = &none;
	switch (pci_p2pdma_state(p2pdma_state, dev, phys)) {
	case PCI_P2PDMA_MAP_NONE:
		break;
	case PCI_P2PDMA_MAP_THRU_HOST_BRIDGE:
		attrs |= DMA_ATTR_MMIO;
		break;
	case PCI_P2PDMA_MAP_BUS_ADDR:
		*pfn |= HMM_PFN_P2PDMA_BUS | HMM_PFN_DMA_MAPPED;
		return pci_p2pdma_bus_addr_map(p2pdma_state->mem, phys);
	default:
		return DMA_MAPPING_ERROR;
	}

	if (dma_use_iova(state)) {
		if (dma_iova_link(dev, state, phys, offset, len,
				  DMA_BIDIRECTIONAL, attrs))
			return DMA_MAPPING_ERROR;
		if (dma_iova_sync(dev, state, offset, len)) {
			dma_iova_unlink(dev, state, offset, len,
					DMA_BIDIRECTIONAL, attrs);
			return DMA_MAPPING_ERROR;
		}
		addr = state->addr + offset;
	} else {
		if (DML_WARN_ON(dma_need_unmap(dev) && !map->dma_list))
			return DMA_MAPPING_ERROR;
		addr = dma_map_phys(dev, phys, len, DMA_BIDIRECTIONAL, attrs);
		if (dma_mapping_error(dev, addr))
			return DMA_MAPPING_ERROR;
		if (map->dma_list)
			map->dma_list[idx] = addr;
	}
	*pfn |= HMM_PFN_DMA_MAPPED | (attrs & DMA_ATTR_MMIO ? HMM_PFN_P2PDMA : 0);
	return addr;
}

bool hmm_dma_unmap_pfn(struct dml_device *dev, struct hmm_dma_map *map,
		       size_t idx)
{
	const unsigned long valid_dma = HMM_PFN_VALID | HMM_PFN_DMA_MAPPED;
	unsigned long *pfn, attrs = 0;
	size_t len;

	if (!dev || !map || !map->pfn_list || idx >= map->nr_entries)
		return false;
	pfn = &map->pfn_list[idx];
	if ((*pfn & valid_dma) != valid_dma)
		return false;
	len = map->dma_entry_size;
	if (*pfn & HMM_PFN_P2PDMA)
		attrs |= DMA_ATTR_MMIO;

	if (*pfn & HMM_PFN_P2PDMA_BUS)
		; /* a bus address maps nothing */
	else if (dma_use_iova(&map->state))
		dma_iova_unlink(dev, &map->state, idx * len, len,
				DMA_BIDIRECTIONAL, attrs);
	else if (map->dma_list)
		dma_unmap_phys(dev, map->dma_list[idx], len,
			       DMA_BIDIRECTIONAL, attrs);
	*pfn &= ~HMM_PFN_INOUT_FLAGS;
	return true;
}
