/* SPDX-License-Identifier: MIT */
/*
 * iova.c - the IOVA allocator's domain API (iova.h): ranges of granules
 * ("pfns", IOVA >> shift) handed out top-down below an inclusive limit,
 * optionally size-aligned, with per-thread magazine caches in front
 * (drivers/iommu/iova.c and dma-iommu semantics,
 * reference/kernel-dma-semantics.md §1.2).  Written from the description
 * of the behaviour, not from the kernel's code.
 *
 * This file puts together the two parts of the allocator, each with its own
 * concurrency domain (iova-internal.h): the free space in tree.c (the gap
 * tree under the tree lock) and the per-thread caches in rcache.c (slots
 * touched by their owner without a lock, the depot under its lock, flushes
 * under flush_mutex).  An allocation tries this thread's cache (cacheable
 * sizes), then the tree; when the tree has no room every cache is flushed
 * back and the tree is searched once more (alloc_iova_fast() with
 * flush_rcache).  dml__iova_try_alloc() skips that flush, for dma-iommu's
 * first try below 4 GiB: a failure there moves the device above 4 GiB
 * instead of draining every thread's cache.  A free parks a cacheable
 * range in this thread's cache, the rest goes to the tree.  Reservations
 * flush the caches first, then take the window out of the tree.
 *
 * Statistics: cache hits and cached frees are counted in the owner's slot
 * (rcache.c), everything else under the tree lock; the sums are exact when
 * no other thread is using the domain.
 */
#include "iova-internal.h"

/* ------------------------------------------------------------------ */
/* The API                                                             */
/* ------------------------------------------------------------------ */

/**
 * dml__iova_domain_create - an empty IOVA space
 * @granule: bytes, a power of two >= 4096
 * @start_pfn: lowest pfn ever handed out, >= 1
 * @out: the domain
 *
 * The space is [@start_pfn, U64_MAX >> shift]; callers bound each
 * allocation with its limit.
 * Return: 0; -EINVAL for a bad @granule, @start_pfn or @out; -ENOMEM.
 */
int dml__iova_domain_create(unsigned long granule, unsigned long start_pfn,
			    struct dml_iova_domain **out)
{
	struct dml_iova_domain *d;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (granule < 4096 || !dml__is_pow2(granule) || !start_pfn)
		return -EINVAL;
	if (start_pfn > min(~0ULL >> dml__ffs64(granule), (u64)~0UL))
		return -EINVAL;

	d = dml__zalloc_aligned(IOVA_OWN_ALIGN, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->granule = granule;
	d->shift = dml__ffs64(granule);
	d->start_pfn = start_pfn;
	d->top_pfn = (unsigned long)min(~0ULL >> d->shift, (u64)~0UL);
	d->cache_span = d->top_pfn - start_pfn >= DML_IOVA_CACHE_MAX_GRANULES ?
		d->top_pfn - start_pfn - (DML_IOVA_CACHE_MAX_GRANULES - 1) : 0;
	dml__iova_rcache_init(d);
	if (dml__iova_tree_init(d)) {
		dml__iova_rcache_fini(d);
		dml__free(d);
		return -ENOMEM;
	}
	*out = d;
	return 0;
}

/**
 * dml__iova_set_block_refill - refill small size classes a block at a time
 * @iovad: domain, before its first allocation
 * @on: whether to
 *
 * With it, a cache miss for 1, 2 or 4 granules takes a size-aligned block
 * of IOVA_REFILL granules from the tree: the caller gets its first piece,
 * the thread's cache the others.  The kernel allocates the exact size;
 * in one process every thread's small mappings then sit side by side, so
 * the leaf entries one thread writes on every map and unmap share 64-byte
 * lines with another's (16 threads mapping 4 KiB pages on one device
 * spent most of their time on those lines).  A block is one line of 4 KiB
 * leaf entries, so no two threads share one.  Costs at most
 * IOVA_REFILL - 1 granules parked per thread and size class.
 */
void dml__iova_set_block_refill(struct dml_iova_domain *iovad, bool on)
{
	iovad->block_refill = on;
}

/**
 * dml__iova_domain_destroy - free the domain and everything in it
 * @iovad: domain, may be NULL
 *
 * Cached ranges and every thread's slot go with it.  No call on @iovad may
 * be running or follow.
 */
void dml__iova_domain_destroy(struct dml_iova_domain *iovad)
{
	if (!iovad)
		return;
	dml__iova_rcache_fini(iovad);
	dml__iova_tree_fini(iovad);
	dml__free(iovad);
}

/**
 * dml__iova_reserve - exclude [@pfn_lo, @pfn_hi] from allocation
 * @iovad: domain
 * @pfn_lo: first pfn
 * @pfn_hi: last pfn (inclusive)
 *
 * The caches are flushed first; then every free part of the window leaves
 * the free space for good.  Ranges allocated at the time are not affected
 * (see the top of tree.c).  Each removed piece counts as one range in
 * the statistics; reserving an already reserved window adds nothing.
 * Return: 0; -EINVAL if @pfn_lo > @pfn_hi; -ENOMEM.
 */
int dml__iova_reserve(struct dml_iova_domain *iovad, unsigned long pfn_lo,
		      unsigned long pfn_hi)
{
	if (!iovad || pfn_lo > pfn_hi)
		return -EINVAL;
	dml__iova_rcache_flush(iovad);
	return dml__iova_tree_reserve(iovad, pfn_lo, pfn_hi);
}

/*
 * Past the fast path: the cache, the tree, and when the tree has no room
 * and @flush is set, the flush and one more search (alloc_iova_fast()).
 */
static unsigned long __attribute__((noinline))
alloc_slow(struct dml_iova_domain *d, unsigned long size,
	   unsigned long limit_pfn, bool size_aligned, bool flush)
{
	unsigned long pfn;
	int err;

	if (!d || !size)
		return 0;
	pfn = dml__iova_rcache_get(d, size, limit_pfn);
	if (pfn)
		return pfn;
	if (d->block_refill && size < IOVA_REFILL && dml__is_pow2(size)) {
		pfn = dml__iova_rcache_refill(d, size, limit_pfn, &err);
		if (pfn)
			return pfn;
	}
	pfn = dml__iova_tree_alloc(d, size, limit_pfn, size_aligned, &err);
	if (!pfn && err == -ENOSPC && flush) {
		dml__iova_rcache_flush(d);
		pfn = dml__iova_tree_alloc(d, size, limit_pfn, size_aligned,
					   &err);
	}
	return pfn;
}

/**
 * dml__iova_alloc - allocate @size granules ending at or below @limit_pfn
 * @iovad: domain
 * @size: granules, > 0
 * @limit_pfn: the last pfn the range may use (inclusive)
 * @size_aligned: align the start to roundup_pow_of_two(@size)
 *
 * Power-of-two sizes up to 32 granules come from this thread's cache when
 * it holds one below the limit, and so do larger lengths up to
 * IOVA_LARGE_MAX granules freed before, by this thread or by others
 * through the large depot (cached ranges are always size-aligned).
 * Otherwise the highest fitting range below the limit is taken from the
 * tree; when none fits, all caches are flushed and the tree is searched
 * once more (alloc_iova_fast() with flush_rcache).
 * Return: the first pfn, or 0 when nothing fits or memory ran out.
 */
unsigned long dml__iova_alloc(struct dml_iova_domain *iovad, unsigned long size,
			      unsigned long limit_pfn, bool size_aligned)
{
	unsigned long pfn;

	if (likely(rcache_get_fast(iovad, size, limit_pfn, &pfn)))
		return pfn;
	return alloc_slow(iovad, size, limit_pfn, size_aligned, true);
}

/**
 * dml__iova_try_alloc - dml__iova_alloc() without the flush and retry
 * @iovad: domain
 * @size: granules, > 0
 * @limit_pfn: the last pfn the range may use (inclusive)
 * @size_aligned: align the start to roundup_pow_of_two(@size)
 *
 * alloc_iova_fast() with flush_rcache false: this thread's cache, then the
 * tree; ranges cached by other threads stay where they are.
 * Return: the first pfn, or 0 when neither has room or memory ran out.
 */
unsigned long dml__iova_try_alloc(struct dml_iova_domain *iovad,
				  unsigned long size, unsigned long limit_pfn,
				  bool size_aligned)
{
	unsigned long pfn;

	if (likely(rcache_get_fast(iovad, size, limit_pfn, &pfn)))
		return pfn;
	return alloc_slow(iovad, size, limit_pfn, size_aligned, false);
}

/**
 * dml__iova_alloc_nocache - dml__iova_alloc() without the caches
 * @iovad: domain
 * @size: granules, > 0
 * @limit_pfn: the last pfn the range may use (inclusive)
 * @size_aligned: align the start to roundup_pow_of_two(@size)
 *
 * The kernel's alloc_iova(): the tree only, no flush and retry.
 * Return: the first pfn, or 0.
 */
unsigned long dml__iova_alloc_nocache(struct dml_iova_domain *iovad,
				      unsigned long size,
				      unsigned long limit_pfn,
				      bool size_aligned)
{
	int err;

	if (unlikely(!iovad || !size))
		return 0;
	return dml__iova_tree_alloc(iovad, size, limit_pfn, size_aligned, &err);
}

static void __attribute__((noinline))
free_slow(struct dml_iova_domain *d, unsigned long pfn, unsigned long size)
{
	if (!d)
		return;
	if (!dml__iova_rcache_put(d, pfn, size))
		dml__iova_free_nocache(d, pfn, size);
}

/**
 * dml__iova_free - release a range from dml__iova_alloc()
 * @iovad: domain
 * @pfn: first pfn
 * @size: the length it was allocated with
 *
 * Size-aligned ranges of a cacheable size (up to IOVA_LARGE_MAX granules)
 * go to this thread's cache, which may move its oldest large ranges to the
 * depot and the depot its oldest to the tree; the rest to the tree.  A
 * range that is (partly) free already, or out of the space, is reported
 * and ignored once it reaches the tree (or, for a large range, this
 * thread's cache).
 */
void dml__iova_free(struct dml_iova_domain *iovad, unsigned long pfn,
		    unsigned long size)
{
	if (likely(rcache_put_fast(iovad, pfn, size)))
		return;
	free_slow(iovad, pfn, size);
}

/**
 * dml__iova_free_nocache - return a range straight to the tree
 * @iovad: domain
 * @pfn: first pfn
 * @size: granules
 *
 * The kernel's free_iova().  Never allocates, cannot fail; bad input is
 * reported and ignored.
 */
void dml__iova_free_nocache(struct dml_iova_domain *iovad, unsigned long pfn,
			    unsigned long size)
{
	if (unlikely(!iovad))
		return;
	tree_lock(iovad);
	if (dml__iova_tree_free_locked(iovad, pfn, size))
		iovad->tree_frees++;
	tree_unlock(iovad);
}

/** dml__iova_granule - granule size in bytes */
unsigned long dml__iova_granule(const struct dml_iova_domain *iovad)
{
	return iovad->granule;
}

/** dml__iova_shift - log2 of the granule */
unsigned int dml__iova_shift(const struct dml_iova_domain *iovad)
{
	return iovad->shift;
}

/**
 * dml__iova_get_stats - counters of @iovad
 * @iovad: domain
 * @st: filled in
 *
 * Exact when no other thread is using the domain; a close snapshot else.
 */
void dml__iova_get_stats(struct dml_iova_domain *iovad,
			 struct dml_iova_stats *st)
{
	dml__iova_rcache_stats(iovad, &st->cache_hits, &st->frees);
	st->allocs = st->cache_hits;
	tree_lock(iovad);
	st->allocs += iovad->tree_allocs;
	st->frees += iovad->tree_frees;
	st->ranges = iovad->live + iovad->reserved;
	tree_unlock(iovad);
}

/**
 * dml__iova_check - verify the allocator's invariants (for tests)
 * @iovad: domain, with no other thread using it
 *
 * Checks the free tree (order, disjoint maximal gaps inside the space, AVL
 * balance, augmented maxima), the node pool (spare nodes >= live ranges)
 * and that every cached range is aligned and not free.  Reports the first
 * broken invariant as a warning.  O(n log n).
 * Return: true when all hold.
 */
bool dml__iova_check(struct dml_iova_domain *iovad)
{
	bool ok;

	tree_lock(iovad);
	ok = dml__iova_tree_check_locked(iovad) &&
	     dml__iova_rcache_check_locked(iovad);
	tree_unlock(iovad);
	return ok;
}
