/* SPDX-License-Identifier: MIT */
/*
 * domain.c - the container's DMA domain: struct dml_iommu_ops over VFIO
 * type1 (VFIO_IOMMU_MAP_DMA / VFIO_IOMMU_UNMAP_DMA), and the record of
 * every mapping the container holds.
 *
 * Why a record: type1 cannot split a mapping (an unmap that bisects one
 * fails) and reports nothing about what is mapped.  The record mirrors the
 * kernel exactly: one entry per successful MAP_DMA, removed by the
 * UNMAP_DMA that covers it.  It lets unmap refuse a range that is not made
 * of whole links before asking the kernel (-ENOENT, nothing changed), and
 * answers iova_to_phys.
 *
 * Invariants: the record is sorted by IOVA and its entries never overlap;
 * it changes only after the ioctl succeeded and under the write lock, which
 * is held across the ioctl.  Nothing here maps anything twice, so a failed
 * MAP_DMA leaves nothing behind (type1 unwinds its own partial pinning).
 *
 * IOVA space: aperture = [first valid start, last valid end]; the holes
 * between VFIO's valid ranges are reserved in the allocator, as is the
 * x86 MSI window (dml__domain_init).  c->resv lists what this file
 * reserved, so later narrowing never reserves a pfn twice.
 *
 * IOTLB: the kernel flushes inside MAP/UNMAP_DMA, so iotlb_sync and
 * flush_iotlb_all do nothing and there is no iotlb_sync_map.
 *
 * On this backend phys_addr_t is the process virtual address VFIO pins.
 */
#include <string.h>
#include <sys/ioctl.h>

#include "vfio.h"

#define MSI_WINDOW_START 0xfee00000ULL
#define MSI_WINDOW_END 0xfeefffffULL

static inline struct dml_vfio_domain *to_vd(struct dml_domain *d)
{
	return container_of(d, struct dml_vfio_domain, dom);
}

/* index of the first mapping that ends after @iova (the record is sorted
 * and disjoint, so ends are sorted too) */
static size_t first_ending_after(const struct dml_vfio_domain *vd,
				 dml_iova_t iova)
{
	size_t lo = 0, hi = vd->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct dml_vfio_map *m = &vd->maps[mid];

		if (m->iova + m->size <= iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int record_grow(struct dml_vfio_domain *vd)
{
	struct dml_vfio_map *n;
	size_t cap;

	if (vd->nr < vd->cap)
		return 0;
	cap = vd->cap ? vd->cap * 2 : 64;
	n = dml__zalloc(cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	if (vd->nr)
		memcpy(n, vd->maps, vd->nr * sizeof(*n));
	dml__free(vd->maps);
	vd->maps = n;
	vd->cap = cap;
	return 0;
}

static int vfio_map(struct dml_domain *d, dml_iova_t iova, phys_addr_t phys,
		    size_t size, int prot, unsigned int flags)
{
	struct dml_vfio_domain *vd = to_vd(d);
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.vaddr = (u64)phys,
		.iova = (u64)iova,
		.size = size,
	};
	struct dml_vfio_map *m;
	size_t i;
	int ret;

	if (prot & IOMMU_READ)
		map.flags |= VFIO_DMA_MAP_FLAG_READ;
	if (prot & IOMMU_WRITE)
		map.flags |= VFIO_DMA_MAP_FLAG_WRITE;
	/* type1 has no no-access mappings and no MMIO attribute: a BAR's
	 * mmap is VM_PFNMAP and type1 maps it as such */
	if (!map.flags || !size || iova < d->aperture_start ||
	    iova + size - 1 < iova || iova + size - 1 > d->aperture_end)
		return -EINVAL;

	pthread_rwlock_wrlock(&vd->lock);
	i = first_ending_after(vd, iova);
	if (i < vd->nr && vd->maps[i].iova < iova + size) {
		ret = -EEXIST;
		goto out;
	}
	ret = record_grow(vd);
	if (ret)
		goto out;
	ret = dml__vfio_ioctl(vd->c, vd->c->fd, VFIO_IOMMU_MAP_DMA, &map, true);
	if (ret < 0)
		goto out;
	memmove(&vd->maps[i + 1], &vd->maps[i], (vd->nr - i) * sizeof(*m));
	m = &vd->maps[i];
	m->iova = iova;
	m->size = size;
	m->vaddr = (u64)phys;
	m->prot = prot;
	m->head = flags & DML_MAP_LINK_HEAD;
	vd->nr++;
	vd->mapped_bytes += size;
	vd->map_calls++;
	ret = 0;
out:
	pthread_rwlock_unlock(&vd->lock);
	return ret;
}

/*
 * Which mappings [*first, *last) make up [iova, iova + size)?  Exact:
 * contiguous whole links covering the range exactly.  Otherwise: every
 * mapping that touches the range lies wholly inside it (holes allowed).
 * Return: 0, or -ENOENT.
 */
static int select_maps(struct dml_vfio_domain *vd, dml_iova_t iova, u64 size,
		       bool exact, size_t *first, size_t *last)
{
	dml_iova_t end = iova + size;
	size_t i = first_ending_after(vd, iova), j;

	for (j = i; j < vd->nr && vd->maps[j].iova < end; j++) {
		const struct dml_vfio_map *m = &vd->maps[j];

		if (m->iova < iova || m->iova + m->size > end)
			return -ENOENT;		/* would split a mapping */
		if (exact && m->iova != (j == i ? iova :
			     vd->maps[j - 1].iova + vd->maps[j - 1].size))
			return -ENOENT;		/* a hole */
	}
	*first = i;
	*last = j;
	if (!exact)
		return 0;
	if (i == j || !vd->maps[i].head ||
	    vd->maps[j - 1].iova + vd->maps[j - 1].size != end)
		return -ENOENT;
	/* the link must end here: next mapping absent, apart or a new link */
	if (j < vd->nr && vd->maps[j].iova == end && !vd->maps[j].head)
		return -ENOENT;
	return 0;
}

static int vfio_unmap(struct dml_domain *d, dml_iova_t iova, size_t size,
		      unsigned int flags, size_t *unmapped)
{
	struct dml_vfio_domain *vd = to_vd(d);
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	size_t first, last, k;
	u64 bytes = 0;
	int ret;

	*unmapped = 0;
	if (!size || iova + size - 1 < iova)
		return -ENOENT;
	pthread_rwlock_wrlock(&vd->lock);
	ret = select_maps(vd, iova, size, flags & DML_UNMAP_EXACT, &first, &last);
	if (ret || first == last)
		goto out;
	for (k = first; k < last; k++)
		bytes += vd->maps[k].size;
	/* one ioctl: type1 v2 unmaps every whole mapping inside the range.
	 * Teardown: not a fault-injection site (style C3). */
	unmap.iova = vd->maps[first].iova;
	unmap.size = vd->maps[last - 1].iova + vd->maps[last - 1].size - unmap.iova;
	ret = dml__vfio_ioctl(vd->c, vd->c->fd, VFIO_IOMMU_UNMAP_DMA, &unmap,
			      false);
	if (ret < 0) {
		dml__warn("vfio: VFIO_IOMMU_UNMAP_DMA [%#llx, +%#llx): %s",
			  (unsigned long long)unmap.iova,
			  (unsigned long long)unmap.size, strerror(-ret));
		goto out;
	}
	if (DML_WARN_ON(unmap.size != bytes))
		dml__warn("vfio: unmapped %#llx bytes, the record says %#llx",
			  (unsigned long long)unmap.size, (unsigned long long)bytes);
	memmove(&vd->maps[first], &vd->maps[last],
		(vd->nr - last) * sizeof(vd->maps[0]));
	vd->nr -= last - first;
	vd->mapped_bytes -= bytes;
	vd->unmap_calls++;
	*unmapped = (size_t)bytes;
	ret = 0;
out:
	pthread_rwlock_unlock(&vd->lock);
	return ret;
}

static void vfio_iotlb_sync(struct dml_domain *d, dml_iova_t iova, size_t size)
{
	/* UNMAP_DMA returned after the kernel's IOTLB flush */
	(void)d;
	(void)iova;
	(void)size;
}

static void vfio_flush_iotlb_all(struct dml_domain *d)
{
	(void)d;
}

static phys_addr_t vfio_iova_to_phys(struct dml_domain *d, dml_iova_t iova)
{
	struct dml_vfio_domain *vd = to_vd(d);
	phys_addr_t phys = 0;
	size_t i;

	pthread_rwlock_rdlock(&vd->lock);
	i = first_ending_after(vd, iova);
	if (i < vd->nr && vd->maps[i].iova <= iova)
		phys = (phys_addr_t)(vd->maps[i].vaddr + (iova - vd->maps[i].iova));
	pthread_rwlock_unlock(&vd->lock);
	return phys;
}

static void vfio_domain_free(struct dml_domain *d)
{
	struct dml_vfio_domain *vd = to_vd(d);

	pthread_rwlock_destroy(&vd->lock);
	dml__free(vd->maps);
	dml__free(vd);
}

static const struct dml_iommu_ops vfio_ops = {
	.map = vfio_map,
	.unmap = vfio_unmap,
	.iotlb_sync = vfio_iotlb_sync,
	.flush_iotlb_all = vfio_flush_iotlb_all,
	.iotlb_sync_map = NULL,
	.iova_to_phys = vfio_iova_to_phys,
	.free = vfio_domain_free,
};

/* ---- reservations ---- */

static int resv_add(struct dml_vfio_container *c, unsigned long lo,
		    unsigned long hi)
{
	struct dml_vfio_resv *n;
	unsigned int i;
	int ret;

	n = dml__zalloc((c->nr_resv + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	ret = dml__iova_reserve(c->domain->dom.iovad, lo, hi);
	if (ret) {
		dml__free(n);
		return ret;
	}
	/* keep sorted by lo */
	for (i = 0; i < c->nr_resv && c->resv[i].lo < lo; i++)
		n[i] = c->resv[i];
	n[i].lo = lo;
	n[i].hi = hi;
	for (; i < c->nr_resv; i++)
		n[i + 1] = c->resv[i];
	dml__free(c->resv);
	c->resv = n;
	c->nr_resv++;
	return 0;
}

/* reserve the pfns of [lo, hi] not reserved yet */
static int reserve_pfns(struct dml_vfio_container *c, unsigned long lo,
			unsigned long hi)
{
	unsigned int i;
	int ret;

	for (i = 0; i < c->nr_resv && lo <= hi; i++) {
		unsigned long rlo = c->resv[i].lo, rhi = c->resv[i].hi;

		if (rhi < lo)
			continue;
		if (rlo > hi)
			break;
		if (rlo > lo) {
			ret = resv_add(c, lo, rlo - 1);
			if (ret)
				return ret;
			i++;	/* the new entry went in before this one */
		}
		if (rhi >= hi)
			return 0;
		lo = rhi + 1;
	}
	return lo <= hi ? resv_add(c, lo, hi) : 0;
}

/* reserve IOVA bytes [start, last] (inclusive), rounded out to granules */
static int reserve_bytes(struct dml_vfio_container *c, u64 start, u64 last)
{
	unsigned int shift = c->domain->dom.granule_shift;

	if (start > last)
		return 0;
	return reserve_pfns(c, (unsigned long)(start >> shift),
			    (unsigned long)(last >> shift));
}

/* everything in [aperture_start, aperture_end] outside c->ranges */
static int reserve_invalid(struct dml_vfio_container *c)
{
	struct dml_domain *d = &c->domain->dom;
	u64 next = d->aperture_start;
	unsigned int i;
	int ret;

	for (i = 0; i < c->nr_ranges; i++) {
		const struct dml_vfio_iova_range *r = &c->ranges[i];

		if (r->last < next)
			continue;
		if (r->start > d->aperture_end)
			break;
		if (r->start > next) {
			ret = reserve_bytes(c, next, r->start - 1);
			if (ret)
				return ret;
		}
		if (r->last >= d->aperture_end)
			return 0;
		next = r->last + 1;
	}
	return reserve_bytes(c, next, d->aperture_end);
}

int dml__vfio_domain_create(struct dml_vfio_container *c)
{
	struct dml_vfio_domain *vd;
	struct dml_domain *d;
	u64 pgsizes = c->pgsizes & ~(PAGE_SIZE - 1);
	int ret;

	/* VFIO maps host pages: the granule cannot be below PAGE_SIZE */
	if (!pgsizes || !c->nr_ranges)
		return -EINVAL;
	vd = dml__zalloc(sizeof(*vd));
	if (!vd)
		return -ENOMEM;
	vd->c = c;
	pthread_rwlock_init(&vd->lock, NULL);
	d = &vd->dom;
	d->ops = &vfio_ops;
	d->pgsize_bitmap = pgsizes;
	d->aperture_start = c->ranges[0].start;
	d->aperture_end = c->ranges[c->nr_ranges - 1].last;
	ret = dml__domain_init(d, false);
	if (ret) {
		vfio_domain_free(d);
		return ret;
	}
	c->domain = vd;
	/* dml__domain_init() reserved the MSI window: remember it */
	if (d->aperture_start <= MSI_WINDOW_END && d->aperture_end >= MSI_WINDOW_START) {
		c->resv = dml__zalloc(sizeof(*c->resv));
		if (!c->resv) {
			ret = -ENOMEM;
			goto err_domain;
		}
		c->resv[0].lo = (unsigned long)(MSI_WINDOW_START >> d->granule_shift);
		c->resv[0].hi = (unsigned long)(MSI_WINDOW_END >> d->granule_shift);
		c->nr_resv = 1;
	}
	ret = reserve_invalid(c);
	if (ret)
		goto err_domain;
	return 0;

err_domain:
	c->domain = NULL;
	dml__free(c->resv);
	c->resv = NULL;
	c->nr_resv = 0;
	dml__domain_destroy(d);
	return ret;
}

int dml__vfio_domain_narrow(struct dml_vfio_container *c)
{
	/* the aperture never grows: a group can only add reserved regions */
	return reserve_invalid(c);
}

void dml__vfio_domain_release(struct dml_vfio_container *c)
{
	struct dml_vfio_domain *vd = c->domain;
	size_t i;

	if (!vd)
		return;
	if (vd->nr)
		dml__warn("vfio: %zu mappings (%#llx bytes) left at platform destroy; unmapping",
			  vd->nr, (unsigned long long)vd->mapped_bytes);
	for (i = 0; i < vd->nr; i++) {
		struct vfio_iommu_type1_dma_unmap unmap = {
			.argsz = sizeof(unmap),
			.iova = vd->maps[i].iova,
			.size = vd->maps[i].size,
		};

		dml__vfio_ioctl(c, c->fd, VFIO_IOMMU_UNMAP_DMA, &unmap, false);
	}
	vd->nr = 0;
	c->domain = NULL;
	dml__domain_destroy(&vd->dom);
}
