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
 * Unlink granularity: a link is recorded by the backend (DML_MAP_LINK_HEAD)
 * and unlink/destroy may only remove whole links (DML_UNMAP_EXACT), as
 * VFIO type1 enforces: a refused unlink changes nothing.
 *
 * Locking: none here; the IOVA allocator and the backend's page table are
 * safe for concurrent calls on disjoint ranges.
 */
#include "dma.h"

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
 * iommu_dma_alloc_iova(): @size bytes (granule aligned) below the device's
 * limit; PCI devices try below 4 GiB first until that fails once.
 * Return: the IOVA, or 0.
 */
static dml_iova_t alloc_iova(struct dml_device *dev, struct dml_domain *d,
			     size_t size)
{
	unsigned int shift = d->granule_shift;
	unsigned long len = iova_len(d, size), pfn;
	u64 limit = dev->dma_mask;

	if (dev->bus_dma_limit && dev->bus_dma_limit < limit)
		limit = dev->bus_dma_limit;
	if (d->aperture_end < limit)
		limit = d->aperture_end;

	if (atomic_load_explicit(&dev->pci_32bit_workaround, memory_order_relaxed) &&
	    limit > DMA_BIT_MASK(32)) {
		pfn = dml__iova_alloc(d->iovad, len, DMA_BIT_MASK(32) >> shift, true);
		if (pfn)
			return (dml_iova_t)pfn << shift;
		if (atomic_exchange(&dev->pci_32bit_workaround, false))
			dml__info("%s: Using %u-bit DMA addresses", dev->name,
				  dml__fls64(limit));
	}
	pfn = dml__iova_alloc(d->iovad, len, (unsigned long)(limit >> shift), true);
	return (dml_iova_t)pfn << shift;
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

dma_addr_t dml__iommu_map_phys(struct dml_device *dev, phys_addr_t phys,
			       size_t size, enum dma_data_direction dir,
			       unsigned long attrs)
{
	struct dml_domain *d = dev->domain;
	size_t pad = iova_offset(d, phys), len;
	dml_iova_t iova;
	int ret;

	if (size > SIZE_MAX - pad - d->granule)
		return DMA_MAPPING_ERROR;
	len = iova_align(d, size + pad);
	iova = alloc_iova(dev, d, len);
	if (!iova)
		return DMA_MAPPING_ERROR;
	ret = d->ops->map(d, iova, phys - pad, len,
			  dml__dir_to_prot(dev, dir, attrs), DML_MAP_LINK_HEAD);
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

void dml__iommu_unmap_phys(struct dml_device *dev, dma_addr_t addr,
			   size_t size, enum dma_data_direction dir,
			   unsigned long attrs)
{
	struct dml_domain *d = dev->domain;
	size_t pad = iova_offset(d, addr), len;

	(void)dir;
	(void)attrs;
	if (addr == DMA_MAPPING_ERROR || size > SIZE_MAX - pad - d->granule) {
		dml__warn("%s: dma_unmap_phys of an invalid address %#llx+%zu",
			  dev->name, (unsigned long long)addr, size);
		return;
	}
	len = iova_align(d, size + pad);
	if (unmap_and_free(d, addr - pad, len, len, DML_UNMAP_EXACT))
		dml__warn("%s: dma_unmap_phys: [%#llx, +%zu) is not a mapping; nothing unmapped",
			  dev->name, (unsigned long long)addr, size);
}

/* ------------------------------------------------------------------ */
/* scatterlists (iommu_dma_map_sg)                                     */
/* ------------------------------------------------------------------ */

/*
 * After the first pass every entry holds, in its DMA fields, its pad
 * (dma_address) and its IOVA footprint (dma_length: iova_align(pad +
 * length) plus any boundary padding).  finalise_sg() turns those into DMA
 * segments in place, merging entries that abut on granule boundaries
 * within max_segment_size and never starting a merge on a segment
 * boundary (__finalise_sg).
 */
static int finalise_sg(struct dml_device *dev, struct scatterlist *sgl,
		       int nents, dma_addr_t dma_addr)
{
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

int dml__iommu_map_sg(struct dml_device *dev, struct scatterlist *sgl,
		      int nents, enum dma_data_direction dir,
		      unsigned long attrs)
{
	struct dml_domain *d = dev->domain;
	int prot = dml__dir_to_prot(dev, dir, attrs);
	unsigned long mask = dev->seg_boundary_mask;
	struct scatterlist *s, *prev = NULL;
	size_t iova_total = 0, off;
	dml_iova_t iova;
	int i, ret;

	/* pass 1: each entry's footprint, boundary padding, total IOVA */
	for_each_sg(sgl, s, nents, i) {
		size_t pad = iova_offset(d, sg_phys(s));
		size_t s_len = iova_align(d, (size_t)s->length + pad);
		size_t pad_len = (mask - iova_total + 1) & mask;

		if (!s->length)
			return -EINVAL;
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

		ret = d->ops->map(d, iova + off, sg_phys(s) - pad, map_len, prot,
				  i ? 0 : DML_MAP_LINK_HEAD);
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
	return ret;
}

void dml__iommu_unmap_sg(struct dml_device *dev, struct scatterlist *sgl,
			 int nents, enum dma_data_direction dir,
			 unsigned long attrs)
{
	struct dml_domain *d = dev->domain;
	dma_addr_t start = sg_dma_address(sgl), end = start;
	struct scatterlist *s;
	size_t len;
	int i;

	(void)dir;
	(void)attrs;
	/* the DMA segments are in order inside one allocation */
	for_each_sg(sgl, s, nents, i) {
		if (!sg_dma_len(s))
			break;
		end = sg_dma_address(s) + sg_dma_len(s);
	}
	if (start == DMA_MAPPING_ERROR || end == start) {
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

int dml__iommu_iova_link(struct dml_device *dev, struct dma_iova_state *state,
			 phys_addr_t phys, size_t offset, size_t size,
			 enum dma_data_direction dir, unsigned long attrs)
{
	struct dml_domain *d = dev->domain;
	dml_iova_t base, iova;
	size_t pad, res_len, len;

	if (!dma_use_iova(state) || !dml__valid_dir(dir) ||
	    !state_fits(state, offset, size))
		return -EINVAL;
	pad = iova_offset(d, phys);
	if (pad && offset) {
		dml__warn_once("dma_iova_link: unaligned phys %#llx at offset %zu",
			       (unsigned long long)phys, offset);
		return -EIO;
	}
	state_range(d, state, &base, &res_len);
	iova = state->addr + offset - pad;
	len = iova_align(d, size + pad);
	/* the rounded mapping must stay granule aligned and inside */
	if (iova_offset(d, iova) || iova < base || iova - base + len > res_len)
		return -EINVAL;
	return d->ops->map(d, iova, phys - pad, len,
			   dml__dir_to_prot(dev, dir, attrs), DML_MAP_LINK_HEAD);
}

int dml__iommu_iova_sync(struct dml_device *dev, struct dma_iova_state *state,
			 size_t offset, size_t size)
{
	struct dml_domain *d = dev->domain;
	dml_iova_t addr;

	if (!dma_use_iova(state) || !state_fits(state, offset, size))
		return -EINVAL;
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
	dml_iova_t iova;
	size_t len, unmapped;
	int ret;

	(void)dir;
	(void)attrs;
	if (!dma_use_iova(state) || !state_fits(state, offset, size))
		return -EINVAL;
	link_range(d, state, offset, size, &iova, &len);
	ret = d->ops->unmap(d, iova, len, DML_UNMAP_EXACT, &unmapped);
	if (ret == -ENOENT)
		dml__warn("%s: dma_iova_unlink of [%zu, +%zu) is not made of whole links; nothing unlinked",
			  dev->name, offset, size);
	if (ret)
		return ret;
	/* synchronous: the IOVA may be relinked at once */
	d->ops->iotlb_sync(d, iova, len);
	return 0;
}

void dml__iommu_iova_destroy(struct dml_device *dev,
			     struct dma_iova_state *state, size_t mapped_len,
			     enum dma_data_direction dir, unsigned long attrs)
{
	struct dml_domain *d = dev->domain;
	dml_iova_t iova, base;
	size_t len, res_len;

	(void)dir;
	(void)attrs;
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
	if (unmap_and_free(d, iova, len, res_len, DML_UNMAP_EXACT)) {
		dml__warn("%s: dma_iova_destroy of [0, +%zu) is not made of whole links; nothing destroyed",
			  dev->name, mapped_len);
		return;
	}
	state->addr = 0;
	state->__size = 0;
}
