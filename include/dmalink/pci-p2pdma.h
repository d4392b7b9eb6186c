/* SPDX-License-Identifier: MIT */
/*
 * dmalink/pci-p2pdma.h - the kernel's PCI peer-to-peer DMA API with its
 * names and semantics (include/linux/pci-p2pdma.h, drivers/pci/p2pdma.c,
 * Linux 6.19): per-BAR providers, the classification of a provider/client
 * pair into a map type and a distance, and the bus-address mapping.
 *
 * Differences, all because there is no struct page here:
 *  - struct pci_dev is struct dml_pci_dev (dmalink/pci.h); struct device
 *    is struct dml_device, whose PCI function is the one it was bound to.
 *  - pci_p2pdma_state() takes the physical address of the memory instead
 *    of its page: the provider is the initialised BAR that holds it.
 *  - struct p2pdma_provider also carries the BAR's CPU physical range
 *    (what the kernel learns from the page's dev_pagemap).
 *
 * Caching, as in the kernel: pci_p2pdma_map_type() computes a pair's map
 * type once and keeps it in the provider function's cache, keyed by the
 * client function, for as long as the platform lives.  Nothing
 * invalidates it: changing ACS afterwards (dml_pci_port_set_acs()) does
 * not change a cached answer, just as the kernel, which reads ACS at
 * enumeration, never re-classifies.  pci_p2pdma_distance_many()
 * recomputes on every call (and refreshes the cache, as the kernel's
 * calc_map_type_and_dist() does).
 */
#ifndef DMALINK_PCI_P2PDMA_H
#define DMALINK_PCI_P2PDMA_H

#include <dmalink/pci.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Built with -fvisibility=hidden: what is declared here is exported. */
#pragma GCC visibility push(default)

/**
 * struct p2pdma_provider - peer-to-peer memory of one BAR
 * @owner: the PCI function whose BAR it is (the kernel: its struct device)
 * @bus_offset: PCI bus address minus CPU physical address of the BAR
 * @phys: dmalink addition: CPU physical base of the BAR
 * @size: dmalink addition: bytes of the BAR
 */
struct p2pdma_provider {
	struct dml_pci_dev *owner;
	u64 bus_offset;
	phys_addr_t phys;
	u64 size;
};

/**
 * enum pci_p2pdma_map_type - how a client reaches a provider's memory
 * @PCI_P2PDMA_MAP_UNKNOWN: not computed yet (internal)
 * @PCI_P2PDMA_MAP_NONE: the memory is not peer-to-peer memory
 * @PCI_P2PDMA_MAP_NOT_SUPPORTED: the path crosses a host bridge that does
 *	not allow it; mapping must fail (-EREMOTEIO from dma_map_sg)
 * @PCI_P2PDMA_MAP_BUS_ADDR: through a switch, never reaching the host
 *	bridge: program the bus address (pci_p2pdma_bus_addr_map()), no IOMMU
 * @PCI_P2PDMA_MAP_THRU_HOST_BRIDGE: through the root complex: map like
 *	host memory with DMA_ATTR_MMIO
 */
enum pci_p2pdma_map_type {
	PCI_P2PDMA_MAP_UNKNOWN = 0,
	PCI_P2PDMA_MAP_NONE,
	PCI_P2PDMA_MAP_NOT_SUPPORTED,
	PCI_P2PDMA_MAP_BUS_ADDR,
	PCI_P2PDMA_MAP_THRU_HOST_BRIDGE,
};

/**
 * struct pci_p2pdma_map_state - a caller's cache of the last provider seen
 * @mem: that provider, NULL at first
 * @map: its map type for the device the state is used with
 *
 * Zeroed by the caller before the first pci_p2pdma_state() of one
 * mapping operation for one device.
 */
struct pci_p2pdma_map_state {
	struct p2pdma_provider *mem;
	enum pci_p2pdma_map_type map;
};

/**
 * pcim_p2pdma_init - set up peer-to-peer DMA for a PCI function
 * @pdev: the function
 *
 * Creates a provider for each memory BAR (BARs added later get theirs
 * when added) and the function's map-type cache.  Idempotent.  Follows
 * pcim_p2pdma_init() in drivers/pci/p2pdma.c.
 * Return: 0; -EINVAL for NULL or a host bridge; -ENOMEM.
 */
int pcim_p2pdma_init(struct dml_pci_dev *pdev);

/**
 * pcim_p2pdma_provider - the peer-to-peer provider of one BAR
 * @pdev: the function
 * @bar: BAR index
 *
 * Follows pcim_p2pdma_provider() in drivers/pci/p2pdma.c.
 * Return: the provider (valid while the platform lives); NULL if @bar is
 * not a memory BAR of @pdev, and NULL with a warning if pcim_p2pdma_init()
 * was not called for @pdev.
 */
struct p2pdma_provider *pcim_p2pdma_provider(struct dml_pci_dev *pdev, int bar);

/**
 * pci_p2pdma_map_type - classify the path from @dev to @provider's memory
 * @provider: from pcim_p2pdma_provider()
 * @dev: the client device
 *
 * Computed once per provider function and client function, then cached
 * (see the top of this file).  The first computation warns, naming the
 * bridges, when ACS redirects the path, and when the host bridge refuses
 * it.  Classification as calc_map_type_and_dist() in drivers/pci/p2pdma.c:
 * a common upstream bridge and no ACS redirect on the path: BUS_ADDR;
 * ACS redirect, or no common upstream bridge: THRU_HOST_BRIDGE if the CPU
 * is AMD family 0x17 (Zen) or later or the host bridge(s) are on the
 * whitelist (some entries only when both sit below the same host bridge),
 * else NOT_SUPPORTED.
 * In a confidential guest (dmalink/cc.h), a provider whose TDISP
 * interface is in RUN has private MMIO: P2P to it is private, and only a
 * client accepted into the same TVM (and in RUN) gets the path's map type;
 * any other client gets PCI_P2PDMA_MAP_NOT_SUPPORTED, so its mapping
 * fails with -EREMOTEIO (MMIO cannot be bounced through shared memory).
 * This answer follows the states and is never cached.  A provider not
 * in RUN has shared MMIO, which any client reaches as before.  Proposed:
 * the private MMIO series for TDX Connect (Xu Yilun, 2025) and the TDISP
 * chapter of the PCIe 6.x specification; pci-tsm.h has no P2P rule yet.
 * Return: the map type; PCI_P2PDMA_MAP_NOT_SUPPORTED when @provider is
 * NULL, @dev is not a PCI device of the provider's platform, the
 * provider's function was not initialised, or the provider's MMIO is
 * private and @dev not its TVM's.  Once computed, a lock-free hash lookup
 * in the provider's cache.
 */
enum pci_p2pdma_map_type pci_p2pdma_map_type(struct p2pdma_provider *provider,
					     struct dml_device *dev);

/**
 * __pci_p2pdma_update_state - pci_p2pdma_state() when @state does not
 * already hold the provider of @phys: look the provider up and classify
 * @state: caller's state
 * @dev: the client device
 * @phys: CPU physical address of the memory (the kernel passes its page)
 *
 * Follows __pci_p2pdma_update_state() in drivers/pci/p2pdma.c.
 * Return: PCI_P2PDMA_MAP_NONE, @state untouched, when no BAR of a function
 * set up with pcim_p2pdma_init() holds @phys; else @state->map after
 * setting @state->mem and @state->map.
 */
enum pci_p2pdma_map_type __pci_p2pdma_update_state(struct pci_p2pdma_map_state *state,
						   struct dml_device *dev,
						   phys_addr_t phys);

/**
 * pci_p2pdma_state - the map type of the memory at @phys for @dev
 * @state: caller-zeroed state, reused across the segments of one mapping
 * @dev: the client device
 * @phys: CPU physical address of the memory: the kernel passes a page and
 *	tests is_pci_p2pdma_page(); with no struct page, the address is
 *	looked up among the BARs of initialised providers
 *
 * When @phys lies in the provider @state already holds, this is one
 * comparison and a load (pci_p2pdma_state() in include/linux/pci-p2pdma.h).
 * Return: PCI_P2PDMA_MAP_NONE for memory that is not a provider's (host
 * RAM); else the pair's map type, also left in @state->map.
 */
static inline enum pci_p2pdma_map_type
pci_p2pdma_state(struct pci_p2pdma_map_state *state, struct dml_device *dev,
		 phys_addr_t phys)
{
	if (state->mem && phys - state->mem->phys < state->mem->size)
		return state->map;
	return __pci_p2pdma_update_state(state, dev, phys);
}

/**
 * pci_p2pdma_bus_addr_map - the bus address of provider memory, for a
 * PCI_P2PDMA_MAP_BUS_ADDR mapping
 * @provider: the provider holding @paddr
 * @paddr: CPU physical address
 *
 * Follows pci_p2pdma_bus_addr_map() in include/linux/pci-p2pdma.h.
 * Return: @paddr + @provider->bus_offset.
 */
static inline dma_addr_t pci_p2pdma_bus_addr_map(struct p2pdma_provider *provider,
						 phys_addr_t paddr)
{
	return (dma_addr_t)(paddr + provider->bus_offset);
}

/**
 * pci_p2pdma_distance_many - the summed distance from a provider to
 * several clients
 * @provider: the function whose memory is used
 * @clients: the client devices
 * @num_clients: entries of @clients
 * @verbose: warn why a client cannot be used
 *
 * Distance counts the links crossed: 0 for the same function, 2 for two
 * functions of one device, 4 for two devices below one switch; when the
 * path goes through the host bridge, the links from each function up to
 * its root bus.  Follows pci_p2pdma_distance_many() in
 * drivers/pci/p2pdma.c.
 * Return: the summed distance (>= 0); -1 if @num_clients is 0, or any
 * client is not a PCI device or is NOT_SUPPORTED.
 */
int pci_p2pdma_distance_many(struct dml_pci_dev *provider,
			     struct dml_device **clients, int num_clients,
			     bool verbose);

/**
 * pci_p2pdma_distance - pci_p2pdma_distance_many() for one client
 * @provider: the function whose memory is used
 * @client: the client device
 * @verbose: warn why @client cannot be used
 *
 * Return: as pci_p2pdma_distance_many().
 */
static inline int pci_p2pdma_distance(struct dml_pci_dev *provider,
				      struct dml_device *client, bool verbose)
{
	return pci_p2pdma_distance_many(provider, &client, 1, verbose);
}

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DMALINK_PCI_P2PDMA_H */
