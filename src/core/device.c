/* SPDX-License-Identifier: MIT */
/*
 * device.c - struct dml_device on the emulated platform: its masks, segment
 * limits and coherency, and its DMA domain when it sits behind an IOMMU
 * (one default domain per device, as the kernel gives each group).  The
 * vfio backend builds its devices itself (src/vfio/device.c); every
 * device, whoever built it, is destroyed here.
 */
#include <stdio.h>
#include <string.h>

#include "../base/device.h"
#include "../dma/debug.h"
#include "../iommu/iommu.h"
#include "../mem/cache.h"
#include "../pci/pci.h"

int dml_device_create(struct dml_platform *p, const struct dml_device_opts *opts,
		      struct dml_device **out)
{
	static atomic_uint seq;
	struct dml_device_opts o;
	struct dml_device *dev;
	int ret;

	if (!p || p->kind != DML_PLATFORM_EMU || !out)
		return -EINVAL;
	ret = dml__opts_copy(&o, sizeof(o), opts, "dml_device_opts");
	if (ret)
		return ret;
	if (!opts || o.pci_dev)
		o.pci = true;
	if (!o.dma_mask)
		o.dma_mask = DMA_BIT_MASK(64);
	if (!o.coherent_dma_mask)
		o.coherent_dma_mask = DMA_BIT_MASK(64);
	if (!o.max_segment_size)
		o.max_segment_size = 65536;
	if (!o.seg_boundary_mask)
		o.seg_boundary_mask = 0xffffffffUL;
	if (o.dma_mask < DMA_BIT_MASK(24) || o.coherent_dma_mask < DMA_BIT_MASK(24) ||
	    o.max_segment_size < PAGE_SIZE || o.seg_boundary_mask < PAGE_SIZE - 1 ||
	    !dml__is_pow2((u64)o.seg_boundary_mask + 1))
		return -EINVAL;

	/* the cache model's memory views exist before any DMA (cache.c) */
	if (o.non_coherent) {
		ret = dml__cache_prepare(p);
		if (ret)
			return ret;
	}
	dev = dml__zalloc(sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	if (o.name)
		snprintf(dev->name, sizeof(dev->name), "%s", o.name);
	else
		snprintf(dev->name, sizeof(dev->name), "dev%u", atomic_fetch_add(&seq, 1));
	dev->source_id = o.source_id;
	dev->pci = o.pci;
	dev->non_coherent = o.non_coherent;
	dev->untrusted = o.untrusted;
	dev->force_bounce = o.force_bounce;
	if (p->kind == DML_PLATFORM_EMU && dml__mem_cc(p->mem)) {
		dev->cc_guest = true;
		dev->cc_mask = p->mem->cc_enc | p->mem->cc_dec;
	}
	dev->min_align_mask = o.dma_min_align_mask;
	/* dma_setup_need_sync(): a forced bounce always needs syncs, unmaps */
	atomic_init(&dev->dma_skip_sync_off, o.force_bounce || dev->cc_guest);
	atomic_init(&dev->dma_uses_io_tlb, false);
	dev->dma_mask = o.dma_mask;
	dev->coherent_dma_mask = o.coherent_dma_mask;
	dev->max_segment_size = o.max_segment_size;
	dev->seg_boundary_mask = o.seg_boundary_mask;
	atomic_init(&dev->pci_32bit_workaround, o.pci);
	dev->plat = p;
	if (o.pci) {
		ret = dml__pci_bind(dev, o.pci_dev);
		if (ret)
			goto err_free;
	}
	if (o.iommu) {
		ret = dml__emu_domain_alloc(o.iommu, &dev->domain);
		if (ret)
			goto err_unbind;
		dev->iommu = o.iommu;
		dev->owns_domain = true;
	}
	dml__device_add(p, dev);
	if (dml__dma_debug_active())
		dml__dma_debug_device_add(dev);
	*out = dev;
	return 0;

err_unbind:
	dml__pci_unbind(dev);
err_free:
	dml__free(dev);
	return ret;
}

void dml_device_destroy(struct dml_device *dev)
{
	if (!dev)
		return;
	if (dml__dma_debug_active())
		dml__dma_debug_device_remove(dev);
	dml__device_del(dev);
	if (dev->domain && dev->owns_domain)
		dml__domain_destroy(dev->domain);
	dml__pci_unbind(dev);
	if (dev->backend_fini)
		dev->backend_fini(dev);
	dml__free(dev);
}

const char *dml_device_name(const struct dml_device *dev)
{
	return dev->name;
}

struct dml_iommu *dml_device_iommu(const struct dml_device *dev)
{
	return dev->iommu;
}

void dml_dev_get_stats(struct dml_device *dev, struct dml_dev_stats *st)
{
	st->bytes_read = atomic_load(&dev->bytes_read);
	st->bytes_written = atomic_load(&dev->bytes_written);
	st->faults = atomic_load(&dev->faults);
	st->iova_allocs = 0;
	st->iova_frees = 0;
	if (dev->domain) {
		struct dml_iova_stats is;

		dml__iova_get_stats(dev->domain->iovad, &is);
		st->iova_allocs = is.allocs;
		st->iova_frees = is.frees;
	}
}
