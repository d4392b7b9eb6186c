/* SPDX-License-Identifier: MIT */
/*
 * dma-iommu.c - the DMA API for devices behind an IOMMU
 * (drivers/iommu/dma-iommu.c; ref §1, §2): IOVA allocation with the
 * kernel's rounding and 32-bit-first rule, dma_map_phys, the scatterlist
 * path that maps a whole list into one IOVA allocation with one sync, and
 * the two-step API (dma_iova_*).
 *
 * Terms: granule = the domain's smallest page size; pad = offset of an
 * address within its granule; iova_align(x) = x rounded up to a granule.
 * Everything here talks to the backend only through d->ops (domain.h).
 *
 * Unlink granularity: a link's first and last mappings are marked in the
 * backend (DML_MAP_LINK_HEAD, DML_MAP_LINK_TAIL) and unlink/destroy may
 * only remove whole links (DML_UNMAP_EXACT), as VFIO type1 enforces: a
 * refused unlink changes nothing.
 *
 * Locking: none here; the IOVA allocator and the backend's page table are
 * safe for concurrent calls on disjoint ranges.
 *
 * Long file: like drivers/iommu/dma-iommu.c it keeps the single, sg and
 * two-step paths together, since all three share the IOVA allocation,
 * bounce and cache-maintenance helpers above them; split it along those
 * paths when it grows further.
 */
#include <string.h>

#include "p2p.h"
#include "swiotlb.h"
#include "../mem/cache.h"

static inline size_t iova_offset(const struct dml_domain *d, u64 x)
{
	return (size_t)(x & (d->granule - 1));
}

static inline size_t iova_align(const struct dml_domain *d, size_t x)
{
	return ALIGN(x, (size_t)d->granule);
}

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
static dml_iova_t alloc_iova(struct dml_device *dev, struct dml_domain *d,
			     size_t size)
{
	return alloc_iova_mask(dev, d, size, dev->dma_mask);
}

static void free_iova(struct dml_domain *d, dml_iova_t iova, size_t size)
{
	dml__iova_free(d->iovad, (unsigned long)(iova >> d->granule_shift),
		       iova_len(d, size));
}

/*
 * __iommu_dma_unmap(): unmap whole mappings at [iova, +size), then either
 * invalidate and free now (strict) or queue the IOVA for the next batched
 * flush (lazy).  @exact: refuse ranges not made of whole mappings.
 */
static int unmap_and_free(struct dml_domain *d, dml_iova_t iova, size_t size,
			  size_t free_size, unsigned int flags)
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
	free_iova(d, iova, free_size);
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
	free_iova(d, iova, len);
	return DMA_MAPPING_ERROR;
}

/*
 * iommu_dma_map_swiotlb(): bounce [phys, +size) into a buffer with the same
 * offset in its granule (alloc_align_mask = granule - 1), and for an
 * untrusted device zero the rest of the buffer's granules so the device
 * sees no stale data.  On a non-coherent device the zeroed padding is
 * cleaned too (the caller cleans the data).
 */
static phys_addr_t map_swiotlb(struct dml_device *dev, phys_addr_t phys,
			       size_t size, enum dma_data_direction dir,
			       unsigned long attrs, unsigned int min_align_mask)
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

/*
 * dev_use_swiotlb(): an untrusted device, or a buffer of @size that a
 * non-coherent device's cache maintenance could corrupt
 * (dma_kmalloc_needs_bounce()); the caller bounces only what is not
 * granule aligned.
 */
static inline bool dev_use_swiotlb(struct dml_device *dev, size_t size,
				   enum dma_data_direction dir)
{
	return dev->untrusted ||
	       (dev->non_coherent && dml__dma_kmalloc_needs_bounce(dev, size, dir));
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
		phys = map_swiotlb(dev, phys, size, dir, attrs,
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
	 * only these devices can have a cache to sync or a bounce buffer (a
	 * confidential guest's device bounces while it is not accepted)
	 */
	if (unlikely(dev->untrusted || dev->non_coherent || dev->cc_guest) &&
	    !(attrs & DMA_ATTR_MMIO)) {
		phys = d->ops->iova_to_phys(d, (dml_iova_t)addr);
		if (phys && dev->non_coherent && !(attrs & DMA_ATTR_SKIP_CPU_SYNC))
			dml__arch_sync_dma_for_cpu(dev->plat, phys, size, dir);
	}
	len = iova_align(d, size + pad);
	if (unmap_and_free(d, addr - pad, len, len, DML_UNMAP_EXACT)) {
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

	iova = alloc_iova(dev, d, iova_total);
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
	free_iova(d, iova, iova_total);
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
	unmap_and_free(d, start, len, len, 0);
}

/* ------------------------------------------------------------------ */
/* The two-step API                                                    */
/* ------------------------------------------------------------------ */

/* the reservation behind @state: [*base, *base + *len) */
static void state_range(const struct dml_domain *d,
			const struct dma_iova_state *state, dml_iova_t *base,
			size_t *len)
{
	size_t pad = iova_offset(d, state->addr);

	*base = state->addr - pad;
	*len = iova_align(d, dma_iova_size(state) + pad);
}

/* [offset, offset + size) inside the requested size of @state? */
static bool state_fits(const struct dma_iova_state *state, size_t offset,
		       size_t size)
{
	size_t total = dma_iova_size(state);

	return size && offset < total && size <= total - offset;
}

bool dml__iommu_iova_try_alloc(struct dml_device *dev,
			       struct dma_iova_state *state, phys_addr_t phys,
			       size_t size)
{
	struct dml_domain *d = dev->domain;
	dml_iova_t iova;
	size_t pad;

	if (!size) {
		dml__warn_once("dma_iova_try_alloc: size 0");
		return false;
	}
	if ((u64)size & DMA_IOVA_USE_SWIOTLB) {
		dml__warn_once("dma_iova_try_alloc: size %#zx has bit 63 set", size);
		return false;
	}
	pad = iova_offset(d, phys);
	if (size > SIZE_MAX - pad - d->granule)
		return false;
	iova = alloc_iova(dev, d, iova_align(d, size + pad));
	if (!iova)
		return false;
	state->addr = (dma_addr_t)(iova + pad);
	state->__size = size;
	return true;
}

/* Is any granule of [base, +len) still mapped? */
static bool range_has_mappings(struct dml_domain *d, dml_iova_t base, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += d->granule)
		if (d->ops->iova_to_phys(d, base + off))
			return true;
	return false;
}

void dml__iommu_iova_free(struct dml_device *dev, struct dma_iova_state *state)
{
	struct dml_domain *d = dev->domain;
	dml_iova_t base;
	size_t len;

	if (!dma_use_iova(state))
		return;
	state_range(d, state, &base, &len);
	/* ref §9.10: freeing with links outstanding would leak PTEs */
	if (range_has_mappings(d, base, len)) {
		dml__warn("%s: dma_iova_free of [%#llx, +%zu) with links outstanding; reservation kept",
			  dev->name, (unsigned long long)base, len);
		return;
	}
	free_iova(d, base, len);
	/* a freed state reads as unallocated: a later link is -EINVAL */
	state->addr = 0;
	state->__size = 0;
}

/*
 * The swiotlb side of unlink (iommu_dma_iova_unlink_range_slow): before
 * the unmap, walk [addr, +size) granule by granule, invalidate the CPU
 * cache (non-coherent devices) and note the bounce buffers met; after the
 * unmap succeeded, release_bounced() copies them back (FROM_DEVICE,
 * BIDIRECTIONAL) and frees them.  Nothing is freed if the unmap is
 * refused, so a refused unlink leaves every mapping and buffer in place.
 */
struct bounced {
	phys_addr_t phys;
	size_t len;
};

#define BOUNCED_ON_STACK 16

/* Return: bounce buffers met (only the first @max are stored) */
static unsigned int unlink_slow_walk(struct dml_device *dev, dma_addr_t addr,
				     size_t size, enum dma_data_direction dir,
				     unsigned long attrs, struct bounced *bb,
				     unsigned int max)
{
	struct dml_domain *d = dev->domain;
	dma_addr_t end = addr + size;
	unsigned int n = 0;

	while (addr < end) {
		size_t len = min((size_t)(end - addr),
				 d->granule - iova_offset(d, addr));
		phys_addr_t phys = d->ops->iova_to_phys(d, (dml_iova_t)addr);

		if (!phys)
			break;	/* not all linked: the unmap will refuse */
		if (dev->non_coherent &&
		    !(attrs & (DMA_ATTR_SKIP_CPU_SYNC | DMA_ATTR_MMIO)))
			dml__arch_sync_dma_for_cpu(dev->plat, phys, len, dir);
		if (dml__is_swiotlb_buffer(dev->plat, phys)) {
			if (n < max) {
				bb[n].phys = phys;
				bb[n].len = len;
			}
			n++;
		}
		addr += len;
	}
	return n;
}

/*
 * The bounce buffers of [addr, +size) in *@bbp (@stack, or an allocation
 * when there are more than BOUNCED_ON_STACK).  Return: how many, or -1
 * when the list could not be allocated (nothing must change then).
 */
static int unlink_prepare(struct dml_device *dev, struct dma_iova_state *state,
			  dma_addr_t addr, size_t size,
			  enum dma_data_direction dir, unsigned long attrs,
			  struct bounced *stack, struct bounced **bbp)
{
	unsigned int n;

	*bbp = stack;
	if (!(state->__size & DMA_IOVA_USE_SWIOTLB) &&
	    !(dev->non_coherent &&
	      !(attrs & (DMA_ATTR_SKIP_CPU_SYNC | DMA_ATTR_MMIO))))
		return 0;
	n = unlink_slow_walk(dev, addr, size, dir, attrs, stack,
			     BOUNCED_ON_STACK);
	if (n <= BOUNCED_ON_STACK)
		return (int)n;
	*bbp = dml__zalloc(n * sizeof(**bbp));
	if (!*bbp)
		return -1;
	return (int)unlink_slow_walk(dev, addr, size, dir, attrs, *bbp, n);
}

static void release_bounced(struct dml_device *dev, struct bounced *bb,
			    int n, struct bounced *stack,
			    enum dma_data_direction dir, unsigned long attrs)
{
	int i;

	for (i = 0; i < n; i++)
		dml__swiotlb_tbl_unmap_single(dev, bb[i].phys, bb[i].len, dir,
					      attrs);
	if (bb != stack)
		dml__free(bb);
}

/*
 * iommu_dma_iova_bounce_and_link(): bounce [phys, +len) into whole
 * granules (alloc_align_mask = granule - 1; the bits of @phys under the
 * device's min_align_mask are kept) and map the bounce buffer's granules
 * at IOVA @addr - @pad.  If the mask does not keep @pad the mapping is
 * misaligned and the IOMMU refuses it, as in the kernel.
 */
static int bounce_and_link(struct dml_device *dev, dml_iova_t addr,
			   phys_addr_t phys, size_t len, size_t pad,
			   enum dma_data_direction dir, unsigned long attrs,
			   unsigned int flags)
{
	struct dml_domain *d = dev->domain;
	size_t map_len = iova_align(d, len + pad);
	phys_addr_t bphys;
	int ret;

	bphys = map_swiotlb(dev, phys, len, dir, attrs, dev->min_align_mask);
	if (bphys == (phys_addr_t)DMA_MAPPING_ERROR)
		return -ENOMEM;
	if (dev->non_coherent && !(attrs & DMA_ATTR_SKIP_CPU_SYNC))
		dml__arch_sync_dma_for_device(dev->plat, bphys, len, dir);
	ret = d->ops->map(d, addr - pad, bphys - pad, map_len,
			  dml__dir_to_prot(dev, dir, attrs), flags);
	if (ret)
		dml__swiotlb_tbl_unmap_single(dev, bphys, len, dir,
					      attrs | DMA_ATTR_SKIP_CPU_SYNC);
	return ret;
}

/*
 * iommu_dma_iova_link_swiotlb(): an untrusted device's unaligned range is
 * linked as a bounced head (the partial first granule), the aligned
 * middle, and a bounced tail (the partial last granule).  Only the first
 * piece is a link head, so the caller still unlinks one link.  On a
 * failure what this call linked is unlinked (and its bounce buffers
 * freed) before returning.
 */
static int iova_link_swiotlb(struct dml_device *dev,
			     struct dma_iova_state *state, phys_addr_t phys,
			     size_t offset, size_t size,
			     enum dma_data_direction dir, unsigned long attrs)
{
	struct dml_domain *d = dev->domain;
	size_t start_pad = iova_offset(d, phys);
	size_t end_pad = iova_offset(d, phys + size);
	dml_iova_t addr = state->addr + offset;
	unsigned int flags = DML_MAP_LINK_HEAD;
	size_t mapped = 0, len, unmapped;
	struct bounced stack[2], *bb;
	int ret, n;

	if (!dml__swiotlb_active(dev->plat)) {
		dml__warn_once("%s: DMA bounce buffers are inactive, unable to map unaligned transaction.",
			       dev->name);
		return -ENOMEM;
	}
	if (start_pad) {
		len = min(size, d->granule - start_pad);
		ret = bounce_and_link(dev, addr, phys, len, start_pad, dir,
				      attrs, flags |
				      (len == size ? DML_MAP_LINK_TAIL : 0));
		if (ret)
			return ret;
		state->__size |= DMA_IOVA_USE_SWIOTLB;
		flags = 0;
		mapped = len;
		if (mapped == size)
			return 0;
	}
	len = size - mapped - end_pad;
	if (len) {
		if (dev->non_coherent && !(attrs & DMA_ATTR_SKIP_CPU_SYNC))
			dml__arch_sync_dma_for_device(dev->plat, phys + mapped,
						      len, dir);
		ret = d->ops->map(d, addr + mapped, phys + mapped, len,
				  dml__dir_to_prot(dev, dir, attrs),
				  flags | (end_pad ? 0 : DML_MAP_LINK_TAIL));
		if (ret)
			goto err_unlink;
		flags = 0;
		mapped += len;
	}
	if (end_pad) {
		ret = bounce_and_link(dev, addr + mapped, phys + mapped,
				      end_pad, 0, dir, attrs,
				      flags | DML_MAP_LINK_TAIL);
		if (ret)
			goto err_unlink;
		state->__size |= DMA_IOVA_USE_SWIOTLB;
	}
	return 0;

err_unlink:
	if (!mapped)
		return ret;
	/* at most the head buffer: the tail is the piece that failed */
	n = (int)unlink_slow_walk(dev, addr, mapped, dir,
				  attrs | DMA_ATTR_SKIP_CPU_SYNC, stack, 2);
	bb = stack;
	len = iova_align(d, mapped + start_pad);
	if (!DML_WARN_ON(d->ops->unmap(d, addr - start_pad, len,
				       DML_UNMAP_EXACT, &unmapped))) {
		d->ops->iotlb_sync(d, addr - start_pad, len);
		release_bounced(dev, bb, min(n, 2), stack, dir,
				attrs | DMA_ATTR_SKIP_CPU_SYNC);
	}
	return ret;
}

/*
 * The refusals of dml__iommu_iova_link(), out of line: which error a link
 * that failed the one combined check gets, in the kernel's order.
 */
static __attribute__((noinline, cold)) int
iova_link_refuse(const struct dma_iova_state *state, phys_addr_t phys,
		 size_t offset, size_t size, enum dma_data_direction dir,
		 size_t pad)
{
	if (!dma_use_iova(state) || !dml__valid_dir(dir) ||
	    !state_fits(state, offset, size))
		return -EINVAL;
	if (pad && offset) {
		dml__warn_once("dma_iova_link: unaligned phys %#llx at offset %zu",
			       (unsigned long long)phys, offset);
		return -EIO;
	}
	return -EINVAL;		/* the rounded link would not be granule aligned */
}

/*
 * The links that need more than a page-table fill, out of line: the
 * DMA_ATTR_REQUIRE_COHERENT refusals, an unaligned range that must bounce
 * (dev_use_swiotlb() && iova_unaligned(): bounce head and tail) and a
 * non-coherent device's cache maintenance before the device may read.
 * Only an untrusted or non-coherent device can bounce, so a coherent,
 * trusted one never needs this.
 */
static __attribute__((noinline)) int
iova_link_slow(struct dml_device *dev, struct dma_iova_state *state,
	       phys_addr_t phys, size_t offset, size_t size,
	       enum dma_data_direction dir, unsigned long attrs)
{
	struct dml_domain *d = dev->domain;
	size_t pad = iova_offset(d, phys), len = iova_align(d, size + pad);

	if (attrs & DMA_ATTR_REQUIRE_COHERENT) {
		/* an earlier link bounced, which this one forbids */
		if (state->__size & DMA_IOVA_USE_SWIOTLB) {
			dml__warn_once("%s: dma_iova_link: DMA_ATTR_REQUIRE_COHERENT on a bounced state",
				       dev->name);
			return -EOPNOTSUPP;
		}
		if (dev->non_coherent)
			return -EOPNOTSUPP;
	}
	/* a confidential guest: private memory a link cannot bounce whole */
	if (dml__cc_must_bounce(dev, attrs))
		return -EPERM;
	if (iova_offset(d, phys | size) && dev_use_swiotlb(dev, size, dir)) {
		if (attrs & (DMA_ATTR_MMIO | DMA_ATTR_REQUIRE_COHERENT))
			return -EPERM;
		return iova_link_swiotlb(dev, state, phys, offset, size, dir,
					 attrs);
	}
	if (dev->non_coherent &&
	    !(attrs & (DMA_ATTR_SKIP_CPU_SYNC | DMA_ATTR_MMIO)))
		dml__arch_sync_dma_for_device(dev->plat, phys - pad, len, dir);
	return d->ops->map(d, state->addr + offset - pad, phys - pad, len,
			   dml__dir_to_prot(dev, dir, attrs), DML_MAP_LINK);
}

/*
 * The common case is one range check and one page-table fill.  The range
 * check: [offset, +size) inside the requested size, and the granule-rounded
 * link starting on a granule (phys has the state's pad at offset 0, no pad
 * after).  Together they keep the rounded link inside the reservation:
 * at offset 0 it starts at the reservation's base and ends by
 * iova_align(size + pad) <= iova_align(total + pad); further on it ends by
 * iova_align(pad + offset + size) <= the reservation's length.
 */
int dml__iommu_iova_link(struct dml_device *dev, struct dma_iova_state *state,
			 phys_addr_t phys, size_t offset, size_t size,
			 enum dma_data_direction dir, unsigned long attrs)
{
	struct dml_domain *d = dev->domain;
	size_t pad = iova_offset(d, phys);
	dml_iova_t iova = state->addr + offset - pad;

	if (unlikely(!dma_use_iova(state) || !dml__valid_dir(dir) ||
		     !state_fits(state, offset, size) || (pad && offset) ||
		     iova_offset(d, iova)))
		return iova_link_refuse(state, phys, offset, size, dir, pad);
	if (unlikely(dev->untrusted | dev->non_coherent | dev->cc_guest))
		return iova_link_slow(dev, state, phys, offset, size, dir, attrs);
	return d->ops->map(d, iova, phys - pad, iova_align(d, size + pad),
			   dml__dir_to_prot(dev, dir, attrs), DML_MAP_LINK);
}

int dml__iommu_iova_sync(struct dml_device *dev, struct dma_iova_state *state,
			 size_t offset, size_t size)
{
	struct dml_domain *d = dev->domain;
	dml_iova_t addr;

	if (!dma_use_iova(state) || !state_fits(state, offset, size))
		return -EINVAL;
	/* complete the cache maintenance every link issued, once */
	if (unlikely(dev->non_coherent))
		dml__arch_sync_dma_flush(dev->plat);
	if (!d->ops->iotlb_sync_map)
		return 0;
	addr = state->addr + offset;
	return d->ops->iotlb_sync_map(d, ALIGN_DOWN(addr, (dml_iova_t)d->granule),
				      iova_align(d, size + iova_offset(d, addr)));
}

/* the granule-rounded IOVA range of [offset, +size) of @state */
static void link_range(const struct dml_domain *d,
		       const struct dma_iova_state *state, size_t offset,
		       size_t size, dml_iova_t *iova, size_t *len)
{
	dml_iova_t addr = state->addr + offset;

	*iova = ALIGN_DOWN(addr, (dml_iova_t)d->granule);
	*len = iova_align(d, size + iova_offset(d, addr));
}

int dml__iommu_iova_unlink(struct dml_device *dev, struct dma_iova_state *state,
			   size_t offset, size_t size,
			   enum dma_data_direction dir, unsigned long attrs)
{
	struct dml_domain *d = dev->domain;
	struct bounced stack[BOUNCED_ON_STACK], *bb;
	dml_iova_t iova;
	size_t len, unmapped;
	int ret, n;

	if (!dma_use_iova(state) || !state_fits(state, offset, size))
		return -EINVAL;
	link_range(d, state, offset, size, &iova, &len);
	n = unlink_prepare(dev, state, state->addr + offset, size, dir, attrs,
			   stack, &bb);
	if (n < 0)
		return -ENOMEM;
	ret = d->ops->unmap(d, iova, len, DML_UNMAP_EXACT, &unmapped);
	if (ret == -ENOENT)
		dml__warn("%s: dma_iova_unlink of [%zu, +%zu) is not made of whole links; nothing unlinked",
			  dev->name, offset, size);
	if (ret) {
		release_bounced(dev, bb, 0, stack, dir, attrs);
		return ret;
	}
	/* synchronous: the IOVA may be relinked at once */
	d->ops->iotlb_sync(d, iova, len);
	/* the device lost the range: copy bounce buffers back, free them */
	release_bounced(dev, bb, n, stack, dir, attrs);
	return 0;
}

void dml__iommu_iova_destroy(struct dml_device *dev,
			     struct dma_iova_state *state, size_t mapped_len,
			     enum dma_data_direction dir, unsigned long attrs)
{
	struct dml_domain *d = dev->domain;
	struct bounced stack[BOUNCED_ON_STACK], *bb;
	dml_iova_t iova, base;
	size_t len, res_len;
	int n;

	if (!mapped_len) {
		dml__iommu_iova_free(dev, state);
		return;
	}
	if (!dma_use_iova(state) || !state_fits(state, 0, mapped_len)) {
		dml__warn("dma_iova_destroy: invalid state or length %zu", mapped_len);
		return;
	}
	link_range(d, state, 0, mapped_len, &iova, &len);
	state_range(d, state, &base, &res_len);
	n = unlink_prepare(dev, state, state->addr, mapped_len, dir, attrs,
			   stack, &bb);
	if (n < 0) {
		dml__warn("%s: dma_iova_destroy: no memory to list the bounce buffers; nothing destroyed",
			  dev->name);
		return;
	}
	if (unmap_and_free(d, iova, len, res_len, DML_UNMAP_EXACT)) {
		dml__warn("%s: dma_iova_destroy of [0, +%zu) is not made of whole links; nothing destroyed",
			  dev->name, mapped_len);
		release_bounced(dev, bb, 0, stack, dir, attrs);
		return;
	}
	release_bounced(dev, bb, n, stack, dir, attrs);
	state->addr = 0;
	state->__size = 0;
}
