/* SPDX-License-Identifier: MIT */
/*
 * tree.c - the IOVA allocator's free space: an augmented AVL tree of free
 * runs, its lock and its node pool (the rbtree part of drivers/iommu/iova.c:
 * alloc_iova(), free_iova(), reserve_iova()).  Written from the description
 * of the behaviour (reference/kernel-dma-semantics.md §1.2), not from the
 * kernel's code.
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
 * Invariants (checked by dml__iova_tree_check_locked()):
 *  - gaps are disjoint, never adjacent (free runs are maximal), inside
 *    [start_pfn, top_pfn]; pfn 0 is never free because start_pfn >= 1;
 *  - AVL: child heights differ by at most one; augmented maxima are exact;
 *  - node pool: spare nodes (allocated, not in the tree) >= live ranges.
 *    A free adds at most one gap and retires one live range, so freeing
 *    never allocates memory and cannot fail (reference/style.md C3); an
 *    allocation makes sure of two spare nodes more before it starts.
 *
 * Reservations remove the parts of [lo, hi] that are free at the time of
 * the call; ranges allocated then are not affected and become free when
 * they are freed (as in the kernel, where reserve_iova() merges into an
 * existing node).  The caller flushes the caches first so that no cached
 * range inside the window can be handed out again.
 *
 * Locking: the tree lock (tree_lock(), a dml_spinlock_t) covers the tree,
 * the node pool, live/reserved and the tree counters.  Node memory is
 * allocated outside it (pool_grow()).  (A lock biased to a lone thread
 * saved 3-7 ns per tree operation but raced under UBSan in a hand-off
 * test; it was removed.)
 */
#include "iova-internal.h"

#define IOVA_PROBES 8		/* near misses tried before a sure fit */
#define IOVA_CHUNK_MIN 32
#define IOVA_CHUNK_MAX 8192

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
 * Take the tree lock with at least live + @extra spare nodes.  Inlined
 * into both callers: it is on every tree allocation.
 * Return: 0 (locked) or -ENOMEM (not locked).
 */
static inline __attribute__((always_inline)) int
lock_with_spare(struct dml_iova_domain *d, unsigned long extra)
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

/**
 * dml__iova_tree_free_locked - return [@pfn, @pfn + @size) to the free tree
 * @d: domain, tree lock held
 * @pfn: first pfn
 * @size: granules
 *
 * The kernel's remove_iova().  Never allocates: the node it may need is
 * one of the spares the allocation set aside.
 * Return: true; false (reported, nothing changed) for a range out of the
 * space, (partly) free already, or freed with no live range left.
 */
bool dml__iova_tree_free_locked(struct dml_iova_domain *d, unsigned long pfn,
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

/* tree allocation of @size granules counted as @pieces live ranges */
static unsigned long tree_alloc(struct dml_iova_domain *d, unsigned long size,
				unsigned long pieces, unsigned long limit,
				bool aligned, int *err)
{
	unsigned long pfn;

	*err = lock_with_spare(d, pieces + 1);
	if (*err)
		return 0;
	pfn = tree_alloc_locked(d, size, limit, aligned);
	if (pfn) {
		d->tree_allocs++;
		d->live += pieces - 1;
	}
	tree_unlock(d);
	if (!pfn)
		*err = -ENOSPC;
	return pfn;
}

/**
 * dml__iova_tree_alloc - the tree path of an allocation (alloc_iova())
 * @d: domain, tree lock not held
 * @size: granules, > 0
 * @limit: the last pfn the range may use (inclusive)
 * @aligned: align the start to roundup_pow_of_two(@size)
 * @err: set when 0 is returned
 *
 * Return: the first pfn of the highest fitting range, or 0 with *@err set
 * to -ENOSPC (no room) or -ENOMEM (no node memory).
 */
unsigned long dml__iova_tree_alloc(struct dml_iova_domain *d,
				   unsigned long size, unsigned long limit,
				   bool aligned, int *err)
{
	return tree_alloc(d, size, 1, limit, aligned, err);
}

/**
 * dml__iova_tree_alloc_pieces - a size-aligned block cut into pieces
 * @d: domain, tree lock not held
 * @size: granules of the block, a power of two that @pieces divides
 * @pieces: live ranges the block counts as, each freed on its own
 * @limit: the last pfn the block may use (inclusive)
 * @err: set when 0 is returned
 *
 * One tree allocation in the counters.  Return: the block's first pfn,
 * or 0 with *@err set to -ENOSPC or -ENOMEM.
 */
unsigned long dml__iova_tree_alloc_pieces(struct dml_iova_domain *d,
					  unsigned long size,
					  unsigned long pieces,
					  unsigned long limit, int *err)
{
	return tree_alloc(d, size, pieces, limit, true, err);
}

/**
 * dml__iova_tree_init - the free space of a new domain
 * @d: domain with granule, start_pfn and top_pfn set, the rest zero
 *
 * Allocates the first node chunk and puts one gap over the whole space.
 * Return: 0; -ENOMEM.
 */
int dml__iova_tree_init(struct dml_iova_domain *d)
{
	struct iova_gap *n;

	dml_spin_init(&d->lock);
	d->chunk_next = IOVA_CHUNK_MIN;
	if (pool_grow(d))
		return -ENOMEM;
	n = pool_get(d);
	gap_set(n, d->start_pfn, d->top_pfn);
	tree_insert(d, n);
	return 0;
}

/**
 * dml__iova_tree_fini - free the node memory of @d
 * @d: domain; no call on it may be running or follow
 */
void dml__iova_tree_fini(struct dml_iova_domain *d)
{
	struct iova_chunk *ch, *next;

	for (ch = d->chunks; ch; ch = next) {
		next = ch->next;
		dml__free(ch);
	}
	d->chunks = d->chunks_tail = d->bump = NULL;
}

/**
 * dml__iova_tree_reserve - take the free parts of [@lo, @hi] out for good
 * @d: domain, tree lock not held
 * @lo: first pfn
 * @hi: last pfn (inclusive), >= @lo
 *
 * The kernel's reserve_iova(); see the top of this file for what happens
 * to ranges allocated at the time.  Each removed piece counts as one
 * reserved range.
 * Return: 0; -ENOMEM.
 */
int dml__iova_tree_reserve(struct dml_iova_domain *d, unsigned long lo,
			   unsigned long hi)
{
	struct iova_gap *n, *prev;
	unsigned long a, b;
	int err;

	err = lock_with_spare(d, 1);
	if (err)
		return err;
	n = find_le(d, hi);
	while (n && n->hi >= lo) {
		prev = gap_prev(n);	/* erasing @n leaves it valid */
		a = max(n->lo, lo);
		b = min(n->hi, hi);
		if (a == n->lo && b == n->hi) {
			pool_put(d, tree_erase(d, n));
		} else if (b == n->hi) {
			gap_set(n, n->lo, a - 1);
			gap_changed(n);
		} else if (a == n->lo) {
			gap_set(n, b + 1, n->hi);
			gap_changed(n);
		} else {
			struct iova_gap *low = pool_get(d);
			unsigned long first = n->lo;

			gap_set(n, b + 1, n->hi);
			gap_changed(n);
			gap_set(low, first, a - 1);
			tree_insert(d, low);
		}
		d->reserved++;
		n = prev;
	}
	tree_unlock(d);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Invariant check                                                     */
/* ------------------------------------------------------------------ */

/**
 * dml__iova_check_fail - report a broken invariant
 * @what: what broke
 * @n: the gap where it broke, or NULL
 *
 * Return: false, for "return dml__iova_check_fail(...)".
 */
bool dml__iova_check_fail(const char *what, const struct iova_gap *n)
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
		return dml__iova_check_fail("parent pointer", n);
	if (!check_subtree(d, n->left, n, prev, count))
		return false;
	if (n->lo > n->hi || n->lo < d->start_pfn || n->hi > d->top_pfn)
		return dml__iova_check_fail("range outside the space", n);
	if (*prev && (*prev)->hi + 1 >= n->lo)
		return dml__iova_check_fail("overlapping or adjacent gaps", n);
	if (n->order != fit_order(n->lo, n->hi))
		return dml__iova_check_fail("fit order", n);
	*prev = n;
	(*count)++;
	if (!check_subtree(d, n->right, n, prev, count))
		return false;
	hl = gap_height(n->left);
	hr = gap_height(n->right);
	if (n->height != max(hl, hr) + 1 || hl > hr + 1 || hr > hl + 1)
		return dml__iova_check_fail("AVL height or balance", n);
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
		return dml__iova_check_fail("augmented maxima", n);
	return true;
}

/**
 * dml__iova_tree_check_locked - verify the tree and the node pool
 * @d: domain, tree lock held
 *
 * Order, disjoint maximal gaps inside the space, AVL balance, augmented
 * maxima, the node count and spare nodes >= live ranges.  O(n).
 * Return: true when all hold; the first broken one is reported.
 */
bool dml__iova_tree_check_locked(struct dml_iova_domain *d)
{
	const struct iova_gap *prev = NULL;
	unsigned long count = 0, pooled = 0;
	struct iova_gap *p;

	if (!check_subtree(d, d->root, NULL, &prev, &count))
		return false;
	if (count != d->nodes_used)
		return dml__iova_check_fail("node count", NULL);
	for (p = d->pool; p; p = p->left)
		pooled++;
	if (pooled > pool_spare(d))
		return dml__iova_check_fail(
			"pool list longer than the spare count", NULL);
	if (pool_spare(d) < d->live)
		return dml__iova_check_fail(
			"fewer spare nodes than live ranges", NULL);
	return true;
}

/**
 * dml__iova_tree_check_busy_locked - check that a range is not free
 * @d: domain, tree lock held
 * @pfn: first pfn
 * @size: granules, > 0
 *
 * O(log n).  Return: true when no pfn of the range is in a gap; else
 * false, with the gap reported.
 */
bool dml__iova_tree_check_busy_locked(struct dml_iova_domain *d,
				      unsigned long pfn, unsigned long size)
{
	struct iova_gap *n = find_le(d, pfn + size - 1);

	if (n && n->hi >= pfn)
		return dml__iova_check_fail("cached range is free", n);
	return true;
}
