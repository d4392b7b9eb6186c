/* SPDX-License-Identifier: MIT */
/*
 * dma_engine.c - the emulated device's DMA engine: every access a device
 * makes is translated as hardware would translate it (through the IOTLB and
 * the page walk behind an IOMMU, permission checked; as a bus address
 * within the device's mask for dma-direct), then really moves bytes in the
 * emulated memory.  Faults are logged and counted and stop the transfer;
 * nothing crashes.  This is what makes every test and replay a real
 * transfer.
 */
#include <string.h>

#include "../base/device.h"
#include "../dma/debug.h"
#include "../iommu/domain.h"
#include "../mem/cache.h"

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
	*phys = (phys_addr_t)addr;
	*contig = PAGE_SIZE - (addr & (PAGE_SIZE - 1));
	return 0;
}

static int dma_access(struct dml_device *dev, dma_addr_t addr, void *buf,
		      size_t len, bool write)
{
	u8 *b = buf;

	if (!dev || dev->plat->kind != DML_PLATFORM_EMU)
		return -EINVAL;
	if (dml__dma_debug_active())
		dml__dma_debug_dev_access(dev, addr, len, write);
	while (len) {
		phys_addr_t phys;
		u64 contig;
		size_t chunk;
		void *host;

		if (translate(dev, addr, write, &phys, &contig))
			goto fault;
		chunk = (size_t)min((u64)len, contig);
		/* non-coherent: memory, not the CPU's cached view (cache.c) */
		if (unlikely(dev->non_coherent))
			host = dml__cache_dev_host(dev->plat, phys, &chunk);
		else
			host = dml__mem_host(dev->plat->mem, phys, chunk);
		if (!host) {
			if (!dev->domain)
				atomic_fetch_add(&dev->plat->direct_faults, 1);
			goto fault;
		}
		if (write) {
			memcpy(host, b, chunk);
			atomic_fetch_add_explicit(&dev->bytes_written, chunk,
						  memory_order_relaxed);
		} else {
			memcpy(b, host, chunk);
			atomic_fetch_add_explicit(&dev->bytes_read, chunk,
						  memory_order_relaxed);
		}
		b += chunk;
		addr += chunk;
		len -= chunk;
	}
	return 0;
fault:
	atomic_fetch_add(&dev->faults, 1);
	return -EFAULT;
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
