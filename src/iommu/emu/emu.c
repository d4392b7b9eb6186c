/* SPDX-License-Identifier: MIT */
/*
 * emu.c - an emulated Intel VT-d unit: its life cycle, its DMA domains and
 * their ops table, the translation of every device access (IOTLB, page
 * walk, permission, caching mode, stale-entry detection, faults) and the
 * unit's statistics.
 *
 * Ownership: a unit belongs to its platform (dml_iommu_create() in
 * src/core/platform.c registers it); its domains belong to devices (or to
 * whoever called dml__emu_domain_alloc()) and are freed through
 * dml__domain_destroy(); a unit destroyed with domains left frees them.
 * Table pages come from the platform's RAM (pool.c) and stay carved until
 * the platform goes.
 *
 * Locking: iommu->list_lock (a mutex) guards the domain list and the
 * counters of freed domains; the hot paths take no domain-wide lock
 * (pgtable.c, iotlb.c, fault.c).  Per-domain counters live in per-thread
 * slots (struct emu_slot), summed by dml_iommu_get_stats(), so no counter
 * line is written by every thread.
 * Empty tables (reclaim.c) are freed by the domain-wide IOTLB flush (those
 * unmap gathered) and by dml_iommu_trim() (all); the list lock nests
 * outside the trim gate.
 * What cannot fail: destroy, domain free, invalidations, translation (a
 * fault is a result, not a failure).
 */
#include <string.h>

#include "emu.h"

static void emu_domain_free(struct dml_domain *dom);

static void emu_iotlb_sync(struct dml_domain *dom, dml_iova_t iova, size_t size)
{
	struct emu_domain *d = to_emu(dom);
	struct emu_slot *s;

	s = emu_slot(d);
	emu_count(s, &s->inv_range, 1);
	emu_tlb_inv_range(&d->iommu->tlb, d->id, iova, size);
}

static void emu_flush_iotlb_all(struct dml_domain *dom)
{
	struct emu_domain *d = to_emu(dom);
	struct emu_slot *s;

	s = emu_slot(d);
	emu_count(s, &s->inv_global, 1);
	emu_tlb_inv_domain(&d->iommu->tlb, d->id);
	/* as the kernel frees gathered tables after the flush */
	emu_pt_trim_flush(d);
}

/* Outside caching mode new leaves are visible at once: no iotlb_sync_map. */
static int emu_translate(struct dml_domain *dom, u16 source_id,
			 dml_iova_t iova, bool write, phys_addr_t *phys,
			 u64 *contig)
{
	return dml__emu_translate(to_emu(dom)->iommu, dom, source_id, iova,
				  write, phys, contig);
}

const struct dml_iommu_ops emu_ops = {
	.map = emu_map,
	.unmap = emu_unmap,
	.iotlb_sync = emu_iotlb_sync,
	.flush_iotlb_all = emu_flush_iotlb_all,
	.iotlb_sync_map = NULL,
	.iova_to_phys = emu_iova_to_phys,
	.translate = emu_translate,
	.free = emu_domain_free,
};

const struct dml_iommu_ops emu_ops_cm = {
	.map = emu_map,
	.unmap = emu_unmap,
	.iotlb_sync = emu_iotlb_sync,
	.flush_iotlb_all = emu_flush_iotlb_all,
	.iotlb_sync_map = emu_iotlb_sync_map,
	.iova_to_phys = emu_iova_to_phys,
	.translate = emu_translate,
	.free = emu_domain_free,
};

/* ---- the unit ---- */

/**
 * dml__emu_iommu_create - a new emulated VT-d unit on @p
 * @p: an emulated platform
 * @o: options, NULL or size 0 for the defaults (4 levels, 64 sets x 8 ways,
 *	strict, superpages on, no pt_reclaim); fields beyond @o->size take
 *	their defaults
 * @out: the unit
 *
 * Return: 0; -EINVAL for a non-emulated platform, levels other than 4 or 5,
 * sets not a power of two (or above 65536), ways above 64; -E2BIG for
 * unknown non-zero option bytes; -ENOMEM.
 */
int dml__emu_iommu_create(struct dml_platform *p, const struct dml_iommu_opts *o,
			  struct dml_iommu **out)
{
	struct dml_iommu_opts opts;
	struct dml_iommu *iommu;
	int ret;

	if (!p || p->kind != DML_PLATFORM_EMU || !out)
		return -EINVAL;
	ret = dml__opts_copy(&opts, sizeof(opts), o, "dml_iommu_opts");
	if (ret)
		return ret;
	if (!o || !o->size || o->size < DML_SIZEOF(o, superpages))
		opts.superpages = true;
	if (!opts.levels)
		opts.levels = 4;
	if (!opts.iotlb_sets)
		opts.iotlb_sets = 64;
	if (!opts.iotlb_ways)
		opts.iotlb_ways = 8;
	if ((opts.levels != 4 && opts.levels != 5) ||
	    !dml__is_pow2(opts.iotlb_sets) || opts.iotlb_sets > 65536 ||
	    opts.iotlb_ways > 64)
		return -EINVAL;

	iommu = dml__zalloc(sizeof(*iommu));
	if (!iommu)
		return -ENOMEM;
	iommu->plat = p;
	iommu->mem = p->mem;
	iommu->levels = opts.levels;
	iommu->caching_mode = opts.caching_mode;
	iommu->lazy = opts.lazy;
	iommu->superpages = opts.superpages;
	iommu->pt_reclaim = opts.pt_reclaim;
	atomic_init(&iommu->next_id, 0);
	emu_pool_init(&iommu->pool, p->mem);
	dml_spin_init(&iommu->faults.lock);
	ret = emu_tlb_init(&iommu->tlb, opts.iotlb_sets, opts.iotlb_ways);
	if (ret) {
		dml__free(iommu);
		return ret;
	}
	pthread_mutex_init(&iommu->list_lock, NULL);
	*out = iommu;
	return 0;
}

/**
 * dml__emu_iommu_destroy - release a unit; domains still allocated on it
 * are destroyed first (their mappings dropped)
 * @iommu: unit, may be NULL
 */
void dml__emu_iommu_destroy(struct dml_iommu *iommu)
{
	struct emu_domain *d;

	if (!iommu)
		return;
	for (;;) {
		pthread_mutex_lock(&iommu->list_lock);
		d = iommu->domains;
		pthread_mutex_unlock(&iommu->list_lock);
		if (!d)
			break;
		dml__domain_destroy(&d->dom);
	}
	emu_tlb_fini(&iommu->tlb);
	pthread_mutex_destroy(&iommu->list_lock);
	dml__free(iommu);
}

/* ---- domains ---- */

/**
 * dml__emu_domain_alloc - a new DMA domain on @iommu
 * @iommu: unit
 * @out: the generic part of the domain (ops, page sizes, aperture, IOVA
 *	space set up by dml__domain_init())
 *
 * The aperture is [0, 2^48 - 1] with 4 levels and [0, 2^57 - 1] with 5;
 * page sizes 4 KiB, 2 MiB and 1 GiB with superpages, else 4 KiB.  The
 * domain id is the unit's next (never 0).  Costs one table page (the
 * root).
 * Return: 0; -EINVAL; -ENOMEM.
 */
int dml__emu_domain_alloc(struct dml_iommu *iommu, struct dml_domain **out)
{
	struct emu_domain *d;
	u32 id;
	int ret;

	if (!iommu || !out)
		return -EINVAL;
	d = dml__zalloc_aligned(64, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->iommu = iommu;
	d->levels = iommu->levels;
	d->superpages = iommu->superpages;
	d->reclaim = iommu->pt_reclaim;
	d->leaf_flags = iommu->caching_mode ? EMU_PTE_PENDING : 0;
	do
		id = atomic_fetch_add_explicit(&iommu->next_id, 1,
					       memory_order_relaxed) + 1;
	while (!id);
	d->id = id;
	ret = emu_pt_init(d);
	if (ret)
		goto err_free;

	d->dom.ops = iommu->caching_mode ? &emu_ops_cm : &emu_ops;
	d->dom.pgsize_bitmap = d->superpages ? (SZ_4K | SZ_2M | SZ_1G) : SZ_4K;
	d->dom.aperture_start = 0;
	d->dom.aperture_end = (1ULL << (d->levels == 5 ? 57 : 48)) - 1;
	ret = dml__domain_init(&d->dom, iommu->lazy);
	if (ret)
		goto err_pt;

	pthread_mutex_lock(&iommu->list_lock);
	d->next = iommu->domains;
	if (d->next)
		d->next->pprev = &d->next;
	d->pprev = &iommu->domains;
	iommu->domains = d;
	pthread_mutex_unlock(&iommu->list_lock);
	*out = &d->dom;
	return 0;

err_pt:
	emu_pt_fini(d);
err_free:
	dml__free(d);
	return ret;
}

/* add @d's counters to @st: the sums of its slots */
static void domain_stats(struct emu_domain *d, struct dml_iommu_stats *st)
{
	unsigned int i;

	for (i = 0; i <= EMU_SLOTS; i++) {
		struct emu_slot *s = &d->slot[i];

		st->inv_range += atomic_load_explicit(&s->inv_range, memory_order_relaxed);
		st->inv_global += atomic_load_explicit(&s->inv_global, memory_order_relaxed);
		st->sync_map += atomic_load_explicit(&s->sync_map, memory_order_relaxed);
		st->iotlb_hits += atomic_load_explicit(&s->hits, memory_order_relaxed);
		st->iotlb_misses += atomic_load_explicit(&s->misses, memory_order_relaxed);
		st->stale_hits += atomic_load_explicit(&s->stale, memory_order_relaxed);
		st->pt_pages_touched += atomic_load_explicit(&s->touched, memory_order_relaxed);
	}
}

/* struct dml_iommu_ops.free: the domain's tables, IOTLB entries, memory */
static void emu_domain_free(struct dml_domain *dom)
{
	struct emu_domain *d = to_emu(dom);
	struct dml_iommu *iommu = d->iommu;

	pthread_mutex_lock(&iommu->list_lock);
	*d->pprev = d->next;
	if (d->next)
		d->next->pprev = d->pprev;
	domain_stats(d, &iommu->retired);
	pthread_mutex_unlock(&iommu->list_lock);
	emu_tlb_inv_domain(&iommu->tlb, d->id);
	emu_pt_fini(d);
	dml__free(d);
}

/* ---- device accesses ---- */

static int fault(struct dml_iommu *iommu, u16 source_id, u64 iova, bool write,
		 enum dml_fault_reason reason)
{
	emu_fault_log(iommu, source_id, iova, write, reason);
	return -EFAULT;
}

/**
 * dml__emu_translate - translate one device access (ops->translate)
 * @iommu: the device's unit
 * @dom: the device's domain (emulated)
 * @source_id: requester id, for the fault log
 * @iova: the DMA address accessed
 * @write: true for a device write to memory
 * @phys: out: emulated physical address
 * @contig: out: bytes from @iova to the end of the translated page (and
 *	never past the end of the memory region backing it)
 *
 * IOTLB first; on a miss the page walk, whose result fills the IOTLB.  A
 * hit is checked against the page table: an entry whose leaf is gone or
 * changed still translates (to the old page, as hardware would) but is
 * logged as DML_FAULT_STALE_IOTLB and counted in stale_hits.  Caching
 * mode: a pending (not yet synced) leaf is not present.
 * Return: 0; -EFAULT after logging a fault: not present or pending
 * (DML_FAULT_NOT_PRESENT), permission (DML_FAULT_READ_DENIED,
 * DML_FAULT_WRITE_DENIED), or a page no memory backs (DML_FAULT_NO_MEMORY).
 */
int dml__emu_translate(struct dml_iommu *iommu, struct dml_domain *dom,
		       u16 source_id, dml_iova_t iova, bool write,
		       phys_addr_t *phys, u64 *contig)
{
	struct emu_domain *d = to_emu(dom);
	u64 need = write ? VTD_PTE_W : VTD_PTE_R, mask, off;
	struct dml_mem_region *r;
	struct emu_slot *slot;
	struct emu_leaf leaf;
	struct emu_tlbe te;
	bool found;

	found = emu_pt_walk(d, iova, &leaf);
	slot = emu_slot(d);
	if (emu_tlb_lookup(&iommu->tlb, d->id, iova,
			   (unsigned int)(dom->pgsize_bitmap >> 12), &te)) {
		emu_count(slot, &slot->hits, 1);
		mask = (1ULL << te.shift) - 1;
		if (!found || leaf.shift != te.shift ||
		    (leaf.pte & VTD_PTE_ADDR & ~mask) != te.phys ||
		    (leaf.pte & VTD_PTE_PRESENT) != te.perm) {
			emu_count(slot, &slot->stale, 1);
			emu_fault_log(iommu, source_id, iova, write,
				      DML_FAULT_STALE_IOTLB);
		}
		if (!(te.perm & need))
			return fault(iommu, source_id, iova, write,
				     write ? DML_FAULT_WRITE_DENIED :
					     DML_FAULT_READ_DENIED);
	} else {
		emu_count(slot, &slot->misses, 1);
		if (!found || (leaf.pte & EMU_PTE_PENDING))
			return fault(iommu, source_id, iova, write,
				     DML_FAULT_NOT_PRESENT);
		if (!(leaf.pte & need))
			return fault(iommu, source_id, iova, write,
				     write ? DML_FAULT_WRITE_DENIED :
					     DML_FAULT_READ_DENIED);
		mask = (1ULL << leaf.shift) - 1;
		te.vpn = iova >> leaf.shift;
		te.phys = leaf.pte & VTD_PTE_ADDR & ~mask;
		te.domid = d->id;
		te.shift = (u8)leaf.shift;
		te.perm = (u8)(leaf.pte & VTD_PTE_PRESENT);
		emu_tlb_fill(&iommu->tlb, &te);
	}
	off = iova & mask;
	*phys = te.phys + off;
	*contig = mask + 1 - off;
	r = dml__mem_find(iommu->mem, *phys, 1);
	if (!r)
		return fault(iommu, source_id, iova, write, DML_FAULT_NO_MEMORY);
	*contig = min(*contig, r->base + r->size - *phys);
	return 0;
}

/* ---- statistics ---- */

void dml_iommu_trim(struct dml_iommu *iommu)
{
	struct emu_domain *d;

	if (!iommu)
		return;
	pthread_mutex_lock(&iommu->list_lock);
	for (d = iommu->domains; d; d = d->next)
		emu_pt_trim(d);
	pthread_mutex_unlock(&iommu->list_lock);
}

void dml_iommu_get_stats(struct dml_iommu *iommu, struct dml_iommu_stats *st)
{
	struct emu_domain *d;

	memset(st, 0, sizeof(*st));
	if (!iommu)
		return;
	pthread_mutex_lock(&iommu->list_lock);
	*st = iommu->retired;
	for (d = iommu->domains; d; d = d->next)
		domain_stats(d, st);
	pthread_mutex_unlock(&iommu->list_lock);
	dml_spin_lock(&iommu->pool.lock);
	st->pt_pages = iommu->pool.in_use;
	st->pt_pages_peak = iommu->pool.peak;
	dml_spin_unlock(&iommu->pool.lock);
	st->faults = dml_iommu_fault_count(iommu);
}
