/* SPDX-License-Identifier: MIT */
/*
 * iova.h - the IOVA allocator (drivers/iommu/iova.c semantics, ref §1.2):
 * ranges of granules ("pfns" below are IOVA >> granule shift) in one IOVA
 * space, allocated top-down below a limit, size-aligned on request, with
 * per-thread caches for the hot sizes (1..32 granules, powers of two, and
 * recently freed larger ranges of the same length) and
 * an O(log n) worst case when the space is fragmented (no linear scan:
 * reference/perf-anchors.md A11/A12, goals G1-G6).
 *
 * The caller (dma-iommu) does the kernel's rounding: lengths below 32
 * granules are rounded up to a power of two before dml__iova_alloc().
 * Thread safety: every call may run concurrently on one domain.
 */
#ifndef DML_IOVA_H
#define DML_IOVA_H

#include "../base/base.h"

struct dml_iova_domain;

/* The largest cached length, in granules (IOVA_RANGE_CACHE_MAX_SIZE 6). */
#define DML_IOVA_CACHE_MAX_GRANULES 32

/*
 * Ranges of one size a thread's cache holds (its loaded and previous
 * magazines) before frees spill a magazine to the depot all threads share.
 */
#define DML_IOVA_THREAD_CACHE 254

/*
 * dml__iova_domain_create - an empty IOVA space
 * @granule: bytes, a power of two >= 4096
 * @start_pfn: lowest pfn ever handed out (>= 1: IOVA 0 is never used)
 * @out: the domain
 * Return: 0; -EINVAL; -ENOMEM.
 */
int dml__iova_domain_create(unsigned long granule, unsigned long start_pfn,
			    struct dml_iova_domain **out);

/*
 * dml__iova_set_block_refill - when @on, a cache miss for 1, 2 or 4
 * granules takes a size-aligned block of 8 granules from the tree, the
 * rest parked in this thread's cache: no two threads' small ranges then
 * share a 64-byte line of 4 KiB leaf page-table entries.  Off by default
 * (the kernel's exact-size alloc_iova_fast()); set before first use.
 */
void dml__iova_set_block_refill(struct dml_iova_domain *iovad, bool on);

/* Free the domain and everything in it (cached ranges included). */
void dml__iova_domain_destroy(struct dml_iova_domain *iovad);

/*
 * dml__iova_reserve - exclude [pfn_lo, pfn_hi] (inclusive) from allocation,
 * e.g. the MSI window.  Return: 0; -EINVAL if pfn_lo > pfn_hi; -ENOMEM.
 */
int dml__iova_reserve(struct dml_iova_domain *iovad, unsigned long pfn_lo,
		      unsigned long pfn_hi);

/*
 * dml__iova_alloc - allocate @size granules ending at or below @limit_pfn
 * @iovad: domain
 * @size: granules, > 0
 * @limit_pfn: the last pfn the range may use (inclusive)
 * @size_aligned: align the start to roundup_pow_of_two(@size)
 *
 * Tries the per-thread cache first (powers of two up to 32 granules, and
 * larger lengths up to 8192 granules freed before, by this thread or by
 * others through a shared depot); on a miss
 * searches the tree top-down (highest fitting range below the limit) in
 * O(log n).  If the tree has no room, the caches are flushed back and the
 * search is retried once (alloc_iova_fast with flush_rcache).
 * Return: the first pfn, or 0 when no range fits (never IOVA 0).
 */
unsigned long dml__iova_alloc(struct dml_iova_domain *iovad, unsigned long size,
			      unsigned long limit_pfn, bool size_aligned);

/*
 * dml__iova_try_alloc - dml__iova_alloc() without the flush and retry: the
 * caches, then the tree; 0 when neither has room.  The kernel's
 * alloc_iova_fast() with flush_rcache false, as iommu_dma_alloc_iova()
 * calls it for a PCI device's first try below 4 GiB: a failure there must
 * move the device above 4 GiB, not drain every thread's cache.  Same
 * arguments and return as dml__iova_alloc().
 */
unsigned long dml__iova_try_alloc(struct dml_iova_domain *iovad,
				  unsigned long size, unsigned long limit_pfn,
				  bool size_aligned);

/*
 * dml__iova_free - release a range from dml__iova_alloc(); @size is the
 * length it was allocated with.  Cacheable sizes (see dml__iova_alloc()),
 * size-aligned, go to the per-thread cache.
 */
void dml__iova_free(struct dml_iova_domain *iovad, unsigned long pfn,
		    unsigned long size);

/*
 * dml__iova_alloc_nocache / dml__iova_free_nocache - the tree alone, no
 * per-thread cache and no flush-and-retry: the kernel's alloc_iova() and
 * free_iova().  Same arguments and returns as dml__iova_alloc() and
 * dml__iova_free(); a range may be freed by either free.  For callers that
 * must not park ranges in a cache, and for the G5 benchmark (A11 measures
 * alloc_iova()).
 */
unsigned long dml__iova_alloc_nocache(struct dml_iova_domain *iovad,
				      unsigned long size,
				      unsigned long limit_pfn,
				      bool size_aligned);
void dml__iova_free_nocache(struct dml_iova_domain *iovad, unsigned long pfn,
			    unsigned long size);

/*
 * dml__iova_check - verify the allocator's internal invariants (tree order
 * and balance, augmented maxima, node accounting, cached ranges not free);
 * for tests, with no other thread using @iovad.  O(n log n).  Return: true
 * when they all hold; the first broken one is reported as a warning.
 */
bool dml__iova_check(struct dml_iova_domain *iovad);

/* granule bytes and its shift */
unsigned long dml__iova_granule(const struct dml_iova_domain *iovad);
unsigned int dml__iova_shift(const struct dml_iova_domain *iovad);

/*
 * struct dml_iova_stats - @allocs/@frees: successful calls; @cache_hits:
 * allocations served by a per-thread cache; @ranges: ranges in the tree now
 * (reserved ones included, cached ones included).
 */
struct dml_iova_stats {
	u64 allocs;
	u64 frees;
	u64 cache_hits;
	u64 ranges;
};
void dml__iova_get_stats(struct dml_iova_domain *iovad, struct dml_iova_stats *st);

#endif /* DML_IOVA_H */
