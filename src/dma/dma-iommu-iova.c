/* SPDX-License-Identifier: MIT */
/*
 * dma-iommu-iova.c - the two-step API for devices behind an IOMMU
 * (drivers/iommu/dma-iommu.c: dma_iova_try_alloc, dma_iova_link,
 * dma_iova_sync, dma_iova_unlink, dma_iova_destroy, dma_iova_free; ref
 * §2): one IOVA reservation per transaction, ranges linked into it
 * without a sync, one IOTLB sync, whole links unlinked.
 *
 * Unlink granularity: a link's first and last mappings are marked in the
 * backend (DML_MAP_LINK_HEAD, DML_MAP_LINK_TAIL) and unlink/destroy may
 * only remove whole links (DML_UNMAP_EXACT), as VFIO type1 enforces: a
 * refused unlink changes nothing.
 *
 * Locking: none here; the IOVA allocator and the backend's page table are
 * safe for concurrent calls on disjoint ranges.
 */
#include "dma-iommu.h"
#include "../mem/cache.h"

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
	iova = dml__iommu_alloc_iova(dev, d, iova_align(d, size + pad));
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
	dml__iommu_free_iova(d, base, len);
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

	bphys = dml__iommu_map_swiotlb(dev, phys, len, dir, attrs, dev->min_align_mask);
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
	if (dml__iommu_unmap_and_free(d, iova, len, res_len, DML_UNMAP_EXACT)) {
		dml__warn("%s: dma_iova_destroy of [0, +%zu) is not made of whole links; nothing destroyed",
			  dev->name, mapped_len);
		release_bounced(dev, bb, 0, stack, dir, attrs);
		return;
	}
	release_bounced(dev, bb, n, stack, dir, attrs);
	state->addr = 0;
	state->__size = 0;
}
