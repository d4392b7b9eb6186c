/* SPDX-License-Identifier: MIT */
/*
 * dma_engine.c - the emulated device's DMA engine: every access a device
 * makes is translated as hardware would translate it (through the IOTLB and
 * the page walk behind an IOMMU, permission checked; as a bus address
 * within the device's mask for dma-direct), then really moves bytes in the
 * emulated memory.  Faults are logged and counted and stop the transfer;
 * nothing crashes.  This is what makes every test and replay a real
 * transfer.
 *
 * The PCI fabric routes each request first, as the switches would now
 * (dml__pci_route(), ACS read as it is set, not as classified): a bus
 * address a peer's BAR claims below a common switch with no ACS redirect
 * on the way goes straight to that BAR, never to the IOMMU; everything
 * else goes up to the root complex, where the IOMMU translates it (so a
 * bus address whose path now redirects faults there).  What arrives at
 * the root complex for a peer's BAR is passed on only if the root complex
 * routes peer-to-peer traffic (dml__pci_host_allows_p2p()); otherwise it
 * is dropped and logged, as an Unsupported Request.
 *
 * In a confidential guest (src/mem/encrypt.c) every access is also
 * checked against the memory's private/shared state and the device's
 * acceptance (src/pci/tdisp.c), see cc_blocked().
 *
 * A device that must know a whole transfer is good before its first byte
 * moves (the NVMe controller's writes land whole) resolves it first
 * (dml__dev_dma_resolve(): every check above, no byte moved) and copies
 * the runs itself; dml_dev_dma_read() and _write() check and copy piece
 * by piece.
 */
#include <string.h>

#include "../base/device.h"
#include "../dma/debug.h"
#include "../iommu/domain.h"
#include "../mem/cache.h"
#include "../pci/pci.h"
#include "dma_engine.h"

/* translate one piece of a transfer; 0 with *phys and *contig, or -EFAULT */
static int translate(struct dml_device *dev, dma_addr_t addr, bool write,
		     phys_addr_t *phys, u64 *contig)
{
	if (dev->domain)
		return dev->domain->ops->translate(dev->domain, dev->source_id,
						   addr, write, phys, contig);
	if (addr > dev->dma_mask) {
		atomic_fetch_add(&dev->plat->direct_faults, 1);
		return -EFAULT;
	}
	/* the encryption bit is the guest's, not part of the address */
	*phys = (phys_addr_t)(addr & ~dev->cc_mask);
	*contig = PAGE_SIZE - (addr & (PAGE_SIZE - 1));
	return 0;
}

/*
 * A confidential guest's memory protection, where the access lands: a
 * device not accepted into its TVM (and in RUN) never touches private
 * memory, nor private MMIO (a BAR of a device in RUN), which only peers
 * accepted into the same TVM reach; without an IOMMU the address's
 * encoding must match the memory (a private alias of shared memory or a
 * shared alias of private memory is refused, as the hardware's page-table
 * check does).  A request a switch routes to a peer (@peer) never meets
 * that check: only the requester's acceptance (TDISP's T bit) counts.
 * Blocked accesses move no byte and are logged.
 */
static __attribute__((noinline, cold)) bool
cc_blocked(struct dml_device *dev, dma_addr_t addr, phys_addr_t phys,
	   size_t len, bool write, bool peer)
{
	struct dml_mem *m = dev->plat->mem;
	bool accepted = dml__dev_accepted(dev);
	bool shared = dml__mem_cc_shared(m, phys, len);
	bool private_enc = dev->domain || peer ? !shared :
			   (addr & m->cc_enc) || (m->cc_dec && !(addr & m->cc_dec));
	const char *why;

	if (!shared && !accepted)
		why = "private memory, device not accepted";
	else if (dml__mem_mmio_private(m, phys, len) &&
		 !dml__tdisp_mmio_peer(dev, phys))
		why = "private MMIO, device not accepted into its TVM";
	else if (private_enc && !accepted)
		why = "private encoding, device not accepted";
	else if (!dev->domain && !peer && private_enc == shared)
		why = private_enc ? "private encoding of shared memory" :
				    "shared encoding of private memory";
	else
		return false;
	dml__warn("%s: confidential guest blocked a DMA %s at %#llx (%s)",
		  dev->name, write ? "write" : "read",
		  (unsigned long long)addr, why);
	return true;
}

/* a peer's BAR reached through the root complex: does it pass it on? */
static __attribute__((noinline, cold)) int
root_complex_p2p(struct dml_device *dev, struct dml_pci_bar *bar,
		 phys_addr_t phys, bool write, u64 *contig)
{
	u64 left = bar->provider.phys + bar->provider.size - phys;

	if (!dev->pci_dev ||
	    !dml__pci_host_allows_p2p(dev->pci_dev, bar->pdev)) {
		dml__warn("%s: root complex dropped a peer-to-peer %s at %#llx (%s BAR%d): host bridge does not route peer traffic",
			  dev->name, write ? "write" : "read",
			  (unsigned long long)phys, bar->pdev->name, bar->index);
		return -EREMOTEIO;
	}
	*contig = min(*contig, left);
	return 0;
}

/*
 * route one piece of a transfer through the fabric (see the top of the
 * file); with *phys and *contig: 1 when a switch routed it to a peer, 0
 * otherwise; -EFAULT when the IOMMU or the mask refuses, -EREMOTEIO when
 * the root complex drops it
 */
static int route(struct dml_device *dev, dma_addr_t addr, bool write,
		 phys_addr_t *phys, u64 *contig)
{
	struct dml_pci_bar *bar;

	/* without an IOMMU the encryption bit is the guest's, not the bus's */
	dma_addr_t bus = dev->domain ? addr : addr & ~dev->cc_mask;

	if (dml__pci_route(dev, bus, &bar) == DML_PCI_ROUTE_PEER) {
		*phys = (phys_addr_t)(bus - bar->provider.bus_offset);
		*contig = bar->provider.phys + bar->provider.size - *phys;
		return 1;
	}
	if (translate(dev, addr, write, phys, contig))
		return -EFAULT;
	bar = dml__pci_bar_find(dev->plat, *phys);
	if (unlikely(bar))
		return root_complex_p2p(dev, bar, *phys, write, contig);
	return 0;
}

/*
 * one piece of an access at @addr, at most @len bytes, with every check
 * above: the emulated memory that holds it, its length in *chunk; or NULL
 * after the fault is counted
 */
static void *piece(struct dml_device *dev, dma_addr_t addr, size_t len,
		   bool write, size_t *chunk)
{
	phys_addr_t phys;
	u64 contig;
	void *host;
	int peer = route(dev, addr, write, &phys, &contig);

	if (peer < 0)
		goto fault;
	*chunk = (size_t)min((u64)len, contig);
	if (unlikely(dev->cc_guest) &&
	    cc_blocked(dev, addr, phys, *chunk, write, peer))
		goto fault;
	/* non-coherent: memory, not the CPU's cached view (cache.c) */
	if (unlikely(dev->non_coherent))
		host = dml__cache_dev_host(dev->plat, phys, chunk);
	else
		host = dml__mem_host(dev->plat->mem, phys, *chunk);
	if (host)
		return host;
	if (!dev->domain)
		atomic_fetch_add(&dev->plat->direct_faults, 1);
fault:
	atomic_fetch_add(&dev->faults, 1);
	return NULL;
}

void dml__dev_dma_moved(struct dml_device *dev, size_t bytes, bool write)
{
	atomic_fetch_add_explicit(write ? &dev->bytes_written : &dev->bytes_read,
				  bytes, memory_order_relaxed);
}

static int dma_access(struct dml_device *dev, dma_addr_t addr, void *buf,
		      size_t len, bool write)
{
	u8 *b = buf;
	int ret = 0;

	if (!dev || dev->plat->kind != DML_PLATFORM_EMU)
		return -EINVAL;
	if (dml__dma_debug_active())
		dml__dma_debug_dev_access(dev, addr, len, write);
	while (len) {
		size_t chunk;
		u8 *host = piece(dev, addr, len, write, &chunk);

		if (!host) {
			ret = -EFAULT;
			break;
		}
		if (write)
			memcpy(host, b, chunk);
		else
			memcpy(b, host, chunk);
		b += chunk;
		addr += chunk;
		len -= chunk;
	}
	dml__dev_dma_moved(dev, (size_t)(b - (u8 *)buf), write);
	return ret;
}

int dml__dev_dma_resolve(struct dml_device *dev, dma_addr_t addr, size_t len,
			 bool write, struct dml__dma_run *runs,
			 unsigned int max, unsigned int *nr)
{
	if (!dev || dev->plat->kind != DML_PLATFORM_EMU)
		return -EINVAL;
	if (dml__dma_debug_active())
		dml__dma_debug_dev_access(dev, addr, len, write);
	while (len) {
		struct dml__dma_run *last = *nr ? &runs[*nr - 1] : NULL;
		size_t chunk;
		u8 *host = piece(dev, addr, len, write, &chunk);

		if (!host)
			return -EFAULT;
		addr += chunk;
		len -= chunk;
		/* one run for what is contiguous in the emulated memory */
		if (last && (u8 *)last->host + last->len == host) {
			last->len += chunk;
			continue;
		}
		if (DML_WARN_ON(*nr == max))
			return -ENOSPC;
		runs[(*nr)++] = (struct dml__dma_run){ .host = host, .len = chunk };
	}
	return 0;
}

int dml_dev_dma_read(struct dml_device *dev, dma_addr_t addr, void *buf,
		     size_t len)
{
	return dma_access(dev, addr, buf, len, false);
}

int dml_dev_dma_write(struct dml_device *dev, dma_addr_t addr, const void *buf,
		      size_t len)
{
	return dma_access(dev, addr, (void *)buf, len, true);
}
