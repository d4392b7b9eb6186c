/* SPDX-License-Identifier: MIT */
/*
 * iotlb.c - the IOTLB of an emulated VT-d unit: a finite set-associative
 * cache (sets x ways) of translations, tagged by domain id, filled by the
 * page walks of device accesses and emptied only by explicit invalidation
 * (page-selective for a range, or domain-wide) or by eviction.  Entries of
 * every page size share one array; an entry of page size 2^shift lives in
 * the set its (domain, IOVA >> shift, shift) hashes to, so a lookup probes
 * one set per page size the domain uses.
 *
 * Because entries outlive the page-table entries they were filled from
 * until someone invalidates them, a device can reach a page after it was
 * unmapped; emu.c detects that on each hit (stale_hits).
 *
 * Locking: one spinlock per set, each set in its own cache line.  A bitmap
 * of the sets that hold an entry (@busy, changed under the set's lock when
 * a set goes from empty to not or back, read without locks) lets lookups
 * and invalidations skip empty sets, and the whole IOTLB when it is empty
 * (the common case for map/unmap-only workloads), at the cost of one read;
 * no line is written on every fill or invalidation by every thread.
 * Nothing here can fail after init.
 */
#include <string.h>

#include "emu.h"

/**
 * emu_tlb_init - an empty IOTLB
 * @tlb: zeroed
 * @sets: number of sets, a power of two
 * @ways: entries per set
 * Return: 0; -ENOMEM.
 */
int emu_tlb_init(struct emu_tlb *tlb, unsigned int sets, unsigned int ways)
{
	unsigned int i;

	tlb->sets = sets;
	tlb->ways = ways;
	tlb->e = dml__zalloc((size_t)sets * ways * sizeof(*tlb->e));
	tlb->set = dml__zalloc_aligned(64, (size_t)sets * sizeof(*tlb->set));
	tlb->busy = dml__zalloc_aligned(64, DIV_ROUND_UP(sets, 64) * sizeof(*tlb->busy));
	if (!tlb->e || !tlb->set || !tlb->busy) {
		emu_tlb_fini(tlb);
		return -ENOMEM;
	}
	for (i = 0; i < sets; i++) {
		dml_spin_init(&tlb->set[i].lock);
		atomic_init(&tlb->set[i].valid, 0);
	}
	return 0;
}

/** emu_tlb_fini - release the IOTLB's memory */
void emu_tlb_fini(struct emu_tlb *tlb)
{
	dml__free(tlb->e);
	dml__free(tlb->set);
	dml__free(tlb->busy);
	tlb->e = NULL;
	tlb->set = NULL;
	tlb->busy = NULL;
}

static inline unsigned int tlb_set(const struct emu_tlb *tlb, u32 domid,
				   u64 vpn, unsigned int shift)
{
	u64 h = vpn + (u64)domid * 0x9e3779b9ULL + (u64)shift * 0x85ebca6bULL;

	return (unsigned int)(h ^ (h >> 32)) & (tlb->sets - 1);
}

/* may set @set hold an entry?  Lock-free */
static inline bool set_busy(const struct emu_tlb *tlb, unsigned int set)
{
	return atomic_load_explicit(&tlb->busy[set / 64], memory_order_relaxed) &
	       (1ULL << (set % 64));
}

/* is the whole IOTLB empty?  Lock-free */
static bool tlb_empty(const struct emu_tlb *tlb)
{
	unsigned int i;

	for (i = 0; i < DIV_ROUND_UP(tlb->sets, 64); i++)
		if (atomic_load_explicit(&tlb->busy[i], memory_order_relaxed))
			return false;
	return true;
}

/* add @delta to the count of @s (set @set), keeping @busy; set lock held */
static void set_count(struct emu_tlb *tlb, struct emu_tlb_set *s,
		      unsigned int set, int delta)
{
	unsigned int old = atomic_load_explicit(&s->valid, memory_order_relaxed);
	unsigned int now = old + (unsigned int)delta;

	atomic_store_explicit(&s->valid, now, memory_order_relaxed);
	if (!old && now)
		atomic_fetch_or_explicit(&tlb->busy[set / 64], 1ULL << (set % 64),
					 memory_order_relaxed);
	else if (old && !now)
		atomic_fetch_and_explicit(&tlb->busy[set / 64], ~(1ULL << (set % 64)),
					  memory_order_relaxed);
}

static inline struct emu_tlbe *set_base(const struct emu_tlb *tlb, unsigned int set)
{
	return &tlb->e[(size_t)set * tlb->ways];
}

/**
 * emu_tlb_lookup - find a cached translation of @iova
 * @tlb: IOTLB
 * @domid: domain tag
 * @iova: the IOVA accessed
 * @pgsizes: page sizes the domain may map, shifted: bit n for 2^(n + 12)
 *	bytes (the domain's pgsize_bitmap >> 12)
 * @out: the entry (a copy) on a hit
 * Return: true on a hit.
 */
bool emu_tlb_lookup(struct emu_tlb *tlb, u32 domid, u64 iova,
		    unsigned int pgsizes, struct emu_tlbe *out)
{
	static const unsigned int shifts[] = { 12, 21, 30 };
	unsigned int k, w;

	for (k = 0; k < ARRAY_SIZE(shifts); k++) {
		unsigned int shift = shifts[k];
		u64 vpn = iova >> shift;
		unsigned int set = tlb_set(tlb, domid, vpn, shift);
		struct emu_tlbe *e = set_base(tlb, set);
		bool hit = false;

		if (!(pgsizes & (1u << (shift - 12))) || !set_busy(tlb, set))
			continue;
		dml_spin_lock(&tlb->set[set].lock);
		for (w = 0; w < tlb->ways; w++) {
			if (e[w].shift == shift && e[w].vpn == vpn &&
			    e[w].domid == domid) {
				*out = e[w];
				hit = true;
				break;
			}
		}
		dml_spin_unlock(&tlb->set[set].lock);
		if (hit)
			return true;
	}
	return false;
}

/**
 * emu_tlb_fill - cache a translation, evicting round-robin when the set is
 * full
 * @tlb: IOTLB
 * @te: the entry (vpn, phys, domid, shift, perm)
 */
void emu_tlb_fill(struct emu_tlb *tlb, const struct emu_tlbe *te)
{
	unsigned int set = tlb_set(tlb, te->domid, te->vpn, te->shift);
	struct emu_tlb_set *s = &tlb->set[set];
	struct emu_tlbe *e = set_base(tlb, set);
	unsigned int w, slot = tlb->ways;

	dml_spin_lock(&s->lock);
	for (w = 0; w < tlb->ways; w++) {
		if (e[w].shift == te->shift && e[w].vpn == te->vpn &&
		    e[w].domid == te->domid) {
			slot = w;	/* refresh */
			break;
		}
		if (!e[w].shift && slot == tlb->ways)
			slot = w;
	}
	if (slot == tlb->ways) {
		slot = s->victim;
		s->victim = (s->victim + 1) % tlb->ways;
	} else if (!e[slot].shift) {
		set_count(tlb, s, set, 1);
	}
	e[slot] = *te;
	dml_spin_unlock(&s->lock);
}

/*
 * Drop the entries of @set matching the predicate; set lock not held.  An
 * empty set is skipped without its lock: an entry filled concurrently is
 * for a translation the invalidation does not cover (the caller unmapped
 * the range first, so a walk cannot find it any more).
 */
static void inv_set(struct emu_tlb *tlb, unsigned int set, u32 domid,
		    u64 iova, u64 last, bool any_addr)
{
	struct emu_tlb_set *s = &tlb->set[set];
	struct emu_tlbe *e = set_base(tlb, set);
	unsigned int w, n = 0;

	if (!set_busy(tlb, set))
		return;
	dml_spin_lock(&s->lock);
	for (w = 0; w < tlb->ways; w++) {
		u64 start, end;

		if (!e[w].shift || e[w].domid != domid)
			continue;
		start = e[w].vpn << e[w].shift;
		end = start + (1ULL << e[w].shift) - 1;
		if (any_addr || (start <= last && end >= iova)) {
			e[w].shift = 0;
			n++;
		}
	}
	if (n)
		set_count(tlb, s, set, -(int)n);
	dml_spin_unlock(&s->lock);
}

/**
 * emu_tlb_inv_range - page-selective invalidation: drop @domid's entries
 * overlapping [@iova, +@size)
 * @tlb: IOTLB
 * @domid: domain tag
 * @iova: start
 * @size: bytes (0: nothing)
 *
 * Small ranges probe the sets the range's pages hash to (for each page
 * size); large ones scan the whole IOTLB.
 */
void emu_tlb_inv_range(struct emu_tlb *tlb, u32 domid, u64 iova, u64 size)
{
	static const unsigned int shifts[] = { 12, 21, 30 };
	u64 last, vpn, npages;
	unsigned int k, set;

	if (!size || tlb_empty(tlb))
		return;
	if (__builtin_add_overflow(iova, size - 1, &last))
		last = ~0ULL;
	npages = (last >> 12) - (iova >> 12) + 1;
	if (npages > tlb->sets) {
		for (set = 0; set < tlb->sets; set++)
			inv_set(tlb, set, domid, iova, last, false);
		return;
	}
	for (k = 0; k < ARRAY_SIZE(shifts); k++) {
		unsigned int shift = shifts[k];

		for (vpn = iova >> shift; vpn <= last >> shift; vpn++)
			inv_set(tlb, tlb_set(tlb, domid, vpn, shift), domid,
				iova, last, false);
	}
}

/**
 * emu_tlb_inv_domain - domain-selective invalidation: drop every entry of
 * @domid
 */
void emu_tlb_inv_domain(struct emu_tlb *tlb, u32 domid)
{
	unsigned int set;

	if (tlb_empty(tlb))
		return;
	for (set = 0; set < tlb->sets; set++)
		inv_set(tlb, set, domid, 0, 0, true);
}
