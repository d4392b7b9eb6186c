/* SPDX-License-Identifier: MIT */
/*
 * reclaim.c - freeing the empty tables of an emulated domain, safely
 * against map and unmap running on other threads with no lock.
 *
 * The scheme: tables are never freed by map or unmap of a range they do
 * not wholly cover (a mapper of a neighbouring range may be about to write
 * into them); they are freed by a trim, which runs while no map, unmap or
 * iotlb_sync_map runs on the domain.  The gate is a big-reader lock built
 * from per-thread slots (the kernel's percpu_rw_semaphore, and how the
 * IOVA allocator's flusher waits for its magazine owners): an operation
 * sets its slot's in_op (on a cache line no other thread writes) and then
 * checks d->trimming; a trim sets d->trimming and waits for every slot's
 * in_op to drop to 0.  One of the two must see the other's store (an
 * operation either runs before the trim looks at the tables or waits until
 * it is over), which takes a full barrier between the store and the load
 * on each side.  The operation's side is the hot one, so where the kernel
 * offers membarrier(2) (MEMBARRIER_CMD_PRIVATE_EXPEDITED) the trim issues
 * it after its store: it runs a full barrier on every CPU running one of
 * our threads, and the operation needs only a compiler barrier, no locked
 * instruction (liburcu's asymmetric barrier).  Without membarrier, for a
 * shared slot, and under ThreadSanitizer (which cannot see that barrier),
 * the operation's store is a sequentially consistent exchange or add.
 * Nor does a trim issue membarrier() while its own thread is the only one
 * that ever used the domain (@users: a thread's first operation counts
 * itself in with sequentially consistent accesses, so either the trim
 * sees it or it sees the trim).
 *
 * Which tables: unmap clears leaves and leaves tables linked, as the
 * kernel does unless the unmap covers a whole table.  Without
 * struct dml_iommu_opts.pt_reclaim (the default) that is all: emptied
 * tables stay for the next mapping there and only dml_iommu_trim() and
 * the domain's end free them, so no trim ever holds the mapping threads
 * back (on 16 threads sharing one device, trims at every flush cut the
 * two-step cycle's throughput tenfold).  With it, a table an unmap may have
 * emptied (no present neighbour next to the cleared run, then a scan of
 * the table) goes on the domain's gather list, as the kernel gathers freed
 * table pages in iommu_iotlb_gather until the IOTLB flush.  The list is
 * trimmed by the domain-wide flush (the lazy mode's flush queue, so
 * page-table memory follows the flush rate, not the unmap rate; once
 * another thread has used the domain, at most every EMU_TRIM_INTERVAL_NS,
 * since a trim holds every thread of the domain back), when it is full
 * (by the unmap that found it full, after it left the gate), and by
 * dml_iommu_trim().  A trim of the list frees each listed table that is
 * still linked and empty, then each ancestor left empty (never the root).
 * emu_pt_trim() frees every empty table of the domain, listed or not: two
 * unmaps racing to empty one table may both see the other's entries and
 * list nothing.  So at most EMU_GATHER listed tables and their otherwise
 * empty ancestors linger; the domain-wide flush or a trim frees them.
 *
 * Device walks do not take the gate (emu.h): a walk racing with the trim
 * of its (unmapped) range may read a freed table, which stays readable
 * table memory and whose entries are read with emu_pte_read().
 */
#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emu.h"

static pthread_once_t asym_once = PTHREAD_ONCE_INIT;
bool emu_asym;	/* membarrier(2) is the trim's barrier */

static void asym_init(void)
{
#ifndef EMU_TSAN
	long q = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

	if (q > 0 && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	    !syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0))
		emu_asym = true;
#endif
}

/**
 * emu_reclaim_init - find out, once per process, whether trims can use
 * membarrier(2); before the first domain is used
 */
void emu_reclaim_init(void)
{
	pthread_once(&asym_once, asym_init);
}

/*
 * emu_op_enter_slow - emu_op_enter() past its fast path: the thread's
 * first operation on @d, a shared slot, no membarrier(2), or a trim
 * running
 */
struct emu_slot *emu_op_enter_slow(struct emu_domain *d, struct emu_slot *s)
{
	if (unlikely(!atomic_load_explicit(&s->joined, memory_order_relaxed))) {
		atomic_store_explicit(&s->joined, true, memory_order_relaxed);
		atomic_fetch_add_explicit(&d->users, 1, memory_order_seq_cst);
		/* pairs with trim_begin()'s store of trimming, load of users */
		while (atomic_load_explicit(&d->trimming, memory_order_seq_cst))
			sched_yield();
	}
	for (;;) {
		unsigned int spins = 0;

		if (emu_op_try_enter(d, s))
			return s;
		if (!emu_asym || s->shared) {
			if (likely(!s->shared))
				atomic_exchange_explicit(&s->in_op, 1,
							 memory_order_seq_cst);
			else
				atomic_fetch_add_explicit(&s->in_op, 1,
							  memory_order_seq_cst);
			if (likely(!atomic_load_explicit(&d->trimming,
							 memory_order_seq_cst)))
				return s;
			emu_op_exit(s);
		}
		while (atomic_load_explicit(&d->trimming, memory_order_acquire)) {
			if (++spins < 64)
				dml__cpu_relax();
			else
				sched_yield();
		}
	}
}

/* keep map/unmap out of @d and wait for those running to leave */
static void trim_begin(struct emu_domain *d)
{
	const struct emu_slot *me = emu_slot(d);
	unsigned int i, spins, users;

	pthread_mutex_lock(&d->trim_lock);
	atomic_store_explicit(&d->trimming, 1, memory_order_seq_cst);
	users = atomic_load_explicit(&d->users, memory_order_seq_cst);
	if (emu_asym && users > atomic_load_explicit(&me->joined, memory_order_relaxed))
		DML_WARN_ON(syscall(__NR_membarrier,
				    MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
	for (i = 0; i <= EMU_SLOTS; i++) {
		spins = 0;
		while (atomic_load_explicit(&d->slot[i].in_op, memory_order_seq_cst)) {
			if (++spins < 64)
				dml__cpu_relax();
			else
				sched_yield();
		}
	}
}

static void trim_end(struct emu_domain *d)
{
	atomic_store_explicit(&d->last_trim_ns, dml__now_ns(), memory_order_relaxed);
	atomic_store_explicit(&d->trimming, 0, memory_order_release);
	pthread_mutex_unlock(&d->trim_lock);
}

/* is the table of @key on the gather list?  Lock-free; may miss a change */
static bool gather_listed(struct emu_domain *d, u64 key)
{
	unsigned int i, n = atomic_load_explicit(&d->ngather, memory_order_acquire);

	for (i = 0; i < n; i++)
		if (atomic_load_explicit(&d->gather[i], memory_order_relaxed) == key)
			return true;
	return false;
}

/* list @key unless listed; false when the list is full.  Gather lock held. */
static bool gather_add(struct emu_domain *d, u64 key)
{
	unsigned int n = atomic_load_explicit(&d->ngather, memory_order_relaxed);

	if (gather_listed(d, key))
		return true;
	if (n == EMU_GATHER)
		return false;
	atomic_store_explicit(&d->gather[n], key, memory_order_relaxed);
	atomic_store_explicit(&d->ngather, n + 1, memory_order_release);
	return true;
}

/**
 * emu_gather - list a table map or unmap may have left empty
 * @d: domain, inside emu_op_enter()
 * @t: the table, of level @level; NULL: the deepest table on @iova's path
 * @level: its level (ignored when @t is NULL)
 * @iova: an IOVA @t translates
 * @empty: @t is known to be empty (the caller cleared all of it)
 * @full: where to note the table when the list is full (the caller then
 *	calls emu_gather_flush() after emu_op_exit()); an entry already
 *	noted there is kept (the other table waits for a full trim)
 *
 * Nothing is listed if @t is the root, is listed already or holds a
 * present entry (checked in that order: the list is cheaper to read than
 * a table).
 */
void emu_gather(struct emu_domain *d, u64 *t, unsigned int level, u64 iova,
		bool empty, struct emu_gathered *full)
{
	bool ok;
	u64 key;

	if (!d->reclaim)
		return;
	if (!t) {
		t = d->root;
		for (level = d->levels; level > 1; level--) {
			u64 e = emu_pte_read(&t[emu_idx(iova, level)]);

			if (!e || (e & VTD_PTE_PS))
				break;
			t = emu_table(d->iommu, e);
		}
	}
	if (t == d->root)
		return;
	key = emu_gather_key(iova, level);
	if (gather_listed(d, key) || (!empty && !emu_ptes_empty(t)))
		return;
	dml_spin_lock(&d->gather_lock);
	ok = gather_add(d, key);
	dml_spin_unlock(&d->gather_lock);
	if (!ok && !full->level)
		*full = (struct emu_gathered){ .iova = iova, .level = level };
}

/* emu_gather_flush() when emu_gather() noted a table (emu.h) */
void emu_gather_flush_full(struct emu_domain *d, const struct emu_gathered *g)
{
	emu_pt_trim_gathered(d);
	dml_spin_lock(&d->gather_lock);
	gather_add(d, emu_gather_key(g->iova, g->level));
	dml_spin_unlock(&d->gather_lock);
}

/*
 * Free the table of @level on @iova's path if it is empty, then its
 * ancestors left empty, never the root.  Trim gate held.
 */
static void trim_path(struct emu_domain *d, struct emu_slot *s, u64 iova,
		      unsigned int level)
{
	u64 *ent[6] = { NULL }, *t = d->root;
	unsigned int l;

	for (l = d->levels; l > level; l--) {
		u64 e;

		ent[l] = &t[emu_idx(iova, l)];
		e = emu_pte_read(ent[l]);
		if (!e || (e & VTD_PTE_PS))
			return;		/* not linked any more */
		t = emu_table(d->iommu, e);
	}
	for (l = level; l < d->levels; l++) {
		u64 e = emu_pte_read(ent[l + 1]);

		t = emu_table(d->iommu, e);
		if (!emu_ptes_empty(t))
			return;
		emu_pte_write(ent[l + 1], 0);
		emu_pt_free(d->iommu, t);
		emu_count(s, &s->touched, 1);
	}
}

/**
 * emu_pt_trim_gathered - free the tables on @d's gather list that are
 * still empty, and their ancestors left empty
 * @d: domain
 *
 * Waits for the map and unmap calls running on @d and keeps new ones out
 * meanwhile.  Must not be called between emu_op_enter() and emu_op_exit().
 */
void emu_pt_trim_gathered(struct emu_domain *d)
{
	struct emu_slot *s = emu_slot(d);
	unsigned int i, n, level;
	u64 g[EMU_GATHER];

	if (!atomic_load_explicit(&d->ngather, memory_order_relaxed))
		return;
	trim_begin(d);
	dml_spin_lock(&d->gather_lock);
	n = atomic_load_explicit(&d->ngather, memory_order_relaxed);
	for (i = 0; i < n; i++)
		g[i] = atomic_load_explicit(&d->gather[i], memory_order_relaxed);
	atomic_store_explicit(&d->ngather, 0, memory_order_release);
	dml_spin_unlock(&d->gather_lock);
	for (i = 0; i < n; i++) {
		level = (unsigned int)(g[i] & 7);
		trim_path(d, s, (g[i] >> 3) << EMU_LVL_SHIFT(level + 1), level);
	}
	trim_end(d);
}

/**
 * emu_pt_trim_flush - the trim of a domain-wide IOTLB flush: the gather
 * list, unless another thread has used @d and the last trim is less than
 * EMU_TRIM_INTERVAL_NS old (the list stays bounded: a full list is
 * trimmed by the unmap that finds it full)
 * @d: domain
 *
 * Must not be called between emu_op_enter() and emu_op_exit().
 */
void emu_pt_trim_flush(struct emu_domain *d)
{
	if (!d->reclaim)
		return;
	if (atomic_load_explicit(&d->users, memory_order_relaxed) > 1 &&
	    dml__now_ns() - atomic_load_explicit(&d->last_trim_ns, memory_order_relaxed) <
	    EMU_TRIM_INTERVAL_NS)
		return;
	emu_pt_trim_gathered(d);
}

/* free the empty tables under @t (level @level); true if @t is empty then */
static bool trim_table(struct emu_domain *d, struct emu_slot *s, u64 *t,
		       unsigned int level)
{
	bool empty = true, wrote = false;
	unsigned int i;

	for (i = 0; i < EMU_PTES; i++) {
		u64 e = emu_pte_read(&t[i]);

		if (!e)
			continue;
		if (level > 1 && !(e & VTD_PTE_PS) &&
		    trim_table(d, s, emu_table(d->iommu, e), level - 1)) {
			emu_pte_write(&t[i], 0);
			emu_pt_free(d->iommu, emu_table(d->iommu, e));
			wrote = true;
			continue;
		}
		empty = false;
	}
	if (wrote)
		emu_count(s, &s->touched, 1);
	return empty;
}

/**
 * emu_pt_trim - free every empty table of @d (the root stays), so that
 * page-table memory is exactly what the mappings need
 * @d: domain
 *
 * Called by dml_iommu_trim(), domain destroy and tests; walks the whole
 * tree.  Waits for the map and unmap calls running on @d and keeps new
 * ones out meanwhile.  Must not be called between emu_op_enter() and
 * emu_op_exit().
 */
void emu_pt_trim(struct emu_domain *d)
{
	trim_begin(d);
	dml_spin_lock(&d->gather_lock);
	atomic_store_explicit(&d->ngather, 0, memory_order_release);
	dml_spin_unlock(&d->gather_lock);
	trim_table(d, emu_slot(d), d->root, d->levels);
	trim_end(d);
}
