/* SPDX-License-Identifier: MIT */
/*
 * iova-internal.h - what the three parts of the IOVA allocator share, and
 * nothing outside src/iova/ may use:
 *  - tree.c owns the free space: the augmented AVL gap tree, its lock and
 *    its node pool (drivers/iommu/iova.c: the rbtree and iova_rbtree_lock);
 *  - rcache.c owns the per-thread caches: thread indices, slots, magazines,
 *    the depot and the flush (drivers/iommu/iova.c: the iova_rcache part);
 *  - iova.c owns the domain API of iova.h, which puts the two together.
 * Each file's top comment holds the invariants and locking of what it owns.
 */
#ifndef DML_IOVA_INTERNAL_H
#define DML_IOVA_INTERNAL_H

#include "iova.h"

#include <pthread.h>
#include <stdalign.h>

#define IOVA_NR_CLASSES 6	/* 1, 2, 4, 8, 16, 32 granules */
#define IOVA_MAG_SIZE 127	/* a magazine is exactly 1 KiB */
_Static_assert(2 * IOVA_MAG_SIZE == DML_IOVA_THREAD_CACHE, "iova.h");
#define IOVA_DEPOT_MAX 32	/* full magazines per class in the depot */
#define IOVA_DEPOT_EMPTY_MAX 32	/* spare empty magazines kept */
#define IOVA_MAX_SLOTS 256	/* threads with a cache, process-wide */
#define IOVA_REFILL 8		/* granules of a block refill (64 B of PTEs) */
#define IOVA_LARGE_NR 16	/* large ranges one thread may hold */
#define IOVA_LARGE_MAX 8192	/* ... and their granules in total */
#define IOVA_LARGE_BATCH 8	/* large ranges moved per depot round */
#define IOVA_LDEPOT_NR 64	/* large ranges in the depot */
#define IOVA_LDEPOT_MAX 65536	/* ... and their granules in total */

/*
 * Alignment in bytes of what one thread writes on its fast path (its slot,
 * its magazines): a pair of cache lines, as the L2 adjacent-line
 * prefetcher moves them together, so no two threads' data share one.
 */
#define IOVA_OWN_ALIGN 128

_Static_assert(DML_IOVA_CACHE_MAX_GRANULES == 1 << (IOVA_NR_CLASSES - 1),
	       "size classes must cover 1..DML_IOVA_CACHE_MAX_GRANULES");

struct iova_gap;		/* tree.c */
struct iova_chunk;		/* tree.c */

/* A magazine: cached ranges of one size class, used as a stack. */
struct iova_mag {
	unsigned long size;
	unsigned long pfns[IOVA_MAG_SIZE];
};

/* A cached range above the size classes: its exact length. */
struct iova_large {
	unsigned long pfn;
	unsigned long size;		/* granules */
};

/* One thread's caches in one domain (rcache.c). */
struct iova_slot {
	atomic_uint in_op;
	atomic_uint flush_pending;
	struct iova_mag *loaded[IOVA_NR_CLASSES];
	struct iova_mag *prev[IOVA_NR_CLASSES];
	atomic_ullong hits, frees;	/* cache traffic; owner-written */
	unsigned int nlarge;		/* large[0..nlarge): oldest first */
	unsigned long large_granules;	/* their sizes summed */
	struct iova_large large[IOVA_LARGE_NR];
} __attribute__((aligned(IOVA_OWN_ALIGN)));

struct dml_iova_domain {
	/* read-mostly */
	unsigned long granule;
	unsigned long start_pfn;
	unsigned long top_pfn;
	unsigned long cache_span;	/* cached pfns: start + [0, this] */
	unsigned int shift;
	bool asym;		/* membarrier(2) is the flusher's barrier */
	bool block_refill;	/* see dml__iova_set_block_refill() */
	_Atomic(struct iova_slot *) slots[IOVA_MAX_SLOTS];

	/* the tree, under lock (tree_lock()) */
	alignas(IOVA_OWN_ALIGN) dml_spinlock_t lock;
	struct iova_gap *root;
	struct iova_gap *pool;		/* free nodes, linked by ->left */
	struct iova_chunk *chunks;	/* all chunks, oldest first */
	struct iova_chunk *chunks_tail;
	struct iova_chunk *bump;	/* first chunk with unused nodes */
	unsigned long nodes_total;	/* nodes in chunks */
	unsigned long nodes_used;	/* nodes in the tree */
	unsigned long chunk_next;	/* nodes in the next chunk */
	unsigned long live;		/* allocated ranges, cached too */
	unsigned long reserved;		/* reserved pieces */
	u64 tree_allocs, tree_frees;	/* calls served by the tree */

	/* the depot, under depot_lock */
	alignas(IOVA_OWN_ALIGN) dml_spinlock_t depot_lock;
	atomic_uint depot_nfull[IOVA_NR_CLASSES];	/* read unlocked */
	struct iova_mag *depot_full[IOVA_NR_CLASSES][IOVA_DEPOT_MAX];
	struct iova_mag *depot_empty[IOVA_DEPOT_EMPTY_MAX];
	unsigned int depot_nempty;
	atomic_uint depot_nlarge;			/* read unlocked */
	unsigned long depot_large_granules;
	/* oldest first; room for one spill past the bound, trimmed at once */
	struct iova_large depot_large[IOVA_LDEPOT_NR + IOVA_LARGE_NR];

	pthread_mutex_t flush_mutex;
};

/* The tree lock (tree.c's top comment says what it covers). */
static inline void tree_lock(struct dml_iova_domain *d)
{
	dml_spin_lock(&d->lock);
}

static inline void tree_unlock(struct dml_iova_domain *d)
{
	dml_spin_unlock(&d->lock);
}

/* An owner-only counter: a plain load and store, no locked instruction. */
static inline void stat_inc_own(atomic_ullong *c)
{
	u64 v = atomic_load_explicit(c, memory_order_relaxed);

	atomic_store_explicit(c, v + 1, memory_order_relaxed);
}

/* a cacheable (power of two, <= 32) size, as a branch-friendly test */
static inline bool cacheable(unsigned long size)
{
	return size - 1 < DML_IOVA_CACHE_MAX_GRANULES && !(size & (size - 1));
}

/* ---- tree.c: the free space; "_locked" functions need tree_lock() ---- */

/*
 * dml__iova_tree_init - the node pool's first chunk and one gap covering
 * [d->start_pfn, d->top_pfn]; the space fields must be set.
 * Return: 0; -ENOMEM.
 */
int dml__iova_tree_init(struct dml_iova_domain *d);

/* dml__iova_tree_fini - free every node chunk of @d */
void dml__iova_tree_fini(struct dml_iova_domain *d);

/*
 * dml__iova_tree_alloc - the highest fitting range in the tree (the
 * kernel's alloc_iova()); takes and drops the tree lock.
 * @size: granules, > 0; @limit: last usable pfn; @aligned: size-align
 * Return: the first pfn, or 0 with *@err set to -ENOSPC (no room) or
 * -ENOMEM (no node memory).
 */
unsigned long dml__iova_tree_alloc(struct dml_iova_domain *d,
				   unsigned long size, unsigned long limit,
				   bool aligned, int *err);

/*
 * dml__iova_tree_alloc_pieces - a size-aligned block of @size granules
 * counted as @pieces live ranges, each freed on its own (a cache
 * refill); one tree allocation.  Return: as dml__iova_tree_alloc().
 */
unsigned long dml__iova_tree_alloc_pieces(struct dml_iova_domain *d,
					  unsigned long size,
					  unsigned long pieces,
					  unsigned long limit, int *err);

/*
 * dml__iova_tree_free_locked - return [@pfn, @pfn + @size) to the free
 * tree.  Never allocates memory.  Return: true; false (reported as a
 * warning, nothing changed) when the range is out of the space or (partly)
 * free already.
 */
bool dml__iova_tree_free_locked(struct dml_iova_domain *d, unsigned long pfn,
				unsigned long size);

/*
 * dml__iova_tree_reserve - take every free part of [@lo, @hi] out of the
 * free space for good (reserve_iova()).  Return: 0; -ENOMEM.
 */
int dml__iova_tree_reserve(struct dml_iova_domain *d, unsigned long lo,
			   unsigned long hi);

/*
 * dml__iova_tree_check_locked - the tree's and the node pool's invariants
 * (tree.c's top comment).  Return: true when they hold; the first broken
 * one is reported as a warning.
 */
bool dml__iova_tree_check_locked(struct dml_iova_domain *d);

/*
 * dml__iova_tree_check_busy_locked - check that no pfn of [@pfn, @pfn +
 * @size) is free.  Return: true when none is; else false, reported.
 */
bool dml__iova_tree_check_busy_locked(struct dml_iova_domain *d,
				      unsigned long pfn, unsigned long size);

/* dml__iova_check_fail - report a broken invariant @what; returns false */
bool dml__iova_check_fail(const char *what, const struct iova_gap *n);

/* ---- rcache.c: the per-thread caches ---- */

/* this thread's index + 1, or 0 (not registered) or ~0 (no slot) */
extern _Thread_local unsigned int dml__iova_tid DML_TLS_HOT;

/* Enter the owner's side of @s without waiting; false while a flush runs. */
static inline bool slot_try_enter(struct dml_iova_domain *d,
				  struct iova_slot *s)
{
	if (likely(d->asym)) {
		atomic_store_explicit(&s->in_op, 1, memory_order_relaxed);
		atomic_signal_fence(memory_order_seq_cst);
	} else {
		atomic_store_explicit(&s->in_op, 1, memory_order_seq_cst);
	}
	if (likely(!atomic_load_explicit(&s->flush_pending,
					 memory_order_seq_cst)))
		return true;
	atomic_store_explicit(&s->in_op, 0, memory_order_release);
	return false;
}

static inline void slot_leave(struct iova_slot *s)
{
	atomic_store_explicit(&s->in_op, 0, memory_order_release);
}

/*
 * The fast path of a cached allocation: this thread's loaded magazine, no
 * lock, no atomic read-modify-write.  Always inlined: with two callers
 * (dml__iova_alloc(), dml__iova_try_alloc()) the compiler would otherwise
 * make it a call.  Return: true with the first pfn in *@out; false: go
 * slow (a flag, not pfn 0, so that the hit path tests nothing more).
 */
static inline __attribute__((always_inline)) bool
rcache_get_fast(struct dml_iova_domain *d, unsigned long size,
		unsigned long limit_pfn, unsigned long *out)
{
	unsigned int t = dml__iova_tid - 1;
	struct iova_slot *s;
	struct iova_mag *m;
	unsigned long pfn, n;

	if (likely(d && t < IOVA_MAX_SLOTS && cacheable(size))) {
		s = atomic_load_explicit(&d->slots[t], memory_order_relaxed);
		if (likely(s && slot_try_enter(d, s))) {
			m = s->loaded[dml__ffs64(size)];
			if (likely(m && (n = m->size))) {
				pfn = m->pfns[n - 1];
				if (likely(pfn + (size - 1) <= limit_pfn)) {
					m->size = n - 1;
					slot_leave(s);
					stat_inc_own(&s->hits);
					*out = pfn;
					return true;
				}
			}
			slot_leave(s);
		}
	}
	return false;
}

/*
 * The fast path of a cached free: into this thread's loaded magazine.
 * Return: true when parked; false (go slow).
 */
static inline __attribute__((always_inline)) bool
rcache_put_fast(struct dml_iova_domain *d, unsigned long pfn,
		unsigned long size)
{
	unsigned int t = dml__iova_tid - 1;
	struct iova_slot *s;
	struct iova_mag *m;
	unsigned long n;

	if (likely(d && t < IOVA_MAX_SLOTS && cacheable(size) &&
		   !(pfn & (size - 1)) &&
		   pfn - d->start_pfn <= d->cache_span)) {
		s = atomic_load_explicit(&d->slots[t], memory_order_relaxed);
		if (likely(s && slot_try_enter(d, s))) {
			m = s->loaded[dml__ffs64(size)];
			if (likely(m && (n = m->size) < IOVA_MAG_SIZE)) {
				m->pfns[n] = pfn;
				m->size = n + 1;
				slot_leave(s);
				stat_inc_own(&s->frees);
				return true;
			}
			slot_leave(s);
		}
	}
	return false;
}

/*
 * dml__iova_rcache_init - set up @d's caches (flush mutex, the barrier
 * choice) and the process-wide thread registry on first use.
 */
void dml__iova_rcache_init(struct dml_iova_domain *d);

/* dml__iova_rcache_fini - free every slot and magazine of @d, unflushed */
void dml__iova_rcache_fini(struct dml_iova_domain *d);

/*
 * dml__iova_rcache_get - the cache path of an allocation past the fast
 * path: loaded, prev, then a depot magazine (iova_rcache_get()); for sizes
 * above the classes, this thread's large ranges (if it has a slot: none is
 * created for them here).
 * @size: granules; @limit_pfn: last usable pfn.
 * Return: a cached pfn, or 0 (not cacheable, no slot, nothing below the
 * limit).
 */
unsigned long dml__iova_rcache_get(struct dml_iova_domain *d,
				   unsigned long size, unsigned long limit_pfn);

/*
 * dml__iova_rcache_put - park a freed range in this thread's cache
 * (iova_rcache_insert(); large sizes too).  Return: true when handled
 * (parked, or a double free of a large range reported and dropped); false
 * when the range is not cacheable or no cache memory is left: free it to
 * the tree.
 */
bool dml__iova_rcache_put(struct dml_iova_domain *d, unsigned long pfn,
			  unsigned long size);

/*
 * dml__iova_rcache_refill - a miss of size class @size (< IOVA_REFILL
 * granules) served from a fresh size-aligned block of IOVA_REFILL
 * granules ending at or below @limit_pfn: the caller gets its first
 * piece, this thread's loaded magazine the others.  Return: the pfn, or
 * 0 (*@err set when the tree failed) when no magazine could take the
 * pieces or no block fits: the caller then allocates the exact size.
 */
unsigned long dml__iova_rcache_refill(struct dml_iova_domain *d,
				      unsigned long size,
				      unsigned long limit_pfn, int *err);

/*
 * dml__iova_rcache_flush - return every cached range of @d to the tree:
 * free_cpu_cached_iovas() for every CPU and free_global_cached_iovas().
 */
void dml__iova_rcache_flush(struct dml_iova_domain *d);

/*
 * dml__iova_rcache_check_locked - every cached range is size-aligned, of
 * its class and not free in the tree.  Return: true when all hold.
 */
bool dml__iova_rcache_check_locked(struct dml_iova_domain *d);

/* dml__iova_rcache_stats - cache hits and cached frees, summed over slots */
void dml__iova_rcache_stats(struct dml_iova_domain *d, u64 *hits, u64 *frees);

#endif /* DML_IOVA_INTERNAL_H */
