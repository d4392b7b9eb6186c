/* SPDX-License-Identifier: MIT */
/*
 * iova.c - the IOVA allocator: ranges of granules ("pfns", IOVA >> shift)
 * handed out top-down below an inclusive limit, optionally size-aligned,
 * with per-thread magazine caches in front (drivers/iommu/iova.c and
 * dma-iommu semantics, reference/kernel-dma-semantics.md §1.2).  Written
 * from the description of the behaviour, not from the kernel's code.
 *
 * The tree.  Unlike the kernel, which keeps allocated ranges in an rbtree
 * and walks it linearly to find a hole (perf-anchors A11/A12), we keep the
 * FREE space: an AVL tree of maximal free runs ("gaps") keyed by their first
 * pfn, each node augmented with the largest gap length and the largest
 * "fit order" in its subtree.  The fit order of a gap is the largest k such
 * that an aligned block of 2^k granules lies inside it, so a size-aligned
 * request of 2^k granules fits a gap if and only if its order is >= k.
 * With these two maxima the highest fitting gap below the limit is found
 * by one descent plus one predecessor walk: O(log n) for unaligned and
 * power-of-two aligned requests.  Non-power-of-two aligned requests (only
 * > 32 granules reach us: dma-iommu rounds smaller ones) probe at most
 * IOVA_PROBES near-miss gaps, then take the highest gap that surely fits;
 * only when no gap surely fits do they look at every near miss, so they
 * never fail while a fitting gap exists.
 *
 * Invariants (checked by dml__iova_check()):
 *  - gaps are disjoint, never adjacent (free runs are maximal), inside
 *    [start_pfn, top_pfn]; pfn 0 is never free because start_pfn >= 1;
 *  - AVL: child heights differ by at most one; augmented maxima are exact;
 *  - node pool: spare nodes (allocated, not in the tree) >= live ranges.
 *    A free adds at most one gap and retires one live range, so freeing
 *    never allocates memory and cannot fail (reference/style.md C3); an
 *    allocation makes sure of two spare nodes more before it starts.
 *  - a cached range (in a thread magazine or the depot) is allocated as far
 *    as the tree knows, size-aligned, and of a power-of-two size <= 32.
 *
 * Reservations remove the parts of [lo, hi] that are free at the time of
 * the call; ranges allocated then are not affected and become free when
 * they are freed (as in the kernel, where reserve_iova() merges into an
 * existing node).  The caches are flushed first so that no cached range
 * inside the window can be handed out again.
 *
 * Caches.  A process-wide registry gives every thread a small index (like
 * a CPU number) on first use, released by a thread-exit destructor and then
 * reused by later threads, so a dead thread's cache is inherited, never
 * leaked; everything is reclaimed at domain destroy.  Each domain has one
 * slot per index with a "loaded" and a "prev" magazine per size class
 * (1..32 granules) and a shared depot of full magazines (Bonwick, like the
 * kernel's rcache).  Threads beyond IOVA_MAX_SLOTS go straight to the tree.
 *
 * Locking (no function holds two of these at once, except that a slot's
 * owner may take the depot or tree lock inside its in_op window, and the
 * flusher holds flush_mutex throughout):
 *  - the tree lock (tree_lock()): the tree, the node pool, live/reserved
 *    and the tree counters.  A dml_spinlock_t.  (A lock biased
 *    to a lone thread saved 3-7 ns per tree operation but raced under
 *    UBSan in a hand-off test; it was removed.)
 *  - depot_lock: the depot.
 *  - flush_mutex: serialises cache flushes (exhaustion, reserve).
 *  - a slot's magazines are touched only by its owner, between setting and
 *    clearing slot->in_op, and by a flusher, which sets flush_pending on
 *    every slot, issues a process-wide barrier (membarrier(2) private
 *    expedited) and waits for in_op to drop.  An owner that sees
 *    flush_pending leaves and waits on flush_mutex.  The fast path thus
 *    takes no lock and issues no atomic read-modify-write.  Without
 *    membarrier the owner's side uses seq_cst accesses (a full fence).
 *
 * Statistics: cache hits and cached frees are counted in the owner's slot
 * (written only by it), everything else under the tree lock; the sums are
 * exact when no other thread is using the domain.
 */
#include "iova.h"

#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <sys/syscall.h>
#include <unistd.h>

#define IOVA_NR_CLASSES 6	/* 1, 2, 4, 8, 16, 32 granules */
#define IOVA_MAG_SIZE 127	/* a magazine is exactly 1 KiB */
#define IOVA_DEPOT_MAX 32	/* full magazines per class in the depot */
#define IOVA_DEPOT_EMPTY_MAX 32	/* spare empty magazines kept */
#define IOVA_MAX_SLOTS 256	/* threads with a cache, process-wide */
#define IOVA_PROBES 8		/* near misses tried before a sure fit */
#define IOVA_CHUNK_MIN 32
#define IOVA_CHUNK_MAX 8192

_Static_assert(DML_IOVA_CACHE_MAX_GRANULES == 1 << (IOVA_NR_CLASSES - 1),
	       "size classes must cover 1..DML_IOVA_CACHE_MAX_GRANULES");

/*
 * A maximal free run [lo, hi] of pfns: a node of the AVL tree.  One cache
 * line each: a search touches one line per level.
 */
struct iova_gap {
	struct iova_gap *left, *right, *parent;
	unsigned long lo, hi;
	unsigned long max_len;		/* largest length in the subtree */
	unsigned char height;		/* leaf: 1 */
	unsigned char order;		/* fit order of this gap */
	unsigned char max_order;	/* largest fit order in the subtree */
} __attribute__((aligned(64)));

struct iova_chunk {
	struct iova_chunk *next;
	unsigned long used, cap;
	struct iova_gap *nodes;		/* 64-byte aligned, in this block */
};

struct iova_mag {
	unsigned long size;
	unsigned long pfns[IOVA_MAG_SIZE];
};

struct iova_slot {
	atomic_uint in_op;
	atomic_uint flush_pending;
	struct iova_mag *loaded[IOVA_NR_CLASSES];
	struct iova_mag *prev[IOVA_NR_CLASSES];
	atomic_ullong hits, frees;	/* cache traffic; owner-written */
};

struct dml_iova_domain {
	/* read-mostly */
	unsigned long granule;
	unsigned long start_pfn;
	unsigned long top_pfn;
	unsigned long cache_span;	/* cached pfns: start + [0, this] */
	unsigned int shift;
	bool asym;		/* membarrier(2) is the flusher's barrier */
	_Atomic(struct iova_slot *) slots[IOVA_MAX_SLOTS];

	/* the tree, under lock (tree_lock()) */
	alignas(64) dml_spinlock_t lock;
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
	alignas(64) dml_spinlock_t depot_lock;
	atomic_uint depot_nfull[IOVA_NR_CLASSES];	/* read unlocked */
	struct iova_mag *depot_full[IOVA_NR_CLASSES][IOVA_DEPOT_MAX];
	struct iova_mag *depot_empty[IOVA_DEPOT_EMPTY_MAX];
	unsigned int depot_nempty;

	pthread_mutex_t flush_mutex;
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* An owner-only counter: a plain load and store, no locked instruction. */
static inline void stat_inc_own(atomic_ullong *c)
{
	u64 v = atomic_load_explicit(c, memory_order_relaxed);

	atomic_store_explicit(c, v + 1, memory_order_relaxed);
}

/* The size class of a cacheable length, or -1. */
static inline int size_class(unsigned long size)
{
	if (size > DML_IOVA_CACHE_MAX_GRANULES || (size & (size - 1)) || !size)
		return -1;
	return (int)dml__ffs64(size);
}

/* ------------------------------------------------------------------ */
/* The AVL tree of free runs                                           */
/* ------------------------------------------------------------------ */

static inline unsigned long gap_len(const struct iova_gap *n)
{
	return n->hi - n->lo + 1;
}

static inline unsigned int gap_height(const struct iova_gap *n)
{
	return n ? n->height : 0;
}

/* largest k with an aligned block of 2^k granules inside [lo, hi] */
static unsigned char fit_order(unsigned long lo, unsigned long hi)
{
	unsigned int k = dml__fls64(hi - lo + 1) - 1;
	unsigned long a = 1UL << k;

	if (ALIGN(lo, a) + (a - 1) <= hi)
		return (unsigned char)k;
	/* a length >= 2^k always holds an aligned 2^(k-1) */
	return (unsigned char)(k - 1);
}

static inline void gap_set(struct iova_gap *n, unsigned long lo,
			   unsigned long hi)
{
	n->lo = lo;
	n->hi = hi;
	n->order = fit_order(lo, hi);
}

static void gap_update(struct iova_gap *n)
{
	struct iova_gap *l = n->left, *r = n->right;
	unsigned long ml = gap_len(n);
	unsigned char mo = n->order;
	unsigned int h = 0;

	if (l) {
		ml = max(ml, l->max_len);
		mo = max(mo, l->max_order);
		h = l->height;
	}
	if (r) {
		ml = max(ml, r->max_len);
		mo = max(mo, r->max_order);
		h = max(h, (unsigned int)r->height);
	}
	n->max_len = ml;
	n->max_order = mo;
	n->height = (unsigned char)(h + 1);
}

static inline void replace_child(struct dml_iova_domain *d,
				 struct iova_gap *parent, struct iova_gap *old,
				 struct iova_gap *new)
{
	if (!parent)
		d->root = new;
	else if (parent->left == old)
		parent->left = new;
	else
		parent->right = new;
}

static struct iova_gap *rotate_left(struct dml_iova_domain *d,
				    struct iova_gap *x)
{
	struct iova_gap *y = x->right, *p = x->parent;

	x->right = y->left;
	if (y->left)
		y->left->parent = x;
	y->left = x;
	x->parent = y;
	y->parent = p;
	replace_child(d, p, x, y);
	gap_update(x);
	gap_update(y);
	return y;
}

static struct iova_gap *rotate_right(struct dml_iova_domain *d,
				     struct iova_gap *x)
{
	struct iova_gap *y = x->left, *p = x->parent;

	x->left = y->right;
	if (y->right)
		y->right->parent = x;
	y->right = x;
	x->parent = y;
	y->parent = p;
	replace_child(d, p, x, y);
	gap_update(x);
	gap_update(y);
	return y;
}

static struct iova_gap *rebalance(struct dml_iova_domain *d,
				  struct iova_gap *n)
{
	int bf = (int)gap_height(n->left) - (int)gap_height(n->right);

	if (bf > 1) {
		if (gap_height(n->left->left) < gap_height(n->left->right))
			rotate_left(d, n->left);
		return rotate_right(d, n);
	}
	if (bf < -1) {
		if (gap_height(n->right->right) < gap_height(n->right->left))
			rotate_right(d, n->right);
		return rotate_left(d, n);
	}
	return n;
}

/*
 * Walk from @n to the root fixing heights, balance and maxima.  Stops as
 * soon as a subtree root comes out as it went in, but not before @must
 * (a node whose own range changed) has been passed.
 */
static void retrace(struct dml_iova_domain *d, struct iova_gap *n,
		    struct iova_gap *must)
{
	while (n) {
		unsigned char oh = n->height, oo = n->max_order;
		unsigned long ol = n->max_len;
		bool passed = !must || n == must;
		int bf;

		gap_update(n);
		bf = (int)gap_height(n->left) - (int)gap_height(n->right);
		if (unlikely(bf > 1 || bf < -1))
			n = rebalance(d, n);
		if (passed) {
			must = NULL;
			if (n->height == oh && n->max_len == ol &&
			    n->max_order == oo)
				return;
		}
		n = n->parent;
	}
}

static void tree_insert(struct dml_iova_domain *d, struct iova_gap *n)
{
	struct iova_gap **link = &d->root, *parent = NULL;

	while (*link) {
		parent = *link;
		link = n->lo < parent->lo ? &parent->left : &parent->right;
	}
	n->left = n->right = NULL;
	n->parent = parent;
	n->height = 1;
	n->max_len = gap_len(n);
	n->max_order = n->order;
	*link = n;
	d->nodes_used++;
	retrace(d, parent, NULL);
}

/*
 * Remove @n's range from the tree.  Returns the node that left the tree
 * (for the pool): @n itself, or, when @n has two children, its successor,
 * whose range @n takes over.  Pointers to other nodes stay valid.
 */
static struct iova_gap *tree_erase(struct dml_iova_domain *d,
				   struct iova_gap *n)
{
	struct iova_gap *victim = n, *child, *parent, *must = NULL;

	if (n->left && n->right) {
		victim = n->right;
		while (victim->left)
			victim = victim->left;
		gap_set(n, victim->lo, victim->hi);
		must = n;
	}
	child = victim->left ? victim->left : victim->right;
	parent = victim->parent;
	if (child)
		child->parent = parent;
	replace_child(d, parent, victim, child);
	d->nodes_used--;
	retrace(d, parent, must);
	return victim;
}

/*
 * @n's range changed in place, keeping its place in pfn order: heights
 * stay, only the maxima on the way up may change.
 */
static void gap_changed(struct iova_gap *n)
{
	for (; n; n = n->parent) {
		struct iova_gap *l = n->left, *r = n->right;
		unsigned long ml = gap_len(n);
		unsigned char mo = n->order;

		if (l) {
			ml = max(ml, l->max_len);
			mo = max(mo, l->max_order);
		}
		if (r) {
			ml = max(ml, r->max_len);
			mo = max(mo, r->max_order);
		}
		if (ml == n->max_len && mo == n->max_order)
			return;
		n->max_len = ml;
		n->max_order = mo;
	}
}

/* the highest gap whose first pfn is <= @pfn */
static struct iova_gap *find_le(struct dml_iova_domain *d, unsigned long pfn)
{
	struct iova_gap *n = d->root, *best = NULL;

	while (n) {
		if (n->lo <= pfn) {
			best = n;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	return best;
}

static struct iova_gap *gap_next(struct iova_gap *n)
{
	if (n->right) {
		n = n->right;
		while (n->left)
			n = n->left;
		return n;
	}
	while (n->parent && n == n->parent->right)
		n = n->parent;
	return n->parent;
}

static struct iova_gap *gap_prev(struct iova_gap *n)
{
	if (n->left) {
		n = n->left;
		while (n->right)
			n = n->right;
		return n;
	}
	while (n->parent && n == n->parent->left)
		n = n->parent;
	return n->parent;
}

static struct iova_gap *gap_first(struct dml_iova_domain *d)
{
	struct iova_gap *n = d->root;

	while (n && n->left)
		n = n->left;
	return n;
}

/* What a search looks for: a length, or a fit order. */
struct iova_crit {
	unsigned long len;
	unsigned char order;
	bool by_order;
};

static inline bool node_ok(const struct iova_gap *n, const struct iova_crit *c)
{
	return c->by_order ? n->order >= c->order : gap_len(n) >= c->len;
}

static inline bool sub_ok(const struct iova_gap *n, const struct iova_crit *c)
{
	return n && (c->by_order ? n->max_order >= c->order :
				   n->max_len >= c->len);
}

/* the highest node of subtree @n that meets @c; sub_ok(@n, @c) holds */
static struct iova_gap *rightmost_ok(struct iova_gap *n,
				     const struct iova_crit *c)
{
	for (;;) {
		if (sub_ok(n->right, c))
			n = n->right;
		else if (node_ok(n, c))
			return n;
		else
			n = n->left;
	}
}

/* the highest node below @n (in pfn order) that meets @c: O(log n) */
static struct iova_gap *prev_ok(struct iova_gap *n, const struct iova_crit *c)
{
	if (sub_ok(n->left, c))
		return rightmost_ok(n->left, c);
	while (n->parent) {
		struct iova_gap *p = n->parent;

		if (n == p->right) {
			if (node_ok(p, c))
				return p;
			if (sub_ok(p->left, c))
				return rightmost_ok(p->left, c);
		}
		n = p;
	}
	return NULL;
}

/* the highest start of @size granules aligned to @align in [lo, hi], or 0 */
static inline unsigned long gap_fit(unsigned long lo, unsigned long hi,
				    unsigned long size, unsigned long align)
{
	unsigned long start;

	if (hi < lo || hi - lo < size - 1)
		return 0;
	start = ALIGN_DOWN(hi - (size - 1), align);
	return start >= lo ? start : 0;
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
static _Thread_local unsigned int tl_tid
	__attribute__((tls_model("initial-exec")));

/* The slow side of the in_op / flush_pending handshake. */
static void heavy_barrier(struct dml_iova_domain *d)
{
	if (d->asym)
		DML_WARN_ON(syscall(__NR_membarrier,
				    MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
}

static unsigned int tid_register(void);

/* The tree lock (see the locking notes above). */
static inline void tree_lock(struct dml_iova_domain *d)
{
	dml_spin_lock(&d->lock);
}

static inline void tree_unlock(struct dml_iova_domain *d)
{
	dml_spin_unlock(&d->lock);
}

/* ------------------------------------------------------------------ */
/* The node pool                                                       */
/* ------------------------------------------------------------------ */

static inline unsigned long pool_spare(const struct dml_iova_domain *d)
{
	return d->nodes_total - d->nodes_used;
}

static struct iova_gap *pool_get(struct dml_iova_domain *d)
{
	struct iova_gap *n = d->pool;

	if (n) {
		d->pool = n->left;
		return n;
	}
	/* untouched nodes last: a fresh chunk is not written until used */
	while (d->bump) {
		struct iova_chunk *c = d->bump;

		if (c->used < c->cap)
			return &c->nodes[c->used++];
		d->bump = c->next;
	}
	return NULL;
}

static inline void pool_put(struct dml_iova_domain *d, struct iova_gap *n)
{
	n->left = d->pool;
	d->pool = n;
}

/*
 * Add a chunk of nodes.  Called and returns without d->lock; the memory is
 * allocated outside it.  Return: 0 or -ENOMEM.
 */
static int pool_grow(struct dml_iova_domain *d)
{
	unsigned long cap = __atomic_load_n(&d->chunk_next, __ATOMIC_RELAXED);
	struct iova_chunk *c;

	/* calloc, not an aligned allocation: untouched pages stay untouched */
	c = dml__zalloc(sizeof(*c) + 64 + cap * sizeof(c->nodes[0]));
	if (!c)
		return -ENOMEM;
	c->nodes = (struct iova_gap *)ALIGN((uintptr_t)(c + 1), 64);
	c->cap = cap;
	tree_lock(d);
	if (d->chunks_tail)
		d->chunks_tail->next = c;
	else
		d->chunks = c;
	d->chunks_tail = c;
	if (!d->bump)
		d->bump = c;
	d->nodes_total += cap;
	if (cap == d->chunk_next && cap < IOVA_CHUNK_MAX)
		__atomic_store_n(&d->chunk_next, cap * 2, __ATOMIC_RELAXED);
	tree_unlock(d);
	return 0;
}

/*
 * Take the tree lock with at least live + @extra spare nodes.
 * Return: 0 (locked) or -ENOMEM (not locked).
 */
static int lock_with_spare(struct dml_iova_domain *d, unsigned long extra)
{
	for (;;) {
		tree_lock(d);
		if (pool_spare(d) >= d->live + extra)
			return 0;
		tree_unlock(d);
		if (pool_grow(d))
			return -ENOMEM;
	}
}

/* ------------------------------------------------------------------ */
/* Tree allocation and free (d->lock held)                             */
/* ------------------------------------------------------------------ */

/* take [pfn, pfn + size) out of gap @n; needs one spare node */
static void carve(struct dml_iova_domain *d, struct iova_gap *n,
		  unsigned long pfn, unsigned long size)
{
	unsigned long end = pfn + size - 1;

	if (pfn == n->lo && end == n->hi) {
		pool_put(d, tree_erase(d, n));
	} else if (end == n->hi) {
		gap_set(n, n->lo, pfn - 1);
		gap_changed(n);
	} else if (pfn == n->lo) {
		gap_set(n, end + 1, n->hi);
		gap_changed(n);
	} else {
		struct iova_gap *low = pool_get(d);
		unsigned long lo = n->lo;

		gap_set(n, end + 1, n->hi);
		gap_changed(n);
		gap_set(low, lo, pfn - 1);
		tree_insert(d, low);
	}
}

static unsigned long tree_alloc_locked(struct dml_iova_domain *d,
				       unsigned long size,
				       unsigned long limit, bool aligned)
{
	unsigned int k = aligned ? order_base_2(size) : 0;
	unsigned long align = 1UL << k, pfn;
	struct iova_gap *n, *m;
	struct iova_crit probe, sure;
	int i;

	if (limit > d->top_pfn)
		limit = d->top_pfn;
	if (limit < d->start_pfn || size - 1 > limit - d->start_pfn)
		return 0;
	n = find_le(d, limit);
	if (!n)
		return 0;
	/* the highest gap, clipped to the limit */
	pfn = gap_fit(n->lo, min(n->hi, limit), size, align);
	if (pfn) {
		m = n;
		goto found;
	}
	/* every gap below @n ends below the limit: exact criteria */
	if (!aligned) {
		sure = (struct iova_crit){ .len = size };
		m = prev_ok(n, &sure);
	} else if (dml__is_pow2(size)) {
		sure = (struct iova_crit){ .order = (unsigned char)k,
					   .by_order = true };
		m = prev_ok(n, &sure);
	} else {
		/*
		 * Only a gap of order >= k - 1 can hold @size > 2^(k-1)
		 * granules at a 2^k boundary; order >= k surely does.
		 */
		probe = (struct iova_crit){ .order = (unsigned char)(k - 1),
					    .by_order = true };
		sure = (struct iova_crit){ .order = (unsigned char)k,
					   .by_order = true };
		m = n;
		for (i = 0; i < IOVA_PROBES; i++) {
			m = prev_ok(m, &probe);
			if (!m)
				return 0;
			pfn = gap_fit(m->lo, m->hi, size, align);
			if (pfn)
				goto found;
		}
		n = prev_ok(m, &sure);
		if (n) {
			m = n;
		} else {
			/* nothing surely fits: now try every near miss */
			while ((m = prev_ok(m, &probe))) {
				pfn = gap_fit(m->lo, m->hi, size, align);
				if (pfn)
					goto found;
			}
		}
	}
	if (!m)
		return 0;
	pfn = gap_fit(m->lo, m->hi, size, align);
	if (DML_WARN_ON(!pfn))
		return 0;
found:
	carve(d, m, pfn, size);
	d->live++;
	return pfn;
}

/*
 * Return [pfn, pfn + size) to the free tree.  Never allocates: the node it
 * may need is one of the spares the allocation set aside.
 */
static bool tree_free_locked(struct dml_iova_domain *d, unsigned long pfn,
			     unsigned long size)
{
	unsigned long end = pfn + size - 1;
	struct iova_gap *p, *s, *n;
	bool left, right;

	if (!size || end < pfn || pfn < d->start_pfn || end > d->top_pfn ||
	    !d->live) {
		dml__warn("iova: bad free of pfn %#lx, %lu granules", pfn,
			  size);
		return false;
	}
	p = find_le(d, pfn);
	s = p ? gap_next(p) : gap_first(d);
	if ((p && p->hi >= pfn) || (s && s->lo <= end)) {
		dml__warn("iova: freeing pfn %#lx, %lu granules: (partly) free",
			  pfn, size);
		return false;
	}
	left = p && p->hi + 1 == pfn;
	right = s && s->lo == end + 1;
	if (left && right) {
		unsigned long hi = s->hi;

		pool_put(d, tree_erase(d, s));
		gap_set(p, p->lo, hi);
		gap_changed(p);
	} else if (left) {
		gap_set(p, p->lo, end);
		gap_changed(p);
	} else if (right) {
		gap_set(s, pfn, s->hi);
		gap_changed(s);
	} else {
		n = pool_get(d);
		if (!n) {	/* the spare-node invariant broke */
			dml__warn("iova: no spare node, pfn %#lx leaks", pfn);
			return false;
		}
		gap_set(n, pfn, end);
		tree_insert(d, n);
	}
	d->live--;
	return true;
}

/*
 * The tree path of an allocation.  Return: the pfn, or 0 with *err set to
 * -ENOSPC (no room) or -ENOMEM (no node memory).
 */
static unsigned long tree_alloc(struct dml_iova_domain *d, unsigned long size,
				unsigned long limit, bool aligned, int *err)
{
	unsigned long pfn;

	*err = lock_with_spare(d, 2);
	if (*err)
		return 0;
	pfn = tree_alloc_locked(d, size, limit, aligned);
	if (pfn)
		d->tree_allocs++;
	tree_unlock(d);
	if (!pfn)
		*err = -ENOSPC;
	return pfn;
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
	tl_tid = TID_NO_SLOT;
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
		return tl_tid = TID_NO_SLOT;
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
		return tl_tid = TID_NO_SLOT;
	if (pthread_setspecific(tid_key, (void *)(uintptr_t)(idx + 1))) {
		tid_release((void *)(uintptr_t)(idx + 1));
		return TID_NO_SLOT;
	}
	return tl_tid = idx + 1;
}

static struct iova_slot *slot_get_slow(struct dml_iova_domain *d)
{
	unsigned int t = tl_tid;
	struct iova_slot *s;

	if (t == TID_NONE)
		t = tid_register();
	if (t == TID_NO_SLOT)
		return NULL;
	s = atomic_load_explicit(&d->slots[t - 1], memory_order_relaxed);
	if (s)
		return s;
	s = dml__zalloc_aligned(64, sizeof(*s));
	if (!s)
		return NULL;
	atomic_store_explicit(&d->slots[t - 1], s, memory_order_release);
	return s;
}

/* this thread's slot in @d, or NULL: use the tree */
static inline struct iova_slot *slot_get(struct dml_iova_domain *d)
{
	unsigned int t = tl_tid - 1;
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

/* Enter the owner's side without waiting; false while a flush runs. */
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

/* Enter the owner's side; false (after the flush is over) while one runs. */
static inline bool slot_enter(struct dml_iova_domain *d, struct iova_slot *s)
{
	if (likely(slot_try_enter(d, s)))
		return true;
	flush_wait(d);
	return false;
}

static inline void slot_leave(struct iova_slot *s)
{
	atomic_store_explicit(&s->in_op, 0, memory_order_release);
}

/* ------------------------------------------------------------------ */
/* Magazines and the depot                                             */
/* ------------------------------------------------------------------ */

static struct iova_mag *mag_get_empty(struct dml_iova_domain *d)
{
	struct iova_mag *m = NULL;

	dml_spin_lock(&d->depot_lock);
	if (d->depot_nempty)
		m = d->depot_empty[--d->depot_nempty];
	dml_spin_unlock(&d->depot_lock);
	if (!m)
		m = dml__zalloc(sizeof(*m));
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
		tree_free_locked(d, m->pfns[i], 1UL << cls);
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
				m = dml__zalloc(sizeof(*m));
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

/*
 * Return every cached range (all threads' magazines and the depot) to the
 * tree: free_cpu_cached_iovas() for every CPU plus free_global_cached_iovas().
 */
static void flush_all(struct dml_iova_domain *d)
{
	struct iova_mag *mags[IOVA_NR_CLASSES][IOVA_DEPOT_MAX];
	unsigned int nf[IOVA_NR_CLASSES], i, spins;
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
	}
	for (c = 0; c < IOVA_NR_CLASSES; c++)
		for (i = 0; i < nf[c]; i++)
			mag_drain_locked(d, mags[c][i], c);
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
	struct iova_gap *n;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (granule < 4096 || !dml__is_pow2(granule) || !start_pfn)
		return -EINVAL;
	if (start_pfn > min(~0ULL >> dml__ffs64(granule), (u64)~0UL))
		return -EINVAL;
	pthread_once(&tid_once, tid_init_once);

	d = dml__zalloc_aligned(64, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->granule = granule;
	d->shift = dml__ffs64(granule);
	d->start_pfn = start_pfn;
	d->top_pfn = (unsigned long)min(~0ULL >> d->shift, (u64)~0UL);
	d->cache_span = d->top_pfn - start_pfn >= DML_IOVA_CACHE_MAX_GRANULES ?
		d->top_pfn - start_pfn - (DML_IOVA_CACHE_MAX_GRANULES - 1) : 0;
	d->asym = membarrier_ok;
	d->chunk_next = IOVA_CHUNK_MIN;
	pthread_mutex_init(&d->flush_mutex, NULL);
	if (pool_grow(d)) {
		pthread_mutex_destroy(&d->flush_mutex);
		dml__free(d);
		return -ENOMEM;
	}
	n = pool_get(d);
	gap_set(n, start_pfn, d->top_pfn);
	tree_insert(d, n);
	*out = d;
	return 0;
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
	struct iova_chunk *ch, *next;
	unsigned int i, j;
	int c;

	if (!iovad)
		return;
	for (i = 0; i < IOVA_MAX_SLOTS; i++) {
		struct iova_slot *s = atomic_load(&iovad->slots[i]);

		if (!s)
			continue;
		for (c = 0; c < IOVA_NR_CLASSES; c++) {
			dml__free(s->loaded[c]);
			dml__free(s->prev[c]);
		}
		dml__free(s);
	}
	for (c = 0; c < IOVA_NR_CLASSES; c++)
		for (j = 0; j < atomic_load(&iovad->depot_nfull[c]); j++)
			dml__free(iovad->depot_full[c][j]);
	for (j = 0; j < iovad->depot_nempty; j++)
		dml__free(iovad->depot_empty[j]);
	for (ch = iovad->chunks; ch; ch = next) {
		next = ch->next;
		dml__free(ch);
	}
	pthread_mutex_destroy(&iovad->flush_mutex);
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
 * (see the top of this file).  Each removed piece counts as one range in
 * the statistics; reserving an already reserved window adds nothing.
 * Return: 0; -EINVAL if @pfn_lo > @pfn_hi; -ENOMEM.
 */
int dml__iova_reserve(struct dml_iova_domain *iovad, unsigned long pfn_lo,
		      unsigned long pfn_hi)
{
	struct iova_gap *n, *prev;
	unsigned long a, b;
	int err;

	if (!iovad || pfn_lo > pfn_hi)
		return -EINVAL;
	flush_all(iovad);
	err = lock_with_spare(iovad, 1);
	if (err)
		return err;
	n = find_le(iovad, pfn_hi);
	while (n && n->hi >= pfn_lo) {
		prev = gap_prev(n);	/* erasing @n leaves it valid */
		a = max(n->lo, pfn_lo);
		b = min(n->hi, pfn_hi);
		if (a == n->lo && b == n->hi) {
			pool_put(iovad, tree_erase(iovad, n));
		} else if (b == n->hi) {
			gap_set(n, n->lo, a - 1);
			gap_changed(n);
		} else if (a == n->lo) {
			gap_set(n, b + 1, n->hi);
			gap_changed(n);
		} else {
			struct iova_gap *low = pool_get(iovad);
			unsigned long lo = n->lo;

			gap_set(n, b + 1, n->hi);
			gap_changed(n);
			gap_set(low, lo, a - 1);
			tree_insert(iovad, low);
		}
		iovad->reserved++;
		n = prev;
	}
	tree_unlock(iovad);
	return 0;
}

/* a cacheable (power of two, <= 32) size, as a branch-friendly test */
static inline bool cacheable(unsigned long size)
{
	return size - 1 < DML_IOVA_CACHE_MAX_GRANULES && !(size & (size - 1));
}

static unsigned long __attribute__((noinline))
alloc_slow(struct dml_iova_domain *d, unsigned long size,
	   unsigned long limit_pfn, bool size_aligned)
{
	struct iova_slot *s;
	unsigned long pfn;
	int c, err;

	if (!d || !size)
		return 0;
	c = size_class(size);
	if (c >= 0 && (s = slot_get(d))) {
		while (!slot_enter(d, s))
			;
		pfn = slot_pop(d, s, c, limit_pfn);
		slot_leave(s);
		if (pfn) {
			stat_inc_own(&s->hits);
			return pfn;
		}
	}
	pfn = tree_alloc(d, size, limit_pfn, size_aligned, &err);
	if (!pfn && err == -ENOSPC) {
		flush_all(d);
		pfn = tree_alloc(d, size, limit_pfn, size_aligned, &err);
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
 * it holds one below the limit (cached ranges are always size-aligned).
 * Otherwise the highest fitting range below the limit is taken from the
 * tree; when none fits, all caches are flushed and the tree is searched
 * once more (alloc_iova_fast() with flush_rcache).
 * Return: the first pfn, or 0 when nothing fits or memory ran out.
 */
unsigned long dml__iova_alloc(struct dml_iova_domain *iovad, unsigned long size,
			      unsigned long limit_pfn, bool size_aligned)
{
	unsigned int t = tl_tid - 1;
	struct iova_slot *s;
	struct iova_mag *m;
	unsigned long pfn, n;

	/* the fast path: this thread's loaded magazine, no lock, no atomic */
	if (likely(iovad && t < IOVA_MAX_SLOTS && cacheable(size))) {
		s = atomic_load_explicit(&iovad->slots[t],
					 memory_order_relaxed);
		if (likely(s && slot_try_enter(iovad, s))) {
			m = s->loaded[dml__ffs64(size)];
			if (likely(m && (n = m->size))) {
				pfn = m->pfns[n - 1];
				if (likely(pfn + (size - 1) <= limit_pfn)) {
					m->size = n - 1;
					slot_leave(s);
					stat_inc_own(&s->hits);
					return pfn;
				}
			}
			slot_leave(s);
		}
	}
	return alloc_slow(iovad, size, limit_pfn, size_aligned);
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
	return tree_alloc(iovad, size, limit_pfn, size_aligned, &err);
}

static void __attribute__((noinline))
free_slow(struct dml_iova_domain *d, unsigned long pfn, unsigned long size)
{
	struct iova_slot *s;
	int c;
	bool ok;

	if (!d)
		return;
	c = size_class(size);
	if (c >= 0 && IS_ALIGNED(pfn, size) &&
	    pfn - d->start_pfn <= d->cache_span && (s = slot_get(d))) {
		while (!slot_enter(d, s))
			;
		ok = slot_push(d, s, c, pfn);
		slot_leave(s);
		if (ok) {
			stat_inc_own(&s->frees);
			return;
		}
	}
	dml__iova_free_nocache(d, pfn, size);
}

/**
 * dml__iova_free - release a range from dml__iova_alloc()
 * @iovad: domain
 * @pfn: first pfn
 * @size: the length it was allocated with
 *
 * Size-aligned ranges of a cacheable size go to this thread's cache; the
 * rest to the tree.  A range that is (partly) free already, or out of the
 * space, is reported and ignored once it reaches the tree.
 */
void dml__iova_free(struct dml_iova_domain *iovad, unsigned long pfn,
		    unsigned long size)
{
	unsigned int t = tl_tid - 1;
	struct iova_slot *s;
	struct iova_mag *m;
	unsigned long n;

	if (likely(iovad && t < IOVA_MAX_SLOTS && cacheable(size) &&
		   !(pfn & (size - 1)) &&
		   pfn - iovad->start_pfn <= iovad->cache_span)) {
		s = atomic_load_explicit(&iovad->slots[t],
					 memory_order_relaxed);
		if (likely(s && slot_try_enter(iovad, s))) {
			m = s->loaded[dml__ffs64(size)];
			if (likely(m && (n = m->size) < IOVA_MAG_SIZE)) {
				m->pfns[n] = pfn;
				m->size = n + 1;
				slot_leave(s);
				stat_inc_own(&s->frees);
				return;
			}
			slot_leave(s);
		}
	}
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
	if (tree_free_locked(iovad, pfn, size))
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
	unsigned int i;

	st->allocs = 0;
	st->frees = 0;
	st->cache_hits = 0;
	for (i = 0; i < IOVA_MAX_SLOTS; i++) {
		struct iova_slot *s;

		s = atomic_load_explicit(&iovad->slots[i], memory_order_acquire);

		if (!s)
			continue;
		st->frees += atomic_load_explicit(&s->frees,
						  memory_order_relaxed);
		st->cache_hits += atomic_load_explicit(&s->hits,
						       memory_order_relaxed);
	}
	st->allocs = st->cache_hits;
	tree_lock(iovad);
	st->allocs += iovad->tree_allocs;
	st->frees += iovad->tree_frees;
	st->ranges = iovad->live + iovad->reserved;
	tree_unlock(iovad);
}

/* ------------------------------------------------------------------ */
/* Invariant check                                                     */
/* ------------------------------------------------------------------ */

static bool check_fail(const char *what, const struct iova_gap *n)
{
	dml__warn("iova: check: %s at gap [%#lx, %#lx]", what,
		  n ? n->lo : 0, n ? n->hi : 0);
	return false;
}

static bool check_subtree(const struct dml_iova_domain *d,
			  const struct iova_gap *n,
			  const struct iova_gap *parent,
			  const struct iova_gap **prev, unsigned long *count)
{
	unsigned int hl, hr;
	unsigned long ml;
	unsigned char mo;

	if (!n)
		return true;
	if (n->parent != parent)
		return check_fail("parent pointer", n);
	if (!check_subtree(d, n->left, n, prev, count))
		return false;
	if (n->lo > n->hi || n->lo < d->start_pfn || n->hi > d->top_pfn)
		return check_fail("range outside the space", n);
	if (*prev && (*prev)->hi + 1 >= n->lo)
		return check_fail("overlapping or adjacent gaps", n);
	if (n->order != fit_order(n->lo, n->hi))
		return check_fail("fit order", n);
	*prev = n;
	(*count)++;
	if (!check_subtree(d, n->right, n, prev, count))
		return false;
	hl = gap_height(n->left);
	hr = gap_height(n->right);
	if (n->height != max(hl, hr) + 1 || hl > hr + 1 || hr > hl + 1)
		return check_fail("AVL height or balance", n);
	ml = gap_len(n);
	mo = n->order;
	if (n->left) {
		ml = max(ml, n->left->max_len);
		mo = max(mo, n->left->max_order);
	}
	if (n->right) {
		ml = max(ml, n->right->max_len);
		mo = max(mo, n->right->max_order);
	}
	if (ml != n->max_len || mo != n->max_order)
		return check_fail("augmented maxima", n);
	return true;
}

static bool check_cached(struct dml_iova_domain *d, const struct iova_mag *m,
			 int c)
{
	unsigned long i, size = 1UL << c;
	struct iova_gap *n;

	if (!m)
		return true;
	if (m->size > IOVA_MAG_SIZE)
		return check_fail("magazine size", NULL);
	for (i = 0; i < m->size; i++) {
		unsigned long pfn = m->pfns[i];

		if (!IS_ALIGNED(pfn, size) || pfn < d->start_pfn)
			return check_fail("cached range misaligned", NULL);
		n = find_le(d, pfn + size - 1);
		if (n && n->hi >= pfn)
			return check_fail("cached range is free", n);
	}
	return true;
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
	const struct iova_gap *prev = NULL;
	unsigned long count = 0, pooled = 0;
	struct iova_gap *p;
	bool ok;
	unsigned int i, j;
	int c;

	tree_lock(iovad);
	ok = check_subtree(iovad, iovad->root, NULL, &prev, &count);
	if (ok && count != iovad->nodes_used)
		ok = check_fail("node count", NULL);
	for (p = iovad->pool; ok && p; p = p->left)
		pooled++;
	if (ok && pooled > pool_spare(iovad))
		ok = check_fail("pool list longer than the spare count", NULL);
	if (ok && pool_spare(iovad) < iovad->live)
		ok = check_fail("fewer spare nodes than live ranges", NULL);
	for (i = 0; ok && i < IOVA_MAX_SLOTS; i++) {
		struct iova_slot *s = atomic_load(&iovad->slots[i]);

		for (c = 0; ok && s && c < IOVA_NR_CLASSES; c++)
			ok = check_cached(iovad, s->loaded[c], c) &&
			     check_cached(iovad, s->prev[c], c);
	}
	for (c = 0; ok && c < IOVA_NR_CLASSES; c++)
		for (j = 0; ok && j < atomic_load(&iovad->depot_nfull[c]); j++)
			ok = check_cached(iovad, iovad->depot_full[c][j], c);
	tree_unlock(iovad);
	return ok;
}
