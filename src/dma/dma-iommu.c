/* SPDX-License-Identifier: MIT */
/*
 * dma-iommu.c - the DMA API for devices behind an IOMMU
 * (drivers/iommu/dma-iommu.c; ref §1, §2): IOVA allocation with the
 * kernel's rounding and 32-bit-first rule, dma_map_phys, and the
 * scatterlist path that maps a whole list into one IOVA allocation with
 * one sync.  The two-step API (dma_iova_*) is in dma-iommu-iova.c; what
 * both use is in dma-iommu.h.
 *
 * Everything here talks to the backend only through d->ops (domain.h).
 *
 * Locking: none here; the IOVA allocator and the backend's page table are
 * safe for concurrent calls on disjoint ranges.
 */
#include <string.h>

#include "dma-iommu.h"
#include "p2p.h"
#include "../mem/cache.h"

/* the length in granules the allocator sees: small ones round to pow2 */
static inline unsigned long iova_len(const struct dml_domain *d, size_t size)
{
	unsigned long len = size >> d->granule_shift;

	if (len < DML_IOVA_CACHE_MAX_GRANULES)
		len = (unsigned long)dml__roundup_pow2(len);
	return len;
}

/*
 * iommu_dma_alloc_iova(): @size bytes (granule aligned) below @dma_mask
 * and the device's bus limit; PCI devices try below 4 GiB first until
 * that fails once.
 * Return: the IOVA, or 0.
 */
static dml_iova_t alloc_iova_mask(struct dml_device *dev, struct dml_domain *d,
				  size_t size, u64 dma_mask)
{
	unsigned int shift = d->granule_shift;
	unsigned long len = iova_len(d, size), pfn;
	u64 limit = dma_mask;

	if (dev->bus_dma_limit && dev->bus_dma_limit < limit)
		limit = dev->bus_dma_limit;
	if (d->aperture_end < limit)
		limit = d->aperture_end;

	if (atomic_load_explicit(&dev->pci_32bit_workaround, memory_order_relaxed) &&
	    limit > DMA_BIT_MASK(32)) {
		pfn = dml__iova_try_alloc(d->iovad, len, DMA_BIT_MASK(32) >> shift, true);
		if (pfn)
			return (dml_iova_t)pfn << shift;
		if (atomic_exchange(&dev->pci_32bit_workaround, false))
			dml__info("%s: Using %u-bit DMA addresses", dev->name,
				  dml__fls64(limit));
	}
	pfn = dml__iova_alloc(d->iovad, len, (unsigned long)(limit >> shift), true);
	return (dml_iova_t)pfn << shift;
}

/* streaming mappings: below the streaming DMA mask */
dml_iova_t dml__iommu_alloc_iova(struct dml_device *dev, struct dml_domain *d,
				 size_t size)
{
	return alloc_iova_mask(dev, d, size, dev->dma_mask);
}

void dml__iommu_free_iova(struct dml_domain *d, dml_iova_t iova, size_t size)
{
	dml__iova_free(d->iovad, (unsigned long)(iova >> d->granule_shift),
		       iova_len(d, size));
}

/*
 * __iommu_dma_unmap(): unmap whole mappings at [iova, +size), then either
 * invalidate and free now (strict) or queue the IOVA for the next batched
 * flush (lazy).  @exact: refuse ranges not made of whole mappings.
 */
int dml__iommu_unmap_and_free(struct dml_domain *d, dml_iova_t iova,
			      size_t size, size_t free_size, unsigned int flags)
{
	size_t unmapped;
	int ret;

	ret = d->ops->unmap(d, iova, size, flags, &unmapped);
	if (ret)
		return ret;
	if (d->fq) {
		dml__fq_queue(d, (unsigned long)(iova >> d->granule_shift),
			      iova_len(d, free_size));
		return 0;
	}
	d->ops->iotlb_sync(d, iova, size);
	dml__iommu_free_iova(d, iova, free_size);
	return 0;
}

/* ------------------------------------------------------------------ */
/* dma_map_phys                                                        */
/* ------------------------------------------------------------------ */

/*
 * __iommu_dma_map(): IOVA below @dma_mask for [phys, +size) rounded out to
 * granules, mapped with @prot as one link, with one iotlb_sync_map.
 */
static dma_addr_t __iommu_dma_map(struct dml_device *dev, phys_addr_t phys,
				  size_t size, int prot, u64 dma_mask)
{
	struct dml_domain *d = dev->domain;
	size_t pad = iova_offset(d, phys), len;
	dml_iova_t iova;
	int ret;

	if (size > SIZE_MAX - pad - d->granule)
		return DMA_MAPPING_ERROR;
	len = iova_align(d, size + pad);
	iova = alloc_iova_mask(dev, d, len, dma_mask);
	if (!iova)
		return DMA_MAPPING_ERROR;
	ret = d->ops->map(d, iova, phys - pad, len, prot, DML_MAP_LINK);
	if (ret)
		goto err_free;
	if (d->ops->iotlb_sync_map) {
		ret = d->ops->iotlb_sync_map(d, iova, len);
		if (ret)
			goto err_unmap;
	}
	return (dma_addr_t)(iova + pad);

err_unmap:
	{
		size_t unmapped;

		d->ops->unmap(d, iova, len, 0, &unmapped);
		d->ops->iotlb_sync(d, iova, len);
	}
err_free:
	dml__iommu_free_iova(d, iova, len);
	return DMA_MAPPING_ERROR;
}

/*
 * iommu_dma_map_swiotlb(): bounce [phys, +size) into a buffer with the same
 * offset in its granule (alloc_align_mask = granule - 1), and for an
 * untrusted device zero the rest of the buffer's granules so the device
 * sees no stale data.  On a non-coherent device the zeroed padding is
 * cleaned too (the caller cleans the data).
 */
phys_addr_t dml__iommu_map_swiotlb(struct dml_device *dev, phys_addr_t phys,
				   size_t size, enum dma_data_direction dir,
				   unsigned long attrs,
				   unsigned int min_align_mask)
{
	struct dml_domain *d = dev->domain;
	phys_addr_t start, end;
	u8 *host;

	if (!dml__swiotlb_active(dev->plat)) {
		dml__warn_once("%s: DMA bounce buffers are inactive, unable to map unaligned transaction.",
			       dev->name);
		return (phys_addr_t)DMA_MAPPING_ERROR;
	}
	phys = dml__swiotlb_tbl_map_single(dev, phys, size, d->granule - 1,
					   min_align_mask, dir, attrs);
	if (phys == (phys_addr_t)DMA_MAPPING_ERROR || !dev->untrusted)
		return phys;
	start = ALIGN_DOWN(phys, (phys_addr_t)d->granule);
	end = ALIGN(phys + size, (phys_addr_t)d->granule);
	host = dml__mem_host(dev->plat->mem, start, end - start);
	memset(host, 0, phys - start);
	memset(host + (phys + size - start), 0, end - phys - size);
	if (dev->non_coherent) {
		dml__cache_clean(dev->plat, start, phys - start);
		dml__cache_clean(dev->plat, phys + size, end - phys - size);
	}
	return phys;
}


dma_addr_t dml__iommu_map_phys(struct dml_device *dev, phys_addr_t phys,
			       size_t size, enum dma_data_direction dir,
			       unsigned long attrs)
{
	struct dml_domain *d = dev->domain;
	bool bounced = false, private;
	dma_addr_t addr;

	/* private MMIO: only for a device accepted into its owner's TVM */
	if (unlikely(dev->cc_guest) &&
	    dml__cc_mmio_refused(dev, phys, size, attrs, &private))
		return DMA_MAPPING_ERROR;
	/*
	 * dev_use_swiotlb() && iova_unaligned(): bounce the whole buffer; in
	 * a confidential guest, so does any private memory for a device that
	 * is not accepted (dml__cc_must_bounce()), aligned or not
	 */
	if (unlikely(dev->untrusted | dev->non_coherent | dev->cc_guest) &&
	    ((iova_offset(d, phys | size) && dev_use_swiotlb(dev, size, dir)) ||
	     dml__cc_must_bounce(dev, attrs))) {
		if (attrs & (DMA_ATTR_MMIO | DMA_ATTR_REQUIRE_COHERENT))
			return DMA_MAPPING_ERROR;
		phys = dml__iommu_map_swiotlb(dev, phys, size, dir, attrs,
				   dev->min_align_mask);
		if (phys == (phys_addr_t)DMA_MAPPING_ERROR)
			return DMA_MAPPING_ERROR;
		bounced = true;
	}
	if (unlikely(dev->non_coherent) &&
	    !(attrs & (DMA_ATTR_SKIP_CPU_SYNC | DMA_ATTR_MMIO)))
		dml__arch_sync_dma_for_device(dev->plat, phys, size, dir);
	addr = __iommu_dma_map(dev, phys, size,
			       dml__dir_to_prot(dev, dir, attrs), dev->dma_mask);
	if (addr == DMA_MAPPING_ERROR && bounced)
		dml__swiotlb_tbl_unmap_single(dev, phys, size, dir,
					      attrs | DMA_ATTR_SKIP_CPU_SYNC);
	return addr;
}

dma_addr_t dml__iommu_map_coherent(struct dml_device *dev, phys_addr_t phys,
				   size_t size)
{
	return __iommu_dma_map(dev, phys, size,
			       dml__dir_to_prot(dev, DMA_BIDIRECTIONAL, 0),
			       dev->coherent_dma_mask);
}

void dml__iommu_unmap_phys(struct dml_device *dev, dma_addr_t addr,
			   size_t size, enum dma_data_direction dir,
			   unsigned long attrs)
{
	struct dml_domain *d = dev->domain;
	size_t pad = iova_offset(d, addr), len;
	phys_addr_t phys = 0;

	if (addr == DMA_MAPPING_ERROR || size > SIZE_MAX - pad - d->granule) {
		dml__warn("%s: dma_unmap_phys of an invalid address %#llx+%zu",
			  dev->name, (unsigned long long)addr, size);
		return;
	}
	/*
	 * only these devices can have a cache to sync or a bounce buffer; a
	 * confidential guest's device bounces while it is not accepted, so
	 * one that never had a swiotlb buffer (accepted all along) skips the
	 * lookup (is_swiotlb_buffer(): dev->dma_uses_io_tlb)
	 */
	if (unlikely(dev->untrusted || dev->non_coherent ||
		     (dev->cc_guest &&
		      atomic_load_explicit(&dev->dma_uses_io_tlb,
					   memory_order_relaxed))) &&
	    !(attrs & DMA_ATTR_MMIO)) {
		phys = d->ops->iova_to_phys(d, (dml_iova_t)addr);
		if (phys && dev->non_coherent && !(attrs & DMA_ATTR_SKIP_CPU_SYNC))
			dml__arch_sync_dma_for_cpu(dev->plat, phys, size, dir);
	}
	len = iova_align(d, size + pad);
	if (dml__iommu_unmap_and_free(d, addr - pad, len, len, DML_UNMAP_EXACT)) {
		dml__warn("%s: dma_unmap_phys: [%#llx, +%zu) is not a mapping; nothing unmapped",
			  dev->name, (unsigned long long)addr, size);
		return;
	}
	/* copy back and free the bounce buffer once the device lost it */
	if (phys && dml__is_swiotlb_buffer(dev->plat, phys))
		dml__swiotlb_tbl_unmap_single(dev, phys, size, dir, attrs);
}

/* ------------------------------------------------------------------ */
/* scatterlists (iommu_dma_map_sg)                                     */
/* ------------------------------------------------------------------ */

/*
 * After the first pass every entry holds, in its DMA fields, its pad
 * (dma_address) and its IOVA footprint (dma_length: iova_align(pad +
 * length) plus any boundary padding), or, marked as a bus address, its
 * bus address and length (no IOVA).  finalise_sg() turns those into DMA
 * segments in place, merging entries that abut on granule boundaries
 * within max_segment_size and never starting a merge on a segment
 * boundary (__finalise_sg).
 */
static int finalise_sg(struct dml_device *dev, struct scatterlist *sgl,
		       int nents, dma_addr_t dma_addr)
{
	bool p2p = dml__sg_has_p2p(sgl);
	struct scatterlist *s, *cur = sgl;
	unsigned long seg_mask = dev->seg_boundary_mask;
	unsigned int max_len = dev->max_segment_size;
	unsigned int cur_len = 0;
	int i, count = 0;

	for_each_sg(sgl, s, nents, i) {
		size_t s_pad = (size_t)sg_dma_address(s);
		unsigned int s_length = s->length;
		size_t s_iova_len = sg_dma_len(s);

		sg_dma_address(s) = DMA_MAPPING_ERROR;
		sg_dma_len(s) = 0;
		if (unlikely(p2p) && sg_dma_is_bus_address(s)) {
			/* a bus address: a DMA segment of its own, as is */
			sg_dma_unmark_bus_address(s);
			if (i > 0)
				cur = sg_next(cur);
			sg_dma_address(cur) = (dma_addr_t)s_pad;
			sg_dma_len(cur) = s_length;
			sg_dma_mark_bus_address(cur);
			count++;
			cur_len = 0;
			continue;
		}
		if (cur_len && !s_pad && (dma_addr & seg_mask) &&
		    max_len - cur_len >= s_length) {
			cur_len += s_length;
		} else {
			if (i > 0)
				cur = sg_next(cur);
			cur_len = s_length;
			count++;
			sg_dma_address(cur) = dma_addr + s_pad;
		}
		sg_dma_len(cur) = cur_len;
		dma_addr += s_iova_len;
		if (s_length + s_pad < s_iova_len)
			cur_len = 0;
	}
	return count;
}

/*
 * iommu_dma_map_sg_swiotlb(): an untrusted device (or a confidential
 * guest's device that is not accepted) maps each entry on its own, so
 * the entries that must be can be bounced; the list is marked so unmap
 * and sync treat it the same way.
 */
static void unmap_sg_swiotlb(struct dml_device *dev, struct scatterlist *sgl,
			     int nents, enum dma_data_direction dir,
			     unsigned long attrs)
{
	struct scatterlist *s;
	int i;

	for_each_sg(sgl, s, nents, i)
		if (sg_dma_len(s) && !sg_dma_is_bus_address(s))
			dml__iommu_unmap_phys(dev, sg_dma_address(s),
					      sg_dma_len(s), dir,
					      dml__sg_is_p2p(s) ?
					      attrs | DMA_ATTR_MMIO : attrs);
	if (dml__sg_has_p2p(sgl))
		dml__sg_p2p_clear(sgl, nents);
	sgl->dma_flags &= ~DML_SG_DMA_SWIOTLB;
}

static int map_sg_swiotlb(struct dml_device *dev, struct scatterlist *sgl,
			  int nents, enum dma_data_direction dir,
			  unsigned long attrs)
{
	struct pci_p2pdma_map_state st;
	struct dml_sg_p2p p2p;
	struct scatterlist *s;
	int i, ret = -EIO;

	dml__sg_p2p_init(&p2p, &st, dev, sgl, nents);
	for_each_sg(sgl, s, nents, i) {
		switch (dml__sg_p2p_state(&p2p, dev, s)) {
		case PCI_P2PDMA_MAP_NONE:
			sg_dma_address(s) = dml__iommu_map_phys(dev, sg_phys(s),
								 s->length, dir,
								 attrs);
			break;
		case PCI_P2PDMA_MAP_THRU_HOST_BRIDGE:
			sg_dma_address(s) = dml__iommu_map_phys(dev, sg_phys(s),
								 s->length, dir,
								 attrs | DMA_ATTR_MMIO);
			break;
		case PCI_P2PDMA_MAP_BUS_ADDR:
			sg_dma_address(s) = pci_p2pdma_bus_addr_map(st.mem,
								    sg_phys(s));
			sg_dma_mark_bus_address(s);
			break;
		default:
			ret = -EREMOTEIO;
			goto out_unmap;
		}
		if (sg_dma_address(s) == DMA_MAPPING_ERROR)
			goto out_unmap;
		sg_dma_len(s) = s->length;
	}
	sgl->dma_flags |= DML_SG_DMA_SWIOTLB;
	return nents;

out_unmap:
	sg_dma_len(s) = 0;
	unmap_sg_swiotlb(dev, sgl, i, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC);
	for_each_sg(sgl, s, nents, i) {
		sg_dma_address(s) = DMA_MAPPING_ERROR;
		sg_dma_len(s) = 0;
	}
	dml__sg_p2p_clear(sgl, nents);
	return ret;
}

/*
 * dev_use_sg_swiotlb(): the whole list goes entry by entry through the
 * bounce-capable path if the device is untrusted or any entry is a length
 * dma_kmalloc_needs_bounce() would bounce.
 */
static bool dev_use_sg_swiotlb(struct dml_device *dev, struct scatterlist *sgl,
			       int nents, enum dma_data_direction dir)
{
	struct scatterlist *s;
	int i;

	if (dev->untrusted)
		return true;
	for_each_sg(sgl, s, nents, i)
		if (dml__dma_kmalloc_needs_bounce(dev, s->length, dir))
			return true;
	return false;
}

/* iommu_dma_sync_sg_for_{device,cpu}() of a list mapped in one IOVA block */
static void sync_sg_phys(struct dml_device *dev, struct scatterlist *sgl,
			 int nents, enum dma_data_direction dir, bool for_cpu)
{
	struct scatterlist *s;
	int i;

	for_each_sg(sgl, s, nents, i) {
		if (dml__sg_is_p2p(s))
			continue;	/* a peer's BAR: not cacheable memory */
		if (for_cpu)
			dml__arch_sync_dma_for_cpu(dev->plat, sg_phys(s),
						   s->length, dir);
		else
			dml__arch_sync_dma_for_device(dev->plat, sg_phys(s),
						      s->length, dir);
	}
}

/* the map flags of the mapping at @off of a link, the link's last if @tail */
static inline unsigned int link_flags(size_t off, bool tail)
{
	return (off ? 0 : DML_MAP_LINK_HEAD) | (tail ? DML_MAP_LINK_TAIL : 0);
}

int dml__iommu_map_sg(struct dml_device *dev, struct scatterlist *sgl,
		      int nents, enum dma_data_direction dir,
		      unsigned long attrs)
{
	struct dml_domain *d = dev->domain;
	int prot = dml__dir_to_prot(dev, dir, attrs);
	unsigned long mask = dev->seg_boundary_mask;
	bool has_p2p;
	struct pci_p2pdma_map_state st;
	struct dml_sg_p2p p2p;
	struct scatterlist *s, *prev = NULL, *last;
	size_t iova_total = 0, off;
	dml_iova_t iova;
	int i, ret;

	sgl->dma_flags &= ~DML_SG_DMA_SWIOTLB;
	/*
	 * a confidential guest's device that is not accepted: entry by
	 * entry, so dml__iommu_map_phys() bounces each private piece whole
	 * (dma-direct's rule, cc_map_phys() in direct.c)
	 */
	if (unlikely(dev->untrusted || dev->non_coherent || dev->cc_guest) &&
	    (dml__cc_must_bounce(dev, attrs) ||
	     dev_use_sg_swiotlb(dev, sgl, nents, dir)))
		return map_sg_swiotlb(dev, sgl, nents, dir, attrs);

	dml__sg_p2p_init(&p2p, &st, dev, sgl, nents);
	/* pass 1: each entry's footprint, boundary padding, total IOVA */
	for_each_sg(sgl, s, nents, i) {
		size_t pad = iova_offset(d, sg_phys(s));
		size_t s_len = iova_align(d, (size_t)s->length + pad);
		size_t pad_len = (mask - iova_total + 1) & mask;

		if (!s->length) {
			ret = -EINVAL;
			goto err_restore;
		}
		switch (dml__sg_p2p_state(&p2p, dev, s)) {
		case PCI_P2PDMA_MAP_NONE:
		case PCI_P2PDMA_MAP_THRU_HOST_BRIDGE:	/* IOMMU_MMIO in pass 2 */
			break;
		case PCI_P2PDMA_MAP_BUS_ADDR:
			/* no IOVA: finalise_sg() passes it through */
			sg_dma_address(s) = pci_p2pdma_bus_addr_map(st.mem,
								    sg_phys(s));
			sg_dma_len(s) = s->length;
			sg_dma_mark_bus_address(s);
			continue;
		default:
			ret = -EREMOTEIO;
			goto err_restore;
		}
		/*
		 * The single allocation is size-aligned, so a segment that
		 * would straddle a boundary is moved to the next one by
		 * growing the previous entry's footprint (not mapped).
		 */
		if (pad_len && pad_len < s_len - 1) {
			sg_dma_len(prev) += (unsigned int)pad_len;
			iova_total += pad_len;
		}
		sg_dma_address(s) = pad;
		sg_dma_len(s) = (unsigned int)s_len;
		iova_total += s_len;
		prev = s;
	}
	if (!iova_total)	/* bus addresses only, each in place: no IOMMU */
		return nents;
	last = prev;		/* the last entry mapped: the link's tail */
	has_p2p = dml__sg_has_p2p(sgl);
	if (unlikely(dev->non_coherent) && !(attrs & DMA_ATTR_SKIP_CPU_SYNC))
		sync_sg_phys(dev, sgl, nents, dir, false);

	iova = dml__iommu_alloc_iova(dev, d, iova_total);
	if (!iova) {
		ret = -ENOMEM;
		goto err_restore;
	}

	/* pass 2: map each entry at its slot, no sync */
	off = 0;
	for_each_sg(sgl, s, nents, i) {
		size_t pad = (size_t)sg_dma_address(s);
		size_t map_len = iova_align(d, (size_t)s->length + pad);

		if (unlikely(has_p2p) && dml__sg_is_p2p(s)) {
			if (sg_dma_is_bus_address(s))
				continue;
			/* through the host bridge: a BAR, IOMMU_MMIO */
			ret = d->ops->map(d, iova + off, sg_phys(s) - pad,
					  map_len,
					  dml__dir_to_prot(dev, dir,
							   attrs | DMA_ATTR_MMIO),
					  link_flags(off, s == last));
		} else {
			ret = d->ops->map(d, iova + off, sg_phys(s) - pad,
					  map_len, prot,
					  link_flags(off, s == last));
		}
		if (ret) {
			ret = ret == -EINVAL ? -EINVAL : -ENOMEM;
			goto err_unmap;
		}
		off += sg_dma_len(s);
	}
	if (d->ops->iotlb_sync_map) {
		ret = d->ops->iotlb_sync_map(d, iova, iova_total);
		if (ret)
			goto err_unmap;
	}
	return finalise_sg(dev, sgl, nents, (dma_addr_t)iova);

err_unmap:
	if (off) {
		size_t unmapped;

		d->ops->unmap(d, iova, off, 0, &unmapped);
		d->ops->iotlb_sync(d, iova, off);
	}
	dml__iommu_free_iova(d, iova, iova_total);
err_restore:
	for_each_sg(sgl, s, nents, i) {
		sg_dma_address(s) = DMA_MAPPING_ERROR;
		sg_dma_len(s) = 0;
	}
	if (dml__sg_has_p2p(sgl))
		dml__sg_p2p_clear(sgl, nents);
	return ret;
}

void dml__iommu_unmap_sg(struct dml_device *dev, struct scatterlist *sgl,
			 int nents, enum dma_data_direction dir,
			 unsigned long attrs)
{
	struct dml_domain *d = dev->domain;
	bool p2p = dml__sg_has_p2p(sgl);
	dma_addr_t start, end = 0;
	struct scatterlist *s;
	int i, nr_bus = 0;
	size_t len;

	if (sgl->dma_flags & DML_SG_DMA_SWIOTLB) {
		unmap_sg_swiotlb(dev, sgl, nents, dir, attrs);
		return;
	}
	if (unlikely(dev->non_coherent) && !(attrs & DMA_ATTR_SKIP_CPU_SYNC))
		sync_sg_phys(dev, sgl, nents, dir, true);
	/*
	 * The DMA segments are in order inside one allocation, bus addresses
	 * aside: those were never mapped (iommu_dma_unmap_sg()).
	 */
	start = DMA_MAPPING_ERROR;
	for_each_sg(sgl, s, nents, i) {
		if (!sg_dma_len(s))
			break;
		if (unlikely(p2p) && sg_dma_is_bus_address(s)) {
			nr_bus++;
			continue;
		}
		if (start == DMA_MAPPING_ERROR)
			start = sg_dma_address(s);
		end = sg_dma_address(s) + sg_dma_len(s);
	}
	if (unlikely(p2p))
		dml__sg_p2p_clear(sgl, nents);
	if (start == DMA_MAPPING_ERROR) {
		if (!nr_bus)
			dml__warn("%s: dma_unmap_sg of an unmapped list", dev->name);
		return;
	}
	start = ALIGN_DOWN(start, (dma_addr_t)d->granule);
	len = iova_align(d, (size_t)(end - start));
	/* boundary padding left holes: unmap without the exact rule */
	dml__iommu_unmap_and_free(d, start, len, len, 0);
}
