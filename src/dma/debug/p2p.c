/* SPDX-License-Identifier: MIT */
/*
 * p2p.c - the checker's view of PCI peer-to-peer memory (the caller
 * contract of include/linux/pci-p2pdma.h and DMA_ATTR_MMIO in
 * include/linux/dma-mapping.h; kernel/dma/debug.c checks the resource
 * side with debug_dma_map_phys()):
 *  - DMA_ATTR_MMIO on RAM: the page-based calls refuse it
 *    (dma_map_page_attrs()), and dma_map_resource() refuses RAM; here any
 *    mapping of RAM with DMA_ATTR_MMIO (no cache maintenance would be
 *    done) is reported;
 *  - a device using a bus address that its path no longer routes to the
 *    peer (ACS redirect set after the map type was computed and cached,
 *    or no common switch at all): the request goes up to the root complex
 *    and the IOMMU sees an address nobody mapped;
 *  - unmapping a bus address: PCI_P2PDMA_MAP_BUS_ADDR memory is never
 *    mapped, so there is nothing to unmap.
 * A BAR mapped without DMA_ATTR_MMIO is the source check of streaming.c
 * (dml__dbg_check_source(): "MMIO without DMA_ATTR_MMIO").
 * Everything here runs with dml__dbg_mutex held and reads the topology
 * lock-free (src/pci/pci.h).
 */
#include "internal.h"
#include "../../pci/pci.h"

static const char *const map_name[] = {
	[PCI_P2PDMA_MAP_UNKNOWN] = "UNKNOWN",
	[PCI_P2PDMA_MAP_NONE] = "NONE",
	[PCI_P2PDMA_MAP_NOT_SUPPORTED] = "NOT_SUPPORTED",
	[PCI_P2PDMA_MAP_BUS_ADDR] = "BUS_ADDR",
	[PCI_P2PDMA_MAP_THRU_HOST_BRIDGE] = "THRU_HOST_BRIDGE",
};

void dml__dbg_check_mmio(struct ctx *c, struct dbg_dev *dd, u64 phys, u64 len)
{
	struct dml_platform *p = dd->plat;

	if (!len || p->kind != DML_PLATFORM_EMU ||
	    !dml_phys_is_ram(p, (phys_addr_t)phys, len))
		return;
	dml__dbg_report(c, dd, DML_DMA_DEBUG_MMIO_ON_RAM, NULL, phys, len, NULL,
			"device driver maps RAM with DMA_ATTR_MMIO [phys=0x%016llx] [len=%llu] (no cache maintenance is done for it; dma_map_page_attrs refuses DMA_ATTR_MMIO, dma_map_resource refuses RAM)",
			(unsigned long long)phys, (unsigned long long)len);
}

/* the BAR answering bus address @addr for @dd's device, NULL if none */
static struct dml_pci_bar *bus_bar(struct dbg_dev *dd, u64 addr)
{
	if (dd->plat->kind != DML_PLATFORM_EMU || !dd->dev->pci_dev)
		return NULL;
	return dml__pci_bar_find_bus(dd->plat, (dma_addr_t)addr);
}

bool dml__dbg_p2p_access(struct ctx *c, struct dbg_dev *dd, u64 addr, u64 len,
			 bool write)
{
	struct dml_pci_bar *bar, *peer;
	enum pci_p2pdma_map_type now;
	int dist;

	/* without an IOMMU a confidential guest's encryption bit is not the bus's */
	if (!dd->dev->domain)
		addr &= ~dd->dev->cc_mask;
	bar = bus_bar(dd, addr);
	if (!bar)
		return false;
	if (dml__pci_route(dd->dev, (dma_addr_t)addr, &peer) == DML_PCI_ROUTE_PEER)
		return true;	/* a bus address the switch routes: fine */
	now = dml__pci_calc_map_type(bar->pdev, dd->dev->pci_dev, &dist, false);
	dml__dbg_report(c, dd, DML_DMA_DEBUG_P2P_BUS_ADDR_UPSTREAM, NULL, addr,
			len, NULL,
			"device %s PCI bus address of %s BAR%d that its path no longer routes to the peer [device address=0x%016llx] [size=%llu bytes] [map type now %s]: the request goes up to the root complex",
			write ? "writes" : "reads", bar->pdev->bdf, bar->index,
			(unsigned long long)addr, (unsigned long long)len,
			map_name[now]);
	return true;
}

bool dml__dbg_p2p_unmap(struct ctx *c, struct dbg_dev *dd, u64 addr, u64 len)
{
	struct dml_pci_bar *bar = bus_bar(dd, addr), *peer;

	if (!bar || dml__pci_route(dd->dev, (dma_addr_t)addr, &peer) !=
		    DML_PCI_ROUTE_PEER)
		return false;
	dml__dbg_report(c, dd, DML_DMA_DEBUG_P2P_UNMAP_BUS_ADDR, NULL, addr, len,
			NULL,
			"device driver unmaps a PCI bus address of %s BAR%d [device address=0x%016llx] [size=%llu bytes] (PCI_P2PDMA_MAP_BUS_ADDR memory is never mapped)",
			bar->pdev->bdf, bar->index, (unsigned long long)addr,
			(unsigned long long)len);
	return true;
}
