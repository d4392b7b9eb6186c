/* SPDX-License-Identifier: MIT */
/*
 * rcache.c - the IOVA allocator's per-thread caches: thread indices, one
 * slot of magazines per thread and domain, the depot and the flush (the
 * iova_rcache part of drivers/iommu/iova.c: iova_rcache_get(),
 * iova_rcache_insert(), free_cpu_cached_iovas(), free_global_cached_iovas()).
 * The fast paths (rcache_get_fast(), rcache_put_fast()) are inline in
 * iova-internal.h.
 *
 * Long file: the slot handshake, magazines, block refill, large ranges
 * and their invariant checks all work on the slot through the same static
 * helpers; a split would export those helpers to a second file.
 *
 * Caches.  A process-wide registry gives every thread a small index (like
 * a CPU number) on first use, released by a thread-exit destructor and then
 * reused by later threads, so a dead thread's cache is inherited, never
 * leaked; everything is reclaimed at domain destroy.  Each domain has one
 * slot per index with a "loaded" and a "prev" magazine per size class
 * (1..32 granules) and a shared depot of full magazines (Bonwick, like the
 * kernel's rcache).  Threads beyond IOVA_MAX_SLOTS go straight to the tree.
 *
 * Large ranges.  Lengths above the size classes (33..IOVA_LARGE_MAX
 * granules: more than 128 KiB with 4 KiB granules) would otherwise all go
 * to the tree under its one lock, which collapses under two threads.  So
 * each slot also keeps a short list of freed large ranges with their exact
 * lengths (dma-iommu does not round these, so a range can only serve a
 * request of the same length: the caller frees with the length it asked
 * for).  An allocation takes the newest one of its length below the limit;
 * a free appends.  Only size-aligned ranges are kept, so a cached range
 * serves aligned and unaligned requests alike, as the magazines do.  When
 * a list would pass IOVA_LARGE_NR ranges or IOVA_LARGE_MAX granules, its
 * oldest ones, IOVA_LARGE_BATCH at least, move to the domain's large depot
 * in one round of the depot lock; a thread whose own list has none of its
 * length takes the newest matching one from the depot with up to
 * IOVA_LARGE_BATCH - 1 more, again in one round.  The depot keeps
 * IOVA_LDEPOT_NR ranges and IOVA_LDEPOT_MAX granules at most and returns
 * its oldest ones to the tree beyond that.  So a thread that repeats its
 * sizes allocates and frees without a shared lock, and a thread that
 * frees what another allocated (submission and completion) shares the
 * depot lock once per batch with it instead of the tree lock per call.
 * A thread whose sizes never repeat pays the tree lock as before, once the
 * depot has pushed them out.
 *
 * Memory bound: what the caches may hold away from the tree, per domain:
 * per thread two magazines per class (2 x 127 x (1+2+...+32) = 16002
 * granules at most) and IOVA_LARGE_MAX = 8192 large granules; in the depot
 * IOVA_DEPOT_MAX full magazines per class (at most 256032 granules) and
 * IOVA_LDEPOT_MAX = 65536 large granules.  No memory is allocated for
 * large ranges: the lists are part of the slot and of the domain.
 *
 * Running short: nothing cached is lost to the space.  When the tree has
 * no room for a request (or a window is reserved), iova.c calls
 * dml__iova_rcache_flush(), which returns every thread's magazines and
 * large ranges and both depots to the tree, where they merge with their
 * free neighbours, and retries once (free_cpu_cached_iovas() and
 * free_global_cached_iovas() before the kernel's retry).
 *
 * Invariants (checked by dml__iova_rcache_check_locked()): a cached range
 * (in a thread magazine, the depot or a large list) is allocated as far as
 * the tree knows and size-aligned; magazine ranges are of their class's
 * power-of-two size <= 32; a thread's large list and the large depot each
 * hold disjoint ranges within their bounds, their lengths summed in
 * large_granules and depot_large_granules.
 *
 * False sharing: a slot and each magazine are aligned to IOVA_OWN_ALIGN
 * (a cache line pair), so what one thread writes on its fast path shares
 * no line pair with another thread's.
 *
 * Locking (no function holds two of these at once, except that a slot's
 * owner may take the depot or tree lock inside its in_op window, and the
 * flusher holds flush_mutex throughout):
 *  - depot_lock (a dml_spinlock_t): the depot of magazines and the large
 *    depot; ranges the large depot pushes out are freed to the tree after
 *    it is dropped.
 *  - flush_mutex: serialises cache flushes (exhaustion, reserve).
 *  - a slot's magazines and large list are touched only by its owner,
 *    between setting and clearing slot->in_op, and by a flusher, which
 *    sets flush_pending on every slot, issues a process-wide barrier
 *    (membarrier(2) private expedited) and waits for in_op to drop.  An
 *    owner that sees flush_pending leaves and waits on flush_mutex.  The
 *    fast path thus takes no lock and issues no atomic read-modify-write.
 *    Without membarrier the owner's side uses seq_cst accesses (a full
 *    fence).
 *  - draining a magazine or large ranges into the tree takes the tree
 *    lock (tree.c).
 *
 * Statistics: cache hits and cached frees are counted in the owner's slot
 * (written only by it).
 */
#include "iova-internal.h"

#include <linux/membarrier.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The size class of a cacheable length, or -1. */
static inline int size_class(unsigned long size)
{
	if (size > DML_IOVA_CACHE_MAX_GRANULES || (size & (size - 1)) || !size)
		return -1;
	return (int)dml__ffs64(size);
}

/* ------------------------------------------------------------------ */
/* Thread indices and the heavy barrier                                */
/* ------------------------------------------------------------------ */

#define TID_NONE 0u		/* not registered yet */
#define TID_NO_SLOT (~0u)	/* registry full, or thread exiting */

static pthread_mutex_t tid_mutex = PTHREAD_MUTEX_INITIALIZER;
static u64 tid_used[IOVA_MAX_SLOTS / 64];
static pthread_key_t tid_key;
static pthread_once_t tid_once = PTHREAD_ONCE_INIT;
static bool tid_key_ok;
static bool membarrier_ok;

/* index + 1, TID_NONE or TID_NO_SLOT */
_Thread_local unsigned int dml__iova_tid DML_TLS_HOT;

/* The slow side of the in_op / flush_pending handshake. */
static void heavy_barrier(struct dml_iova_domain *d)
{
	if (d->asym)
		DML_WARN_ON(syscall(__NR_membarrier,
				    MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
}

/* ------------------------------------------------------------------ */
/* Thread slots                                                        */
/* ------------------------------------------------------------------ */

static void tid_release(void *v)
{
	unsigned int idx = (unsigned int)(uintptr_t)v - 1;

	pthread_mutex_lock(&tid_mutex);
	tid_used[idx / 64] &= ~(1ULL << (idx % 64));
	pthread_mutex_unlock(&tid_mutex);
	dml__iova_tid = TID_NO_SLOT;
}

static void tid_init_once(void)
{
	long q;

	tid_key_ok = !pthread_key_create(&tid_key, tid_release);
	q = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	if (q > 0 && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	    !syscall(__NR_membarrier,
		     MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0))
		membarrier_ok = true;
}

static unsigned int tid_register(void)
{
	unsigned int i, idx = TID_NO_SLOT;

	if (!tid_key_ok)
		return dml__iova_tid = TID_NO_SLOT;
	pthread_mutex_lock(&tid_mutex);
	for (i = 0; i < ARRAY_SIZE(tid_used); i++) {
		if (~tid_used[i]) {
			idx = i * 64 + dml__ffs64(~tid_used[i]);
			tid_used[i] |= 1ULL << (idx % 64);
			break;
		}
	}
	pthread_mutex_unlock(&tid_mutex);
	if (idx == TID_NO_SLOT)
		return dml__iova_tid = TID_NO_SLOT;
	if (pthread_setspecific(tid_key, (void *)(uintptr_t)(idx + 1))) {
		tid_release((void *)(uintptr_t)(idx + 1));
		return TID_NO_SLOT;
	}
	return dml__iova_tid = idx + 1;
}

static struct iova_slot *slot_get_slow(struct dml_iova_domain *d)
{
	unsigned int t = dml__iova_tid;
	struct iova_slot *s;

	if (t == TID_NONE)
		t = tid_register();
	if (t == TID_NO_SLOT)
		return NULL;
	s = atomic_load_explicit(&d->slots[t - 1], memory_order_relaxed);
	if (s)
		return s;
	s = dml__zalloc_aligned(IOVA_OWN_ALIGN, sizeof(*s));
	if (!s)
		return NULL;
	atomic_store_explicit(&d->slots[t - 1], s, memory_order_release);
	return s;
}

/*
 * This thread's slot in @d if it has one, or NULL; registers nothing and
 * allocates nothing.
 */
static inline struct iova_slot *slot_find(struct dml_iova_domain *d)
{
	unsigned int t = dml__iova_tid - 1;

	if (likely(t < IOVA_MAX_SLOTS))
		return atomic_load_explicit(&d->slots[t], memory_order_relaxed);
	return NULL;
}

/* this thread's slot in @d, created on first use; or NULL: use the tree */
static inline struct iova_slot *slot_get(struct dml_iova_domain *d)
{
	unsigned int t = dml__iova_tid - 1;
	struct iova_slot *s;

	if (likely(t < IOVA_MAX_SLOTS)) {
		s = atomic_load_explicit(&d->slots[t], memory_order_relaxed);
		if (likely(s))
			return s;
	}
	return slot_get_slow(d);
}

static void flush_wait(struct dml_iova_domain *d)
{
	pthread_mutex_lock(&d->flush_mutex);
	pthread_mutex_unlock(&d->flush_mutex);
}

/* Enter the owner's side; false (after the flush is over) while one runs. */
static inline bool slot_enter(struct dml_iova_domain *d, struct iova_slot *s)
{
	if (likely(slot_try_enter(d, s)))
		return true;
	flush_wait(d);
	return false;
}

/* ------------------------------------------------------------------ */
/* Magazines and the depot                                             */
/* ------------------------------------------------------------------ */

/* a zeroed magazine that shares no cache line pair with anything else */
static inline struct iova_mag *mag_alloc(void)
{
	return dml__zalloc_aligned(IOVA_OWN_ALIGN, sizeof(struct iova_mag));
}

static struct iova_mag *mag_get_empty(struct dml_iova_domain *d)
{
	struct iova_mag *m = NULL;

	dml_spin_lock(&d->depot_lock);
	if (d->depot_nempty)
		m = d->depot_empty[--d->depot_nempty];
	dml_spin_unlock(&d->depot_lock);
	if (!m)
		m = mag_alloc();
	return m;
}

static void mag_put_empty(struct dml_iova_domain *d, struct iova_mag *m)
{
	m->size = 0;
	dml_spin_lock(&d->depot_lock);
	if (d->depot_nempty < IOVA_DEPOT_EMPTY_MAX) {
		d->depot_empty[d->depot_nempty++] = m;
		m = NULL;
	}
	dml_spin_unlock(&d->depot_lock);
	dml__free(m);
}

/* return every range in @m to the tree (d->lock held) */
static void mag_drain_locked(struct dml_iova_domain *d, struct iova_mag *m,
			     int cls)
{
	unsigned long i;

	if (!m)
		return;
	for (i = 0; i < m->size; i++)
		dml__iova_tree_free_locked(d, m->pfns[i], 1UL << cls);
	m->size = 0;
}

/* pop a range ending at or below @limit from @m, or 0 */
static inline unsigned long mag_pop(struct iova_mag *m, int cls,
				    unsigned long limit)
{
	unsigned long i = m->size, pfn, last = (1UL << cls) - 1;

	while (i--) {
		pfn = m->pfns[i];
		if (pfn + last <= limit) {
			m->pfns[i] = m->pfns[--m->size];
			return pfn;
		}
	}
	return 0;
}

/* loaded[c] is empty: try prev, then a full magazine from the depot */
static unsigned long slot_pop_slow(struct dml_iova_domain *d,
				   struct iova_slot *s, int c,
				   unsigned long limit)
{
	struct iova_mag *full = NULL, *old = s->loaded[c];
	unsigned int nf;

	if (s->prev[c] && s->prev[c]->size) {
		s->loaded[c] = s->prev[c];
		s->prev[c] = old;
		return mag_pop(s->loaded[c], c, limit);
	}
	if (!atomic_load_explicit(&d->depot_nfull[c], memory_order_relaxed))
		return 0;
	dml_spin_lock(&d->depot_lock);
	nf = atomic_load_explicit(&d->depot_nfull[c], memory_order_relaxed);
	if (nf) {
		full = d->depot_full[c][nf - 1];
		atomic_store_explicit(&d->depot_nfull[c], nf - 1,
				      memory_order_relaxed);
		if (old && d->depot_nempty < IOVA_DEPOT_EMPTY_MAX) {
			d->depot_empty[d->depot_nempty++] = old;
			old = NULL;
		}
	}
	dml_spin_unlock(&d->depot_lock);
	if (!full)
		return 0;
	dml__free(old);
	s->loaded[c] = full;
	return mag_pop(full, c, limit);
}

/* a cached range for class @c ending at or below @limit, or 0 */
static inline unsigned long slot_pop(struct dml_iova_domain *d,
				     struct iova_slot *s, int c,
				     unsigned long limit)
{
	struct iova_mag *m = s->loaded[c];
	unsigned long pfn;

	if (likely(m && m->size)) {
		/* as the kernel: only the loaded magazine is searched */
		pfn = m->pfns[m->size - 1];
		if (likely(pfn + ((1UL << c) - 1) <= limit)) {
			m->size--;
			return pfn;
		}
		return mag_pop(m, c, limit);
	}
	return slot_pop_slow(d, s, c, limit);
}

/* Park @pfn in class @c of @s.  False when no magazine memory: use the tree. */
static bool slot_push_slow(struct dml_iova_domain *d, struct iova_slot *s,
			   int c, unsigned long pfn)
{
	struct iova_mag *m = s->loaded[c], *p = s->prev[c];
	bool parked = false;

	if (!m) {
		m = s->loaded[c] = mag_get_empty(d);
		if (!m)
			return false;
	} else if (!p || p->size < IOVA_MAG_SIZE) {
		/* loaded is full: swap in prev, or a new empty one */
		if (!p) {
			p = mag_get_empty(d);
			if (!p)
				return false;
		}
		s->prev[c] = m;
		s->loaded[c] = m = p;
	} else {
		/* both full: loaded goes to the depot, or back to the tree */
		unsigned int nf;

		dml_spin_lock(&d->depot_lock);
		nf = atomic_load_explicit(&d->depot_nfull[c],
					  memory_order_relaxed);
		if (nf < IOVA_DEPOT_MAX) {
			d->depot_full[c][nf] = m;
			atomic_store_explicit(&d->depot_nfull[c], nf + 1,
					      memory_order_relaxed);
			parked = true;
			m = d->depot_nempty ?
				d->depot_empty[--d->depot_nempty] : NULL;
		}
		dml_spin_unlock(&d->depot_lock);
		if (parked) {
			if (!m)
				m = mag_alloc();
			s->loaded[c] = m;
			if (!m)
				return false;
		} else {
			tree_lock(d);

			mag_drain_locked(d, m, c);
			tree_unlock(d);
		}
	}
	m->pfns[m->size++] = pfn;
	return true;
}

static inline bool slot_push(struct dml_iova_domain *d, struct iova_slot *s,
			     int c, unsigned long pfn)
{
	struct iova_mag *m = s->loaded[c];

	if (likely(m && m->size < IOVA_MAG_SIZE)) {
		m->pfns[m->size++] = pfn;
		return true;
	}
	return slot_push_slow(d, s, c, pfn);
}

/* ------------------------------------------------------------------ */
/* Large ranges                                                        */
/* ------------------------------------------------------------------ */

/* a length above the size classes that a thread may cache */
static inline bool large_size(unsigned long size)
{
	return size > DML_IOVA_CACHE_MAX_GRANULES && size <= IOVA_LARGE_MAX;
}

/* a range a large list may hold: a large size, size-aligned, in the space */
static bool large_ok(const struct dml_iova_domain *d, unsigned long pfn,
		     unsigned long size)
{
	return large_size(size) && pfn >= d->start_pfn &&
	       IS_ALIGNED(pfn, dml__roundup_pow2(size)) &&
	       pfn + (size - 1) <= d->top_pfn;
}

/* whether [@pfn, +@size) overlaps one of @e[0..@n) */
static bool large_overlaps(const struct iova_large *e, unsigned int n,
			   unsigned long pfn, unsigned long size)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (pfn < e[i].pfn + e[i].size && e[i].pfn < pfn + size)
			return true;
	return false;
}

/* return @e[0..@n) to the tree (d->lock held) */
static void large_free_locked(struct dml_iova_domain *d,
			      const struct iova_large *e, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		dml__iova_tree_free_locked(d, e[i].pfn, e[i].size);
}

/* drop the oldest @k of @e[0..*@n), whose lengths sum to *@g */
static void large_drop_oldest(struct iova_large *e, unsigned int *n,
			      unsigned long *g, unsigned int k)
{
	unsigned int i;

	for (i = 0; i < k; i++)
		*g -= e[i].size;
	*n -= k;
	memmove(e, e + k, *n * sizeof(*e));
}

/*
 * Move the oldest @k ranges of @s to the depot, then return the depot's
 * oldest ones to the tree until it holds at most IOVA_LDEPOT_NR ranges and
 * IOVA_LDEPOT_MAX granules.  Owner side, in_op set; one depot round and,
 * only when the depot overflows, one tree round after it.
 */
static void large_spill(struct dml_iova_domain *d, struct iova_slot *s,
			unsigned int k)
{
	struct iova_large out[IOVA_LDEPOT_NR + IOVA_LARGE_NR];
	unsigned int n, i, nout = 0;
	unsigned long g;

	dml_spin_lock(&d->depot_lock);
	n = atomic_load_explicit(&d->depot_nlarge, memory_order_relaxed);
	g = d->depot_large_granules;
	for (i = 0; i < k; i++) {
		d->depot_large[n++] = s->large[i];
		g += s->large[i].size;
	}
	while (n - nout > IOVA_LDEPOT_NR || g > IOVA_LDEPOT_MAX) {
		out[nout] = d->depot_large[nout];
		g -= out[nout++].size;
	}
	memmove(d->depot_large, d->depot_large + nout,
		(n - nout) * sizeof(d->depot_large[0]));
	d->depot_large_granules = g;
	atomic_store_explicit(&d->depot_nlarge, n - nout,
			      memory_order_relaxed);
	dml_spin_unlock(&d->depot_lock);
	large_drop_oldest(s->large, &s->nlarge, &s->large_granules, k);
	if (nout) {
		tree_lock(d);
		large_free_locked(d, out, nout);
		tree_unlock(d);
	}
}

/*
 * The newest range in the depot of exactly @size granules ending at or
 * below @limit, taken out with up to IOVA_LARGE_BATCH - 1 older such ranges
 * that move to @s (oldest first, as far as its bounds allow); or 0.  Owner
 * side, in_op set; one depot round.
 */
static unsigned long large_refill(struct dml_iova_domain *d,
				  struct iova_slot *s, unsigned long size,
				  unsigned long limit)
{
	unsigned int room = IOVA_LARGE_NR - s->nlarge, want, n, i, j, k = 0;
	unsigned int at[IOVA_LARGE_BATCH];	/* depot indices, newest first */
	unsigned long pfn;

	if (!atomic_load_explicit(&d->depot_nlarge, memory_order_relaxed))
		return 0;
	want = 1 + min(min(room, (unsigned int)IOVA_LARGE_BATCH - 1),
		       (unsigned int)((IOVA_LARGE_MAX - s->large_granules) /
				      size));
	dml_spin_lock(&d->depot_lock);
	n = atomic_load_explicit(&d->depot_nlarge, memory_order_relaxed);
	for (i = n; i-- > 0 && k < want;)
		if (d->depot_large[i].size == size &&
		    d->depot_large[i].pfn + (size - 1) <= limit)
			at[k++] = i;
	if (!k) {
		dml_spin_unlock(&d->depot_lock);
		return 0;
	}
	pfn = d->depot_large[at[0]].pfn;
	for (j = k; j-- > 1;) {
		s->large[s->nlarge++] = d->depot_large[at[j]];
		s->large_granules += size;
	}
	for (j = 0; j < k; j++)
		d->depot_large[at[j]].size = 0;	/* taken */
	for (i = j = 0; i < n; i++)
		if (d->depot_large[i].size)
			d->depot_large[j++] = d->depot_large[i];
	d->depot_large_granules -= k * size;
	atomic_store_explicit(&d->depot_nlarge, j, memory_order_relaxed);
	dml_spin_unlock(&d->depot_lock);
	return pfn;
}

/*
 * The newest cached range of exactly @size granules ending at or below
 * @limit, taken out; or 0.  Owner side, in_op set.
 */
static unsigned long large_pop(struct iova_slot *s, unsigned long size,
			       unsigned long limit)
{
	unsigned int i = s->nlarge;
	unsigned long pfn;

	while (i--) {
		struct iova_large *e = &s->large[i];

		if (e->size != size || e->pfn + (size - 1) > limit)
			continue;
		pfn = e->pfn;
		s->nlarge--;
		s->large_granules -= size;
		for (; i < s->nlarge; i++)	/* keep the age order */
			s->large[i] = s->large[i + 1];
		return pfn;
	}
	return 0;
}

/*
 * Park [@pfn, +@size) in @s, first moving its oldest ranges (a batch at
 * least) to the depot until both bounds (IOVA_LARGE_NR ranges,
 * IOVA_LARGE_MAX granules) hold.
 * A range overlapping one parked here is a double free: reported and
 * ignored, as the tree would.  Owner side, in_op set.  Never allocates.
 * Return: true when parked.
 */
static bool large_push(struct dml_iova_domain *d, struct iova_slot *s,
		       unsigned long pfn, unsigned long size)
{
	unsigned int n = 0;
	unsigned long g = s->large_granules;

	if (large_overlaps(s->large, s->nlarge, pfn, size)) {
		dml__warn("iova: freeing pfn %#lx, %lu granules: (partly) free",
			  pfn, size);
		return false;
	}
	while (s->nlarge - n == IOVA_LARGE_NR || g + size > IOVA_LARGE_MAX)
		g -= s->large[n++].size;
	if (n)	/* a batch at least: one depot round per IOVA_LARGE_BATCH */
		large_spill(d, s, max(n, min(s->nlarge,
					   (unsigned int)IOVA_LARGE_BATCH)));
	s->large[s->nlarge++] = (struct iova_large){ .pfn = pfn, .size = size };
	s->large_granules += size;
	return true;
}

/**
 * dml__iova_rcache_flush - return every cached range to the tree
 * @d: domain
 *
 * All threads' magazines and the depot: free_cpu_cached_iovas() for every
 * CPU plus free_global_cached_iovas().  Waits for slot owners inside their
 * in_op window; owners arriving meanwhile wait on flush_mutex.
 */
void dml__iova_rcache_flush(struct dml_iova_domain *d)
{
	struct iova_mag *mags[IOVA_NR_CLASSES][IOVA_DEPOT_MAX];
	struct iova_large large[IOVA_LDEPOT_NR];
	unsigned int nf[IOVA_NR_CLASSES], nl, i, spins;
	struct iova_slot *s;
	int c;

	pthread_mutex_lock(&d->flush_mutex);
	for (i = 0; i < IOVA_MAX_SLOTS; i++) {
		s = atomic_load_explicit(&d->slots[i], memory_order_acquire);
		if (s)
			atomic_store_explicit(&s->flush_pending, 1,
					      memory_order_seq_cst);
	}
	heavy_barrier(d);
	for (i = 0; i < IOVA_MAX_SLOTS; i++) {
		s = atomic_load_explicit(&d->slots[i], memory_order_acquire);
		if (!s || !atomic_load_explicit(&s->flush_pending,
						memory_order_relaxed))
			continue;
		spins = 0;
		while (atomic_load_explicit(&s->in_op, memory_order_seq_cst)) {
			if (++spins < 128)
				dml__cpu_relax();
			else
				sched_yield();
		}
	}

	dml_spin_lock(&d->depot_lock);
	for (c = 0; c < IOVA_NR_CLASSES; c++) {
		nf[c] = atomic_load_explicit(&d->depot_nfull[c],
					     memory_order_relaxed);
		for (i = 0; i < nf[c]; i++)
			mags[c][i] = d->depot_full[c][i];
		atomic_store_explicit(&d->depot_nfull[c], 0,
				      memory_order_relaxed);
	}
	nl = atomic_load_explicit(&d->depot_nlarge, memory_order_relaxed);
	memcpy(large, d->depot_large, nl * sizeof(large[0]));
	d->depot_large_granules = 0;
	atomic_store_explicit(&d->depot_nlarge, 0, memory_order_relaxed);
	dml_spin_unlock(&d->depot_lock);

	tree_lock(d);
	for (i = 0; i < IOVA_MAX_SLOTS; i++) {
		s = atomic_load_explicit(&d->slots[i], memory_order_acquire);
		if (!s || !atomic_load_explicit(&s->flush_pending,
						memory_order_relaxed))
			continue;
		for (c = 0; c < IOVA_NR_CLASSES; c++) {
			mag_drain_locked(d, s->loaded[c], c);
			mag_drain_locked(d, s->prev[c], c);
		}
		large_free_locked(d, s->large, s->nlarge);
		s->nlarge = 0;
		s->large_granules = 0;
	}
	for (c = 0; c < IOVA_NR_CLASSES; c++)
		for (i = 0; i < nf[c]; i++)
			mag_drain_locked(d, mags[c][i], c);
	large_free_locked(d, large, nl);
	tree_unlock(d);

	for (c = 0; c < IOVA_NR_CLASSES; c++)
		for (i = 0; i < nf[c]; i++)
			mag_put_empty(d, mags[c][i]);
	for (i = 0; i < IOVA_MAX_SLOTS; i++) {
		s = atomic_load_explicit(&d->slots[i], memory_order_acquire);
		if (s)
			atomic_store_explicit(&s->flush_pending, 0,
					      memory_order_release);
	}
	pthread_mutex_unlock(&d->flush_mutex);
}

/* ------------------------------------------------------------------ */
/* What iova.c calls                                                   */
/* ------------------------------------------------------------------ */

/**
 * dml__iova_rcache_init - set up the caches of a new domain
 * @d: domain, zeroed
 *
 * Registers the thread-exit destructor and the membarrier(2) barrier on
 * first use in the process, and picks @d's side of the handshake.
 */
void dml__iova_rcache_init(struct dml_iova_domain *d)
{
	pthread_once(&tid_once, tid_init_once);
	d->asym = membarrier_ok;
	dml_spin_init(&d->depot_lock);
	pthread_mutex_init(&d->flush_mutex, NULL);
}

/**
 * dml__iova_rcache_fini - free every slot and magazine of @d
 * @d: domain; no call on it may be running or follow
 *
 * The cached ranges are not returned to the tree: it goes too.
 */
void dml__iova_rcache_fini(struct dml_iova_domain *d)
{
	unsigned int i, j;
	int c;

	for (i = 0; i < IOVA_MAX_SLOTS; i++) {
		struct iova_slot *s = atomic_load(&d->slots[i]);

		if (!s)
			continue;
		for (c = 0; c < IOVA_NR_CLASSES; c++) {
			dml__free(s->loaded[c]);
			dml__free(s->prev[c]);
		}
		dml__free(s);
	}
	for (c = 0; c < IOVA_NR_CLASSES; c++)
		for (j = 0; j < atomic_load(&d->depot_nfull[c]); j++)
			dml__free(d->depot_full[c][j]);
	for (j = 0; j < d->depot_nempty; j++)
		dml__free(d->depot_empty[j]);
	pthread_mutex_destroy(&d->flush_mutex);
}

/**
 * dml__iova_rcache_get - a cached range, past the fast path
 * @d: domain
 * @size: granules
 * @limit_pfn: the last pfn the range may use (inclusive)
 *
 * For a size class, registers the thread and creates its slot on first
 * use (so that it can take a full magazine from the depot at once) and
 * searches the loaded magazine, then prev, then the depot.  For a large
 * size, searches the slot's large ranges, then the depot's (taking a
 * batch); a slot is created for that only when the depot holds large
 * ranges: an allocation that can only be a miss allocates nothing, as a
 * failure there would be absorbed by a caller's retry (dma-iommu's after
 * its first try below 4 GiB) and hidden.  Waits out a running flush.
 * Return: the first pfn of a size-aligned range, or 0.
 */
unsigned long dml__iova_rcache_get(struct dml_iova_domain *d,
				   unsigned long size, unsigned long limit_pfn)
{
	struct iova_slot *s;
	unsigned long pfn;
	int c = size_class(size);

	if (c >= 0)
		s = slot_get(d);
	else if (large_size(size))
		s = slot_find(d) ?:
		    (atomic_load_explicit(&d->depot_nlarge,
					  memory_order_relaxed) ?
		     slot_get(d) : NULL);
	else
		return 0;
	if (!s)
		return 0;
	while (!slot_enter(d, s))
		;
	if (c >= 0)
		pfn = slot_pop(d, s, c, limit_pfn);
	else if (!(pfn = large_pop(s, size, limit_pfn)))
		pfn = large_refill(d, s, size, limit_pfn);
	slot_leave(s);
	if (pfn)
		stat_inc_own(&s->hits);
	return pfn;
}

/**
 * dml__iova_rcache_put - park a freed range in this thread's cache
 * @d: domain
 * @pfn: first pfn
 * @size: granules
 *
 * Only size-aligned ranges of a cacheable size inside the cached span are
 * parked.  A full loaded and prev send a magazine to the depot, or, when
 * the depot is full, back to the tree.  A large range overlapping one
 * this thread holds is a double free: reported and dropped.
 * Return: true when handled (parked or dropped); false: the caller frees
 * it to the tree.
 */
bool dml__iova_rcache_put(struct dml_iova_domain *d, unsigned long pfn,
			  unsigned long size)
{
	struct iova_slot *s;
	int c = size_class(size);
	bool ok = true, parked;

	if (c >= 0) {
		if (!IS_ALIGNED(pfn, size) ||
		    pfn - d->start_pfn > d->cache_span)
			return false;
	} else if (!large_ok(d, pfn, size)) {
		return false;
	}
	s = slot_get(d);
	if (!s)
		return false;
	while (!slot_enter(d, s))
		;
	if (c >= 0)
		ok = parked = slot_push(d, s, c, pfn);
	else
		parked = large_push(d, s, pfn, size);
	slot_leave(s);
	if (parked)
		stat_inc_own(&s->frees);
	return ok;
}

unsigned long dml__iova_rcache_refill(struct dml_iova_domain *d,
				      unsigned long size,
				      unsigned long limit_pfn, int *err)
{
	unsigned long n = IOVA_REFILL / size, pfn = 0, i;
	struct iova_slot *s = slot_find(d);
	int c = size_class(size);
	struct iova_mag *m;

	*err = 0;
	if (!s || !slot_try_enter(d, s))
		return 0;
	m = s->loaded[c];
	if (!m)
		m = s->loaded[c] = mag_get_empty(d);
	if (m && m->size + n - 1 <= IOVA_MAG_SIZE) {
		pfn = dml__iova_tree_alloc_pieces(d, IOVA_REFILL, n,
			min(limit_pfn, d->start_pfn + d->cache_span), err);
		for (i = 1; pfn && i < n; i++)
			m->pfns[m->size++] = pfn + i * size;
	}
	slot_leave(s);
	return pfn;
}

/**
 * dml__iova_rcache_stats - the cache counters of @d
 * @d: domain
 * @hits: set to the allocations served by a cache
 * @frees: set to the frees parked in a cache
 *
 * Exact when no other thread is using the domain; a close snapshot else.
 */
void dml__iova_rcache_stats(struct dml_iova_domain *d, u64 *hits, u64 *frees)
{
	unsigned int i;

	*hits = 0;
	*frees = 0;
	for (i = 0; i < IOVA_MAX_SLOTS; i++) {
		struct iova_slot *s;

		s = atomic_load_explicit(&d->slots[i], memory_order_acquire);
		if (!s)
			continue;
		*frees += atomic_load_explicit(&s->frees, memory_order_relaxed);
		*hits += atomic_load_explicit(&s->hits, memory_order_relaxed);
	}
}

static bool check_cached(struct dml_iova_domain *d, const struct iova_mag *m,
			 int c)
{
	unsigned long i, size = 1UL << c;

	if (!m)
		return true;
	if (m->size > IOVA_MAG_SIZE)
		return dml__iova_check_fail("magazine size", NULL);
	for (i = 0; i < m->size; i++) {
		unsigned long pfn = m->pfns[i];

		if (!IS_ALIGNED(pfn, size) || pfn < d->start_pfn)
			return dml__iova_check_fail("cached range misaligned",
						    NULL);
		if (!dml__iova_tree_check_busy_locked(d, pfn, size))
			return false;
	}
	return true;
}

/*
 * A list of large ranges @e[0..@n) whose lengths should sum to @g: at most
 * @nr ranges and @max granules, each aligned and inside the space, none
 * overlapping another, none free in the tree.
 */
static bool check_large(struct dml_iova_domain *d, const struct iova_large *e,
			unsigned int n, unsigned long g, unsigned int nr,
			unsigned long max)
{
	unsigned long sum = 0;
	unsigned int i;

	if (n > nr)
		return dml__iova_check_fail("large range count", NULL);
	for (i = 0; i < n; i++) {
		if (!large_ok(d, e[i].pfn, e[i].size))
			return dml__iova_check_fail("large cached range", NULL);
		if (large_overlaps(e, i, e[i].pfn, e[i].size))
			return dml__iova_check_fail("large cached ranges overlap",
						    NULL);
		if (!dml__iova_tree_check_busy_locked(d, e[i].pfn, e[i].size))
			return false;
		sum += e[i].size;
	}
	if (sum != g || g > max)
		return dml__iova_check_fail("large cached granules", NULL);
	return true;
}

/**
 * dml__iova_rcache_check_locked - verify every cached range
 * @d: domain, tree lock held, no other thread using it
 *
 * Every range in a slot's magazines or the depot is size-aligned, inside
 * the space and not free in the tree.  O(n log n).
 * Return: true when all hold; the first broken one is reported.
 */
bool dml__iova_rcache_check_locked(struct dml_iova_domain *d)
{
	bool ok = true;
	unsigned int i, j;
	int c;

	for (i = 0; ok && i < IOVA_MAX_SLOTS; i++) {
		struct iova_slot *s = atomic_load(&d->slots[i]);

		for (c = 0; ok && s && c < IOVA_NR_CLASSES; c++)
			ok = check_cached(d, s->loaded[c], c) &&
			     check_cached(d, s->prev[c], c);
		if (ok && s)
			ok = check_large(d, s->large, s->nlarge,
					 s->large_granules, IOVA_LARGE_NR,
					 IOVA_LARGE_MAX);
	}
	if (ok)
		ok = check_large(d, d->depot_large,
				 atomic_load(&d->depot_nlarge),
				 d->depot_large_granules, IOVA_LDEPOT_NR,
				 IOVA_LDEPOT_MAX);
	for (c = 0; ok && c < IOVA_NR_CLASSES; c++)
		for (j = 0; ok && j < atomic_load(&d->depot_nfull[c]); j++)
			ok = check_cached(d, d->depot_full[c][j], c);
	return ok;
}
